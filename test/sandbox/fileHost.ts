/**
 * A loopback static file server for pull providers (Oktopost): tests publish a file or a buffer and
 * hand its URL to the provider's emulator, which fetches it the way the real service does (HEAD, then
 * ranged GETs). It answers HEAD with Content-Length, Content-Type and Accept-Ranges, GET with a single
 * `Range: bytes=a-b` (206) or the whole file (200), and records every request so that tests can
 * assert on how the file was pulled. Built on the shared harness, so faults can be injected.
 */
import { open, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { basename } from 'node:path';
import { lookup as mimeLookup } from 'mime-types';
import { readBody, startSandboxServer, text, type Fault, type LoggedRequest, type Reply } from './harness.ts';

export interface FileHostOptions {
  /** false: ignore Range headers and always answer 200 with the whole file (a server without ranges). */
  ranges?: boolean;
  port?: number;
}

export interface PublishedFile {
  url: string;
  /** The URL path on the host (what `requestsFor` and faults match). */
  path: string;
  name: string;
  size: number;
  mime: string;
}

/** One request that reached a published file; faulted requests are only in the harness's `requests`. */
export interface FileHostRequest {
  method: string;
  path: string;
  /** The Range header as sent, or null. */
  range: string | null;
  /** [start, end] inclusive of the range served, or null for a whole-file or failed answer. */
  served: [number, number] | null;
  status: number;
}

export interface FileHost {
  readonly url: string;
  /** Requests to published files, in order. */
  readonly log: FileHostRequest[];
  /** Every request, from the harness (includes faults). */
  readonly requests: LoggedRequest[];
  /** Serves a file from disk (read on each request) or a buffer under `name`; returns its URL. */
  publish(content: string | Buffer, name?: string, mime?: string): Promise<PublishedFile>;
  /** Requests made for one published file. */
  requestsFor(file: PublishedFile | string): FileHostRequest[];
  fault(fault: Fault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

interface Entry {
  name: string;
  mime: string;
  size: number;
  read(start: number, end: number): Promise<Buffer>;
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` against `size`; null when unsatisfiable, 'whole' when absent or unreadable. */
function parseRange(header: string | undefined, size: number): [number, number] | null | 'whole' {
  if (!header) return 'whole';
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Several ranges or another unit: answer with the whole file, as RFC 9110 allows.
  if (!match || (match[1] === '' && match[2] === '')) return 'whole';
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return null;
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return null;
  return [start, end];
}

export async function startFileHost(options: FileHostOptions = {}): Promise<FileHost> {
  const files = new Map<string, Entry>();
  const log: FileHostRequest[] = [];
  let counter = 0;

  const handle = async (request: IncomingMessage, url: URL): Promise<Reply> => {
    await readBody(request);
    const entry = files.get(url.pathname);
    const method = request.method ?? 'GET';
    const record: FileHostRequest = {
      method,
      path: url.pathname,
      range: typeof request.headers.range === 'string' ? request.headers.range : null,
      served: null,
      status: 0,
    };
    const reply = await (async (): Promise<Reply> => {
      if (!entry) return text(404, 'Not Found');
      if (method !== 'GET' && method !== 'HEAD') return text(405, 'Method Not Allowed', { allow: 'GET, HEAD' });
      const common = { 'content-type': entry.mime, 'accept-ranges': options.ranges === false ? 'none' : 'bytes' };
      if (method === 'HEAD') return { status: 200, headers: { ...common, 'content-length': String(entry.size) } };
      const range = options.ranges === false ? 'whole' : parseRange(record.range ?? undefined, entry.size);
      if (range === null) return text(416, 'Range Not Satisfiable', { 'content-range': `bytes */${entry.size}` });
      if (range === 'whole') return { status: 200, body: await entry.read(0, entry.size - 1), headers: common };
      const [start, end] = range;
      record.served = range;
      return {
        status: 206,
        body: await entry.read(start, end),
        headers: { ...common, 'content-range': `bytes ${start}-${end}/${entry.size}` },
      };
    })();
    record.status = reply.status;
    if (entry) log.push(record);
    return reply;
  };

  const server = await startSandboxServer(handle, options.port);

  return {
    url: server.url,
    log,
    get requests() {
      return server.requests;
    },
    async publish(content, name, mime) {
      counter += 1;
      let entry: Entry;
      let fileName: string;
      if (typeof content === 'string') {
        const path = content;
        fileName = name ?? basename(path);
        const { size } = await stat(path);
        entry = {
          name: fileName,
          mime: '',
          size,
          async read(start, end) {
            if (end < start) return Buffer.alloc(0);
            const handle = await open(path, 'r');
            try {
              const buffer = Buffer.alloc(end - start + 1);
              const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
              return buffer.subarray(0, bytesRead);
            } finally {
              await handle.close();
            }
          },
        };
      } else {
        const bytes = content;
        fileName = name ?? `file-${counter}`;
        entry = {
          name: fileName,
          mime: '',
          size: bytes.length,
          read: async (start, end) => bytes.subarray(start, end + 1),
        };
      }
      entry.mime = mime ?? (mimeLookup(fileName) || 'application/octet-stream');
      const path = `/files/${counter}/${encodeURIComponent(fileName)}`;
      files.set(path, entry);
      return { url: `${server.url}${path}`, path, name: fileName, size: entry.size, mime: entry.mime };
    },
    requestsFor(file) {
      const path = typeof file === 'string' ? file : file.path;
      return log.filter((request) => request.path === path);
    },
    fault: (fault) => server.fault(fault),
    clearFaults: () => server.clearFaults(),
    close: () => server.close(),
  };
}
