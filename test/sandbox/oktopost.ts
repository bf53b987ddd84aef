/**
 * Oktopost emulator: the upload-from-URL endpoints of docs/protocols.md ("oktopost") and seed 002. It
 * checks HTTP Basic auth, paces each account to 60 requests a minute, validates `source`, `name` and
 * `mimeType` like the doc says, and then really pulls the source in the background (HEAD, then ranged
 * GETs) with Oktopost's retry rule, so tests assert on the bytes it received and on the requests the
 * file host saw. Built on the shared harness, so faults can be injected on any request.
 *
 * Choices where the vendor is silent:
 * - Create checks the size with a HEAD before answering, since the doc says the endpoint "validates
 *   file size and mime type" [guess]. When that HEAD fails the request is still created and the
 *   background pull retries it, so an unreachable source fails later as a failed upload.
 * - Files are pulled in `pullChunk` ranges whatever their size by default; the real service fetches
 *   files up to 10 MiB in one GET [doc], which `wholeFileMax: 10 * 1024 * 1024` reproduces.
 * - A step (HEAD or one range) is tried `maxAttempts` (5) times in all; `Attempts` counts the failures
 *   of the step in progress (the doc's failed example shows 5, its complete one 0).
 * - Refusals are 400 `{"Result":false,"Errors":{field: message}}`; `falseResultWith2xx` sends them with
 *   status 200 instead. Auth (401), unknown ids (404) and the rate limit (429, with Retry-After) keep
 *   their status.
 * - `_page` is 0-based (the doc's default is 0) and `_count` is capped at 100; items are newest first.
 * - `GET /v2/me` answers as the Getting Started page shows: the API key's `User` (whose `Id` is the
 *   `CreatedBy` of the requests it creates) and the `Account`. Every reply carries a `Date` header on
 *   the emulator's clock, which `clockSkewMs` can set apart from the test machine's.
 * - `Created`/`Modified` are shown as the upload page's examples do (`"2020-06-25 06:49:51"`, UTC);
 *   `timeFormat: 'epoch'` sends Unix seconds instead, as the Getting Started page says all timestamps
 *   are. The list holds whatever else the account has: `addExisting` puts in requests for the same
 *   URL made earlier or by other users, which a client must not take for its own.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { basename } from 'node:path';
import { lookup as mimeLookup } from 'mime-types';
import { json, readBody, startSandboxServer, type Fault, type LoggedRequest, type Reply } from './harness.ts';

export const SANDBOX_OKTOPOST_MIME_TYPES = ['video/mp4', 'image/gif', 'image/png', 'image/jpg', 'image/jpeg'] as const;
export const SANDBOX_OKTOPOST_NETWORKS = ['Facebook', 'LinkedIn', 'Twitter', 'Instagram', 'Youtube'] as const;
const GIB = 1024 * 1024 * 1024;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface OktopostSandboxOptions {
  accountId?: string;
  apiKey?: string;
  /** `Id` of the API key's user: `User.Id` of `/me` and `CreatedBy` of its requests (default 00A000000000001). */
  userId?: string;
  /** The emulator's clock minus the test machine's (default 0): `Created`, `Modified` and `Date` use it. */
  clockSkewMs?: number;
  /** How `Created`/`Modified` are written: `datetime` (default, as the examples) or `epoch` seconds. */
  timeFormat?: 'datetime' | 'epoch';
  /** false: replies carry an empty `Date` header, as a server without a clock may (default true). */
  sendDate?: boolean;
  /** Bytes per ranged GET while pulling (default 1 MiB). */
  pullChunk?: number;
  /** Files up to this size are fetched with one GET without Range (default 0: always ranged). */
  wholeFileMax?: number;
  /** Tries per pull step before the upload fails (default 5). */
  maxAttempts?: number;
  /** Pause between two tries of a failed step (default 5 ms). */
  retryDelayMs?: number;
  /** Pause before each GET of the pull, so that tests can watch a pending upload (default 0). */
  pullDelayMs?: number;
  /** Send `Result:false` refusals with status 200 (default: 400). */
  falseResultWith2xx?: boolean;
  /** Requests per sliding minute and account before 429 (default 60). */
  perMinute?: number;
  /** Largest file accepted (default 8 GiB). */
  maxFileBytes?: number;
  /** Bytes per sliding 24 hours and account (default 32 GiB). */
  dailyQuotaBytes?: number;
  /** Networks that video-validate reports as invalid, with their errors. */
  invalidNetworks?: Record<string, string[]>;
  port?: number;
}

