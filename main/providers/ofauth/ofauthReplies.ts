/**
 * Readers for OFAuth's replies. They never throw on a strange body: an unexpected shape comes back as
 * null (or a plan problem in words), and the adapter says what it expected, so a proxy's HTML page
 * becomes a clear, retryable error instead of a crash deep in a property access.
 */
import { z } from 'zod';
import { joinUrl } from '../adapterHelpers.ts';
import { bodyExcerpt, tryJson } from '../http.ts';
import type { OfauthMode, OfauthSession } from './ofauthSession.ts';

/** A positive integer, sent as a number or as a numeric string (response headers always are strings). */
const countSchema = z.union([
  z.number().int().min(1),
  z
    .string()
    .trim()
    .regex(/^\d+$/)
    .transform((value) => Number(value))
    .pipe(z.number().int().min(1)),
]);

const byteRangeSchema = z.object({ start: z.number().int().nonnegative(), end: z.number().int().nonnegative() });

const planPartSchema = z.looseObject({
  partNumber: countSchema,
  uploadUrl: z.string().min(1).nullish(),
  byteRange: byteRangeSchema.nullish(),
});

const initReplySchema = z.looseObject({
  mediaUploadId: z.union([z.string().min(1), z.number()]).transform((value) => String(value)),
  uploadType: z.string().nullish(),
  totalParts: countSchema.nullish(),
  partSize: countSchema.nullish(),
  expiresAt: z.union([z.string(), z.number()]).nullish(),
  parts: z.array(planPartSchema).nullish(),
  completeUrl: z.string().min(1).nullish(),
});

export const TOTAL_PARTS_HEADER = 'x-ofauth-upload-total-parts';
export const PART_SIZE_HEADER = 'x-ofauth-upload-part-size';

export type InitReading =
  | { kind: 'session'; session: OfauthSession }
  /** The body is not an init reply at all (HTML, truncated JSON, no `mediaUploadId`). */
  | { kind: 'unreadable' }
  /** The body is an init reply whose plan Ferry cannot follow; `problem` says why, in words. */
  | { kind: 'plan-problem'; mediaUploadId: string; problem: string };

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Epoch milliseconds from an ISO date, epoch seconds or epoch milliseconds; null when unreadable. */
export function parseExpiresAt(value: string | number | null | undefined): number | null {
  if (value === null || value === undefined || value === '') return null;
  const numeric = typeof value === 'number' ? value : /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (Number.isFinite(numeric)) return numeric > 1e12 ? Math.trunc(numeric) : Math.trunc(numeric * 1000);
  const parsed = Date.parse(String(value));
  return Number.isNaN(parsed) ? null : parsed;
}

/** The path every OFAuth upload endpoint lives under; a URL holding it addresses the OFAuth API. */
export const UPLOADS_API_PATH = '/v2/access/uploads/';

/** Where a request goes and whether it may carry the account's credentials. */
export interface UploadTarget {
  url: string;
  /** True for the account's own API origin: the `apiKey` and `x-connection-id` headers go along. */
  credentials: boolean;
}

function baseOf(baseUrl: string): URL {
  return new URL(joinUrl(baseUrl, '/'));
}

/**
 * Where a URL from an upload plan is sent, or null when it is not an http(s) URL.
 *
 * - On the account's own origin: as given, with credentials.
 * - An OFAuth upload endpoint on another origin (its path holds `/v2/access/uploads/`, e.g. the
 *   guide's `https://api.ofauth.com/...` while the account uses `api-next`): the same path on the
 *   account's own origin, with credentials. The API key only ever goes to the host the user set up.
 * - Anything else is a pre-signed storage URL: as given, WITHOUT credentials, since the signature in
 *   the URL is the authorization and the API key must never reach a third party.
 */
export function uploadTarget(raw: string, baseUrl: string): UploadTarget | null {
  let base: URL;
  let url: URL;
  try {
    base = baseOf(baseUrl);
    url = new URL(raw, base);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.origin === base.origin) return { url: url.href, credentials: true };
  const at = url.pathname.indexOf(UPLOADS_API_PATH);
  if (at >= 0) return { url: joinUrl(baseUrl, `${url.pathname.slice(at)}${url.search}`), credentials: true };
  return { url: url.href, credentials: false };
}

/**
 * Reads the reply to `init` into a session. The plan comes from the body as the "Upload Media" guide
 * shows it (`uploadType`, `totalParts`, `partSize`, `expiresAt`, `parts[]`, `completeUrl`). The
 * OpenAPI reply schema names only `mediaUploadId`; for a body without a plan the plan is read from
 * the `x-ofauth-upload-*` headers, which is where the official SDK helpers (onlyfans-sdk-python
 * `upload_media`, onlyfans-sdk-go `UploadMedia`, v3.0.0) read it; without those either, the file goes
 * as one part (the documented single-part PUT). Whatever its source, the plan must cut `size` into a
 * grid of `partSize` parts.
 */
