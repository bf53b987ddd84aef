/**
 * The staging folder of `ferry serve`: a browser cannot give a file path, so a dropped file is
 * streamed to `<dataDir>/staging/<random>/<name>` and queued from there. A staged copy is deleted
 * once its job can no longer be retried: when it completes, when the job is removed, or (for copies
 * left behind by a crash or by a job finished in another process) by a sweep. Which jobs are staged
 * is recorded by the job's own source path lying inside the staging folder, so nothing else has to
 * stay in step with the jobs table.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiError } from './apiError.ts';

/** Copies younger than this are never swept: another `ferry serve` may be writing or queuing them. */
const SWEEP_MIN_AGE_MS = 60_000;

/**
 * Checks a file name given by a browser. It must be a plain name: no path separator, no `.`/`..`,
 * no NUL or control character, at most 255 bytes. Throws INVALID_INPUT otherwise; never rewrites a
 * bad name into a good one, so what is uploaded is what the person picked.
 */
export function checkStagedName(name: string): string {
  const reason = ((): string | null => {
    if (name.length === 0) return 'it is empty';
    if (name === '.' || name === '..') return 'it names a folder';
    if (name.includes('/') || name.includes('\\')) return 'it contains a path separator';
    if (name.includes('..')) return 'it contains ".."';
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(name)) return 'it contains a control character';
    if (process.platform === 'win32' && /[<>:"|?*]/.test(name)) return 'it contains a character Windows does not allow in file names';
    if (Buffer.byteLength(name) > 255) return 'it is longer than 255 bytes';
    return null;
  })();
  if (reason !== null) {
    throw new ApiError('INVALID_INPUT', `Cannot stage the file "${JSON.stringify(name).slice(1, 81)}": ${reason}; give a plain file name`);
  }
  return name;
}

export class StagingArea {
  readonly root: string;
  readonly #writing = new Set<string>();

  constructor(dataDir: string) {
    this.root = resolve(dataDir, 'staging');
  }

  /** True when `path` is a staged copy (a file two levels inside the staging folder). */
  isStaged(path: string): boolean {
    const absolute = resolve(path);
    if (!absolute.startsWith(this.root + sep)) return false;
    return dirname(dirname(absolute)) === this.root;
  }

  /**
   * Streams `body` to a new staged file and returns its path. On any failure (client went away,
   * disk full) the partial copy is removed and the error rethrown.
   */
  async stage(body: Readable, name: string): Promise<string> {
    checkStagedName(name);
    const dir = join(this.root, randomBytes(12).toString('hex'));
    const path = join(dir, name);
    // Defence in depth: the checks above already make this impossible.
    if (!this.isStaged(path)) throw new ApiError('INVALID_INPUT', `Cannot stage the file "${name}": it would leave the staging folder`);
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    await mkdir(dir, { mode: 0o700 });
    this.#writing.add(dir);
    try {
      await pipeline(body, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
      return path;
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    } finally {
      this.#writing.delete(dir);
    }
  }

  /** Deletes a staged copy (and its folder). Paths outside the staging folder are left alone. */
  async release(path: string): Promise<boolean> {
    if (!this.isStaged(path)) return false;
    await rm(dirname(resolve(path)), { recursive: true, force: true });
    return true;
  }

  /**
   * Deletes staged copies that no job needs any more: `needed` holds the sources of jobs that can
   * still run or be retried. Returns how many copies were deleted.
   */
  async sweep(needed: ReadonlySet<string>, now = Date.now()): Promise<number> {
    let entries;
    try {
      entries = await readdir(this.root, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
    const neededDirs = new Set([...needed].filter((path) => this.isStaged(path)).map((path) => dirname(resolve(path))));
    let removed = 0;
    for (const entry of entries) {
      const dir = join(this.root, entry.name);
      if (!entry.isDirectory() || neededDirs.has(dir) || this.#writing.has(dir)) continue;
      const info = await stat(dir).catch(() => null);
      if (!info || now - info.mtimeMs < SWEEP_MIN_AGE_MS) continue;
      await rm(dir, { recursive: true, force: true });
      removed += 1;
    }
    return removed;
  }
}
