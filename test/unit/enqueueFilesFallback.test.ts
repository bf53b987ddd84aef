/**
 * When the enqueue's file workers cannot run (a host without worker threads, a worker that dies), a
 * batch of files is still stat'ed and fingerprinted, with the same answers, on the calling thread.
 * Worker threads are replaced here by a constructor that fails the way Node's does without them.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fingerprintMany, statMany } from '../../main/engine/enqueueFiles.ts';
import { fingerprintFile } from '../../main/engine/fileSource.ts';
import { Fixtures } from '../support/ferryHarness.ts';

vi.mock('node:worker_threads', () => ({
  Worker: class {
    constructor() {
      throw Object.assign(new Error('Worker threads are not available here'), { code: 'ERR_WORKER_INIT_FAILED' });
    }
  },
}));

const fixtures = new Fixtures();
afterEach(async () => {
  await fixtures.cleanup();
});

describe('enqueue file steps without worker threads', () => {
  it('stat and fingerprint a batch on this thread, each file its own answer or error', async () => {
    const dir = await fixtures.tempDir('ferry-enqueue-fallback-');
    const sizes = [0, 1, 4096, 1024 * 1024 + 7, 3 * 1024 * 1024, 12, 13, 14, 15, 16, 17];
    const paths: string[] = [];
    for (const [index, size] of sizes.entries()) {
      const path = join(dir, `f${index}.bin`);
      await writeFile(path, randomBytes(size));
      paths.push(path);
    }
    const folder = join(dir, 'folder');
    await mkdir(folder);
    const missing = join(dir, 'missing.bin');

    const stats = await statMany([...paths, folder, missing]);
    expect(stats).toHaveLength(paths.length + 2);
    for (const [index, size] of sizes.entries()) {
      expect(stats[index]).toMatchObject({ size, isFile: true, isDirectory: false });
    }
    expect(stats[paths.length]).toMatchObject({ isFile: false, isDirectory: true });
    expect(stats[paths.length + 1]).toMatchObject({ error: { code: 'ENOENT', path: missing } });

    const files = paths.map((path, index) => {
      const info = stats[index] as { size: number; mtimeMs: number };
      return { path, size: info.size, mtimeMs: info.mtimeMs };
    });
    const prints = await fingerprintMany([...files, { path: missing, size: 5, mtimeMs: 0 }]);
    for (const [index, path] of paths.entries()) {
      expect(prints[index], path).toEqual(await fingerprintFile(path));
    }
    expect(prints[paths.length]).toMatchObject({ error: { code: 'ENOENT' } });
  });
});