export function readInitReply(body: string, headers: Headers, size: number, baseUrl: string): InitReading {
  const parsed = initReplySchema.safeParse(tryJson(body));
  if (!parsed.success) return { kind: 'unreadable' };
  const reply = parsed.data;
  const mediaUploadId = reply.mediaUploadId;
  const problem = (text: string): InitReading => ({ kind: 'plan-problem', mediaUploadId, problem: text });

  const headerCount = (name: string): number | null | 'bad' => {
    const raw = header(headers, name);
    if (raw === undefined || raw.trim() === '') return null;
    const value = countSchema.safeParse(raw);
    return value.success ? value.data : 'bad';
  };
  const headerParts = headerCount(TOTAL_PARTS_HEADER);
  const headerPartSize = headerCount(PART_SIZE_HEADER);
  if (headerParts === 'bad' || headerPartSize === 'bad') {
    return problem(`the ${TOTAL_PARTS_HEADER}/${PART_SIZE_HEADER} headers are not positive integers`);
  }
  // The body wins when it carries a plan; the headers are the SDK's alternative form of the same.
  const bodyHasPlan = reply.totalParts != null || reply.partSize != null || reply.uploadType != null;
  let totalParts = bodyHasPlan ? (reply.totalParts ?? null) : headerParts;
  let partSize = bodyHasPlan ? (reply.partSize ?? null) : headerPartSize;

  let mode: OfauthMode;
  const uploadType = reply.uploadType?.toLowerCase() ?? null;
  if (uploadType === 'single') {
    if (totalParts !== null && totalParts !== 1) return problem(`uploadType "single" with ${totalParts} parts`);
    mode = 'single';
  } else if (uploadType === 'multipart') {
    mode = 'multipart';
  } else if (uploadType !== null) {
    return problem(`unknown uploadType "${reply.uploadType}"`);
  } else {
    mode =
      totalParts !== null && totalParts > 1
        ? 'multipart'
        : partSize !== null && partSize < size
          ? 'multipart'
          : 'single';
  }

  if (mode === 'single') {
    // One raw PUT of the whole file: no grid to follow, whatever partSize said.
    totalParts = 1;
    partSize = size;
  } else {
    if (partSize === null && totalParts === null)
      return problem('uploadType "multipart" without totalParts or partSize');
    partSize ??= Math.ceil(size / totalParts!);
    totalParts ??= Math.ceil(size / partSize);
    if (Math.ceil(size / partSize) !== totalParts) {
      return problem(`${totalParts} parts of ${partSize} bytes do not cover ${size} bytes`);
    }
  }

  let partUrls: string[] | null = null;
  let completeUrl: string | null = null;
  if (reply.parts && reply.parts.length > 0) {
    if (reply.parts.length !== totalParts)
      return problem(`${reply.parts.length} entries in parts[] for ${totalParts} parts`);
    const byNumber = new Map(reply.parts.map((part) => [part.partNumber, part]));
    const urls: Array<string | null> = [];
    for (let n = 1; n <= totalParts; n += 1) {
      const part = byNumber.get(n);
      if (!part) return problem(`parts[] has no part ${n}`);
      const start = (n - 1) * partSize;
      const end = Math.min(n * partSize, size) - 1;
      // byteRange.end is inclusive.
      if (part.byteRange && (part.byteRange.start !== start || part.byteRange.end !== end)) {
        return problem(`part ${n} covers bytes ${part.byteRange.start}-${part.byteRange.end}, not ${start}-${end}`);
      }
      if (part.uploadUrl && !uploadTarget(part.uploadUrl, baseUrl))
        return problem(`part ${n} has an upload URL Ferry cannot use (${part.uploadUrl})`);
      urls.push(part.uploadUrl ? new URL(part.uploadUrl, baseOf(baseUrl)).href : null);
    }
    // All or nothing: a mix of given and documented URLs would hide a half-broken plan.
    partUrls = urls.every((url) => url !== null) ? (urls as string[]) : null;
  }
  if (reply.completeUrl) {
    const target = uploadTarget(reply.completeUrl, baseUrl);
    // `complete` needs the credentials, so only an OFAuth endpoint can take it; any other URL is
    // ignored for the documented path rather than handed the API key.
    completeUrl = target?.credentials ? new URL(reply.completeUrl, baseOf(baseUrl)).href : null;
  }

  if (mode === 'single' && partUrls !== null && !uploadTarget(partUrls[0]!, baseUrl)!.credentials) {
    // A one-part plan whose bytes go to a storage host: bytes on another host finalize nothing, so
    // the upload is completed afterwards like any multipart one (the guide's step 3).
    mode = 'multipart';
  }
  if (mode === 'single') {
    // The single-part PUT (`PUT /v2/access/uploads/{id}`, which also finalizes) is always sent to
    // the documented path on the account's origin.
    partUrls = null;
    completeUrl = null;
  }

  return {
    kind: 'session',
    session: {
      mediaUploadId,
      mode,
      totalParts,
      partSize,
      size,
      expiresAt: parseExpiresAt(reply.expiresAt),
      partUrls,
      completeUrl,
    },
  };
}

