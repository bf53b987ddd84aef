/**
 * The enqueue's callback-based file steps give what the engine's own fingerprint gives: a job queued
 * through them is recognised as unchanged by a later retry (which compares against fingerprintFile).
 */
import { randomBytes } from 'node:crypto';
import { stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import {
  WORKER_MIN_FILES,
  fingerprintMany,
  fingerprintStatted,
  statMany,
  statPath,
  workerError,
} from '../../main/engine/enqueueFiles.ts';
import { fingerprintFile } from '../../main/engine/fileSource.ts';
import { Fixtures } from '../support/ferryHarness.ts';

const fixtures = new Fixtures();
afterEach(async () => {
  await fixtures.cleanup();
});

const MIB = 1024 * 1024;

describe('enqueue file steps', () => {
  it('fingerprint a file as fingerprintFile does, at every size edge', async () => {
    const dir = await fixtures.tempDir('ferry-enqueue-files-');
    const sizes = [0, 1, 4096, MIB - 1, MIB, MIB + 1, 2 * MIB, 2 * MIB + 1, 3 * MIB + 12_345];
    const prints = new Set<string>();
    for (const size of sizes) {
      const path = join(dir, `f${size}.bin`);
      await writeFile(path, randomBytes(size));
      const info = await statPath(path);
      expect(info.size).toBe(size);
      const print = await fingerprintStatted(path, { size: info.size, mtimeMs: info.mtimeMs });
      expect(print, `size ${size}`).toEqual(await fingerprintFile(path));
      prints.add(print.edgeHash);
    }
    expect(prints.size).toBe(sizes.length);
  });

  it('hash what is there when the file shrank after its stat, like fingerprintFile with the same stat', async () => {
    const dir = await fixtures.tempDir('ferry-enqueue-files-');
    const path = join(dir, 'shrinks.bin');
    await writeFile(path, randomBytes(3 * MIB));
    const before = await stat(path);
    await truncate(path, MIB + 10);
    const known = { size: before.size, mtimeMs: before.mtimeMs };
    expect(await fingerprintStatted(path, known)).toEqual(await fingerprintFile(path, known));
  });

  it('report a missing file with the error fs gives', async () => {
    const dir = await fixtures.tempDir('ferry-enqueue-files-');
    const path = join(dir, 'gone.bin');
    await expect(statPath(path)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(fingerprintStatted(path, { size: 5, mtimeMs: 0 })).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('fingerprint and stat a batch in the file workers as one file at a time does, errors included', async () => {
    const dir = await fixtures.tempDir('ferry-enqueue-files-');
    const sizes = [0, 1, 4096, 2 * MIB, 2 * MIB + 1, 3 * MIB + 7];
    const paths: string[] = [];
    for (let i = 0; i < WORKER_MIN_FILES + 5; i += 1) {
      const path = join(dir, `f${i}.bin`);
      await writeFile(path, randomBytes(sizes[i % sizes.length]!));
      paths.push(path);
    }
    const missing = join(dir, 'missing.bin');
    const stats = await statMany([...paths, missing, dir]);
    expect(stats).toHaveLength(paths.length + 2);
    expect(stats.at(-2)).toMatchObject({ error: { code: 'ENOENT' } });
    expect(stats.at(-1)).toMatchObject({ isFile: false, isDirectory: true });
    const files = paths.map((path, index) => {
      const info = stats[index]!;
      if ('error' in info) throw workerError(info);
      expect(info.isFile).toBe(true);
      return { path, size: info.size, mtimeMs: info.mtimeMs };
    });
    const prints = await fingerprintMany([...files, { path: missing, size: 3, mtimeMs: 0 }]);
    for (const [index, file] of files.entries())
      expect(prints[index], file.path).toEqual(await fingerprintStatted(file.path, file));
    const failed = prints.at(-1)!;
    expect(failed).toMatchObject({ error: { code: 'ENOENT', syscall: 'open', path: missing } });
    if (!('error' in failed)) throw new Error('expected an error');
    // The same error fs gives one file at a time.
    const direct = await fingerprintStatted(missing, { size: 3, mtimeMs: 0 }).catch((error: Error) => error);
    expect(workerError(failed).message).toBe((direct as Error).message);
  });

  it('do not keep a process alive once a batch is done', async () => {
    const dir = await fixtures.tempDir('ferry-enqueue-files-');
    const paths: string[] = [];
    for (let i = 0; i < WORKER_MIN_FILES; i += 1) {
      paths.push(join(dir, `f${i}.txt`));
      await writeFile(paths[i]!, `file ${i}`);
    }
    const module = join(import.meta.dirname, '../../main/engine/enqueueFiles.ts');
    const child = `
      const { statMany, fingerprintMany } = await import(${JSON.stringify(module)});
      const paths = ${JSON.stringify(paths)};
      const stats = await statMany(paths);
      const prints = await fingerprintMany(paths.map((path, i) => ({ path, size: stats[i].size, mtimeMs: stats[i].mtimeMs })));
      process.stdout.write(String(prints.filter((print) => print.edgeHash).length));
      // Fires only if something keeps the process alive after the batch (a worker left referenced
      // until its idle end, 5 s later); an unreferenced timer does not keep it alive by itself.
      setTimeout(() => process.stdout.write(' still alive'), 4_000).unref();
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', child], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.stderr).not.toMatch(/Error/);
    // Ended by itself (not by the timeout), with every file fingerprinted.
    expect(run.signal).toBeNull();
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(String(WORKER_MIN_FILES));
  }, 60_000);
});
