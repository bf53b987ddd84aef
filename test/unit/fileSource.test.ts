import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UploadError } from '../../main/core/errors.ts';
import { type FileSource } from '../../main/core/fileSource.ts';
import { fingerprintFile, openFileSource, statFile } from '../../main/engine/fileSource.ts';
import { pattern, readAll } from '../support/bytes.ts';
import { fdsOn } from '../support/fds.ts';

const MIB = 1024 * 1024;
/** A fixed mtime, so that a test can rewrite a file and put the old mtime back. */
const FIXED_TIME = new Date('2024-05-01T12:00:00.000Z');

async function flipByte(path: string, position: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const one = Buffer.alloc(1);
    await handle.read(one, 0, 1, position);
    one[0] = one[0]! ^ 0xff;
    await handle.write(one, 0, 1, position);
  } finally {
    await handle.close();
  }
}

let dir: string;
/** 300 000 bytes: more than one 256 KiB piece. */
const SMALL_SIZE = 300_000;
let small: Buffer;
let smallPath: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-filesource-'));
  small = pattern(SMALL_SIZE);
  smallPath = join(dir, 'small.bin');
  await writeFile(smallPath, small);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const RANGES = [
  { name: 'an empty range at the start', start: 0, end: 0 },
  { name: 'an empty range in the middle', start: 1_234, end: 1_234 },
  { name: 'the first byte', start: 0, end: 1 },
  { name: 'the last byte', start: SMALL_SIZE - 1, end: SMALL_SIZE },
  { name: 'a range in the middle', start: 100, end: 1_000 },
  { name: 'a range across a 256 KiB chunk boundary', start: 256 * 1024 - 3, end: 256 * 1024 + 5 },
  { name: 'everything but the first byte', start: 1, end: SMALL_SIZE },
  { name: 'the whole file', start: 0, end: SMALL_SIZE },
];

