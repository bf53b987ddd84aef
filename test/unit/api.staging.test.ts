/**
 * The staging folder on its own: which names are accepted, that a staged copy stays inside the
 * folder, and that the sweep deletes only copies no job needs any more (and never fresh ones).
 */
import { existsSync } from 'node:fs';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { StagingArea, checkStagedName } from '../../main/api/staging.ts';
import { Fixtures } from '../support/ferryHarness.ts';

const fixtures = new Fixtures();
afterEach(() => fixtures.cleanup());

describe('staging names', () => {
  it.each(['photo.png', 'Urlaub, "Süd".jpg', '日本語 ☃.pdf', 'a.b', '-leading-dash.png'])('accepts %j', (name) => {
    expect(checkStagedName(name)).toBe(name);
  });

  it.each(['', '.', '..', '../x', 'a/b', '/etc/passwd', 'a\\b', '..\\x', 'x\u0000.png', 'tab\there', 'a..b', 'x'.repeat(256)])('refuses %j', (name) => {
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
