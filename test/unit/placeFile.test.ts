/**
 * Moving a watched file (to the move target, into Ferry's trash, back from it) never replaces a file:
 * real files, on one file system (hard link + unlink) and across two (/dev/shm, a tmpfs: checked
 * exclusive copy + fsync + unlink).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SourceChangedError, TargetExistsError, identityOf, placeFile } from '../../main/sync/placeFile.ts';

const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const made: string[] = [];

afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(root = tmpdir()): Promise<string> {
  const dir = await mkdtemp(join(root, 'ferry-place-'));
  made.push(dir);
  return dir;
}

async function otherDevice(): Promise<string | null> {
  const shm = await stat('/dev/shm').catch(() => null);
  if (!shm || shm.dev === (await stat(tmpdir())).dev) return null;
  return tempDir('/dev/shm');
}

async function source(
  dir: string,
  bytes: Buffer,
): Promise<{ path: string; expect: NonNullable<Awaited<ReturnType<typeof identityOf>>> }> {
  const path = join(dir, 'photo.jpg');
  await writeFile(path, bytes);
  return { path, expect: (await identityOf(path))! };
}

describe('placing a file', () => {
  for (const where of ['the same file system', 'another file system'] as const) {
    it(`never replaces a file that is at the target name, on ${where}`, async () => {
      const from = await tempDir();
      const to = where === 'the same file system' ? await tempDir() : await otherDevice();
      if (to === null) return; // no second file system on this machine
      const bytes = randomBytes(200_000);
      const { path, expect: identity } = await source(from, bytes);
      const taken = [randomBytes(10), randomBytes(11)];
      await writeFile(join(to, 'photo.jpg'), taken[0]!);
      await writeFile(join(to, 'photo (2).jpg'), taken[1]!);

      const placed = await placeFile(path, join(to, 'photo.jpg'), { expect: identity, sha256: sha(bytes) });

      expect(placed).toBe(join(to, 'photo (3).jpg'));
      expect(sha(await readFile(placed))).toBe(sha(bytes));
      expect(await readFile(join(to, 'photo.jpg'))).toEqual(taken[0]);
      expect(await readFile(join(to, 'photo (2).jpg'))).toEqual(taken[1]);
      expect(await identityOf(path)).toBeNull();
      expect(Math.trunc((await stat(placed)).mtimeMs)).toBe(identity.mtimeMs);
    });
  }

  it('refuses instead of taking another name when asked to (a restore)', async () => {
    const dir = await tempDir();
    const bytes = randomBytes(1_000);
    const { path, expect: identity } = await source(dir, bytes);
    await writeFile(join(dir, 'back.jpg'), 'someone else');
    await expect(
      placeFile(path, join(dir, 'back.jpg'), { expect: identity, sha256: sha(bytes), otherNames: false }),
    ).rejects.toBeInstanceOf(TargetExistsError);
    expect(await readFile(join(dir, 'back.jpg'), 'utf8')).toBe('someone else');
    expect(sha(await readFile(path))).toBe(sha(bytes));
  });

  it('leaves the source where it is when it changed after it was checked', async () => {
    const dir = await tempDir();
    const to = await tempDir();
    const bytes = randomBytes(1_000);
    const { path, expect: identity } = await source(dir, bytes);
    await writeFile(path, randomBytes(1_001));
    await expect(
      placeFile(path, join(to, 'photo.jpg'), { expect: identity, sha256: sha(bytes) }),
    ).rejects.toBeInstanceOf(SourceChangedError);
    expect((await stat(path)).size).toBe(1_001);
    expect(await readdir(to)).toEqual([]);
  });

  it('leaves the source and no partial copy when the bytes are not the checked ones (across file systems)', async () => {
    const dir = await tempDir();
    const to = await otherDevice();
    if (to === null) return;
    const bytes = randomBytes(5_000);
    const { path, expect: identity } = await source(dir, bytes);
    await expect(
      placeFile(path, join(to, 'photo.jpg'), { expect: identity, sha256: sha(randomBytes(5)) }),
    ).rejects.toBeInstanceOf(SourceChangedError);
    expect(sha(await readFile(path))).toBe(sha(bytes));
    expect(await readdir(to)).toEqual([]);
  });
});
