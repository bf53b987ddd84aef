import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import busboy from 'busboy';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAccountHttp } from '../../main/engine/accountHttp.ts';
import { UploadError } from '../../main/core/errors.ts';
import { openFileSource } from '../../main/engine/fileSource.ts';
import { send } from '../../main/providers/http.ts';
import { multipartBody, rangeBody } from '../../main/providers/multipartBody.ts';
import type { AccountContext } from '../../main/providers/types.ts';
import { pattern, readAll } from '../support/bytes.ts';
import { fdsOn, openFds } from '../support/fds.ts';

const MIB = 1024 * 1024;
const FIXED_TIME = new Date('2024-05-01T12:00:00.000Z');

async function waitFor(what: string, check: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface Parsed {
  fields: Array<[string, string]>;
  files: Array<{ field: string; filename: string; mimeType: string; bytes: Buffer }>;
}

/** Parses a multipart body the way a server would (busboy), checking its declared length. */
async function parse(body: Buffer, contentType: string): Promise<Parsed> {
  const parsed: Parsed = { fields: [], files: [] };
  const parser = busboy({ headers: { 'content-type': contentType }, defParamCharset: 'utf8' });
  parser.on('field', (name, value) => parsed.fields.push([name, value]));
  parser.on('file', (field, stream, info) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () =>
      parsed.files.push({
        field,
        filename: info.filename ?? '',
        mimeType: info.mimeType,
        bytes: Buffer.concat(chunks),
      }),
    );
  });
  const done = once(parser, 'close');
  parser.end(body);
  await done;
  return parsed;
}

