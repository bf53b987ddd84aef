/**
 * OFAuth emulator: the vault upload endpoints as OFAuth documents them.
 *
 * - "Upload Media" guide (https://docs.ofauth.com/guides/how-to/upload-media): `init` answers with the
 *   upload plan in its body (`uploadType`, `totalParts`, `partSize`, `expiresAt`, `parts[]` with an
 *   `uploadUrl` and an inclusive `byteRange` each, `completeUrl`); the data goes to each `uploadUrl`,
 *   then `complete`.
 * - API reference / OpenAPI (https://docs.ofauth.com/api-reference/upload/create-upload-session.md,
 *   https://api.ofauth.com/openapi.json; the same schema drives the official SDKs): the init body is
 *   `{filename, size, contentType, vaultUpload?}` with `vaultUpload` an OBJECT `{mode?: "message",
 *   userId?: string}`; a part answers `{mediaUploadId, partNumber, etag}`; `complete` takes exactly
 *   `{mediaUploadId}` (no part ETags) and answers `{mediaUploadId, media?}`; the single-part PUT
 *   finalizes by itself.
 * - Errors (https://docs.ofauth.com/reference/error-handling.md): `{error, type, requestId}` with the
 *   documented types (UNAUTHORIZED, SESSION_NOT_PROVIDED, BAD_REQUEST, RESOURCE_NOT_FOUND,
 *   ROUTE_NOT_FOUND, RATE_LIMIT_EXCEEDED…); the docs-next variant `{error, code, details}` and the
 *   `{message, code}` the SDK helpers read can be served instead.
 * - Rate limit (https://docs.ofauth.com/reference/rate-limiting.md): a token bucket per connection,
 *   60/min with a burst of 90, `429` with `X-RateLimit-Reset`.
 *
 * Part upload URLs are served on the API host by default, as in the guide's example. With
 * `partsOn: 'storage'` they point at a second loopback server standing in for pre-signed object
 * storage: it takes the bytes only with a valid signature, REFUSES any request that carries the
 * `apiKey` or `x-connection-id` header (a client must never hand its credentials to another host),
 * checks each part's length against its byte range, and records a hash of every part.
 *
 * Where the vendor is silent the emulator picks a behaviour and can serve the alternatives: what an
 * expired upload answers (`expiredAs`), what a finished upload answers to a second finalize
 * (`afterComplete`), whether a finalize reply carries the media (`completeMedia`), and the plan in
 * the `x-ofauth-upload-*` headers that the official SDK helpers read (`planIn: 'headers'`).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  json,
  readBody,
  startSandboxServer,
  type Fault,
  type LoggedRequest,
  type Reply,
  type SandboxServer,
} from './harness.ts';

export const OFAUTH_SANDBOX_API_KEY = 'of-key';
export const OFAUTH_SANDBOX_CONNECTION = 'conn_123';

/** The vault upload modes of the OpenAPI description (`vaultUpload.mode` enum). */
export const OFAUTH_SANDBOX_VAULT_MODES = ['message'] as const;

export interface OfauthSandboxOptions {
  apiKey?: string;
  connectionId?: string;
  /**
   * Where init puts the upload plan: the body (the guide), the `x-ofauth-upload-*` headers with a
   * body of only `mediaUploadId` (what the official SDK helpers read), or nowhere.
   */
  planIn?: 'body' | 'headers' | 'none';
  /** Host of the body plan's part URLs: the API (the guide's example) or a pre-signed storage host. */
  partsOn?: 'api' | 'storage';
  /** Bytes per part; files up to this size are single uploads (default 5 MiB, as in the guide). */
  partSize?: number;
  /** Error body keys: `{error, type, requestId}` (default), `{error, code, details}` or `{message, code}`. */
  errorShape?: 'type' | 'code' | 'message';
  /** Lifetime of an upload (default one hour). */
  expiresInMs?: number;
  /** What an expired upload answers on the API: 404 RESOURCE_NOT_FOUND (default) or 400 BAD_REQUEST. */
  expiredAs?: 'not-found' | 'bad-request';
  /**
   * What a finished upload answers to another finalize (complete or single PUT): 409 "already
   * completed" (default), 404 as if it were gone, or the same media again (idempotent).
   */
  afterComplete?: 'conflict' | 'not-found' | 'same-media';
  /** Whether finalize replies carry `media` (default true; the OpenAPI makes it optional). */
  completeMedia?: boolean;
  /**
   * The origin the body plan's API URLs (part and complete URLs on the API host) name; default the
   * emulator's own. The guide's example names `https://api.ofauth.com` whatever host was asked.
   */
  planOrigin?: string;
  /** API-host upload URLs carry a signature that part PUTs and complete must present. */
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
  /** The `vaultUpload` object init received, or null without one. */
  vaultUpload: { mode?: string; userId?: string | null } | null;
  mode: 'single' | 'multipart';
  /** Where the plan sent the bytes. */
  partsOn: 'api' | 'storage';
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
  /** The parsed JSON body exactly as received (undefined when it was not JSON). */
  body: unknown;
  status: number;
}

