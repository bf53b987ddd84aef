/**
 * OFAuth emulator: the vault upload endpoints of providers.md ("ofauth"). It checks the `apiKey` and
 * `x-connection-id` headers, paces each connection with its own token bucket (60/min, burst 90 unless
 * told otherwise) answering 429 with `X-RateLimit-Reset`, serves the upload plan in the body, in the
 * headers or not at all, and is strict about sizes, part numbers and completion: one media per upload,
 * ever. It records what it received so that tests assert on bytes and calls, not adapter internals.
 *
 * Consistent answers for the states an adapter must reconcile (checked in this order):
 * unknown upload → 404 UPLOAD_NOT_FOUND; completed upload → 409 UPLOAD_ALREADY_COMPLETED (also after
 * its expiry: the server remembers what it finished); expired upload → `expiredStatus`
 * SESSION_EXPIRED.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { json, readBody, startSandboxServer, type Fault, type LoggedRequest, type Reply } from './harness.ts';

export const OFAUTH_SANDBOX_API_KEY = 'of-key';
export const OFAUTH_SANDBOX_CONNECTION = 'conn_123';

export interface OfauthSandboxOptions {
  apiKey?: string;
  connectionId?: string;
  /** Where init puts the upload plan: the full body, the `x-ofauth-upload-*` headers, or nowhere. */
  planIn?: 'body' | 'headers' | 'none';
  /** Bytes per part; files up to this size are single uploads (default 5 MiB). */
  partSize?: number;
  /** Which keys carry error text and code: `{error, type}` or `{message, code}`. */
  errorShape?: 'error' | 'message';
  /** Lifetime of an upload (default one hour). */
  expiresInMs?: number;
  /** Status of SESSION_EXPIRED replies (default 400). */
  expiredStatus?: 400 | 410;
  /** Body-plan upload URLs carry a signature that part PUTs and complete must present. */
  signedUrls?: boolean;
  /** Per-connection budget; null disables it (default 60/min, burst 90). */
  rateLimit?: { perMinute: number; burst: number } | null;
  /** `X-RateLimit-Reset` as seconds from now (default) or as epoch seconds. */
  rateLimitReset?: 'seconds' | 'epoch';
  /** Whether finished media are ready at once (default true); false mimics OnlyFans still processing. */
  mediaReady?: boolean;
  /** Time source of the token bucket and expiries, to share a fake clock with the client's bucket. */
  clock?: { now(): number };
  /**
   * Keep the bytes of multipart parts (default true). Benchmarks set false so that a 1 GiB upload costs
   * the emulator no memory and its complete no hashing; media then carry an empty `sha256`.
   */
  keepBytes?: boolean;
  port?: number;
}

export interface OfauthSandboxUpload {
  id: string;
  filename: string;
  size: number;
  contentType: string;
  vaultUpload: boolean | null;
  mode: 'single' | 'multipart';
  totalParts: number;
  partSize: number;
  /** Bytes received by part number (single uploads keep the whole file as part 1). */
  parts: Map<number, Buffer>;
  completed: boolean;
  mediaId: number | null;
  expiresAt: number;
}

export interface OfauthSandboxMedia {
  id: number;
  uploadId: string;
  filename: string;
  size: number;
  sha256: string;
}

export interface OfauthInitCall {
  filename: unknown;
  size: unknown;
  contentType: unknown;
  status: number;
}

export interface OfauthCompleteCall {
  mediaUploadId: string | null;
  status: number;
}

export interface OfauthPartCall {
  uploadId: string;
  part: number;
  size: number;
  status: number;
}

export interface OfauthSingleCall {
  uploadId: string;
  size: number;
  contentType: string | null;
  status: number;
}

export interface OfauthSandbox {
  readonly url: string;
  readonly apiKey: string;
  readonly connectionId: string;
  readonly requests: LoggedRequest[];
  readonly uploads: Map<string, OfauthSandboxUpload>;
  readonly media: OfauthSandboxMedia[];
  readonly initCalls: OfauthInitCall[];
  readonly completeCalls: OfauthCompleteCall[];
  readonly partLog: OfauthPartCall[];
  readonly singleLog: OfauthSingleCall[];
  /** 429 replies sent by the emulator's own bucket (faults not counted). */
  readonly rateLimited: number;
  readonly maxInFlight: number;
  fault(fault: Fault): void;
  clearFaults(): void;
  expire(uploadId: string): void;
  expireAll(): void;
  close(): Promise<void>;
}

