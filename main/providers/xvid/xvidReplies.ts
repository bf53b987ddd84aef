/**
 * Readers for what Xvid MediaHub and its S3 bucket answer. They never throw: an unexpected shape comes
 * back as null and the adapter says what it expected, so a proxy's HTML page becomes a clear error
 * instead of a crash deep in a property access.
 */
import { z } from 'zod';
import { bodyExcerpt, tryJson } from '../http.ts';

/** MediaHub's code for "Invalid access token" (403): the token expired or was revoked. */
export const XVID_INVALID_TOKEN = '0x0000003';
/** MediaHub's code for "Requested file does not exist" (404) on an upload id. */
export const XVID_NO_SUCH_UPLOAD = '0x0230002';

const idSchema = z.union([z.string().min(1), z.number()]).transform((value) => String(value));

// Token -------------------------------------------------------------------------------------------------

const tokenSchema = z.looseObject({
  access_token: z.string().min(1),
  // Seconds; some servers send it as a string.
  expires_in: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).optional(),
});

export interface TokenReply {
  accessToken: string;
  expiresInSeconds: number | undefined;
}

export function readTokenReply(body: string): TokenReply | null {
  const parsed = tokenSchema.safeParse(tryJson(body));
  if (!parsed.success) return null;
  return { accessToken: parsed.data.access_token, expiresInSeconds: parsed.data.expires_in };
}

// Errors ------------------------------------------------------------------------------------------------

const xvidErrorSchema = z.object({
  error: z.looseObject({
    error_code: z.union([z.string(), z.number()]).transform(String).optional(),
    error_message: z.string().optional(),
  }),
});

/** RFC 6749 token errors, which an OAuth2 token endpoint may send instead of MediaHub's own shape. */
const oauthErrorSchema = z.looseObject({ error: z.string(), error_description: z.string().optional() });

export interface ApiError {
  /** MediaHub's `error_code` (`0x…`), or the OAuth2 `error` string; null when the body had none. */
  code: string | null;
  /** Readable text for messages: "0x0230002 Requested file does not exist", or a body excerpt. */
  detail: string;
}

/** Reads `{"error":{"error_code","error_message"}}` (or an OAuth2 error); a body excerpt otherwise. */
export function readApiError(body: string): ApiError {
  const json = tryJson(body);
  const xvid = xvidErrorSchema.safeParse(json);
  if (xvid.success) {
    const code = xvid.data.error.error_code ?? null;
    const message = xvid.data.error.error_message ?? '';
    return { code, detail: [code, message].filter(Boolean).join(' ') || bodyExcerpt(body) };
  }
  const oauth = oauthErrorSchema.safeParse(json);
  if (oauth.success) {
    const description = oauth.data.error_description;
    return { code: oauth.data.error, detail: description ? `${oauth.data.error}: ${description}` : oauth.data.error };
  }
  return { code: null, detail: bodyExcerpt(body) };
}

// Uploads -----------------------------------------------------------------------------------------------

/** Scalars in `form_post_params` are sent as the text the API gave; JSON numbers are written back as is. */
const paramValueSchema = z.union([z.string(), z.number(), z.boolean()]).transform(String);

const uploadSchema = z.looseObject({
  id: idSchema,
  status: z.string().optional(),
  form_post_url: z.string().optional(),
  form_post_params: z.record(z.string(), paramValueSchema).optional(),
  object_key: z.string().nullish(),
  storage_type: z.string().nullish(),
  nb_chunks: z.number().nullish(),
  url: z.string().nullish(),
  pipeline: z.looseObject({ id: idSchema.optional() }).nullish(),
  file: z.looseObject({ id: idSchema.optional(), url: z.string().nullish() }).nullish(),
});

export interface UploadReply {
  id: string;
  /** Upper-cased status, or null when the reply had none. */
  status: string | null;
  formPostUrl: string | null;
  formPostParams: Array<[string, string]> | null;
  objectKey: string | null;
  storageType: string | null;
  pipelineId: string | null;
  fileId: string | null;
  url: string | null;
}

/** The `upload` object of create, finish and status replies, or null when the body has no `upload.id`. */
export function readUploadReply(body: string): UploadReply | null {
  const json = tryJson(body);
  const parsed = z.object({ upload: uploadSchema }).safeParse(json);
  if (!parsed.success) return null;
  const upload = parsed.data.upload;
  return {
    id: upload.id,
    status: upload.status ? upload.status.toUpperCase() : null,
    formPostUrl: upload.form_post_url ?? null,
    // JSON.parse keeps the order of non-numeric keys as sent, and so does the record parse.
    formPostParams: upload.form_post_params ? Object.entries(upload.form_post_params) : null,
    objectKey: upload.object_key ?? null,
    storageType: upload.storage_type ?? null,
    pipelineId: upload.pipeline?.id ?? null,
    fileId: upload.file?.id ?? null,
    url: upload.file?.url ?? upload.url ?? null,
  };
}

// S3 ----------------------------------------------------------------------------------------------------

function decodeXml(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#(\d+);/g, (_match, code: string) => String.fromCodePoint(Number(code)))
    .replace(/&amp;/g, '&');
}

/** The text of the first `<name>` element, or null. S3's replies are flat, so no XML parser is needed. */
function xmlElement(xml: string, name: string): string | null {
  const match = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return match ? decodeXml(match[1]!.trim()) : null;
}

export interface S3PostResponse {
  location: string | null;
  bucket: string | null;
  key: string | null;
  etag: string | null;
}

/** S3's `<PostResponse>` (the reply to `success_action_status=201`); null when the body is not one. */
export function readS3PostResponse(body: string): S3PostResponse | null {
  if (!/<PostResponse[\s>]/.test(body)) return null;
  return {
    location: xmlElement(body, 'Location'),
    bucket: xmlElement(body, 'Bucket'),
    key: xmlElement(body, 'Key'),
    etag: xmlElement(body, 'ETag'),
  };
}

export interface S3Error {
  /** `<Code>`, e.g. AccessDenied, EntityTooLarge; null when the body is not an S3 error. */
  code: string | null;
  /** Readable text for messages: "AccessDenied: Invalid according to Policy: Policy expired." */
  detail: string;
}

export function readS3Error(body: string): S3Error {
  const code = xmlElement(body, 'Code');
  const message = xmlElement(body, 'Message');
  if (code === null && message === null) return { code: null, detail: bodyExcerpt(body) };
  return { code, detail: [code, message].filter(Boolean).join(': ') };
}
