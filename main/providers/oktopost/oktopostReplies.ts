/**
 * Readers for Oktopost's JSON replies. Every reply carries `Result`; a refusal is
 * `{"Result":false,"Errors":{…}}`, sometimes with a 2xx status, so the envelope is read before the
 * status is trusted. The readers never throw: an unexpected shape comes back as null and the adapter
 * says what it expected.
 */
import { z } from 'zod';
import { bodyExcerpt, tryJson } from '../http.ts';

export type Envelope =
  /** `Result` is not false: the payload is in `json` (still to be checked by a reader below). */
  | { kind: 'ok'; json: Record<string, unknown> }
  /** `Result:false`: `detail` is the server's errors as one readable line. */
  | { kind: 'refused'; detail: string }
  /** Not a JSON object at all (a proxy's page, an empty body). */
  | { kind: 'unreadable'; excerpt: string };

export function readEnvelope(body: string): Envelope {
  const json = tryJson(body);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { kind: 'unreadable', excerpt: bodyExcerpt(body) };
  }
  const record = json as Record<string, unknown>;
  if (record.Result === false || record.Result === 'false' || record.Result === 0) {
    return { kind: 'refused', detail: errorsText(record) || bodyExcerpt(body) };
  }
  return { kind: 'ok', json: record };
}

/**
 * One line from Oktopost's `Errors`: documented as an object of field → message, where a message may
 * also be a list of messages (or, defensively, a nested object or a bare string).
 */
export function errorsText(reply: Record<string, unknown>): string {
  const errors = reply.Errors ?? reply.errors ?? reply.Error ?? reply.Message ?? reply.message;
  return describe(errors);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(describe).filter(Boolean).join(' ');
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .map(([key, message]) => {
        const text = describe(message);
        // A list of messages under numeric keys reads better without the keys.
        return /^\d+$/.test(key) ? text : `${key}: ${text}`;
      })
      .filter(Boolean)
      .join('; ');
  }
  return '';
}

/** Sizes and counts come as numbers; numeric strings are taken too. */
const count = z.union([
  z.number().finite().nonnegative(),
  z
    .string()
    .regex(/^\d+$/)
    .transform((value) => Number(value)),
]);
const identifier = z.union([z.string().min(1), z.number()]).transform((value) => String(value));

const uploadSchema = z.looseObject({
  Id: identifier,
  Status: z.string(),
  Name: z.string().nullish(),
  MimeType: z.string().nullish(),
  TotalSize: count.nullish(),
  Downloaded: count.nullish(),
  Source: z.string().nullish(),
  LastError: z.string().nullish(),
  Attempts: count.nullish(),
  MediaId: identifier.nullish(),
  Created: z.union([z.string(), z.number()]).nullish(),
  CreatedBy: identifier.nullish(),
});

export type UploadStatus = 'pending' | 'failed' | 'complete';

export interface OktopostUpload {
  id: string;
  status: UploadStatus;
  name: string | null;
  mimeType: string | null;
  totalSize: number | null;
  downloaded: number | null;
  source: string | null;
  lastError: string | null;
  attempts: number;
  mediaId: string | null;
  /** When Oktopost created the request, in epoch seconds; null when absent or unreadable. */
  created: number | null;
  /** The `Id` of the user who created the request. */
  createdBy: string | null;
}

/**
 * An Oktopost time in epoch seconds, or null. The vendor contradicts itself: its Getting Started page
 * says every timestamp is a Unix timestamp (UTC epoch seconds), while its upload examples show
 * `"2020-06-25 06:49:51"`. Both are read; a date-time without a zone is taken as UTC, as that page says
 * all times are.
 */
export function parseOktopostTime(value: string | number | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? Math.floor(value) : null;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.floor(Number(text));
  const match = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(text);
  if (!match) return null;
  const [, year, month, day, hour, minute, second, zone] = match;
  const iso = `${year}-${month}-${day}T${hour}:${minute}:${second}${zone ? (zone === 'Z' ? 'Z' : zone.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')) : 'Z'}`;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}

/**
 * The documented statuses are pending, failed and complete. Anything else is read as still working:
 * the engine's poll limit bounds the wait, whereas failing on an unknown word could abandon a file
 * that Oktopost is about to finish.
 */
function statusOf(raw: string): UploadStatus {
  const status = raw.trim().toLowerCase();
  if (status === 'complete' || status === 'completed') return 'complete';
  if (status === 'failed' || status === 'fail' || status === 'error') return 'failed';
  return 'pending';
}

function toUpload(raw: z.infer<typeof uploadSchema>): OktopostUpload {
  return {
    id: raw.Id,
    status: statusOf(raw.Status),
    name: raw.Name ?? null,
    mimeType: raw.MimeType ?? null,
    totalSize: raw.TotalSize ?? null,
    downloaded: raw.Downloaded ?? null,
    source: raw.Source ?? null,
    lastError: raw.LastError ?? null,
    attempts: raw.Attempts ?? 0,
    mediaId: raw.MediaId ?? null,
    created: parseOktopostTime(raw.Created),
    createdBy: raw.CreatedBy ?? null,
  };
}

/** `{"Result":true,"Upload":{…}}` of create and get, or null when there is no usable `Upload`. */
export function readUpload(json: Record<string, unknown>): OktopostUpload | null {
  const parsed = uploadSchema.safeParse(json.Upload);
  return parsed.success ? toUpload(parsed.data) : null;
}

const listSchema = z.looseObject({ Items: z.array(z.unknown()), Total: count.nullish() });

export interface UploadList {
  items: OktopostUpload[];
  total: number | null;
}

/** `{"Result":true,"Items":[…],"Total":N}`; items that do not look like uploads are skipped. */
export function readUploadList(json: Record<string, unknown>): UploadList | null {
  const parsed = listSchema.safeParse(json);
  if (!parsed.success) return null;
  const items: OktopostUpload[] = [];
  for (const item of parsed.data.Items) {
    const upload = uploadSchema.safeParse(item);
    if (upload.success) items.push(toUpload(upload.data));
  }
  return { items, total: parsed.data.Total ?? null };
}

export interface NetworkValidation {
  isValid: boolean;
  errors: string[];
}

const validationSchema = z.looseObject({
  isValid: z.boolean(),
  errors: z.array(z.unknown()).nullish(),
});
const validationsSchema = z.looseObject({ Validations: z.record(z.string(), z.unknown()) });

/** `Validations` of video-validate, per network; networks with an unreadable entry are skipped. */
export function readValidations(json: Record<string, unknown>): Record<string, NetworkValidation> | null {
  const parsed = validationsSchema.safeParse(json);
  if (!parsed.success) return null;
  const validations: Record<string, NetworkValidation> = {};
  for (const [network, raw] of Object.entries(parsed.data.Validations)) {
    const entry = validationSchema.safeParse(raw);
    if (!entry.success) continue;
    validations[network] = {
      isValid: entry.data.isValid,
      errors: (entry.data.errors ?? []).map((error) => describe(error) || JSON.stringify(error)),
    };
  }
  return validations;
}

const meSchema = z.looseObject({ User: z.looseObject({ Id: identifier }) });

/** `User.Id` of `GET /me` (the user the API key belongs to), or null when the reply does not say. */
export function readMeUserId(json: Record<string, unknown>): string | null {
  const parsed = meSchema.safeParse(json);
  return parsed.success ? parsed.data.User.Id : null;
}
