/**
 * Enqueueing more files than WORKER_MIN_FILES at once (stat and fingerprint in the file workers):
 * what is stored is what one file at a time stores, in name order, and a bad input still refuses the
 * whole batch with the message of the first one in order.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WORKER_MIN_FILES } from '../../main/engine/enqueueFiles.ts';
import { fingerprintFile } from '../../main/engine/fileSource.ts';
import { Fixtures } from '../support/ferryHarness.ts';
import { openTestQueue } from '../support/testQueue.ts';

const fixtures = new Fixtures();
afterEach(async () => {
  await fixtures.cleanup();
});

describe('enqueue of a large batch', () => {
  it('stores each file as a single-file enqueue would, in order, and refuses a bad batch as a whole', async () => {
    const dir = await fixtures.tempDir('ferry-batch-');
    const src = join(dir, 'src');
    await mkdir(join(src, 'sub'), { recursive: true });
    const count = WORKER_MIN_FILES + 50;
    const paths: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const path = join(src, `f${String(i).padStart(4, '0')}.png`);
      // Sizes around the fingerprint's edges too (the whole file up to 2 MiB, then first + last MiB).
      const size = i === 7 ? 2 * 1024 * 1024 + 3 : i === 8 ? 3 * 1024 * 1024 : 10 + i;
      await writeFile(path, Buffer.alloc(size, i % 251));
      paths.push(path);
    }
    await writeFile(join(src, 'sub', 'inner.png'), 'inner');
    await writeFile(join(src, '.hidden.png'), 'junk');
    const { queue, close } = openTestQueue(join(dir, 'data'));
    try {
      await queue.accounts.add({
        provider: 'selfcommunity',
        name: 'a',
        baseUrl: 'http://127.0.0.1:9',
        secrets: { accessToken: 't' },
      });
      // A folder: its files in name order, the subfolder's after them ('sub' sorts after 'f…').
      const queued = await queue.enqueue('a', [src]);
      expect(queued.map((job) => job.source)).toEqual([...paths, join(src, 'sub', 'inner.png')]);
      for (const job of [...queued.slice(0, 12), queued.at(-1)!]) {
        const info = await stat(job.source);
        expect({ size: job.size, mtimeMs: job.mtimeMs, edgeHash: job.edgeHash }, job.source).toEqual(
          await fingerprintFile(job.source),
        );
        expect(job.mtimeMs).toBe(Math.trunc(info.mtimeMs));
      }
      expect(new Set(queued.map((job) => job.edgeHash)).size).toBeGreaterThan(200);

      // A list of files with a folder in it: the folder is expanded in place.
      const listed = await queue.enqueue('a', [...paths.slice(0, 150), join(src, 'sub'), ...paths.slice(150)]);
      expect(listed.map((job) => job.source)).toEqual([
        ...paths.slice(0, 150),
        join(src, 'sub', 'inner.png'),
        ...paths.slice(150),
      ]);
      expect(listed.map((job) => job.edgeHash)).toEqual([
        ...queued.slice(0, 150).map((job) => job.edgeHash),
        queued.at(-1)!.edgeHash,
        ...queued.slice(150, count).map((job) => job.edgeHash),
      ]);

      // Two missing files: the first in order is named, and nothing of the batch is written.
      const before = queue.jobs.count();
      const bad = [...paths];
      bad.splice(120, 0, join(src, 'nope-1.png'));
      bad.splice(10, 0, join(src, 'nope-0.png'));
      await expect(queue.enqueue('a', bad)).rejects.toThrow(
        `Cannot upload ${join(src, 'nope-0.png')}: no such file or folder`,
      );
      // An empty file is refused by the provider's check, before any file is read.
      await writeFile(join(src, 'empty.png'), '');
      await expect(queue.enqueue('a', [...paths, join(src, 'empty.png')])).rejects.toThrow(/empty\.png/);
      expect(queue.jobs.count()).toBe(before);
    } finally {
      close();
    }
  }, 60_000);
});