export interface OfauthCompleteCall {
  mediaUploadId: string | null;
  /** The parsed JSON body exactly as received. */
  body: unknown;
  status: number;
}

export interface OfauthPartCall {
  uploadId: string;
  part: number;
  size: number;
  /** SHA-256 of the bytes received. */
  sha256: string;
  status: number;
}

export interface OfauthStoragePartCall extends OfauthPartCall {
  /** Whether the request carried the `apiKey` / `x-connection-id` headers (it must not). */
  sawApiKey: boolean;
  sawConnectionId: boolean;
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
  /** Requests to the API host. */
  readonly requests: LoggedRequest[];
  readonly uploads: Map<string, OfauthSandboxUpload>;
  readonly media: OfauthSandboxMedia[];
  readonly initCalls: OfauthInitCall[];
  readonly completeCalls: OfauthCompleteCall[];
  /** Part PUTs received by the API host. */
  readonly partLog: OfauthPartCall[];
  readonly singleLog: OfauthSingleCall[];
  /** The pre-signed storage host (`partsOn: 'storage'`): its requests, faults and part log. */
  readonly storage: {
    readonly url: string;
    readonly requests: LoggedRequest[];
    readonly partLog: OfauthStoragePartCall[];
    fault(fault: Fault): void;
  };
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
const STORAGE = '/ofauth-storage';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** An S3-style XML error, as pre-signed object storage answers. */
const storageError = (status: number, code: string, message: string): Reply => ({
  status,
  body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
  headers: { 'content-type': 'application/xml' },
});

export async function startOfauthSandbox(options: OfauthSandboxOptions = {}): Promise<OfauthSandbox> {
  const apiKey = options.apiKey ?? OFAUTH_SANDBOX_API_KEY;
  const connectionId = options.connectionId ?? OFAUTH_SANDBOX_CONNECTION;
  const planIn = options.planIn ?? 'body';
  const partsOn = options.partsOn ?? 'api';
  const partSize = options.partSize ?? 5 * 1024 * 1024;
  const errorShape = options.errorShape ?? 'type';
  const expiresInMs = options.expiresInMs ?? 60 * 60 * 1000;
  const expiredAs = options.expiredAs ?? 'not-found';
  const afterComplete = options.afterComplete ?? 'conflict';
  const completeMedia = options.completeMedia ?? true;
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
  const storageLog: OfauthStoragePartCall[] = [];
  const singleLog: OfauthSingleCall[] = [];
  const buckets = new Map<string, ConnectionBucket>();
  let rateLimited = 0;
  let nextMediaId = 1000;
  let nextRequestId = 1;
  let origin = '';
  let storageOrigin = '';

  const fail = (status: number, text: string, type: string, headers: Record<string, string> = {}): Reply => {
    const requestId = `req_${(nextRequestId++).toString(36).padStart(6, '0')}`;
    const body =
      errorShape === 'type'
        ? { error: text, type, requestId }
        : errorShape === 'code'
          ? { error: text, code: type, details: {} }
          : { message: text, code: type };
    return json(status, body, headers);
  };

  const signature = (uploadId: string, what: string): string =>
    createHash('sha256').update(`${uploadId}|${what}|sandbox-secret`).digest('hex').slice(0, 16);

  const checkAccess = (request: IncomingMessage): Reply | null => {
    if (request.headers.apikey !== apiKey) return fail(401, 'Missing or invalid API key', 'UNAUTHORIZED');
    if (request.headers['x-connection-id'] !== connectionId) {
      return fail(401, 'Connection not found or missing session data', 'SESSION_NOT_PROVIDED');
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

  const expiredReply = (id: string): Reply =>
    expiredAs === 'not-found'
      ? fail(404, `Upload ${id} not found or expired`, 'RESOURCE_NOT_FOUND')
      : fail(400, `Upload session ${id} has expired`, 'BAD_REQUEST');

  /** Unknown, expired or completed (when more bytes are offered): an upload that takes no more data. */
  const unusable = (upload: OfauthSandboxUpload | undefined, id: string): Reply | null => {
    if (!upload) return fail(404, `Upload ${id} not found`, 'RESOURCE_NOT_FOUND');
    if (upload.completed) {
      if (afterComplete === 'conflict') return fail(409, `Upload ${id} has already been completed`, 'CONFLICT');
      return fail(404, `Upload ${id} not found`, 'RESOURCE_NOT_FOUND');
    }
    if (upload.expiresAt <= clock.now()) return expiredReply(id);
    return null;
  };

  const mediaType = (contentType: string): string =>
    contentType.startsWith('video/')
      ? 'video'
      : contentType.startsWith('audio/')
        ? 'audio'
        : contentType === 'image/gif'
          ? 'gif'
          : 'photo';

  /** The reply of seed 000 / the OpenAPI for an upload that became a media. */
  const mediaReply = (upload: OfauthSandboxUpload): Reply => {
    const id = upload.mediaId!;
    const record = media.find((entry) => entry.id === id)!;
    if (!completeMedia) return json(200, { mediaUploadId: upload.id });
    const file = (kind: string): { url: string | null; width: number; height: number; size: number } => ({
      url: mediaReady ? `${origin}/files/${id}/${kind}/${encodeURIComponent(upload.filename)}` : null,
      width: 1280,
      height: 720,
      size: record.size,
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

  /** Turns an upload's bytes into its one media. */
  const finish = (upload: OfauthSandboxUpload, bytes: Buffer | null): Reply => {
    const id = nextMediaId++;
    upload.completed = true;
    upload.mediaId = id;
    media.push({
      id,
      uploadId: upload.id,
      filename: upload.filename,
      size: bytes?.length ?? upload.size,
      sha256: bytes ? sha256(bytes) : '',
    });
    return mediaReply(upload);
  };

  /** A finalize (complete or single PUT) of an upload that already has its media. */
  const finalizedAgain = (upload: OfauthSandboxUpload): Reply => {
    if (afterComplete === 'same-media') return mediaReply(upload);
    if (afterComplete === 'not-found') return fail(404, `Upload ${upload.id} not found`, 'RESOURCE_NOT_FOUND');
    return fail(409, `Upload ${upload.id} has already been completed`, 'CONFLICT');
  };

  /** The init body against the OpenAPI schema; returns the refusal, or null when it is valid. */
  const invalidInit = (body: Record<string, unknown>): Reply | null => {
    const { filename, size, contentType, vaultUpload } = body;
    if (typeof filename !== 'string' || filename === '')
      return fail(400, 'filename: expected a non-empty string', 'BAD_REQUEST');
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
      return fail(400, 'size: expected an integer greater than 0', 'BAD_REQUEST');
    }
    if (typeof contentType !== 'string' || contentType === '')
      return fail(400, 'contentType: expected a non-empty string', 'BAD_REQUEST');
    if (vaultUpload !== undefined) {
      if (vaultUpload === null || typeof vaultUpload !== 'object' || Array.isArray(vaultUpload)) {
        return fail(
          400,
          `vaultUpload: expected an object {mode, userId}, received ${JSON.stringify(vaultUpload)}`,
          'BAD_REQUEST',
        );
      }
      const { mode, userId } = vaultUpload as Record<string, unknown>;
      if (mode !== undefined && !(OFAUTH_SANDBOX_VAULT_MODES as readonly unknown[]).includes(mode)) {
        return fail(
          400,
          `vaultUpload.mode: expected one of ${OFAUTH_SANDBOX_VAULT_MODES.join(', ')}, received ${JSON.stringify(mode)}`,
          'BAD_REQUEST',
        );
      }
      if (userId !== undefined && userId !== null && (typeof userId !== 'string' || userId === '')) {
        return fail(400, 'vaultUpload.userId: expected a non-empty string', 'BAD_REQUEST');
      }
    }
    // OnlyFans' vault holds photos, videos and audio (the media `type` enum of the replies).
    if (!/^(image|video|audio)\//.test(contentType))
      return fail(400, `contentType ${contentType} is not a supported media type`, 'BAD_REQUEST');
    return null;
  };

  const handleInit = async (request: IncomingMessage): Promise<Reply> => {
    const raw = await readBody(request);
    const call: OfauthInitCall = { body: undefined, status: 0 };
    initCalls.push(call);
    const reply = ((): Reply => {
      const denied = checkAccess(request);
      if (denied) return denied;
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      } catch {
        return fail(400, 'Request body must be JSON', 'BAD_REQUEST');
      }
      call.body = body;
      if (body === null || typeof body !== 'object' || Array.isArray(body))
        return fail(400, 'Request body must be a JSON object', 'BAD_REQUEST');
      const refused = invalidInit(body);
      if (refused) return refused;
      const size = body.size as number;
      // Without a plan the client cannot cut parts, so such an upload can only be a single PUT.
      const totalParts = planIn === 'none' ? 1 : Math.ceil(size / partSize);
      const upload: OfauthSandboxUpload = {
        id: `upload:${randomUUID()}`,
        filename: body.filename as string,
        size,
        contentType: body.contentType as string,
        vaultUpload: (body.vaultUpload as OfauthSandboxUpload['vaultUpload'] | undefined) ?? null,
        mode: totalParts > 1 ? 'multipart' : 'single',
        partsOn: planIn === 'body' ? partsOn : 'api',
        totalParts,
        partSize: totalParts > 1 ? partSize : size,
        parts: new Map(),
        completed: false,
        mediaId: null,
        expiresAt: clock.now() + expiresInMs,
      };
      uploads.set(upload.id, upload);
      const encoded = encodeURIComponent(upload.id);
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
      const sign = (what: string): string => (options.signedUrls ? `?signature=${signature(upload.id, what)}` : '');
      const apiOrigin = options.planOrigin ?? origin;
      const partUrl = (n: number): string =>
        upload.partsOn === 'storage'
          ? `${storageOrigin}${STORAGE}/${encoded}/${n}?X-Signature=${signature(upload.id, `storage-${n}`)}`
          : upload.mode === 'single'
            ? `${apiOrigin}${UPLOADS}/${encoded}`
            : `${apiOrigin}${UPLOADS}/${encoded}/parts/${n}${sign(`part-${n}`)}`;
      const parts = Array.from({ length: totalParts }, (_, i) => ({
        partNumber: i + 1,
        uploadUrl: partUrl(i + 1),
        byteRange: { start: i * upload.partSize, end: Math.min((i + 1) * upload.partSize, size) - 1 },
      }));
      // Bytes on a storage host cannot finalize anything by themselves: such uploads always complete.
      const completes = upload.mode === 'multipart' || upload.partsOn === 'storage';
      return json(201, {
        mediaUploadId: upload.id,
        uploadType: upload.mode,
        totalParts: upload.totalParts,
        partSize: upload.partSize,
        expiresAt: new Date(upload.expiresAt).toISOString(),
        parts,
        completeUrl: completes ? `${apiOrigin}${UPLOADS}/complete${sign('complete')}` : null,
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
      if (upload?.completed) return finalizedAgain(upload);
      const blocked = unusable(upload, id);
      if (blocked || !upload) return blocked!;
      if (upload.mode !== 'single' || upload.partsOn !== 'api') {
        return fail(400, `Upload ${id} takes its bytes at the plan's upload URLs, then complete`, 'BAD_REQUEST');
      }
      if (contentType !== upload.contentType) {
        return fail(400, `Content-Type ${String(contentType)} does not match ${upload.contentType}`, 'BAD_REQUEST');
      }
      if (bytes.length !== upload.size)
        return fail(400, `Received ${bytes.length} bytes, expected ${upload.size}`, 'BAD_REQUEST');
      upload.parts.set(1, bytes);
      return finish(upload, bytes);
    })();
    call.status = reply.status;
    return reply;
  };

  /** Checks a part's number and length against the plan; returns the refusal or null. */
  const partProblem = (upload: OfauthSandboxUpload, part: number, partText: string, length: number): string | null => {
    if (!Number.isInteger(part) || part < 1 || part > upload.totalParts)
      return `Part number ${partText} is out of range 1-${upload.totalParts}`;
    // The plan's byteRange of this part, end inclusive.
    const start = (part - 1) * upload.partSize;
    const end = Math.min(part * upload.partSize, upload.size) - 1;
    if (length !== end - start + 1)
      return `Part ${part} covers bytes ${start}-${end} (${end - start + 1} bytes), received ${length}`;
    return null;
  };

  const handlePart = async (request: IncomingMessage, url: URL, id: string, partText: string): Promise<Reply> => {
    const bytes = await readBody(request);
    const part = /^\d+$/.test(partText) ? Number(partText) : Number.NaN;
    const call: OfauthPartCall = { uploadId: id, part, size: bytes.length, sha256: sha256(bytes), status: 0 };
    partLog.push(call);
    const reply = ((): Reply => {
      const denied = checkAccess(request);
      if (denied) return denied;
      const upload = uploads.get(id);
      const blocked = unusable(upload, id);
      if (blocked || !upload) return blocked!;
      if (upload.mode !== 'multipart' || upload.partsOn !== 'api') {
        return fail(400, `Upload ${id} does not take parts here: follow its upload plan`, 'BAD_REQUEST');
      }
      if (
        options.signedUrls &&
        planIn === 'body' &&
        url.searchParams.get('signature') !== signature(id, `part-${part}`)
      ) {
        return fail(403, 'Upload URL signature is missing or wrong', 'FORBIDDEN');
      }
      const problem = partProblem(upload, part, partText, bytes.length);
      if (problem) return fail(400, problem, 'BAD_REQUEST');
      // A re-PUT of a part number overwrites it. Without keepBytes only the part's presence is kept
      // (its size was checked just above, so complete's size check holds by construction).
      upload.parts.set(part, keepBytes ? bytes : Buffer.alloc(0));
      return json(200, {
        mediaUploadId: id,
        partNumber: part,
        etag: `"${createHash('md5').update(bytes).digest('hex')}"`,
      });
    })();
    call.status = reply.status;
    return reply;
  };

  const handleStoragePart = async (
    request: IncomingMessage,
    url: URL,
    id: string,
    partText: string,
  ): Promise<Reply> => {
    const bytes = await readBody(request);
    const part = /^\d+$/.test(partText) ? Number(partText) : Number.NaN;
    const call: OfauthStoragePartCall = {
      uploadId: id,
      part,
      size: bytes.length,
      sha256: sha256(bytes),
      status: 0,
      sawApiKey: request.headers.apikey !== undefined,
      sawConnectionId: request.headers['x-connection-id'] !== undefined,
    };
    storageLog.push(call);
    const reply = ((): Reply => {
      // Pre-signed storage knows nothing of OFAuth credentials: a request carrying them has leaked
      // the API key to a third party, which this host refuses loudly.
      if (call.sawApiKey || call.sawConnectionId) {
        return storageError(
          403,
          'AccessDenied',
          'Request carries OFAuth credentials (apiKey/x-connection-id); a pre-signed URL takes none',
        );
      }
      if (url.searchParams.get('X-Signature') !== signature(id, `storage-${part}`)) {
        return storageError(403, 'SignatureDoesNotMatch', 'The request signature does not match');
      }
      const upload = uploads.get(id);
      if (!upload || upload.completed) return storageError(404, 'NoSuchUpload', 'The specified upload does not exist');
      if (upload.expiresAt <= clock.now()) return storageError(403, 'AccessDenied', 'Request has expired');
      const problem = partProblem(upload, part, partText, bytes.length);
      if (problem) return storageError(400, 'InvalidRange', problem);
      upload.parts.set(part, keepBytes ? bytes : Buffer.alloc(0));
      return { status: 200, body: '', headers: { etag: `"${createHash('md5').update(bytes).digest('hex')}"` } };
    })();
    call.status = reply.status;
    return reply;
  };

  const handleComplete = async (request: IncomingMessage, url: URL): Promise<Reply> => {
    const raw = await readBody(request);
    const call: OfauthCompleteCall = { mediaUploadId: null, body: undefined, status: 0 };
    completeCalls.push(call);
    const reply = ((): Reply => {
      const denied = checkAccess(request);
      if (denied) return denied;
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      } catch {
        return fail(400, 'Request body must be JSON', 'BAD_REQUEST');
      }
      call.body = body;
      if (typeof body?.mediaUploadId !== 'string' || body.mediaUploadId === '')
        return fail(400, 'mediaUploadId: expected a non-empty string', 'BAD_REQUEST');
      const id = body.mediaUploadId;
      call.mediaUploadId = id;
      const upload = uploads.get(id);
      if (upload?.completed) return finalizedAgain(upload);
      const blocked = unusable(upload, id);
      if (blocked || !upload) return blocked!;
      if (options.signedUrls && planIn === 'body' && url.searchParams.get('signature') !== signature(id, 'complete')) {
        return fail(403, 'Complete URL signature is missing or wrong', 'FORBIDDEN');
      }
      if (upload.mode !== 'multipart' && upload.partsOn === 'api') {
        return fail(400, `Upload ${id} is a single upload: its PUT finalizes it`, 'BAD_REQUEST');
      }
      const missing: number[] = [];
      for (let n = 1; n <= upload.totalParts; n += 1) if (!upload.parts.has(n)) missing.push(n);
      if (missing.length > 0)
        return fail(400, `Parts ${missing.join(', ')} of ${upload.totalParts} have not been uploaded`, 'BAD_REQUEST');
      const bytes = keepBytes
        ? Buffer.concat(Array.from({ length: upload.totalParts }, (_, i) => upload.parts.get(i + 1)!))
        : null;
      if (bytes && bytes.length !== upload.size)
        return fail(400, `Parts hold ${bytes.length} bytes, expected ${upload.size}`, 'BAD_REQUEST');
      return finish(upload, bytes);
    })();
    call.status = reply.status;
    return reply;
  };

  const decodeId = (encoded: string): string | null => {
    try {
      return decodeURIComponent(encoded);
    } catch {
      return null;
    }
  };

  const server = await startSandboxServer(async (request, url) => {
    const path = url.pathname;
    if (request.method === 'POST' && path === `${UPLOADS}/init`) return handleInit(request);
    if (request.method === 'POST' && path === `${UPLOADS}/complete`) return handleComplete(request, url);
    const match = /^\/v2\/access\/uploads\/([^/]+)(?:\/parts\/([^/]+))?$/.exec(path);
    if (request.method === 'PUT' && match) {
      // Like any web server, the path is decoded before lookup: `upload%3A…` names `upload:…`.
      const id = decodeId(match[1]!);
      if (id === null) {
        await readBody(request);
        return fail(400, 'Malformed upload id in path', 'BAD_REQUEST');
      }
      return match[2] === undefined ? handleSingle(request, id) : handlePart(request, url, id, match[2]);
    }
    await readBody(request);
    return fail(404, `No route for ${request.method} ${path}`, 'ROUTE_NOT_FOUND');
  }, options.port);
  origin = server.url;

  const storage: SandboxServer = await startSandboxServer(async (request, url) => {
    const match = new RegExp(`^${STORAGE}/([^/]+)/([^/]+)$`).exec(url.pathname);
    const id = match ? decodeId(match[1]!) : null;
    if (request.method === 'PUT' && match && id !== null) return handleStoragePart(request, url, id, match[2]!);
    await readBody(request);
    return storageError(404, 'NoSuchKey', `No such key ${url.pathname}`);
  });
  storageOrigin = storage.url;

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
    storage: {
      url: storage.url,
      get requests() {
        return storage.requests;
      },
      partLog: storageLog,
      fault: (fault) => storage.fault(fault),
    },
    get rateLimited() {
      return rateLimited;
    },
    get maxInFlight() {
      return Math.max(server.maxInFlight, storage.maxInFlight);
    },
    fault: (fault) => server.fault(fault),
    clearFaults: () => {
      server.clearFaults();
      storage.clearFaults();
    },
    expire(uploadId) {
      const upload = uploads.get(uploadId);
      if (!upload) throw new Error(`sandbox: no upload ${uploadId}`);
      upload.expiresAt = clock.now() - 1;
    },
    expireAll() {
      for (const upload of uploads.values()) upload.expiresAt = clock.now() - 1;
    },
    close: async () => {
      await Promise.all([server.close(), storage.close()]);
    },
  };
}