describe('openFileSource', () => {
  it('reports the path and size it was opened with', () => {
    const source = openFileSource(smallPath, SMALL_SIZE);
    expect(source.path).toBe(smallPath);
    expect(source.size).toBe(SMALL_SIZE);
  });

  describe.each(RANGES)('$name [$start, $end)', ({ start, end }) => {
    it('range streams exactly those bytes', async () => {
      const range = await openFileSource(smallPath, SMALL_SIZE).range(start, end);
      expect(range).toMatchObject({ start, end, size: end - start });
      const bytes = await readAll(range.stream());
      expect(bytes.length).toBe(end - start);
      expect(bytes.equals(small.subarray(start, end))).toBe(true);
    });
  });

  it('reads ranges in 1 MiB pieces', async () => {
    const path = join(dir, 'three-mib.bin');
    await writeFile(path, pattern(3 * MIB + 5));
    const range = await openFileSource(path, 3 * MIB + 5).range(0, 3 * MIB + 5);
    const sizes: number[] = [];
    for await (const chunk of range.stream()) sizes.push((chunk as Buffer).length);
    expect(sizes).toEqual([MIB, MIB, MIB, 5]);
  });

  it('streams parts from one source that add up to the file', async () => {
    const source = openFileSource(smallPath, SMALL_SIZE);
    const partSize = 64 * 1024;
    const parts: Buffer[] = [];
    for (let start = 0; start < SMALL_SIZE; start += partSize) {
      parts.push(await readAll((await source.range(start, Math.min(SMALL_SIZE, start + partSize))).stream()));
    }
    expect(parts).toHaveLength(Math.ceil(SMALL_SIZE / partSize));
    expect(Buffer.concat(parts).equals(small)).toBe(true);
  });

  it('refuses a range outside the file', async () => {
    const source = openFileSource(smallPath, SMALL_SIZE);
    await expect(source.range(0, SMALL_SIZE + 1)).rejects.toMatchObject({ kind: 'invalid' });
    await expect(source.range(10, 5)).rejects.toMatchObject({ kind: 'invalid' });
  });

  it('says the file changed once it has a new mtime', async () => {
    const path = join(dir, 'touched-range.bin');
    await writeFile(path, small);
    await utimes(path, FIXED_TIME, FIXED_TIME);
    const source = openFileSource(path, SMALL_SIZE, FIXED_TIME.getTime());
    const range = await source.range(0, 10);
    await expect(range.unchanged()).resolves.toBeUndefined();
    const later = new Date(FIXED_TIME.getTime() + 2_000);
    await utimes(path, later, later);
    const error = await range.unchanged().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UploadError);
    expect(error).toMatchObject({ kind: 'local-file' });
    expect((error as UploadError).message).toContain(path);
    expect((error as UploadError).message).toMatch(/changed while it was being uploaded/);
  });

  it('says the file changed once it has a new size, even with the old mtime, also through an open descriptor', async () => {
    const path = join(dir, 'grown-range.bin');
    await writeFile(path, small);
    await utimes(path, FIXED_TIME, FIXED_TIME);
    const source = openFileSource(path, SMALL_SIZE, FIXED_TIME.getTime());
    const range = await source.range(0, 10);
    expect((await range.readPiece(10, 0)).bytesRead).toBe(10); // the descriptor is open from here
    await writeFile(path, pattern(SMALL_SIZE + 1));
    await utimes(path, FIXED_TIME, FIXED_TIME);
    await expect(range.unchanged()).rejects.toMatchObject({
      kind: 'local-file',
      message: expect.stringMatching(/size is now 300001 bytes/),
    });
    await expect(source.unchanged()).rejects.toMatchObject({ kind: 'local-file' });
    await source.close();
  });

  it('takes the mtime of the file when first opened as the reference when none was recorded', async () => {
    const path = join(dir, 'no-reference.bin');
    await writeFile(path, small);
    const source = openFileSource(path, SMALL_SIZE);
    const range = await source.range(0, 1);
    await range.readPiece(1, 0);
    await expect(source.unchanged()).resolves.toBeUndefined();
    const later = new Date(Date.now() + 10_000);
    await utimes(path, later, later);
    await expect(source.unchanged()).rejects.toMatchObject({ kind: 'local-file' });
    await source.close();
  });

  it('refuses to read a file that is gone, as local-file', async () => {
    const path = join(dir, 'vanishing.bin');
    await writeFile(path, small);
    const source = openFileSource(path, SMALL_SIZE);
    await rm(path);
    const range = await source.range(0, 1);
    await expect(range.readPiece(1, 0)).rejects.toMatchObject({
      kind: 'local-file',
      message: expect.stringMatching(/does not exist/),
    });
  });

  it('reads every range of a job through one descriptor, which close() closes; reads after close are refused', async () => {
    const path = join(dir, 'shared.bin');
    await writeFile(path, small);
    const source = openFileSource(path, SMALL_SIZE);
    expect(fdsOn(path)).toBe(0);
    const pieces: Buffer[] = [];
    for (const start of [0, 1_000, 2_000]) {
      const range = await source.range(start, start + 1_000);
      const piece = await range.readPiece(1_000, start);
      expect(piece.bytesRead).toBe(1_000);
      pieces.push(Buffer.from(piece.buffer.subarray(piece.offset, piece.offset + 1_000)));
    }
    expect(Buffer.concat(pieces).equals(small.subarray(0, 3_000))).toBe(true);
    expect(fdsOn(path)).toBe(1);
    await source.close();
    expect(fdsOn(path)).toBe(0);
    const late = await source.range(0, 10);
    await expect(late.readPiece(10, 0)).rejects.toMatchObject({ kind: 'aborted' });
    expect(fdsOn(path)).toBe(0);
  });

  it('reads the next small range ahead: its piece comes with the check made after that read, and bytes stay exact', async () => {
    const path = join(dir, 'ahead.bin');
    await writeFile(path, small);
    await utimes(path, FIXED_TIME, FIXED_TIME);
    const source = openFileSource(path, SMALL_SIZE, FIXED_TIME.getTime());
    const PART = 70_000;
    const got: Buffer[] = [];
    const checks: Array<Promise<void> | null> = [];
    for (let start = 0; start < SMALL_SIZE; start += PART) {
      const end = Math.min(start + PART, SMALL_SIZE);
      const range = await source.range(start, end);
      const piece = await range.readPiece(end - start, start);
      expect(piece.bytesRead).toBe(end - start);
      got.push(Buffer.from(piece.buffer.subarray(piece.offset, piece.offset + piece.bytesRead)));
      checks.push(piece.checked);
    }
    expect(Buffer.concat(got).equals(small)).toBe(true);
    // The first part was read on demand; every later one (the last, shorter one too) was read ahead.
    expect(checks[0]).toBeNull();
    expect(checks.slice(1).every((check) => check !== null)).toBe(true);
    await Promise.all(checks);
    await source.close();
    expect(fdsOn(path)).toBe(0);
  });

  it('a piece read ahead before the file changed is the old bytes; a part read ahead after the change fails its check', async () => {
    const path = join(dir, 'ahead-changed.bin');
    await writeFile(path, small);
    await utimes(path, FIXED_TIME, FIXED_TIME);
    const source = openFileSource(path, SMALL_SIZE, FIXED_TIME.getTime());
    const first = await (await source.range(0, 1_000)).readPiece(1_000, 0);
    expect(first.checked).toBeNull();
    const second = await (await source.range(1_000, 2_000)).readPiece(1_000, 1_000);
    await expect(second.checked).resolves.toBeUndefined(); // read and checked before the change
    expect(second.buffer.subarray(second.offset, second.offset + 1_000).equals(small.subarray(1_000, 2_000))).toBe(
      true,
    );
    await flipByte(path, 2_500);
    // The third part was read ahead while the second was taken, so around the change: it either passes
    // its check with the old bytes or fails it. The fourth is read (and checked) after the change.
    const third = await (await source.range(2_000, 3_000)).readPiece(1_000, 2_000);
    if (
      await third.checked!.then(
        () => true,
        () => false,
      )
    ) {
      expect(third.buffer.subarray(third.offset, third.offset + 1_000).equals(small.subarray(2_000, 3_000))).toBe(true);
    }
    const fourth = await (await source.range(3_000, 4_000)).readPiece(1_000, 3_000);
    await expect(fourth.checked).rejects.toMatchObject({
      kind: 'local-file',
      message: expect.stringMatching(/modified/),
    });
    await source.close();
  });

  it('reads nothing ahead for ranges over 1 MiB, nor for a read that does not cover its whole range', async () => {
    const path = join(dir, 'no-ahead.bin');
    await writeFile(path, pattern(3 * MIB));
    const source = openFileSource(path, 3 * MIB);
    const big = await source.range(0, MIB + 1);
    await big.readPiece(MIB, 0);
    expect((await (await source.range(MIB + 1, 2 * MIB + 2)).readPiece(10, MIB + 1)).checked).toBeNull();
    const part = await source.range(0, 2_000);
    await part.readPiece(1_000, 0);
    expect((await (await source.range(2_000, 4_000)).readPiece(2_000, 2_000)).checked).toBeNull();
    await source.close();
  });

  it.each(['md5', 'sha256'] as const)('computes the %s digest of the whole file', async (algorithm) => {
    const expected = createHash(algorithm).update(small).digest('hex');
    await expect(openFileSource(smallPath, SMALL_SIZE).digest(algorithm)).resolves.toBe(expected);
  });

  it.each(['md5', 'sha256'] as const)('computes the %s digest of an empty file', async (algorithm) => {
    const path = join(dir, `empty-${algorithm}.bin`);
    await writeFile(path, Buffer.alloc(0));
    const expected = createHash(algorithm).digest('hex');
    await expect(openFileSource(path, 0).digest(algorithm)).resolves.toBe(expected);
  });

  it('stops a digest whose signal is aborted', async () => {
    const source = openFileSource(smallPath, SMALL_SIZE);
    await expect(source.digest('sha256', AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('runningDigest', () => {
  const PART = 100_000;

  async function sendInOrder(source: FileSource, from: number, commit = true): Promise<void> {
    const digest = source.runningDigest('md5');
    for (let start = from; start < source.size; start += PART) {
      const end = Math.min(source.size, start + PART);
      const piece = digest.begin(start, end);
      for await (const chunk of (await source.range(start, end)).stream()) piece?.update(chunk as Buffer);
      if (commit) piece?.commit();
    }
  }

  it('equals the digest of the file when every part was sent and accepted in order from byte 0', async () => {
    const source = openFileSource(smallPath, SMALL_SIZE);
    await sendInOrder(source, 0);
    expect(source.runningDigest('md5').result(SMALL_SIZE)).toBe(createHash('md5').update(small).digest('hex'));
    expect(source.runningDigest('md5')).toBe(source.runningDigest('md5'));
  });

  it('keeps a part that was sent again after a failed attempt only once', async () => {
    const source = openFileSource(smallPath, SMALL_SIZE);
    const digest = source.runningDigest('md5');
    // The first attempt of the first part fails after some bytes: it is never committed.
    digest.begin(0, PART)?.update(small.subarray(0, 1000));
    await sendInOrder(source, 0);
    expect(digest.result(SMALL_SIZE)).toBe(createHash('md5').update(small).digest('hex'));
  });

  it('gives up (null) when the parts do not start at byte 0, as after a restart', async () => {
    const source = openFileSource(smallPath, SMALL_SIZE);
    await sendInOrder(source, PART);
    expect(source.runningDigest('md5').result(SMALL_SIZE)).toBeNull();
  });

  it('gives up (null) after a jump to another offset, as after a resync', async () => {
    const source = openFileSource(smallPath, SMALL_SIZE);
    const digest = source.runningDigest('md5');
    const first = digest.begin(0, PART)!;
    first.update(small.subarray(0, PART));
    first.commit();
    expect(digest.begin(2 * PART, 3 * PART)).toBeNull();
    expect(digest.begin(PART, 2 * PART)).toBeNull();
    expect(digest.result(SMALL_SIZE)).toBeNull();
  });

  it('gives up (null) when a committed part did not see all of its bytes', async () => {
    const source = openFileSource(smallPath, SMALL_SIZE);
    const digest = source.runningDigest('md5');
    const short = digest.begin(0, PART)!;
    short.update(small.subarray(0, PART - 1));
    short.commit();
    expect(digest.result(PART)).toBeNull();
  });

  it('has no result before the last part was accepted', async () => {
    const source = openFileSource(smallPath, SMALL_SIZE);
    await sendInOrder(source, 0, false);
    expect(source.runningDigest('md5').result(SMALL_SIZE)).toBeNull();
  });
});

describe('fingerprintFile', () => {
  const BIG_SIZE = 5 * MIB;
  let big: Buffer;

  beforeAll(() => {
    big = pattern(BIG_SIZE);
  });

  async function freshBigFile(name: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, big);
    await utimes(path, FIXED_TIME, FIXED_TIME);
    return path;
  }

  it('gives the same fingerprint for the same unchanged file', async () => {
    const path = await freshBigFile('same.bin');
    const first = await fingerprintFile(path);
    const second = await fingerprintFile(path);
    expect(second).toEqual(first);
    expect(first.size).toBe(BIG_SIZE);
    expect(first.mtimeMs).toBe(FIXED_TIME.getTime());
    expect(first.edgeHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hashes the first and last MiB of a large file', async () => {
    const path = await freshBigFile('edges.bin');
    const expected = createHash('sha256')
      .update(big.subarray(0, MIB))
      .update(big.subarray(BIG_SIZE - MIB))
      .digest('hex');
    expect((await fingerprintFile(path)).edgeHash).toBe(expected);
  });

  it('hashes the whole of a file up to 2 MiB', async () => {
    const path = join(dir, 'two-mib.bin');
    const content = pattern(2 * MIB);
    await writeFile(path, content);
    expect((await fingerprintFile(path)).edgeHash).toBe(createHash('sha256').update(content).digest('hex'));
  });

  // The fingerprint is size + mtime + edges, so an edit in the middle that keeps the mtime goes
  // unnoticed. That is the documented price of not reading whole files.
  it.each([
    { where: 'the first byte', position: 0, changes: true },
    { where: 'the last byte of the first MiB', position: MIB - 1, changes: true },
    { where: 'the first byte after the first MiB', position: MIB, changes: false },
    { where: 'the middle', position: Math.floor(BIG_SIZE / 2), changes: false },
    { where: 'the last byte before the last MiB', position: BIG_SIZE - MIB - 1, changes: false },
    { where: 'the first byte of the last MiB', position: BIG_SIZE - MIB, changes: true },
    { where: 'the last byte', position: BIG_SIZE - 1, changes: true },
  ])('changing $where of a 5 MiB file changes the edge hash: $changes', async ({ position, changes }) => {
    const path = await freshBigFile(`flip-${position}.bin`);
    const before = await fingerprintFile(path);
    await flipByte(path, position);
    await utimes(path, FIXED_TIME, FIXED_TIME);
    const after = await fingerprintFile(path);
    expect(after.size).toBe(before.size);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    if (changes) expect(after.edgeHash).not.toBe(before.edgeHash);
    else expect(after).toEqual(before);
  });

  it('notices a change anywhere in a small file', async () => {
    const path = join(dir, 'small-flip.bin');
    await writeFile(path, pattern(MIB + MIB / 2));
    await utimes(path, FIXED_TIME, FIXED_TIME);
    const before = await fingerprintFile(path);
    await flipByte(path, Math.floor((MIB + MIB / 2) / 2));
    await utimes(path, FIXED_TIME, FIXED_TIME);
    expect((await fingerprintFile(path)).edgeHash).not.toBe(before.edgeHash);
  });

  it('notices a changed mtime even when the bytes are the same', async () => {
    const path = await freshBigFile('touched.bin');
    const before = await fingerprintFile(path);
    const later = new Date(FIXED_TIME.getTime() + 5_000);
    await utimes(path, later, later);
    const after = await fingerprintFile(path);
    expect(after.edgeHash).toBe(before.edgeHash);
    expect(after.mtimeMs).toBe(before.mtimeMs + 5_000);
  });

  it('fails a missing file with a local-file UploadError', async () => {
    const error = await fingerprintFile(join(dir, 'gone.bin')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UploadError);
    expect(error).toMatchObject({ kind: 'local-file' });
  });
});

describe('statFile', () => {
  it('returns the size and a whole-millisecond mtime of a regular file', async () => {
    const path = join(dir, 'stat.bin');
    await writeFile(path, Buffer.alloc(1234, 7));
    await utimes(path, FIXED_TIME, FIXED_TIME);
    await expect(statFile(path, 'Checking')).resolves.toEqual({ size: 1234, mtimeMs: FIXED_TIME.getTime() });
  });

  it('says a missing file does not exist, naming what was being done and the path', async () => {
    const path = join(dir, 'missing.bin');
    const error = await statFile(path, 'Adding').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UploadError);
    const uploadError = error as UploadError;
    expect(uploadError.kind).toBe('local-file');
    expect(uploadError.message).toContain('does not exist');
    expect(uploadError.message).toContain(path);
    expect(uploadError.message.startsWith('Adding')).toBe(true);
    expect((uploadError.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('refuses a directory, saying it may be a folder', async () => {
    const path = join(dir, 'a-folder');
    await mkdir(path);
    const error = await statFile(path, 'Adding').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UploadError);
    expect(error).toMatchObject({ kind: 'local-file' });
    expect((error as UploadError).message).toContain('folder');
    expect((error as UploadError).message).toContain(path);
  });
});
