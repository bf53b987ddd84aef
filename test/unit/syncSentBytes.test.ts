/**
 * What a job really sent: request bodies built from a file source that measures (jobs from watched
 * folders) hash exactly the bytes they read, and the whole-file hash is confirmed as "sent" only when
 * every acknowledged part's range of the file still hashes to what its body sent. Real files, real
 * bodies read to the end as the HTTP layer would.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { confirmSentParts, openFileSource } from '../../main/engine/fileSource.ts';
import { multipartBody, rangeBody } from '../../main/providers/multipartBody.ts';
import { readAll } from '../support/bytes.ts';

const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-sent-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(bytes: Buffer): Promise<string> {
  const path = join(dir, 'file.bin');
  await writeFile(path, bytes);
  return path;
}

/** Sends each range of `parts` through a body, as adapters do, and returns the recorded part hashes. */
async function sendParts(
  path: string,
  size: number,
  parts: Array<[number, number]>,
  kind: 'raw' | 'multipart' = 'raw',
) {
  const source = openFileSource(path, size, undefined, { measureSent: true });
  try {
    const recorded = [];
    for (const [start, end] of parts) {
      const range = await source.range(start, end);
      const body =
        kind === 'raw'
          ? rangeBody(range).body
          : multipartBody([['a', 'b']], { field: 'file', filename: 'f', range }).body;
      await readAll(body);
      recorded.push({ start, end, sha256: source.sentSha256!(start, end) });
    }
    return recorded;
  } finally {
    await source.close();
  }
}

describe('the bytes a job sent', () => {
  it('are hashed as each body reads them, for raw and multipart bodies', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const path = await file(bytes);
    const parts: Array<[number, number]> = [
      [0, 1_500_000],
      [1_500_000, 3_000_000],
      [3_000_000, bytes.length],
    ];
    for (const kind of ['raw', 'multipart'] as const) {
      const recorded = await sendParts(path, bytes.length, parts, kind);
      expect(recorded.map((part) => part.sha256)).toEqual(parts.map(([start, end]) => sha(bytes.subarray(start, end))));
      expect(await confirmSentParts(path, bytes.length, recorded)).toEqual({ kind: 'confirmed', sha256: sha(bytes) });
    }
  });

  it('are not measured for a source that does not ask for it (manual uploads pay nothing)', async () => {
    const bytes = randomBytes(10_000);
    const path = await file(bytes);
    const source = openFileSource(path, bytes.length);
    const range = await source.range(0, bytes.length);
    expect(range.measureSent).toBeUndefined();
    await readAll(rangeBody(range).body);
    expect(source.sentSha256!(0, bytes.length)).toBeNull();
    await source.close();
  });

  it('describe the last body of a range when a part is sent again', async () => {
    const first = randomBytes(50_000);
    const path = await file(first);
    const source = openFileSource(path, first.length, undefined, { measureSent: true });
    await readAll(rangeBody(await source.range(0, first.length)).body);
    expect(source.sentSha256!(0, first.length)).toBe(sha(first));
    // A body that is dropped half-way leaves no claim about the range.
    const range = await source.range(0, first.length);
    const partial = rangeBody(range).body;
    partial.destroy();
    expect(source.sentSha256!(0, first.length)).toBeNull();
    await source.close();
  });

  it('are not confirmed when a part on disk is no longer what was sent (a retry that mixed two versions)', async () => {
    const bytes = randomBytes(600_000);
    const path = await file(bytes);
    const recorded = await sendParts(path, bytes.length, [
      [0, 200_000],
      [200_000, 400_000],
      [400_000, 600_000],
    ]);
    // The middle of the file changes in place after its part went out.
    const handle = await open(path, 'r+');
    await handle.write(Buffer.from('changed'), 0, 7, 300_000);
    await handle.close();
    expect(await confirmSentParts(path, bytes.length, recorded)).toEqual({
      kind: 'unconfirmed',
      reason: 'bytes 200000-400000 on disk are not the bytes that were sent',
    });
  });

  it('are not confirmed when a part was acknowledged without its hash, with a gap, or for another size', async () => {
    const bytes = randomBytes(1_000);
    const path = await file(bytes);
    const whole = sha(bytes);
    expect(await confirmSentParts(path, 1_000, [{ start: 0, end: 1_000, sha256: null }])).toMatchObject({
      kind: 'unconfirmed',
    });
    expect(
      await confirmSentParts(path, 1_000, [
        { start: 0, end: 400, sha256: sha(bytes.subarray(0, 400)) },
        { start: 500, end: 1_000, sha256: whole },
      ]),
    ).toMatchObject({
      kind: 'unconfirmed',
      reason: expect.stringMatching(/gaps/),
    });
    expect(await confirmSentParts(path, 1_000, [])).toMatchObject({ kind: 'unconfirmed' });
    await writeFile(path, Buffer.concat([bytes, Buffer.from('more')]));
    expect(await confirmSentParts(path, 1_000, [{ start: 0, end: 1_000, sha256: whole }])).toMatchObject({
      kind: 'unconfirmed',
      reason: expect.stringMatching(/longer/),
    });
  });

  it('leave the bytes after the parts to finalize when asked, hashing them for the comparison after it', async () => {
    const bytes = randomBytes(700_000);
    const path = await file(bytes);
    const recorded = await sendParts(path, bytes.length, [
      [0, 300_000],
      [300_000, 600_000],
    ]);
    expect(await confirmSentParts(path, bytes.length, recorded)).toMatchObject({
      kind: 'unconfirmed',
      reason: 'the acknowledged parts cover 600000 of 700000 bytes',
    });
    expect(await confirmSentParts(path, bytes.length, recorded, { tail: true })).toEqual({
      kind: 'needs-tail',
      sha256: sha(bytes),
      tail: { start: 600_000, end: 700_000, sha256: sha(bytes.subarray(600_000)) },
    });
  });
});
