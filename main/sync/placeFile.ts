/**
 * Moving a file without ever overwriting one: what a watched folder's "move" and "delete" (into
 * Ferry's trash) and the trash's "restore" do. `rename` replaces whatever is at the target, and a
 * check for a free name followed by a rename loses a file that appears in between; a hard link (or an
 * exclusive create) fails with EEXIST instead, and the caller then tries the next name.
 *
 * On one file system: link(source, target), check the source is still the file that was checked,
 * unlink(source). Across file systems (or where hard links are not supported: FAT and exFAT cards,
 * some network shares): copy into a target opened with O_EXCL, hashing the bytes copied, fsync, and
 * only if the copy's hash is the expected one, unlink the source. A crash in between leaves the file
 * in both places, never in none.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, stat, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import { giveBuffer, takeBuffer } from '../core/bufferPool.ts';

/** What the source must still be when it is unlinked (taken right before the move was decided). */
export interface FileIdentity {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
}

export async function identityOf(path: string): Promise<FileIdentity | null> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return null;
    return {
      size: info.size,
      mtimeMs: Math.trunc(info.mtimeMs),
      ctimeMs: Math.trunc(info.ctimeMs),
      ino: info.ino,
      dev: info.dev,
    };
  } catch {
    return null;
  }
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino && a.dev === b.dev;
}

/** The source changed (or vanished) during the move; nothing was removed. */
export class SourceChangedError extends Error {}

/** The target name is taken and the caller asked for no other name. */
export class TargetExistsError extends Error {}

export interface PlaceOptions {
  /** What the source must still be before it is unlinked. */
  expect: FileIdentity;
  /** Hex SHA-256 the source's bytes must have (checked on the copy path; a link is the same inode). */
  sha256: string;
  /** Try `name (2).ext`, `name (3).ext`... when the target is taken (default true). */
  otherNames?: boolean;
}

/** Moves `source` to `wanted` (or the first free numbered name), never replacing a file. Returns where it went. */
export async function placeFile(source: string, wanted: string, options: PlaceOptions): Promise<string> {
  await mkdir(dirname(wanted), { recursive: true });
  const otherNames = options.otherNames ?? true;
  for (let n = 1; n < 10_000; n += 1) {
    const target = n === 1 ? wanted : numbered(wanted, n);
    let placed: 'link' | 'copy';
    try {
      await link(source, target);
      placed = 'link';
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        if (!otherNames) throw new TargetExistsError(`${target} already exists`);
        continue;
      }
      if (code === 'ENOENT' && (await identityOf(source)) === null) throw new SourceChangedError(`${source} is gone`);
      if (!['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS', 'EACCES'].includes(code ?? '')) throw error;
      try {
        await copyExclusive(source, target, options.sha256);
      } catch (copyError) {
        if ((copyError as NodeJS.ErrnoException).code === 'EEXIST') {
          if (!otherNames) throw new TargetExistsError(`${target} already exists`);
          continue;
        }
        throw copyError;
      }
      placed = 'copy';
    }
    // The source must still be the file that was checked: a link does not change the bytes (same
    // inode) but does change ctime, so only the copy path compares it.
    const now = await identityOf(source);
    const same =
      now !== null &&
      (placed === 'copy'
        ? sameIdentity(now, options.expect)
        : now.size === options.expect.size &&
          now.mtimeMs === options.expect.mtimeMs &&
          now.ino === options.expect.ino &&
          now.dev === options.expect.dev);
    if (now === null) {
      // Someone else removed the source meanwhile: the target (the same inode, or a copy whose bytes
      // were checked) is now the only copy, so it stays.
      await syncDir(dirname(target));
      return target;
    }
    if (!same) {
      // The source changed after it was checked: keep it where it is and drop the second name.
      await unlink(target).catch(() => undefined);
      throw new SourceChangedError(`${source} changed while it was being moved`);
    }
    try {
      await unlink(source);
    } catch (error) {
      // Windows refuses while another program holds it: keep the source, drop the second name.
      await unlink(target).catch(() => undefined);
      throw error;
    }
    await syncDir(dirname(target));
    await syncDir(dirname(source));
    return target;
  }
  throw new Error(`No free name next to ${wanted} after 9,999 tries`);
}

/** Copies into a new file (O_EXCL), checks the bytes against `sha256`, keeps the mtime, and fsyncs. */
async function copyExclusive(source: string, target: string, sha256: string): Promise<void> {
  const input = await open(source, 'r');
  let output: FileHandle;
  try {
    output = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error) {
    await input.close();
    throw error;
  }
  const buffer = takeBuffer();
  const hash = createHash('sha256');
  let ok = false;
  try {
    const info = await input.stat();
    let position = 0;
    for (;;) {
      const { bytesRead } = await input.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      hash.update(chunk);
      let written = 0;
      while (written < bytesRead)
        written += (await output.write(chunk, written, bytesRead - written, position + written)).bytesWritten;
      position += bytesRead;
    }
    if (hash.digest('hex') !== sha256) throw new SourceChangedError(`${source} changed while it was being copied`);
    await output.sync();
    await output.close();
    // Half a millisecond in: seconds as a double cannot hold every millisecond exactly, and a time set
    // just below it would read back one millisecond early (Ferry compares whole milliseconds).
    await utimes(target, (Math.trunc(info.atimeMs) + 0.5) / 1000, (Math.trunc(info.mtimeMs) + 0.5) / 1000);
    ok = true;
  } finally {
    giveBuffer(buffer);
    await input.close().catch(() => undefined);
    if (!ok) {
      await output.close().catch(() => undefined);
      await unlink(target).catch(() => undefined);
    }
  }
}

async function syncDir(dir: string): Promise<void> {
  // Makes the new name and the removal survive a power cut; not possible (nor needed) on Windows.
  if (process.platform === 'win32') return;
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some file systems refuse fsync on a folder; the move itself is done.
  }
}

/** `name (n).ext`. */
export function numbered(path: string, n: number): string {
  const extension = extname(path);
  const stem = path.slice(0, path.length - extension.length);
  return `${stem} (${n})${extension}`;
}