export type SandboxUploadStatus = 'pending' | 'failed' | 'complete';

export interface SandboxUploadRecord {
  id: string;
  source: string;
  name: string;
  mimeType: string;
  status: SandboxUploadStatus;
  downloaded: number;
  /** Content-Length from the source's HEAD, or null until known. */
  total: number | null;
  /** sha256 of the pulled bytes, once complete. */
  sha256: string | null;
  attempts: number;
  lastError: string | null;
  mediaId: string | null;
  /** `Id` of the user who created the request. */
  createdBy: string;
  created: Date;
  modified: Date;
}

/** A request that was on the account before the test: another user's, or an older import. */
export interface ExistingUpload {
  source: string;
  name: string;
  mimeType?: string;
  /** Default: the API key's user. */
  createdBy?: string;
  /** How long before now (on the emulator's clock) it was created (default one day). */
  createdAgoMs?: number;
  status?: SandboxUploadStatus;
  /** Size of the (pretend) file it pulled (default 1000). */
  size?: number;
}

export interface SandboxMediaRecord {
  id: string;
  uploadId: string;
  name: string;
  mimeType: string;
  size: number;
  sha256: string;
}

/** Every `POST /v2/upload` that was authorized and parsed, accepted or not. */
export interface SandboxCreateCall {
  source: string | null;
  name: string | null;
  mimeType: string | null;
  /** HTTP status of the reply. */
  status: number;
  result: boolean;
  uploadId: string | null;
}

export interface OktopostSandbox {
  /** The server origin; the API root (what an account's base URL is) is `apiUrl`. */
  readonly url: string;
  readonly apiUrl: string;
  readonly accountId: string;
  readonly apiKey: string;
  readonly userId: string;
  /** Adds a request that was on the account before (complete ones with their media); returns it. */
  addExisting(upload: ExistingUpload): SandboxUploadRecord;
  readonly requests: LoggedRequest[];
  readonly createCalls: SandboxCreateCall[];
  readonly uploads: Map<string, SandboxUploadRecord>;
  readonly media: Map<string, SandboxMediaRecord>;
  fault(fault: Fault): void;
  clearFaults(): void;
  /** Resolves once the background pull of this upload has ended (complete or failed). */
  settled(uploadId: string): Promise<SandboxUploadRecord>;
  /** Deletes an upload request, as if removed on Oktopost's side: its GET answers 404. */
  forget(uploadId: string): void;
  close(): Promise<void>;
}

class PullError extends Error {}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  ms <= 0
    ? Promise.resolve()
    : new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, ms);
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            reject(signal.reason as Error);
          },
          { once: true },
        );
      });

