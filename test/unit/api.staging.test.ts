/**
 * The staging folder on its own: which names are accepted, that a staged copy stays inside the
 * folder, that bytes are counted against the provider's limit as they arrive (the copy stops and is
 * deleted as soon as the limit is passed), and that the sweep deletes only copies no job needs any
 * more — never fresh ones, never one a file is still being written into, and never one another
 * process (another StagingArea on the same folder) is receiving.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, sep } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  StagingArea,
  StagingRefusal,
  checkStagedName,
  providerSizeLimit,
  stagingHeadroom,
} from '../../main/api/staging.ts';
import { findAdapter } from '../../main/providers/registry.ts';
import { Fixtures, waitFor } from '../support/ferryHarness.ts';

const fixtures = new Fixtures();
afterEach(() => fixtures.cleanup());

describe('staging names', () => {
  it.each(['photo.png', 'Urlaub, "Süd".jpg', '日本語 ☃.pdf', 'a.b', '-leading-dash.png'])('accepts %j', (name) => {
    expect(checkStagedName(name)).toBe(name);
  });

  it.each([
    '',
    '.',
    '..',
    '../x',
    'a/b',
    '/etc/passwd',
    'a\\b',
    '..\\x',
    'x\u0000.png',
    'tab\there',
    'a..b',
    'x'.repeat(256),
  ])('refuses %j', (name) => {
    expect(() => checkStagedName(name)).toThrow(/Cannot stage the file/);
  });
});

describe('StagingArea', () => {
  it('streams a body to a fresh folder inside staging and releases it', async () => {
    const dataDir = await fixtures.tempDir('ferry-staging-');
    const staging = new StagingArea(dataDir);
    const path = await staging.stage(Readable.from([Buffer.from('hello '), Buffer.from('world')]), 'greeting.png');
    expect(path.startsWith(join(dataDir, 'staging'))).toBe(true);
    expect(staging.isStaged(path)).toBe(true);
    expect(staging.isStaged(join(dataDir, 'staging', 'greeting.png'))).toBe(false);
    expect(staging.isStaged(join(dataDir, 'elsewhere', 'x', 'greeting.png'))).toBe(false);
    // A path is judged by where it resolves to, not by how it is spelled.
    const [folder, file] = path.split(sep).slice(-2);
    expect(staging.isStaged(`${dataDir}${sep}elsewhere${sep}..${sep}staging${sep}${folder}${sep}${file}`)).toBe(true);
    expect(staging.isStaged(`${dataDir}${sep}staging${sep}${folder}${sep}..${sep}${folder}${sep}${file}`)).toBe(true);
    expect(staging.isStaged(`${dataDir}${sep}staging${sep}..${sep}elsewhere${sep}${folder}${sep}${file}`)).toBe(false);
    expect(await staging.release(join(dataDir, 'ferry.db'))).toBe(false);
    expect(await staging.release(path)).toBe(true);
    expect(existsSync(path)).toBe(false);
  });

  it('removes the partial copy when the body fails half-way', async () => {
    const dataDir = await fixtures.tempDir('ferry-staging-');
    const staging = new StagingArea(dataDir);
    const broken = new Readable({
      read() {
        this.push(Buffer.from('part'));
        this.destroy(new Error('client went away'));
      },
    });
    await expect(staging.stage(broken, 'x.png')).rejects.toThrow('client went away');
    expect(await staging.sweep(new Set(), Date.now() + 3_600_000)).toBe(0);
  });

  it('sweeps copies no job needs, keeps needed and fresh ones', async () => {
    const dataDir = await fixtures.tempDir('ferry-staging-');
    const staging = new StagingArea(dataDir);
    const make = async (dir: string, ageMs: number): Promise<string> => {
      const folder = join(staging.root, dir);
      await mkdir(folder, { recursive: true });
      const file = join(folder, 'f.png');
      await writeFile(file, 'x');
      const when = new Date(Date.now() - ageMs);
      await utimes(file, when, when);
      await utimes(folder, when, when);
      return file;
    };
    const orphan = await make('orphan', 3_600_000);
    const needed = await make('needed', 3_600_000);
    const fresh = await make('fresh', 0);
    expect(await staging.sweep(new Set([needed]))).toBe(1);
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(needed)).toBe(true);
    expect(existsSync(fresh)).toBe(true);
  });
});

describe('receiving a file', () => {
  it('counts bytes against the provider limit while they arrive: stops reading right after the limit and deletes the partial copy', async () => {
    const dataDir = await fixtures.tempDir('ferry-staging-');
    const staging = new StagingArea(dataDir);
    const chunk = Buffer.alloc(64 * 1024, 1);
    let pulled = 0;
    // 1,000 chunks (64 MB) on offer; the limit is passed within the 17th.
    const body = Readable.from(
      (function* () {
        for (let i = 0; i < 1_000; i += 1) {
          pulled += 1;
          yield chunk;
        }
      })(),
    );
    const limit = { maxBytes: 1_000_000, provider: 'SelfCommunity' };
    const refusal = await staging.stage(body, 'big.png', { limit }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(StagingRefusal);
    expect((refusal as StagingRefusal).status).toBe(413);
    expect((refusal as StagingRefusal).message).toMatch(
      /^big\.png is larger than the 1\.0 MB \(1,000,000 bytes\) that SelfCommunity accepts/,
    );
    // Stream buffering may read a few chunks ahead, never the rest of the file.
    expect(pulled).toBeLessThan(40);
    expect(await readdir(staging.root)).toEqual([]);
    expect(staging.receiving).toBe(0);
  });

  it('refuses a declared length above the limit before writing anything', async () => {
    const dataDir = await fixtures.tempDir('ferry-staging-');
    const staging = new StagingArea(dataDir);
    const limit = providerSizeLimit(findAdapter('selfcommunity')!, 'image/png')!;
    expect(limit).toEqual({ maxBytes: 5_000_000, provider: 'SelfCommunity' });
    await expect(staging.reserve({ name: 'x.png', length: 5_000_001, limit })).rejects.toMatchObject({
      status: 413,
      message: expect.stringMatching(
        /x\.png is 5\.0 MB \(5,000,001 bytes\), more than the 5\.0 MB \(5,000,000 bytes\) that SelfCommunity accepts/,
      ),
    });
    expect(existsSync(staging.root) ? await readdir(staging.root) : []).toEqual([]);
  });

  it('reads each provider limit from capabilities.accepts: the matching type, none for types without one', () => {
    expect(providerSizeLimit(findAdapter('selfcommunity')!, 'application/pdf')).toEqual({
      maxBytes: 50_000_000,
      provider: 'SelfCommunity',
    });
    expect(providerSizeLimit(findAdapter('selfcommunity')!, 'text/plain')).toBeNull();
    expect(providerSizeLimit(findAdapter('xvid')!, 'video/mp4')).toMatchObject({ maxBytes: 5_000_000_000 });
    expect(providerSizeLimit(findAdapter('twentythree')!, 'application/zip')).toMatchObject({
      maxBytes: 16 * 1024 ** 3,
    });
    expect(providerSizeLimit(findAdapter('ofauth')!, 'video/mp4')).toBeNull();
  });

  it('keeps max(512 MiB, 5 %) of the disk free', () => {
    expect(stagingHeadroom(1e9)).toBe(512 * 1024 * 1024);
    expect(stagingHeadroom(100e9)).toBe(5e9);
  });

  it('refuses a body that sends more than it announced, and one that arrives short', async () => {
    const staging = new StagingArea(await fixtures.tempDir('ferry-staging-'));
    await expect(
      staging.stage(Readable.from([Buffer.alloc(10), Buffer.alloc(10)]), 'a.png', { length: 15 }),
    ).rejects.toMatchObject({ status: 413 });
    await expect(staging.stage(Readable.from([Buffer.alloc(10)]), 'b.png', { length: 15 })).rejects.toThrow(
      /arrived incomplete/,
    );
    expect(await readdir(staging.root)).toEqual([]);
  });

  it('cuts off a sender that stops sending and frees its slot', async () => {
    const staging = new StagingArea(await fixtures.tempDir('ferry-staging-'));
    staging.configure({ idleTimeoutMs: 100 });
    const body = new PassThrough();
    body.write(Buffer.alloc(1000));
    const started = Date.now();
    await expect(staging.stage(body, 'stalled.png', { length: 5000 })).rejects.toMatchObject({
      status: 408,
      message: expect.stringMatching(/stalled\.png stopped arriving/),
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(staging.receiving).toBe(0);
    expect(await readdir(staging.root)).toEqual([]);
  });
});

describe('the sweep and other processes', () => {
  it('never deletes a copy another StagingArea on the same folder is receiving, however old its folder looks', async () => {
    const dataDir = await fixtures.tempDir('ferry-staging-');
    const writer = new StagingArea(dataDir);
    const sweeper = new StagingArea(dataDir);
    const body = new PassThrough();
    const staged = writer.stage(body, 'slow.png', { length: 6 });
    body.write('abc');
    // The staging folder itself is made by the copy's first step: until then there is nothing to list.
    await waitFor(
      'the first bytes on disk',
      async () => (await readdir(writer.root).catch((): string[] => [])).length === 2,
    );
    const [dir] = (await readdir(writer.root)).filter((name) => !name.endsWith('.writing'));
    // Both the folder and the file look an hour old: only the marker says the copy is alive.
    const old = new Date(Date.now() - 3_600_000);
    await utimes(join(writer.root, dir!, 'slow.png'), old, old);
    await utimes(join(writer.root, dir!), old, old);
    expect(await sweeper.sweep(new Set(), Date.now() + 3_600_000)).toBe(0);
    body.end('def');
    const path = await staged;
    expect(existsSync(path)).toBe(true);
    // Done and no job took it: now it may go (once old enough).
    expect(await sweeper.sweep(new Set(), Date.now() + 3_600_000)).toBe(1);
    expect(await readdir(writer.root)).toEqual([]);
  });

  it('keeps a copy whose file is still changing even when its folder is old', async () => {
    const staging = new StagingArea(await fixtures.tempDir('ferry-staging-'));
    const folder = join(staging.root, 'written-by-someone');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'f.png'), 'x');
    const old = new Date(Date.now() - 3_600_000);
    await utimes(folder, old, old);
    expect(await staging.sweep(new Set())).toBe(0);
    expect(existsSync(join(folder, 'f.png'))).toBe(true);
  });

  it('sweeps a copy left by a process that died while receiving it, with its marker', async () => {
    const staging = new StagingArea(await fixtures.tempDir('ferry-staging-'));
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
    const folder = join(staging.root, 'crashed');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'half.png'), 'x');
    await writeFile(`${folder}.writing`, `${dead}\n${hostname()}\n`);
    await writeFile(join(staging.root, 'gone.writing'), `${dead}\n${hostname()}\n`);
    const live = join(staging.root, 'alive');
    await mkdir(live);
    await writeFile(`${live}.writing`, `${process.pid}\n${hostname()}\n`);
    expect(await staging.sweep(new Set(), Date.now() + 3_600_000)).toBe(1);
    expect((await readdir(staging.root)).sort()).toEqual(['alive', 'alive.writing']);
  });
});
