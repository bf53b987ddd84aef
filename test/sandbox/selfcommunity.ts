/**
 * SelfCommunity emulator: the chunk and complete endpoints of docs/protocols.md ("selfcommunity"),
 * answering the way django-chunked-upload does. It is strict on purpose (inclusive Content-Range,
 * chunk size, one file field, offsets, upload_id, MD5, at-most-one Media per upload) and records
 * what it received so that tests assert on bytes and calls rather than on adapter internals.
 *
 * Complete files the upload as the `type` it is sent (image, doc or eimage); without one it uses the
 * vendor's documented default, "image or document based on file extension", and refuses a media
 * whose chunks do not fit that type (a PDF taken for an image), so a client that leaves the type to
 * the server's guess is caught.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { json, readBody, startSandboxServer, type Fault, type LoggedRequest, type Reply } from './harness.ts';

export const SANDBOX_CHUNK_LIMIT = 204_800;
export const SANDBOX_SIZE_LIMITS = { image: 5_000_000, document: 50_000_000 } as const;
const EXPIRY_MS = 24 * 60 * 60 * 1000;
const MEDIA_TYPES = new Set(['image', 'doc', 'eimage']);

/**
 * The media type complete uses when the client sends none. The vendor's complete page says `type`
 * "Default[s] to image or document based on file extension"; this emulator reads that as literally
 * as it can: only a name ending in `.pdf` (any case) defaults to `doc`, anything else to `image`. So a
 * PDF named `contract` (no extension) completed without `type=doc` is taken for an image and refused.
 */
function defaultMediaType(filename: string): 'doc' | 'image' {
  return /\.pdf$/i.test(filename) ? 'doc' : 'image';
}

/** The chunk field a media type needs: `doc` is a PDF document, `image` and `eimage` are images. */
function fieldForType(type: string): 'image' | 'document' {
  return type === 'doc' ? 'document' : 'image';
}

export interface SelfCommunitySandboxOptions {
  /** The bearer token the emulator accepts (default `sc-token`). */
  token?: string;
  /** How replies carry `offset`: the doc shows a string, django-chunked-upload sends an integer. */
  offsetAs?: 'string' | 'number';
  chunkStatus?: 200 | 201;
  completeStatus?: 200 | 201;
  port?: number;
  /**
   * false: keep no bytes; each upload's MD5 is updated as chunks are accepted, so complete still
   * checks the client's MD5 but hashes nothing at once (the benchmarks: 16 completes at the same
   * moment used to hash 16 × 4.5 MB twice on this single thread, which delayed the last reply by
   * ~0.3 s). `bytes` and a Media's `sha256` are then empty. Default true.
   */
  keepBytes?: boolean;
}

export interface SandboxUpload {
  id: string;
  field: 'image' | 'document';
  filename: string;
  /** Total size the first chunk's Content-Range announced. */
  total: number;
  /** The bytes assembled so far, in order (empty when the emulator keeps no bytes). */
  readonly bytes: Buffer;
  offset: number;
  completed: boolean;
  expiresAt: number;
}

export interface SandboxMedia {
  id: number;
  uploadId: string;
  /** The media type it was filed as: the `type` sent with complete, or the default of its name. */
  type: 'image' | 'doc' | 'eimage';
  size: number;
  md5: string;
  /** Empty when the emulator keeps no bytes. */
  sha256: string;
}

export interface SandboxCompleteCall {
  uploadId: string | null;
  md5: string | null;
  type: string | null;
  status: number;
}

/** A chunk request whose body was fully received, accepted or not. `end` is inclusive, as sent. */
export interface SandboxChunk {
  uploadId: string | null;
  start: number | null;
  end: number | null;
  /** Bytes of the file field received. */
  size: number;
  status: number;
}

export interface SelfCommunitySandbox {
  readonly url: string;
  readonly token: string;
  readonly requests: LoggedRequest[];
  readonly uploads: Map<string, SandboxUpload>;
  readonly media: SandboxMedia[];
  readonly completeCalls: SandboxCompleteCall[];
  readonly chunkLog: SandboxChunk[];
  readonly maxInFlight: number;
  fault(fault: Fault): void;
  clearFaults(): void;
  /** Makes the upload expired: later chunks and completes get 410. */
  expire(uploadId: string): void;
  expireAll(): void;
  close(): Promise<void>;
}

interface ParsedForm {
  fields: Map<string, string>;
  files: Array<{ name: string; filename: string; mime: string; data: Buffer }>;
}

