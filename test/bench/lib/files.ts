/**
 * Source files for the benchmarks, all under one temporary folder that `cleanup()` removes. Big files
 * are sparse (no disk space, no disk I/O: reads come from the page cache's zero page), small ones
 * random. Free space is checked before anything is written.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class BenchFiles {
  readonly root: string;

  private constructor(root: string) {
    this.root = root;
  }

  static async create(): Promise<BenchFiles> {
    return new BenchFiles(await mkdtemp(join(tmpdir(), 'ferry-bench-')));
  }

  async freeBytes(): Promise<number> {
    const info = await statfs(this.root);
    return info.bavail * info.bsize;
  }

  /** Fails early when fewer than `bytes` are free in the temporary folder. */
  async requireFree(bytes: number, what: string): Promise<void> {
    const free = await this.freeBytes();
    if (free < bytes)
      throw new Error(
        `${what} needs ${Math.ceil(bytes / 1e9)} GB free in ${this.root}, only ${Math.floor(free / 1e9)} GB are`,
      );
  }

  async dir(name: string): Promise<string> {
    const path = join(this.root, name);
    await mkdir(path, { recursive: true });
    return path;
  }

  /** A sparse file of `size` bytes (reads as zeros). */
  async sparse(dir: string, name: string, size: number): Promise<string> {
    const path = join(dir, name);
    const handle = await open(path, 'w');
    try {
      await handle.truncate(size);
    } finally {
      await handle.close();
    }
    return path;
  }

  async random(dir: string, name: string, size: number): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, randomBytes(size));
    return path;
  }

  async cleanup(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