let dir: string;
const SIZE = 3 * MIB + 12_345;
let content: Buffer;
let path: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-multipart-'));
  content = pattern(SIZE);
  path = join(dir, 'video.mp4');
  await writeFile(path, content);
  await utimes(path, FIXED_TIME, FIXED_TIME);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('multipartBody', () => {
  it('encodes the fields in order, then the file range, with a Content-Length equal to the bytes sent', async () => {
    const source = openFileSource(path, SIZE, FIXED_TIME.getTime());
    const range = await source.range(1_000, 2 * MIB + 7);
    const form = multipartBody(
      [
        ['upload_id', 'abc'],
        ['title', 'Été "quoted"\nsecond line'],
      ],
      { field: 'file', filename: 'vidéo "1".mp4', range, contentType: 'video/mp4' },
    );
    const body = await readAll(form.body);
    expect(body.length).toBe(form.length);
    expect(form.contentType).toMatch(/^multipart\/form-data; boundary=----FerryFormBoundary[0-9a-f]{24}[0-9a-z]+$/);
    // Every body gets its own boundary.
    const again = multipartBody([], { field: 'file', filename: 'x', range });
    expect(again.contentType).not.toBe(form.contentType);
    again.body.destroy();
    const parsed = await parse(body, form.contentType);
    expect(parsed.fields).toEqual([
      ['upload_id', 'abc'],
      ['title', 'Été "quoted"\r\nsecond line'],
    ]);
    expect(parsed.files).toHaveLength(1);
    expect(parsed.files[0]).toMatchObject({ field: 'file', filename: 'vidéo %221%22.mp4', mimeType: 'video/mp4' });
    expect(parsed.files[0]!.bytes.equals(content.subarray(1_000, 2 * MIB + 7))).toBe(true);
  });

  it('encodes an empty file range', async () => {
    const range = await openFileSource(path, SIZE).range(5, 5);
    const form = multipartBody([], { field: 'image', filename: 'a.png', range });
    const body = await readAll(form.body);
    expect(body.length).toBe(form.length);
    const parsed = await parse(body, form.contentType);
    expect(parsed.files).toMatchObject([{ field: 'image', mimeType: 'application/octet-stream' }]);
    expect(parsed.files[0]!.bytes.length).toBe(0);
  });

  it('shows every file byte, in order, to onFileBytes', async () => {
    const range = await openFileSource(path, SIZE).range(0, SIZE);
    const hash = createHash('sha256');
    const form = multipartBody(
      [],
      { field: 'file', filename: 'v.mp4', range },
      { onFileBytes: (chunk) => hash.update(chunk) },
    );
    await readAll(form.body);
    // As `send` does once the reply is in: the last bytes are shown by then at the latest.
    form.body.destroy();
    expect(hash.digest('hex')).toBe(createHash('sha256').update(content).digest('hex'));
  });

  it('shows a small part to onFileBytes only after handing its bytes on, and all of them before the body is gone', async () => {
    const PART = 204_800;
    const range = await openFileSource(path, SIZE).range(PART, 2 * PART);
    const seen: Buffer[] = [];
    const form = multipartBody(
      [],
      { field: 'image', filename: 'a.png', range },
      { onFileBytes: (chunk) => seen.push(Buffer.from(chunk)) },
    );
    const handedOn: number[] = [];
    // What a socket would have been given when the hash saw nothing yet: the request's bytes go out
    // first, and the hash runs while the server works.
    form.body.on('data', () => handedOn.push(seen.length));
    await once(form.body, 'end');
    expect(handedOn).toEqual([0]);
    // A later turn of the event loop, or at the latest the body's end of life, shows the bytes.
    form.body.destroy();
    expect(Buffer.concat(seen).equals(content.subarray(PART, 2 * PART))).toBe(true);
  });

  it('starts reading when the body is made; the file source, not the body, closes the file', async () => {
    const own = join(dir, 'own.mp4');
    await writeFile(own, content);
    const source = openFileSource(own, SIZE);
    const range = await source.range(0, SIZE);
    expect(fdsOn(own)).toBe(0);
    // The first piece is read while the HTTP client sets the request up.
    const form = multipartBody([], { field: 'file', filename: 'v.mp4', range });
    await waitFor('the file to be opened', () => fdsOn(own) === 1);
    form.body.destroy();
    await once(form.body, 'close');
    // The descriptor belongs to the source (shared by every part of a job's run), not to one body.
    expect(fdsOn(own)).toBe(1);
    await source.close();
    expect(fdsOn(own)).toBe(0);
  });

  it('fails with a local-file error, before the closing boundary, when the file changed while it was read', async () => {
    const changing = join(dir, 'changing.bin');
    await writeFile(changing, content);
    await utimes(changing, FIXED_TIME, FIXED_TIME);
    const range = await openFileSource(changing, SIZE, FIXED_TIME.getTime()).range(0, SIZE);
    const form = multipartBody([], { field: 'file', filename: 'c.bin', range });
    const later = new Date(FIXED_TIME.getTime() + 1_000);
    await utimes(changing, later, later);
    const error = await readAll(form.body).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UploadError);
    expect(error).toMatchObject({ kind: 'local-file' });
    expect((error as UploadError).message).toMatch(/changed while it was being uploaded/);
  });

  it('fails with a local-file error when the file is shorter than the range', async () => {
    const shrinking = join(dir, 'shrinking.bin');
    await writeFile(shrinking, content);
    const range = await openFileSource(shrinking, SIZE).range(0, SIZE);
    await writeFile(shrinking, content.subarray(0, MIB));
    const error = await readAll(multipartBody([], { field: 'file', filename: 's.bin', range }).body).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ kind: 'local-file' });
  });
});

describe('rangeBody', () => {
  it('is exactly the bytes of the range', async () => {
    const range = await openFileSource(path, SIZE).range(MIB - 1, 3 * MIB);
    const { body, length } = rangeBody(range);
    const bytes = await readAll(body);
    expect(length).toBe(2 * MIB + 1);
    expect(bytes.equals(content.subarray(MIB - 1, 3 * MIB))).toBe(true);
  });
});