/** The emulator's bucket: the same arithmetic as a client-side token bucket, with float slack. */
class ConnectionBucket {
  #tokens: number;
  #updatedAt: number;
  readonly #ratePerMs: number;
  readonly #burst: number;

  constructor(perMinute: number, burst: number, now: number) {
    this.#ratePerMs = perMinute / 60_000;
    this.#burst = burst;
    this.#tokens = burst;
    this.#updatedAt = now;
  }

  /** Takes a token, or returns how many ms until one is available. */
  take(now: number): number {
    this.#tokens = Math.min(this.#burst, this.#tokens + Math.max(0, now - this.#updatedAt) * this.#ratePerMs);
    this.#updatedAt = Math.max(this.#updatedAt, now);
    // Tolerate rounding error only; a client that waits for a whole token passes.
    if (this.#tokens + 1e-9 >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - this.#tokens) / this.#ratePerMs);
  }
}

const UPLOADS = '/v2/access/uploads';

export async function startOfauthSandbox(options: OfauthSandboxOptions = {}): Promise<OfauthSandbox> {
  const apiKey = options.apiKey ?? OFAUTH_SANDBOX_API_KEY;
  const connectionId = options.connectionId ?? OFAUTH_SANDBOX_CONNECTION;
  const planIn = options.planIn ?? 'body';
  const partSize = options.partSize ?? 5 * 1024 * 1024;
  const errorShape = options.errorShape ?? 'error';
  const expiresInMs = options.expiresInMs ?? 60 * 60 * 1000;
  const expiredStatus = options.expiredStatus ?? 400;
  const rateLimit = options.rateLimit === undefined ? { perMinute: 60, burst: 90 } : options.rateLimit;
  const resetAs = options.rateLimitReset ?? 'seconds';
  const mediaReady = options.mediaReady ?? true;
  const clock = options.clock ?? { now: () => Date.now() };
  const keepBytes = options.keepBytes ?? true;

  const uploads = new Map<string, OfauthSandboxUpload>();
  const media: OfauthSandboxMedia[] = [];
  const initCalls: OfauthInitCall[] = [];
  const completeCalls: OfauthCompleteCall[] = [];
  const partLog: OfauthPartCall[] = [];
  const singleLog: OfauthSingleCall[] = [];
  const buckets = new Map<string, ConnectionBucket>();
  let rateLimited = 0;
  let nextMediaId = 1000;
  let origin = '';

  const fail = (status: number, text: string, type: string, headers: Record<string, string> = {}): Reply =>
    json(status, errorShape === 'error' ? { error: text, type } : { message: text, code: type }, headers);

  const signature = (uploadId: string, what: string): string =>
    createHash('sha256').update(`${uploadId}|${what}|sandbox-secret`).digest('hex').slice(0, 16);

  const checkAccess = (request: IncomingMessage): Reply | null => {
    if (request.headers.apikey !== apiKey) return fail(401, 'Invalid API key', 'AUTH_INVALID_KEY');
    if (request.headers['x-connection-id'] !== connectionId) {
      return fail(401, 'Unknown connection: check the x-connection-id header', 'AUTH_INVALID_KEY');
    }
    if (rateLimit === null) return null;
    const now = clock.now();
    let bucket = buckets.get(connectionId);
    if (!bucket) {
      bucket = new ConnectionBucket(rateLimit.perMinute, rateLimit.burst, now);
      buckets.set(connectionId, bucket);
    }
    const waitMs = bucket.take(now);
    if (waitMs === 0) return null;
    rateLimited += 1;
    const reset = resetAs === 'seconds' ? Math.ceil(waitMs / 1000) : Math.ceil((now + waitMs) / 1000);
    return fail(429, 'Rate limit exceeded', 'RATE_LIMIT_EXCEEDED', {
      'x-ratelimit-limit': String(rateLimit.perMinute),
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(reset),
    });
  };

  /** Unknown, completed or expired: the reply for an upload that cannot take more work. */
  const unusable = (upload: OfauthSandboxUpload | undefined, id: string): Reply | null => {
    if (!upload) return fail(404, `Upload ${id} not found`, 'UPLOAD_NOT_FOUND');
    if (upload.completed) return fail(409, `Upload ${id} has already been completed`, 'UPLOAD_ALREADY_COMPLETED');
    if (upload.expiresAt <= clock.now()) return fail(expiredStatus, `Upload session ${id} has expired`, 'SESSION_EXPIRED');
    return null;
  };

  const mediaType = (contentType: string): string =>
    contentType.startsWith('video/') ? 'video' : contentType.startsWith('audio/') ? 'audio' : contentType === 'image/gif' ? 'gif' : 'photo';

  /** Turns an upload's bytes into a media and the reply of seed 000. */
  const finish = (upload: OfauthSandboxUpload, bytes: Buffer | null): Reply => {
    const id = nextMediaId++;
    upload.completed = true;
    upload.mediaId = id;
    media.push({
      id,
      uploadId: upload.id,
      filename: upload.filename,
      size: bytes?.length ?? upload.size,
      sha256: bytes ? createHash('sha256').update(bytes).digest('hex') : '',
    });
    const file = (kind: string): { url: string | null; width: number; height: number; size: number } => ({
      url: mediaReady ? `${origin}/files/${id}/${kind}/${encodeURIComponent(upload.filename)}` : null,
      width: 1280,
      height: 720,
      size: bytes?.length ?? upload.size,
    });
    const type = mediaType(upload.contentType);
    return json(200, {
      mediaUploadId: upload.id,
      media: {
        id,
        type,
        convertedToVideo: false,
        canView: true,
        hasError: false,
        createdAt: new Date(clock.now()).toISOString(),
        isReady: mediaReady,
        releaseForms: [],
        duration: type === 'video' || type === 'audio' ? 12 : 0,
        hasCustomPreview: false,
        videoSources: { 240: null, 720: null },
        files: {
          full: { ...file('full'), sources: [] },
          thumb: file('thumb'),
          preview: { ...file('preview'), options: [] },
          squarePreview: file('square'),
        },
      },
    });
  };

  const handleInit = async (request: IncomingMessage): Promise<Reply> => {
    const raw = await readBody(request);
    const call: OfauthInitCall = { filename: undefined, size: undefined, contentType: undefined, status: 0 };
    initCalls.push(call);
    const reply = ((): Reply => {
      const denied = checkAccess(request);
      if (denied) return denied;
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      } catch {
        return fail(400, 'Request body must be JSON', 'VALIDATION_ERROR');
      }
      call.filename = body.filename;
      call.size = body.size;
      call.contentType = body.contentType;
      const { filename, size, contentType, vaultUpload } = body;
      if (typeof filename !== 'string' || filename === '') return fail(422, 'filename is required', 'VALIDATION_ERROR');
      if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
        return fail(422, 'size must be a positive integer', 'VALIDATION_ERROR');
      }
      if (typeof contentType !== 'string' || !/^(image|video|audio)\//.test(contentType)) {
        return fail(422, `contentType ${String(contentType)} is not a supported media type`, 'VALIDATION_ERROR');
      }
      if (vaultUpload !== undefined && typeof vaultUpload !== 'boolean') {
        return fail(422, 'vaultUpload must be a boolean', 'VALIDATION_ERROR');
      }
      // Without a plan the client cannot cut parts, so such an upload can only be a single PUT.
      const totalParts = planIn === 'none' ? 1 : Math.ceil(size / partSize);
      const upload: OfauthSandboxUpload = {
        id: `upload:${randomUUID()}`,
        filename,
        size,
        contentType,
        vaultUpload: vaultUpload ?? null,
        mode: totalParts > 1 ? 'multipart' : 'single',
        totalParts,
        partSize: totalParts > 1 ? partSize : size,
        parts: new Map(),
        completed: false,
        mediaId: null,
        expiresAt: clock.now() + expiresInMs,
      };
      uploads.set(upload.id, upload);
      const encoded = encodeURIComponent(upload.id);
      const sign = (what: string): string => (options.signedUrls ? `?signature=${signature(upload.id, what)}` : '');
      if (planIn === 'none') return json(201, { mediaUploadId: upload.id });
      if (planIn === 'headers') {
        return json(
          201,
          { mediaUploadId: upload.id },
          {
            'x-ofauth-upload-total-parts': String(upload.totalParts),
            'x-ofauth-upload-part-size': String(upload.partSize),
          },
        );
      }
      const parts =
        upload.mode === 'single'
          ? [{ partNumber: 1, uploadUrl: `${origin}${UPLOADS}/${encoded}`, byteRange: { start: 0, end: size - 1 } }]
          : Array.from({ length: totalParts }, (_, i) => ({
              partNumber: i + 1,
              uploadUrl: `${origin}${UPLOADS}/${encoded}/parts/${i + 1}${sign(`part-${i + 1}`)}`,
              byteRange: { start: i * partSize, end: Math.min((i + 1) * partSize, size) - 1 },
            }));
      return json(201, {
        mediaUploadId: upload.id,
        uploadType: upload.mode,
        totalParts: upload.totalParts,
        partSize: upload.partSize,
        expiresAt: new Date(upload.expiresAt).toISOString(),
        parts,
        completeUrl: upload.mode === 'multipart' ? `${origin}${UPLOADS}/complete${sign('complete')}` : null,
      });
    })();
    call.status = reply.status;
    return reply;
  };

  const handleSingle = async (request: IncomingMessage, id: string): Promise<Reply> => {
    const bytes = await readBody(request);
    const contentType = request.headers['content-type'] ?? null;
    const call: OfauthSingleCall = { uploadId: id, size: bytes.length, contentType, status: 0 };
    singleLog.push(call);
    const reply = ((): Reply => {
      const denied = checkAccess(request);
      if (denied) return denied;
      const upload = uploads.get(id);
      const blocked = unusable(upload, id);
      if (blocked || !upload) return blocked!;
      if (upload.mode !== 'single') {
        return fail(400, `Upload ${id} has ${upload.totalParts} parts: PUT each part, then call complete`, 'INVALID_UPLOAD_TYPE');
      }
      if (contentType !== upload.contentType) {
        return fail(400, `Content-Type ${String(contentType)} does not match ${upload.contentType}`, 'VALIDATION_ERROR');
      }
      if (bytes.length !== upload.size) {
        return fail(400, `Received ${bytes.length} bytes, expected ${upload.size}`, 'SIZE_MISMATCH');
      }
      upload.parts.set(1, bytes);
      return finish(upload, bytes);
    })();
    call.status = reply.status;
    return reply;
  };

  const handlePart = async (request: IncomingMessage, url: URL, id: string, partText: string): Promise<Reply> => {
    const bytes = await readBody(request);
    const part = /^\d+$/.test(partText) ? Number(partText) : Number.NaN;
    const call: OfauthPartCall = { uploadId: id, part, size: bytes.length, status: 0 };
    partLog.push(call);
    const reply = ((): Reply => {
      const denied = checkAccess(request);
      if (denied) return denied;
      const upload = uploads.get(id);
      const blocked = unusable(upload, id);
      if (blocked || !upload) return blocked!;
      if (upload.mode !== 'multipart') return fail(400, `Upload ${id} is a single upload: PUT the whole file`, 'INVALID_UPLOAD_TYPE');
      if (!Number.isInteger(part) || part < 1 || part > upload.totalParts) {
        return fail(400, `Part number ${partText} is out of range 1-${upload.totalParts}`, 'INVALID_PART_NUMBER');
      }
      if (options.signedUrls && url.searchParams.get('signature') !== signature(id, `part-${part}`)) {
        return fail(403, 'Upload URL signature is missing or wrong', 'INVALID_SIGNATURE');
      }
      const expected = Math.min(part * upload.partSize, upload.size) - (part - 1) * upload.partSize;
      if (bytes.length !== expected) {
        return fail(400, `Part ${part} must be ${expected} bytes, received ${bytes.length}`, 'SIZE_MISMATCH');
      }
      // A re-PUT of a part number overwrites it. Without keepBytes only the part's presence is kept
      // (its size was checked just above, so complete's size check holds by construction).
      upload.parts.set(part, keepBytes ? bytes : Buffer.alloc(0));
      return json(200, { mediaUploadId: id, partNumber: part, etag: `"${createHash('md5').update(bytes).digest('hex')}"` });
    })();
    call.status = reply.status;
    return reply;
  };

  const handleComplete = async (request: IncomingMessage, url: URL): Promise<Reply> => {
    const raw = await readBody(request);
    const call: OfauthCompleteCall = { mediaUploadId: null, status: 0 };
    completeCalls.push(call);
    const reply = ((): Reply => {
      const denied = checkAccess(request);
      if (denied) return denied;
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      } catch {
        return fail(400, 'Request body must be JSON', 'VALIDATION_ERROR');
      }
      if (typeof body.mediaUploadId !== 'string') return fail(422, 'mediaUploadId is required', 'VALIDATION_ERROR');
      const id = body.mediaUploadId;
      call.mediaUploadId = id;
      const upload = uploads.get(id);
      const blocked = unusable(upload, id);
      if (blocked || !upload) return blocked!;
      if (options.signedUrls && url.searchParams.get('signature') !== signature(id, 'complete')) {
        return fail(403, 'Complete URL signature is missing or wrong', 'INVALID_SIGNATURE');
      }
      if (upload.mode !== 'multipart') return fail(400, `Upload ${id} is a single upload: its PUT finalizes it`, 'INVALID_UPLOAD_TYPE');
      const missing: number[] = [];
      for (let n = 1; n <= upload.totalParts; n += 1) if (!upload.parts.has(n)) missing.push(n);
      if (missing.length > 0) {
        return fail(400, `Parts ${missing.join(', ')} of ${upload.totalParts} have not been uploaded`, 'UPLOAD_INCOMPLETE');
      }
      const bytes = keepBytes ? Buffer.concat(Array.from({ length: upload.totalParts }, (_, i) => upload.parts.get(i + 1)!)) : null;
      if (bytes && bytes.length !== upload.size) {
        return fail(400, `Parts hold ${bytes.length} bytes, expected ${upload.size}`, 'SIZE_MISMATCH');
      }
      return finish(upload, bytes);
    })();
    call.status = reply.status;
    return reply;
  };

  const server = await startSandboxServer(async (request, url) => {
    const path = url.pathname;
    if (request.method === 'POST' && path === `${UPLOADS}/init`) return handleInit(request);
    if (request.method === 'POST' && path === `${UPLOADS}/complete`) return handleComplete(request, url);
    const match = /^\/v2\/access\/uploads\/([^/]+)(?:\/parts\/([^/]+))?$/.exec(path);
    if (request.method === 'PUT' && match) {
      // Like any web server, the path is decoded before lookup: `upload%3A…` names `upload:…`.
      let id: string;
      try {
        id = decodeURIComponent(match[1]!);
      } catch {
        await readBody(request);
        return fail(400, 'Malformed upload id in path', 'VALIDATION_ERROR');
      }
      return match[2] === undefined ? handleSingle(request, id) : handlePart(request, url, id, match[2]);
    }
    await readBody(request);
    return fail(404, `No route for ${request.method} ${path}`, 'NOT_FOUND');
  }, options.port);
  origin = server.url;

  return {
    url: server.url,
    apiKey,
    connectionId,
    get requests() {
      return server.requests;
    },
    uploads,
    media,
    initCalls,
    completeCalls,
    partLog,
    singleLog,
    get rateLimited() {
      return rateLimited;
    },
    get maxInFlight() {
      return server.maxInFlight;
    },
    fault: (fault) => server.fault(fault),
    clearFaults: () => server.clearFaults(),
    expire(uploadId) {
      const upload = uploads.get(uploadId);
      if (!upload) throw new Error(`sandbox: no upload ${uploadId}`);
      upload.expiresAt = clock.now() - 1;
    },
    expireAll() {
      for (const upload of uploads.values()) upload.expiresAt = clock.now() - 1;
    },
    close: () => server.close(),
  };
}
