/**
 * Reads replies of TwentyThree's legacy `/api/...` methods. Pure: no HTTP, no errors thrown.
 *
 * The legacy API answers XML (`<response status="ok|error" …>`) unless the request asks for
 * `format=json`; JSON then comes as `var visual = {…}` unless `raw` is asked for as well, and as a
 * JSONP call with `callback`. Errors, signature errors included, come with HTTP 200 and
 * `status="error"`, a `code` and a `message` [doc: https://www.twentythree.com/help/api-requests].
 * Ferry asks for raw JSON, and reads every one of these forms in case a site or proxy answers
 * otherwise.
 */

export interface ApiReply {
  /** `ok`, `error`, or null when the body is none of the documented forms. */
  status: 'ok' | 'error' | null;
  code: string | null;
  message: string | null;
  /** The upload token and its `valid_until`, when the reply carries one. */
  uploadToken: { token: string; validUntil: unknown } | null;
}

const NOTHING: ApiReply = { status: null, code: null, message: null, uploadToken: null };

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function text(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  return null;
}

/** The JSON value of a raw, `var name = …;` or JSONP `name(…);` body. */
function parseJsonish(body: string): unknown {
  const trimmed = body.trim().replace(/^\/\*\s*\*\/\s*/, '');
  const candidates = [trimmed];
  const assigned = /^var\s+[\w$]+\s*=\s*([\s\S]*?);?\s*$/.exec(trimmed);
  if (assigned?.[1]) candidates.push(assigned[1]);
  const called = /^[\w$.]+\s*\(([\s\S]*)\)\s*;?\s*$/.exec(trimmed);
  if (called?.[1]) candidates.push(called[1]);
  for (const candidate of candidates) {
    if (!candidate.startsWith('{')) continue;
    try {
      return JSON.parse(candidate) as unknown;
    } catch {
      // not this form
    }
  }
  return undefined;
}

function fromJson(json: Record<string, unknown>): ApiReply {
  const status = json.status === 'ok' || json.status === 'error' ? json.status : null;
  let uploadToken: ApiReply['uploadToken'] = null;
  if (status !== 'error') {
    const data = asRecord(json.data);
    // `uploadtoken` is the legacy API's holder [doc: photo-get-upload-token]; the newer API nests
    // the same fields under `data`.
    for (const holder of [asRecord(json.uploadtoken), asRecord(data?.uploadtoken), data, json]) {
      const token = text(holder?.upload_token);
      if (token !== null) {
        uploadToken = { token, validUntil: holder?.valid_until };
        break;
      }
    }
  }
  return {
    status,
    code: text(json.code) ?? text(json.error_code),
    message: text(json.message) ?? text(json.error_message) ?? text(json.error),
    uploadToken,
  };
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeXml(value: string): string {
  return value
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1')
    .replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (whole, name: string) => {
      if (name.startsWith('#x') || name.startsWith('#X')) return String.fromCodePoint(parseInt(name.slice(2), 16));
      if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
      return ENTITIES[name.toLowerCase()] ?? whole;
    });
}

function fromXml(body: string): ApiReply | null {
  const root = /<response\b([^>]*?)\/?>/i.exec(body);
  if (!root) return null;
  const attributes = new Map<string, string>();
  for (const match of (root[1] ?? '').matchAll(/([\w:-]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) {
    attributes.set(match[1]!.toLowerCase(), decodeXml(match[3] ?? match[4] ?? ''));
  }
  const element = (name: string): string | null => {
    const found = new RegExp(`<${name}\\b[^>]*>([\\s\\S]*?)</${name}>`, 'i').exec(body);
    return found ? text(decodeXml(found[1] ?? '')) : null;
  };
  const statusText = attributes.get('status');
  const status = statusText === 'ok' || statusText === 'error' ? statusText : null;
  const token = status === 'error' ? null : element('upload_token');
  return {
    status,
    code: text(attributes.get('code')) ?? element('code'),
    message: text(attributes.get('message')) ?? element('message'),
    uploadToken: token === null ? null : { token, validUntil: element('valid_until') },
  };
}

/** Reads a legacy API reply in whichever documented form it came. */
export function readApiReply(body: string): ApiReply {
  const json = asRecord(parseJsonish(body));
  if (json) return fromJson(json);
  return fromXml(body) ?? NOTHING;
}

/**
 * Whether an API error is about the credentials: the documented `invalid_signature` and
 * `permission_denied` [doc: https://www.twentythree.com/api/error-codes], or an OAuth complaint in a
 * code or message Ferry has not seen documented. Everything else a token request can be refused for
 * is a parameter problem (`invalid_input`, `no_such_album`, …).
 */
export function isAuthError(reply: Pick<ApiReply, 'code' | 'message'>): boolean {
  const code = reply.code?.toLowerCase() ?? '';
  if (code === 'invalid_signature' || code === 'permission_denied' || code === 'token_required') return true;
  if (/oauth|signature|consumer|access_token|unauthori[sz]ed/.test(code)) return true;
  return /oauth|signature|consumer key|access token|permission|not authori[sz]ed|unauthori[sz]ed/i.test(
    reply.message ?? '',
  );
}
