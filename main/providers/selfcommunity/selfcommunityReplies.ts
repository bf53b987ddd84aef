/**
 * Readers for SelfCommunity's JSON replies. They never throw: an unexpected shape comes back as null
 * (or undefined) and the adapter says what it expected, so a proxy's HTML page becomes a clear,
 * retryable error instead of a crash deep in a property access.
 */
import { z } from 'zod';
import { bodyExcerpt, tryJson } from '../http.ts';

/** The server sends `offset` as a string or as an integer depending on its version: take both. */
const offsetSchema = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .regex(/^\d+$/)
    .transform((value) => Number(value)),
]);

export interface ChunkReply {
  uploadId: string;
  offset: number;
  expires: string | null;
}

/**
 * `{upload_id, offset, expires}` of an accepted chunk, or null when the body is not that: upload_id a
 * non-empty string or a number, offset as offsetSchema takes it, expires a string, null or absent.
 * Checked by hand rather than with a zod schema: this runs once per 204,800-byte chunk, and zod's
 * parse was about 1 % of the client's time there.
 */
export function readChunkReply(body: string): ChunkReply | null {
  const json = tryJson(body);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return null;
  const { upload_id: id, offset: rawOffset, expires } = json as Record<string, unknown>;
  let uploadId: string;
  if (typeof id === 'string' && id.length > 0) uploadId = id;
  else if (typeof id === 'number' && Number.isFinite(id)) uploadId = String(id);
  else return null;
  const offset = offsetOf(rawOffset);
  if (offset === null) return null;
  if (expires !== undefined && expires !== null && typeof expires !== 'string') return null;
  return { uploadId, offset, expires: expires ?? null };
}

/** offsetSchema without zod: a non-negative safe integer, or a string of digits. */
function offsetOf(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : null;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return null;
}

const errorReplySchema = z.looseObject({ detail: z.string().optional(), offset: offsetSchema.optional() });

export interface ErrorReply {
  /** The server's own words: DRF's `detail`, or its field errors joined; a body excerpt otherwise. */
  detail: string;
  /** The server's offset, sent with "Offsets do not match". */
  offset: number | undefined;
}

export function readErrorReply(body: string): ErrorReply {
  const json = tryJson(body);
  const parsed = errorReplySchema.safeParse(json);
  if (!parsed.success) return { detail: bodyExcerpt(body), offset: undefined };
  if (parsed.data.detail !== undefined) return { detail: parsed.data.detail, offset: parsed.data.offset };
  // DRF validation errors look like {"md5": ["This field is required."]}.
  const fieldErrors = Object.entries(parsed.data)
    .filter(([key]) => key !== 'offset')
    .map(([key, value]) => `${key}: ${Array.isArray(value) ? value.map(String).join(' ') : String(value)}`);
  return { detail: fieldErrors.length > 0 ? fieldErrors.join('; ') : bodyExcerpt(body), offset: parsed.data.offset };
}

export function isOffsetMismatch(reply: ErrorReply): reply is ErrorReply & { offset: number } {
  return reply.offset !== undefined && /offsets? do not match/i.test(reply.detail);
}

export function isAlreadyComplete(reply: ErrorReply): boolean {
  return /already.*complete/i.test(reply.detail);
}

export function isMd5Mismatch(reply: ErrorReply): boolean {
  return /md5|checksum/i.test(reply.detail);
}

const mediaSchema = z.looseObject({
  id: z.union([z.number(), z.string().min(1)]),
  url: z.string().nullish(),
  image: z.string().nullish(),
});

export type MediaReply = z.infer<typeof mediaSchema>;

/** The Media object that complete returns, or null when the body has no usable `id`. */
export function readMediaReply(body: string): MediaReply | null {
  const parsed = mediaSchema.safeParse(tryJson(body));
  return parsed.success ? parsed.data : null;
}

/** The Media facts worth showing with the finished job. */
export const MEDIA_DETAIL_KEYS = [
  'type',
  'title',
  'description',
  'image',
  'image_width',
  'image_height',
  'added_at',
  'order',
  'embed',
] as const;