/** Parses multipart or urlencoded bodies; rejects on a malformed body. */
function parseForm(request: IncomingMessage): Promise<ParsedForm> {
  return new Promise((resolve, reject) => {
    const form: ParsedForm = { fields: new Map(), files: [] };
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: request.headers, defParamCharset: 'utf8' });
    } catch (error) {
      // Drain so that the client gets the 400 instead of a reset.
      void readBody(request).finally(() => reject(error as Error));
      return;
    }
    parser.on('field', (name, value) => form.fields.set(name, value));
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () =>
        form.files.push({ name, filename: info.filename ?? '', mime: info.mimeType, data: Buffer.concat(chunks) }),
      );
    });
    parser.on('error', (error) => {
      request.unpipe(parser);
      request.resume();
      reject(error as Error);
    });
    parser.on('close', () => resolve(form));
    request.pipe(parser);
  });
}

const detail = (status: number, text: string, extra: Record<string, unknown> = {}): Reply =>
  json(status, { detail: text, ...extra });

export async function startSelfCommunitySandbox(
  options: SelfCommunitySandboxOptions = {},
): Promise<SelfCommunitySandbox> {
  const token = options.token ?? 'sc-token';
  const offsetAs = options.offsetAs ?? 'string';
  const chunkStatus = options.chunkStatus ?? 201;
  const completeStatus = options.completeStatus ?? 201;
  const keepBytes = options.keepBytes ?? true;

  type StoredUpload = SandboxUpload & { parts: Buffer[]; md5: Hash | null; size: number };
  const uploads = new Map<string, StoredUpload>();
  const media: SandboxMedia[] = [];
  const completeCalls: SandboxCompleteCall[] = [];
  const chunkLog: SandboxChunk[] = [];
  let nextMediaId = 1;
  let origin = '';

  const offsetValue = (offset: number): string | number => (offsetAs === 'string' ? String(offset) : offset);

  const authorized = (request: IncomingMessage): boolean => request.headers.authorization === `Bearer ${token}`;

  /** django-chunked-upload's is_valid_chunked_upload: expiry first, then completion. */
  const invalidState = (upload: SandboxUpload): Reply | null => {
    if (upload.expiresAt <= Date.now()) return detail(410, 'Upload has expired');
    if (upload.completed) return detail(400, 'Upload has already been marked as complete');
    return null;
  };

  const handleChunk = async (request: IncomingMessage): Promise<Reply> => {
    let form: ParsedForm;
    try {
      form = await parseForm(request);
    } catch (error) {
      return detail(400, `Multipart form parse error - ${(error as Error).message}`);
    }
    const uploadId = form.fields.get('upload_id') || null;
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(request.headers['content-range'] ?? ''));
    const start = range ? Number(range[1]) : null;
    const end = range ? Number(range[2]) : null;
    const fileFields = form.files.filter((file) => file.name === 'image' || file.name === 'document');
    const entry: SandboxChunk = {
      uploadId,
      start,
      end,
      size: form.files.reduce((sum, file) => sum + file.data.length, 0),
      status: 0,
    };
    chunkLog.push(entry);
    const reply = ((): Reply => {
      if (!authorized(request)) return detail(401, 'Invalid token.');
      if (!range || start === null || end === null) return detail(400, 'Error in request headers');
      const total = Number(range[3]);
      if (end < start || end >= total) return detail(400, 'Error in request headers');
      if (form.files.length !== 1 || fileFields.length !== 1) {
        return detail(400, 'No chunk file was submitted: send exactly one file field named image or document');
      }
      const chunk = fileFields[0]!;
      const field = chunk.name as 'image' | 'document';
      const chunkSize = end - start + 1;
      if (chunkSize > SANDBOX_CHUNK_LIMIT)
        return detail(400, `Chunk size exceeds the limit (${SANDBOX_CHUNK_LIMIT} bytes)`);
      if (total > SANDBOX_SIZE_LIMITS[field]) {
        return detail(400, `Size of file exceeds the limit (${SANDBOX_SIZE_LIMITS[field]} bytes)`);
      }

      let upload: StoredUpload;
      if (uploadId !== null) {
        const known = uploads.get(uploadId);
        if (!known) return detail(404, 'Not found.');
        const invalid = invalidState(known);
        if (invalid) return invalid;
        if (known.field !== field) return detail(400, `This upload takes ${known.field} chunks, not ${field}`);
        if (known.total !== total) return detail(400, `Total size ${total} does not match the upload (${known.total})`);
        upload = known;
      } else {
        // Like django-chunked-upload, a chunk without upload_id creates the upload before any
        // further check, so a first chunk that does not start at 0 leaves an empty upload behind.
        const parts: Buffer[] = [];
        upload = {
          id: randomUUID().replaceAll('-', ''),
          field,
          filename: chunk.filename,
          total,
          parts,
          md5: keepBytes ? null : createHash('md5'),
          size: 0,
          get bytes() {
            return Buffer.concat(parts);
          },
          offset: 0,
          completed: false,
          expiresAt: Date.now() + EXPIRY_MS,
        };
        uploads.set(upload.id, upload);
      }
      if (upload.offset !== start) return detail(400, 'Offsets do not match', { offset: offsetValue(upload.offset) });
      if (chunk.data.length !== chunkSize) return detail(400, "File size doesn't match headers");
      if (upload.md5) upload.md5.update(chunk.data);
      else upload.parts.push(chunk.data);
      upload.size += chunk.data.length;
      upload.offset += chunk.data.length;
      return json(chunkStatus, {
        upload_id: upload.id,
        offset: offsetValue(upload.offset),
        expires: new Date(upload.expiresAt).toISOString(),
      });
    })();
    entry.status = reply.status;
    return reply;
  };

  const handleComplete = async (request: IncomingMessage): Promise<Reply> => {
    let form: ParsedForm;
    try {
      form = await parseForm(request);
    } catch (error) {
      return detail(400, `Form parse error - ${(error as Error).message}`);
    }
    const uploadId = form.fields.get('upload_id') || null;
    const md5 = form.fields.get('md5') || null;
    const type = form.fields.get('type') || null;
    const call: SandboxCompleteCall = { uploadId, md5, type, status: 0 };
    completeCalls.push(call);
    const reply = ((): Reply => {
      if (!authorized(request)) return detail(401, 'Invalid token.');
      if (!uploadId || !md5) return detail(400, "Both 'upload_id' and 'md5' are required");
      if (type !== null && !MEDIA_TYPES.has(type)) return json(400, { type: [`"${type}" is not a valid choice.`] });
      const upload = uploads.get(uploadId);
      if (!upload) return detail(404, 'Not found.');
      const invalid = invalidState(upload);
      if (invalid) return invalid;
      const mediaType = (type ?? defaultMediaType(upload.filename)) as SandboxMedia['type'];
      if (fieldForType(mediaType) !== upload.field) {
        // A PDF filed as an image (or an image as a document) is not a valid media of that type.
        return json(400, {
          type: [
            `The uploaded ${upload.field} is not valid for media type "${mediaType}"${type === null ? ' (the default for its file name)' : ''}.`,
          ],
        });
      }
      const bytes = upload.md5 ? null : upload.bytes;
      const received = (upload.md5 ? upload.md5.copy() : createHash('md5').update(bytes!)).digest('hex');
      if (received !== md5.toLowerCase()) {
        return detail(400, 'md5 checksum does not match');
      }
      if (upload.size > SANDBOX_SIZE_LIMITS[upload.field]) {
        return detail(400, `Size of file exceeds the limit (${SANDBOX_SIZE_LIMITS[upload.field]} bytes)`);
      }
      upload.completed = true;
      const id = nextMediaId++;
      media.push({
        id,
        uploadId,
        type: mediaType,
        size: upload.size,
        md5: md5.toLowerCase(),
        sha256: bytes ? createHash('sha256').update(bytes).digest('hex') : '',
      });
      const fileUrl = `${origin}/media/${id}/${encodeURIComponent(upload.filename)}`;
      return json(completeStatus, {
        id,
        added_at: new Date().toISOString(),
        type: mediaType,
        title: upload.filename,
        description: null,
        url: fileUrl,
        image: upload.field === 'image' ? fileUrl : null,
        image_width: null,
        image_height: null,
        order: 0,
        embed: null,
      });
    })();
    call.status = reply.status;
    return reply;
  };

  const server = await startSandboxServer(async (request, url) => {
    if (url.pathname === '/api/v2/media/upload/chunk/' || url.pathname === '/api/v2/media/upload/complete/') {
      if (request.method !== 'POST') {
        await readBody(request);
        return detail(405, `Method "${request.method}" not allowed.`);
      }
      return url.pathname.endsWith('/chunk/') ? handleChunk(request) : handleComplete(request);
    }
    await readBody(request);
    return detail(404, 'Not found.');
  }, options.port);
  origin = server.url;

  return {
    url: server.url,
    token,
    get requests() {
      return server.requests;
    },
    uploads,
    media,
    completeCalls,
    chunkLog,
    get maxInFlight() {
      return server.maxInFlight;
    },
    fault: (fault) => server.fault(fault),
    clearFaults: () => server.clearFaults(),
    expire(uploadId) {
      const upload = uploads.get(uploadId);
      if (!upload) throw new Error(`sandbox: no upload ${uploadId}`);
      upload.expiresAt = Date.now() - 1;
    },
    expireAll() {
      for (const upload of uploads.values()) upload.expiresAt = Date.now() - 1;
    },
    close: () => server.close(),
  };
}