const partReplySchema = z.looseObject({ partNumber: countSchema.nullish() });

/**
 * The part number of an accepted part's `{mediaUploadId, partNumber, etag}` (null when it names
 * none), or undefined when the body is not that reply. The `etag` is not kept: `complete` takes only
 * the `mediaUploadId` (OpenAPI), and nothing else documented asks for a part's etag.
 */
export function readPartReply(body: string): { partNumber: number | null } | undefined {
  const parsed = partReplySchema.safeParse(tryJson(body));
  if (!parsed.success) return undefined;
  return { partNumber: parsed.data.partNumber ?? null };
}

/** Optional facts are read leniently: a field of an odd type is dropped, never the whole reply. */
const optionalString = z.string().nullish().catch(null);
const optionalBoolean = z.boolean().nullish().catch(null);
const fileSchema = z.looseObject({ url: optionalString }).nullish().catch(null);

const mediaSchema = z.looseObject({
  id: z.union([z.number(), z.string().min(1)]),
  type: optionalString,
  isReady: optionalBoolean,
  hasError: optionalBoolean,
  convertedToVideo: optionalBoolean,
  duration: z.number().nullish().catch(null),
  createdAt: optionalString,
  files: z
    .looseObject({ full: fileSchema, preview: fileSchema, thumb: fileSchema, squarePreview: fileSchema })
    .nullish()
    .catch(null),
});

export type OfauthMedia = z.infer<typeof mediaSchema>;

const finalizeReplySchema = z.looseObject({
  mediaUploadId: z.union([z.string().min(1), z.number()]).optional(),
  media: mediaSchema.nullish(),
});

export type FinalizeReading =
  | { kind: 'media'; media: OfauthMedia }
  /** `{mediaUploadId}` without `media`: a success the OpenAPI allows (`media` is optional). */
  | { kind: 'no-media' }
  | { kind: 'unreadable' };

/**
 * Reads the `{mediaUploadId, media?}` reply of `complete` or of the single-part PUT. A body with a
 * media that has an `id` is the media; a body naming the upload but holding no media is a success
 * without a media id; anything else is unreadable.
 */
export function readFinalizeReply(body: string): FinalizeReading {
  const parsed = finalizeReplySchema.safeParse(tryJson(body));
  if (!parsed.success) return { kind: 'unreadable' };
  if (parsed.data.media) return { kind: 'media', media: parsed.data.media };
  return parsed.data.mediaUploadId !== undefined ? { kind: 'no-media' } : { kind: 'unreadable' };
}

export interface OfauthErrorReply {
  /** The server's own words (`error ?? message`), or an excerpt of the body. */
  text: string;
  /** The machine-readable code (`type ?? code`), upper-cased, or null. */
  code: string | null;
  /** The documented `requestId`, for support, or null. */
  requestId: string | null;
}

function asText(value: unknown): string | null {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number') return String(value);
  return null;
}

/**
 * The documented error body is `{error, type, requestId, actionRequired}`
 * (https://docs.ofauth.com/reference/error-handling.md); the docs-next edition of the same page says
 * `{error, code, details}`, and the SDK helpers read `message`. All of them are read, plus a nested
 * `{error: {message, type}}`; anything else (an XML storage error, an HTML page) becomes a short
 * excerpt of the body.
 */
export function readErrorReply(body: string): OfauthErrorReply {
  const json = tryJson(body);
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    return { text: bodyExcerpt(body), code: null, requestId: null };
  const record = json as Record<string, unknown>;
  const nested =
    record.error !== null && typeof record.error === 'object' ? (record.error as Record<string, unknown>) : null;
  const text =
    asText(record.error) ??
    asText(record.message) ??
    asText(nested?.message) ??
    asText(nested?.error) ??
    bodyExcerpt(body);
  const code = asText(record.type) ?? asText(record.code) ?? asText(nested?.type) ?? asText(nested?.code);
  return { text, code: code === null ? null : code.toUpperCase(), requestId: asText(record.requestId) };
}

/** True when the reply says the upload was already completed (by code or in words). */
export function isAlreadyCompleted(reply: OfauthErrorReply): boolean {
  if (reply.code !== null && /ALREADY_COMPLETED?|UPLOAD_COMPLETED/.test(reply.code)) return true;
  return /already\s+(been\s+)?(completed?|finali[sz]ed)/i.test(reply.text);
}
