import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UploadError } from '../../main/engine/errors.ts';
import { fingerprintFile, openFileSource, statFile } from '../../main/engine/fileSource.ts';

const MIB = 1024 * 1024;
/** A fixed mtime, so that a test can rewrite a file and put the old mtime back. */
const FIXED_TIME = new Date('2024-05-01T12:00:00.000Z');

/** Bytes that differ from their neighbours, so that an off-by-one in a range shows. */
function pattern(size: number): Buffer {
  const buffer = Buffer.alloc(size);
  for (let i = 0; i < size; i += 1) buffer[i] = (i * 31 + (i >> 8)) % 251;
  return buffer;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

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
/** 300 000 bytes: larger than the stream's 256 KiB chunks. */
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
    it('slice returns exactly those bytes', async () => {
      const blob = await openFileSource(smallPath, SMALL_SIZE).slice(start, end);
      expect(blob.size).toBe(end - start);
      const bytes = Buffer.from(await blob.arrayBuffer());
      expect(bytes.equals(small.subarray(start, end))).toBe(true);
    });

    it('stream yields exactly those bytes', async () => {
      const bytes = await readAll(openFileSource(smallPath, SMALL_SIZE).stream(start, end));
      expect(bytes.length).toBe(end - start);
      expect(bytes.equals(small.subarray(start, end))).toBe(true);
    });
  });

  it('slices several parts from one source that add up to the file', async () => {
    const source = openFileSource(smallPath, SMALL_SIZE);
    const partSize = 64 * 1024;
    const parts: Buffer[] = [];
    for (let start = 0; start < SMALL_SIZE; start += partSize) {
      const blob = await source.slice(start, Math.min(SMALL_SIZE, start + partSize));
      parts.push(Buffer.from(await blob.arrayBuffer()));
    }
    expect(parts).toHaveLength(Math.ceil(SMALL_SIZE / partSize));
    expect(Buffer.concat(parts).equals(small)).toBe(true);
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
