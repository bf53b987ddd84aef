/**
 * Replacing and setting aside the secret stores' files without ever losing one: a power cut or a
 * crash leaves either the old file or the new one, complete, and a file that cannot be read is
 * renamed, never deleted.
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface ReplaceOptions {
  /**
   * Called with the bytes read back from the temporary file once they are on disk; throwing keeps
   * the old file (the temporary one is removed) and fails the replacement with that error.
   */
  verify?: (written: Buffer) => Promise<void>;
}

/**
 * Replaces `path` with `data`, readable by its owner only: write a temporary file in the same folder,
 * fsync it, (verify it), rename it over `path`, fsync the folder. Without the first fsync a crash
 * soon after the rename can leave an empty or partial file under the final name on common file
 * systems (ext4's delayed allocation, for one); without the last the rename itself may be lost.
 */
export async function replaceFileDurably(
  path: string,
  data: string | Uint8Array,
  options: ReplaceOptions = {},
): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // Unique per write: two stores in one process (or two processes) never share a temporary file.
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(data);
      // The mode given to open is filtered by the umask; make sure it is owner-only.
      await handle.chmod(0o600);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.verify) await options.verify(await readFile(temporary));
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(dirname(path));
}

/** Codes of systems that cannot open or fsync a folder (Windows, some network file systems). */
const NO_DIRECTORY_SYNC = new Set(['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'ENOTSUP', 'EBADF']);

/** Makes a rename in `dir` durable, where the system supports it. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    // The rename is atomic either way; only its surviving a power cut is then left to the system.
    if (!NO_DIRECTORY_SYNC.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
  } finally {
    await handle?.close();
  }
}

/**
 * Renames a file that is proven unreadable to `<path>.unreadable-<time>` (kept for recovery: it may
 * hold the only copy of a secret) and returns the new name.
 */
export async function setAside(path: string): Promise<string> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  let aside = `${path}.unreadable-${stamp}`;
  for (let n = 2; await exists(aside); n += 1) aside = `${path}.unreadable-${stamp}-${n}`;
  await rename(path, aside);
  await syncDirectory(dirname(path));
  return aside;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
