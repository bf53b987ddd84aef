/**
 * The floor clients' whole HTTP stack: node:http with one keep-alive Agent, bodies written straight
 * to the socket (buffers, or file ranges streamed from disk with back-pressure), replies read as text.
 * Nothing else: no retries, no validation, no progress events, no database.
 */
import { createReadStream } from 'node:fs';
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { once } from 'node:events';

export const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** A piece of a request body: bytes in memory, or a byte range [start, end) of a file. */
export type BodyPiece = Buffer | string | { path: string; start: number; end: number };

export interface RawReply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

const FILE_READ_SIZE = 1024 * 1024;

function pieceLength(piece: BodyPiece): number {
  if (typeof piece === 'string') return Buffer.byteLength(piece);
  if (Buffer.isBuffer(piece)) return piece.length;
  return piece.end - piece.start;
}

export async function send(
  method: string,
  url: string,
  headers: Record<string, string>,
  body: readonly BodyPiece[] = [],
): Promise<RawReply> {
  const length = body.reduce((sum, piece) => sum + pieceLength(piece), 0);
  const request = httpRequest(url, { method, agent, headers: { ...headers, 'content-length': String(length) } });
  const replied = new Promise<RawReply>((resolve, reject) => {
    request.on('error', reject);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      response.on('error', reject);
    });
  });
  for (const piece of body) {
    if (typeof piece === 'string' || Buffer.isBuffer(piece)) {
      if (!request.write(piece)) await once(request, 'drain');
      continue;
    }
    if (piece.end <= piece.start) continue;
    for await (const chunk of createReadStream(piece.path, {
      start: piece.start,
      end: piece.end - 1,
      highWaterMark: FILE_READ_SIZE,
    })) {
      if (!request.write(chunk as Buffer)) await once(request, 'drain');
    }
  }
  request.end();
  return replied;
}

/** Throws unless the reply status is one of `ok`. */
export function expectStatus(reply: RawReply, ok: readonly number[], what: string): RawReply {
  if (!ok.includes(reply.status)) throw new Error(`${what}: ${reply.status} ${reply.text.slice(0, 300)}`);
  return reply;
}

/** Runs `work` over `items` with at most `width` at once. */
export async function pool<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, () => lane()));
}

/** A multipart boundary and the text around the file part. */
export function multipartFrame(
  fields: ReadonlyArray<readonly [string, string]>,
  file: { field: string; filename: string; contentType: string },
): {
  contentType: string;
  head: string;
  tail: string;
} {
  const boundary = `----FloorBoundary${Math.random().toString(16).slice(2)}`;
  const head =
    fields
      .map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
      .join('') +
    `--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.filename}"\r\nContent-Type: ${file.contentType}\r\n\r\n`;
  return { contentType: `multipart/form-data; boundary=${boundary}`, head, tail: `\r\n--${boundary}--\r\n` };
}

/** Reads the floor client's configuration: one JSON argument. */
export function config<T>(): T {
  const raw = process.argv[2];
  if (!raw) throw new Error('usage: node floor/<client>.ts JSON');
  return JSON.parse(raw) as T;
}

/** Ends the process with a one-line JSON summary, or the error. */
export function finish(work: Promise<unknown>): void {
  work.then(
    (summary) => {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      agent.destroy();
    },
    (error: unknown) => {
      process.stderr.write(
        `floor client failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
      agent.destroy();
    },
  );
}