/** "2020-06-25 06:49:51", as the upload page shows (UTC here), or Unix seconds. */
function stamp(date: Date, format: 'datetime' | 'epoch'): string | number {
  if (format === 'epoch') return Math.floor(date.getTime() / 1000);
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

function serial(prefix: string, n: number): string {
  return `${prefix}${String(n).padStart(12, '0')}`;
}

function isAllowedMime(value: string): boolean {
  return (SANDBOX_OKTOPOST_MIME_TYPES as readonly string[]).includes(value);
}

function failure(error: unknown): string {
  if (error instanceof PullError) return error.message;
  const cause = (error as { cause?: { code?: string } }).cause;
  return `Could not download file, error ${cause?.code ?? (error as Error).name ?? 'network'}`;
}

async function parseFields(request: IncomingMessage): Promise<Map<string, string>> {
  const body = (await readBody(request)).toString('utf8');
  const type = String(request.headers['content-type'] ?? '');
  if (type.includes('application/json')) {
    try {
      const parsed = JSON.parse(body) as Record<string, unknown>;
      return new Map(Object.entries(parsed).map(([key, value]) => [key, String(value)]));
    } catch {
      return new Map();
    }
  }
  return new Map(new URLSearchParams(body));
}

export async function startOktopostSandbox(options: OktopostSandboxOptions = {}): Promise<OktopostSandbox> {
  const accountId = options.accountId ?? '001000000000001';
  const apiKey = options.apiKey ?? 'okto-key';
  const userId = options.userId ?? '00A000000000001';
  const skew = options.clockSkewMs ?? 0;
  const timeFormat = options.timeFormat ?? 'datetime';
  /** The emulator's own clock. */
  const now = (): Date => new Date(Date.now() + skew);
  const pullChunk = options.pullChunk ?? 1024 * 1024;
  const wholeFileMax = options.wholeFileMax ?? 0;
  const maxAttempts = options.maxAttempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 5;
  const pullDelayMs = options.pullDelayMs ?? 0;
  const perMinute = options.perMinute ?? 60;
  const maxFileBytes = options.maxFileBytes ?? 8 * GIB;
  const dailyQuotaBytes = options.dailyQuotaBytes ?? 32 * GIB;

  const uploads = new Map<string, SandboxUploadRecord>();
  const media = new Map<string, SandboxMediaRecord>();
  const createCalls: SandboxCreateCall[] = [];
  const pulls = new Map<string, Promise<void>>();
  const hits = new Map<string, number[]>();
  const stopping = new AbortController();
  let uploadCounter = 0;
  let mediaCounter = 0;

  const refuse = (errors: Record<string, string | string[]>): Reply =>
    json(options.falseResultWith2xx ? 200 : 400, { Result: false, Errors: errors });
  const notFound = (field: string, message: string): Reply =>
    json(404, { Result: false, Errors: { [field]: message } });

  const view = (record: SandboxUploadRecord): Record<string, unknown> => ({
    Id: record.id,
    Created: stamp(record.created, timeFormat),
    Modified: stamp(record.modified, timeFormat),
    CreatedBy: record.createdBy,
    Status: record.status,
    Name: record.name,
    MimeType: record.mimeType,
    TotalSize: record.total ?? 0,
    Downloaded: record.downloaded,
    Source: record.source,
    LastError: record.lastError,
    Attempts: record.attempts,
    MediaId: record.mediaId,
  });

  /** The account id of a valid Basic authorization, or null. */
  const authorizedAs = (request: IncomingMessage): string | null => {
    const match = /^Basic\s+(\S+)$/i.exec(String(request.headers.authorization ?? ''));
    if (!match) return null;
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return null;
    return decoded.slice(0, colon) === accountId && decoded.slice(colon + 1) === apiKey ? accountId : null;
  };

  /** Sliding one-minute window per account; returns the seconds to wait, or 0 when within budget. */
  const rateLimited = (account: string): number => {
    const now = Date.now();
    const recent = (hits.get(account) ?? []).filter((at) => at > now - 60_000);
    hits.set(account, recent);
    if (recent.length >= perMinute) return Math.max(1, Math.ceil((recent[0]! + 60_000 - now) / 1000));
    recent.push(now);
    return 0;
  };

  const head = async (source: string, signal: AbortSignal): Promise<number> => {
    const response = await fetch(source, { method: 'HEAD', signal });
    await response.body?.cancel();
    if (!response.ok) throw new PullError(`Could not download file, error ${response.status}`);
    const length = Number(response.headers.get('content-length'));
    if (!Number.isSafeInteger(length) || length < 0) throw new PullError('Could not download file, no Content-Length');
    return length;
  };

  /** One GET; `range` null fetches the whole file. Returns the bytes and whether they are the whole file. */
  const get = async (
    record: SandboxUploadRecord,
    range: [number, number] | null,
    total: number,
    signal: AbortSignal,
  ): Promise<{ bytes: Buffer; whole: boolean }> => {
    const headers: Record<string, string> = range ? { range: `bytes=${range[0]}-${range[1]}` } : {};
    const response = await fetch(record.source, { headers, signal });
    const bytes = Buffer.from(await response.arrayBuffer());
    if (response.status === 200 && bytes.length === total) return { bytes, whole: true };
    if (range && response.status === 206 && bytes.length === range[1] - range[0] + 1) return { bytes, whole: false };
    if (response.ok)
      throw new PullError(`Could not download file, unexpected ${response.status} reply of ${bytes.length} bytes`);
    throw new PullError(`Could not download file, error ${response.status}`);
  };

  const fail = (record: SandboxUploadRecord, message: string): void => {
    record.status = 'failed';
    record.lastError = message;
    record.modified = now();
  };

  /** Runs one pull step with Oktopost's retry rule; undefined when the upload failed. */
  const step = async <T>(
    record: SandboxUploadRecord,
    work: () => Promise<T>,
    signal: AbortSignal,
  ): Promise<T | undefined> => {
    for (;;) {
      try {
        const value = await work();
        record.attempts = 0;
        return value;
      } catch (error) {
        if (signal.aborted) throw error;
        record.attempts += 1;
        record.lastError = failure(error);
        record.modified = now();
        if (record.attempts >= maxAttempts) {
          fail(record, record.lastError);
          return undefined;
        }
        await sleep(retryDelayMs, signal);
      }
    }
  };

  const pull = async (record: SandboxUploadRecord, signal: AbortSignal): Promise<void> => {
    if (record.total === null) {
      const total = await step(record, () => head(record.source, signal), signal);
      if (total === undefined) return;
      record.total = total;
      record.modified = now();
      if (total > maxFileBytes) return fail(record, `File size ${total} exceeds the maximum allowed size`);
    }
    const total = record.total;
    const parts: Buffer[] = [];
    for (let start = 0; start < total || (total === 0 && start === 0); start += pullChunk) {
      await sleep(pullDelayMs, signal);
      const range: [number, number] | null =
        total <= wholeFileMax ? null : [start, Math.min(start + pullChunk, total) - 1];
      const got = await step(record, () => get(record, range, total, signal), signal);
      if (got === undefined) return;
      if (got.whole) {
        // The whole file in one answer (no Range asked, or the server ignored it).
        parts.length = 0;
        parts.push(got.bytes);
        record.downloaded = total;
        break;
      }
      parts.push(got.bytes);
      record.downloaded += got.bytes.length;
      record.modified = now();
    }
    const bytes = Buffer.concat(parts);
    mediaCounter += 1;
    const mediaId = serial('026', mediaCounter);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    media.set(mediaId, {
      id: mediaId,
      uploadId: record.id,
      name: record.name,
      mimeType: record.mimeType,
      size: bytes.length,
      sha256,
    });
    Object.assign(record, { status: 'complete', sha256, mediaId, downloaded: bytes.length, modified: now() });
  };

  const startPull = (record: SandboxUploadRecord): void => {
    const running = pull(record, stopping.signal).catch((error: unknown) => {
      if (!stopping.signal.aborted) fail(record, `Emulator error: ${String(error)}`);
    });
    pulls.set(record.id, running);
  };

  const handleCreate = async (request: IncomingMessage): Promise<Reply> => {
    const fields = await parseFields(request);
    const call: SandboxCreateCall = {
      source: fields.get('source') ?? null,
      name: fields.get('name') ?? null,
      mimeType: fields.get('mimeType') ?? null,
      status: 0,
      result: false,
      uploadId: null,
    };
    createCalls.push(call);
    const reply = await (async (): Promise<Reply> => {
      const errors: Record<string, string> = {};
      let sourceUrl: URL | null;
      try {
        sourceUrl = call.source ? new URL(call.source) : null;
      } catch {
        sourceUrl = null;
      }
      if (!call.source) errors.source = 'Source is required';
      else if (!sourceUrl || (sourceUrl.protocol !== 'http:' && sourceUrl.protocol !== 'https:')) {
        errors.source = 'Source must be a public http(s) URL';
      }
      const fromUrl = sourceUrl ? basename(decodeURI(sourceUrl.pathname)) : '';
      const name = call.name?.trim() || fromUrl;
      if (!name) errors.name = 'The name was not sent and could not be determined from the source';
      let mimeType = call.mimeType?.trim().toLowerCase() ?? '';
      if (mimeType) {
        if (!isAllowedMime(mimeType)) {
          errors.mimeType = `Unsupported mime type ${mimeType}; supported: ${SANDBOX_OKTOPOST_MIME_TYPES.join(', ')}`;
        }
      } else {
        const derived =
          [name, fromUrl].map((candidate) => (candidate ? mimeLookup(candidate) || '' : '')).find(Boolean) ?? '';
        if (!derived) errors.mimeType = 'The mime type was not sent and could not be determined from the source';
        else if (!isAllowedMime(derived)) errors.mimeType = `Unsupported mime type ${derived}`;
        mimeType = derived;
      }
      if (Object.keys(errors).length > 0) return refuse(errors);

      // The size check of create [guess]: a HEAD now; if it fails, the pull retries it later.
      let total: number | null;
      try {
        total = await head(call.source!, AbortSignal.any([stopping.signal, AbortSignal.timeout(5_000)]));
      } catch {
        total = null;
      }
      if (total !== null && total > maxFileBytes) {
        return refuse({ source: `File size ${total} exceeds the maximum allowed size of ${maxFileBytes} bytes` });
      }
      if (total !== null) {
        const since = now().getTime() - DAY_MS;
        let used = 0;
        for (const upload of uploads.values()) {
          if (upload.status !== 'failed' && upload.created.getTime() > since) used += upload.total ?? 0;
        }
        if (used + total > dailyQuotaBytes) {
          return refuse({ source: `Upload limit of ${dailyQuotaBytes} bytes within 24 hours exceeded` });
        }
      }

      uploadCounter += 1;
      const createdAt = now();
      const record: SandboxUploadRecord = {
        id: serial('0up', uploadCounter),
        source: call.source!,
        name,
        mimeType,
        status: 'pending',
        downloaded: 0,
        total,
        sha256: null,
        attempts: 0,
        lastError: null,
        mediaId: null,
        createdBy: userId,
        created: createdAt,
        modified: createdAt,
      };
      uploads.set(record.id, record);
      call.uploadId = record.id;
      startPull(record);
      return json(200, { Result: true, Upload: view(record) });
    })();
    call.status = reply.status;
    call.result = reply.status === 200 && call.uploadId !== null;
    return reply;
  };

  const handleList = (url: URL): Reply => {
    const status = url.searchParams.get('status');
    const source = url.searchParams.get('source');
    const page = Number(url.searchParams.get('_page') ?? '0');
    const count = Number(url.searchParams.get('_count') ?? '20');
    if (status !== null && !['pending', 'failed', 'complete'].includes(status)) {
      return refuse({ status: 'Status must be one of pending, failed, complete' });
    }
    if (!Number.isInteger(page) || page < 0) return refuse({ _page: 'Invalid page' });
    if (!Number.isInteger(count) || count < 1) return refuse({ _count: 'Invalid count' });
    const size = Math.min(count, 100);
    const matching = [...uploads.values()]
      .filter(
        (upload) => (status === null || upload.status === status) && (source === null || upload.source === source),
      )
      .reverse();
    return json(200, {
      Result: true,
      Items: matching.slice(page * size, (page + 1) * size).map(view),
      Total: matching.length,
    });
  };

  const handleMe = (): Reply =>
    json(200, {
      Result: true,
      User: { Id: userId, Name: 'Sandbox User', Email: 'sandbox@example.com', LastLogin: stamp(now(), timeFormat) },
      Account: { Id: accountId, Name: 'Sandbox' },
    });

  const addExisting = (existing: ExistingUpload): SandboxUploadRecord => {
    uploadCounter += 1;
    const created = new Date(now().getTime() - (existing.createdAgoMs ?? DAY_MS));
    const status = existing.status ?? 'complete';
    const size = existing.size ?? 1000;
    const record: SandboxUploadRecord = {
      id: serial('0up', uploadCounter),
      source: existing.source,
      name: existing.name,
      mimeType: existing.mimeType ?? (mimeLookup(existing.name) || 'video/mp4'),
      status,
      downloaded: status === 'complete' ? size : 0,
      total: size,
      sha256: null,
      attempts: status === 'failed' ? maxAttempts : 0,
      lastError: status === 'failed' ? 'Could not download file, error 404' : null,
      mediaId: null,
      createdBy: existing.createdBy ?? userId,
      created,
      modified: created,
    };
    if (status === 'complete') {
      mediaCounter += 1;
      record.mediaId = serial('026', mediaCounter);
      record.sha256 = createHash('sha256').update(`earlier content of ${existing.source}`).digest('hex');
      media.set(record.mediaId, {
        id: record.mediaId,
        uploadId: record.id,
        name: record.name,
        mimeType: record.mimeType,
        size,
        sha256: record.sha256,
      });
    }
    uploads.set(record.id, record);
    return record;
  };

  const handleValidate = (mediaId: string): Reply => {
    const item = media.get(mediaId);
    if (!item) return notFound('MediaId', 'Media not found');
    if (!item.mimeType.startsWith('video/')) return refuse({ MediaId: 'Media is not a video' });
    const validations: Record<string, { isValid: boolean; errors: string[] }> = {};
    for (const network of SANDBOX_OKTOPOST_NETWORKS) {
      const errors = options.invalidNetworks?.[network] ?? [];
      validations[network] = { isValid: errors.length === 0, errors };
    }
    return json(200, { Result: true, Validations: validations });
  };

  /** Every reply carries the emulator's own time, as a real server's `Date` header does. */
  const dated = (reply: Reply): Reply => ({
    ...reply,
    headers: { date: options.sendDate === false ? '' : now().toUTCString(), ...reply.headers },
  });

  const server = await startSandboxServer(async (request, url) => dated(await route(request, url)), options.port);

  async function route(request: IncomingMessage, url: URL): Promise<Reply> {
    const method = request.method ?? 'GET';
    const account = authorizedAs(request);
    if (account === null) {
      await readBody(request);
      return json(
        401,
        { Result: false, Errors: { Authorization: 'Invalid account id or API key' } },
        {
          'www-authenticate': 'Basic realm="Oktopost API"',
        },
      );
    }
    const wait = rateLimited(account);
    if (wait > 0) {
      await readBody(request);
      return json(
        429,
        { Result: false, Errors: { Request: 'Rate limit exceeded: 60 requests per minute' } },
        {
          'retry-after': String(wait),
        },
      );
    }
    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/v2/upload' && method === 'POST') return handleCreate(request);
    await readBody(request);
    if (method !== 'GET') return json(405, { Result: false, Errors: { Method: `${method} is not allowed` } });
    if (path === '/v2/me') return handleMe();
    if (path === '/v2/upload') return handleList(url);
    const single = /^\/v2\/upload\/([^/]+)$/.exec(path);
    if (single) {
      const record = uploads.get(decodeURIComponent(single[1]!));
      return record ? json(200, { Result: true, Upload: view(record) }) : notFound('Id', 'Upload not found');
    }
    const validate = /^\/v2\/video-validate\/([^/]+)$/.exec(path);
    if (validate) return handleValidate(decodeURIComponent(validate[1]!));
    return notFound('Path', `No such endpoint ${url.pathname}`);
  }

  return {
    url: server.url,
    apiUrl: `${server.url}/v2`,
    accountId,
    apiKey,
    userId,
    addExisting,
    get requests() {
      return server.requests;
    },
    createCalls,
    uploads,
    media,
    fault: (fault) => server.fault(fault),
    clearFaults: () => server.clearFaults(),
    async settled(uploadId) {
      const record = uploads.get(uploadId);
      if (!record) throw new Error(`sandbox: no upload ${uploadId}`);
      await pulls.get(uploadId);
      return record;
    },
    forget(uploadId) {
      uploads.delete(uploadId);
    },
    async close() {
      stopping.abort(new Error('sandbox closed'));
      await Promise.allSettled(pulls.values());
      await server.close();
    },
  };
}