describe('a streamed body sent with send()', () => {
  let server: Server;
  let url: string;
  let received: (request: IncomingMessage, response: ServerResponse) => void;

  beforeAll(async () => {
    server = createServer((request, response) => received(request, response));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`;
  });

  afterEach(() => {
    server.closeAllConnections();
  });

  afterAll(async () => {
    server.close();
    await once(server, 'close');
  });

  function account(): AccountContext {
    return { id: 1, name: 'test', baseUrl: url, settings: {}, secrets: {}, http: createAccountHttp() };
  }

  it('aborted mid-body against a slow reader: no unhandled rejection, and every descriptor is closed', async () => {
    const big = join(dir, 'big.bin');
    await writeFile(big, Buffer.alloc(32 * MIB, 7));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // The server reads one piece and then stops reading: the client's writes back up.
      let requestArrived!: () => void;
      const arrived = new Promise<void>((resolve) => (requestArrived = resolve));
      received = (request) => {
        request.once('data', () => request.pause());
        requestArrived();
      };
      const client = account();
      const baseline = openFds();
      const controller = new AbortController();
      let sent = 0;
      const source = openFileSource(big, 32 * MIB);
      const range = await source.range(0, 32 * MIB);
      const form = multipartBody([['upload_id', 'x']], { field: 'file', filename: 'big.bin', range });
      const request = send(
        client,
        url,
        {
          method: 'POST',
          body: form.body,
          headers: { 'content-type': form.contentType, 'content-length': String(form.length) },
        },
        { signal: controller.signal, onBytes: (bytes) => (sent = bytes) },
        'Sending big.bin',
      );
      await arrived;
      await waitFor('the file to be open and bytes to move', () => fdsOn(big) === 1 && sent > 0);
      controller.abort();
      const error = await request.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UploadError);
      expect(error).toMatchObject({ kind: 'aborted' });
      expect(sent).toBeLessThan(32 * MIB);
      // What the runner does when a run ends: close the job's file (after its pending reads).
      await source.close();
      expect(fdsOn(big)).toBe(0);
      server.closeAllConnections();
      await waitFor('the descriptor count to come back to its baseline', () => openFds() <= baseline);
      // Give a late rejection the chance to surface.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('sends bodies back to back and in parallel, reusing read buffers, without changing a byte', async () => {
    const contents = [0, 1, 2, 3].map(() => randomBytes(5 * MIB + 321));
    const paths = await Promise.all(
      contents.map(async (bytes, i) => {
        const file = join(dir, `reuse-${i}.bin`);
        await writeFile(file, bytes);
        return file;
      }),
    );
    const hashes: string[] = [];
    received = (request, response) => {
      const hash = createHash('sha256');
      request.on('data', (chunk: Buffer) => hash.update(chunk));
      request.on('end', () => {
        hashes.push(hash.digest('hex'));
        response.end();
      });
    };
    const client = account();
    const put = async (index: number): Promise<void> => {
      const { body, length } = rangeBody(
        await openFileSource(paths[index]!, contents[index]!.length).range(0, contents[index]!.length),
      );
      const reply = await send(
        client,
        url,
        { method: 'PUT', body, headers: { 'content-length': String(length) } },
        { signal: new AbortController().signal, onBytes: () => {} },
        `Sending reuse-${index}.bin`,
      );
      expect(reply.statusCode).toBe(200);
    };
    for (let round = 0; round < 2; round += 1) await Promise.all([0, 1, 2, 3].map(put));
    const expected = contents.map((bytes) => createHash('sha256').update(bytes).digest('hex'));
    expect([...hashes].sort()).toEqual([...expected, ...expected].sort());
  });

  it('sends a small part as one buffer (head, bytes, tail), byte-exact, while read buffers are reused across parallel requests', async () => {
    const PART = 204_800;
    const contents = [0, 1, 2, 3].map(() => randomBytes(3 * PART));
    const paths = await Promise.all(
      contents.map(async (bytes, i) => {
        const file = join(dir, `small-${i}.png`);
        await writeFile(file, bytes);
        return file;
      }),
    );
    const sources = paths.map((file, i) => openFileSource(file, contents[i]!.length));
    // One piece: the body yields its head, bytes and tail as a single buffer.
    const alone = multipartBody([['upload_id', 'u']], {
      field: 'image',
      filename: 'a.png',
      range: await sources[0]!.range(0, PART),
    });
    const pieces: Buffer[] = [];
    alone.body.on('data', (piece: Buffer) => pieces.push(piece));
    await once(alone.body, 'end');
    expect(pieces).toHaveLength(1);
    expect(pieces[0]!.length).toBe(alone.length);
    expect((await parse(pieces[0]!, alone.contentType)).files[0]!.bytes.equals(contents[0]!.subarray(0, PART))).toBe(
      true,
    );

    const parts: Buffer[] = [];
    received = (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        void parse(Buffer.concat(chunks), String(request.headers['content-type'])).then((parsed) => {
          parts.push(parsed.files[0]!.bytes);
          response.end();
        });
      });
    };
    const client = account();
    const post = async (index: number, start: number): Promise<void> => {
      const form = multipartBody([['upload_id', `u${index}`]], {
        field: 'image',
        filename: `small-${index}.png`,
        range: await sources[index]!.range(start, start + PART),
      });
      const reply = await send(
        client,
        url,
        {
          method: 'POST',
          body: form.body,
          headers: { 'content-type': form.contentType, 'content-length': String(form.length) },
        },
        { signal: new AbortController().signal, onBytes: () => {} },
        `Sending small-${index}.png`,
      );
      expect(reply.statusCode).toBe(200);
    };
    for (let start = 0; start < 3 * PART; start += PART) await Promise.all([0, 1, 2, 3].map((i) => post(i, start)));
    const hash = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
    const expected = contents.flatMap((bytes) => [0, 1, 2].map((k) => hash(bytes.subarray(k * PART, (k + 1) * PART))));
    expect(parts.map(hash).sort()).toEqual(expected.sort());
    for (const source of sources) await source.close();
  });

  it('reports a file that changed during the request as local-file, and never sends its last bytes', async () => {
    const changing = join(dir, 'changing-send.bin');
    await writeFile(changing, content);
    await utimes(changing, FIXED_TIME, FIXED_TIME);
    let arrived = 0;
    received = (request) => {
      request.on('data', (chunk: Buffer) => (arrived += chunk.length));
    };
    const source = openFileSource(changing, SIZE, FIXED_TIME.getTime());
    const range = await source.range(0, SIZE);
    const later = new Date(FIXED_TIME.getTime() + 1_000);
    await utimes(changing, later, later);
    const { body, length } = rangeBody(range);
    const error = await send(
      account(),
      url,
      { method: 'PUT', body, headers: { 'content-length': String(length) } },
      { signal: new AbortController().signal, onBytes: () => {} },
      'Sending changing-send.bin',
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UploadError);
    expect(error).toMatchObject({
      kind: 'local-file',
      message: expect.stringMatching(/changed while it was being uploaded/),
    });
    // The last piece waits for the check, so the server never had the whole Content-Length.
    expect(arrived).toBeLessThan(SIZE);
    await source.close();
    expect(fdsOn(changing)).toBe(0);
  });

  it('leaves no descriptor behind for a request aborted before it started, once its source is closed', async () => {
    const own = join(dir, 'aborted-early.mp4');
    await writeFile(own, content);
    const source = openFileSource(own, SIZE);
    const range = await source.range(0, SIZE);
    const form = multipartBody([], { field: 'file', filename: 'v.mp4', range });
    const error = await send(
      account(),
      url,
      { method: 'POST', body: form.body, headers: { 'content-type': form.contentType } },
      { signal: AbortSignal.abort(), onBytes: () => {} },
      'Sending v.mp4',
    ).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ kind: 'aborted' });
    expect(form.body.destroyed).toBe(true);
    await source.close();
    expect(fdsOn(own)).toBe(0);
  });
});
