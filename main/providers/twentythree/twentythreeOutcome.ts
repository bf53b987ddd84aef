/**
 * Reads the reply to the request that completed a TwentyThree upload. The vendor documents several
 * forms and the one a site uses depends on the token's parameters and the API version, so the parser
 * accepts all of them and says which one it saw. Pure: no HTTP, no errors thrown.
 */

export type OutcomeForm = 'text' | 'json' | 'bare' | 'redirect';

export type ParsedOutcome =
  /** The file became a photo/video in the site's library. */
  | {
      kind: 'photo';
      form: OutcomeForm;
      photoId: string;
      treeId: string | null;
      domain: string | null;
      /** The new photo's own token (used in embed URLs), not the upload token. */
      token: string | null;
      callbackUrl: string | null;
    }
  /** The server processed the upload and refused the file (`error <message>`, `error_message=`). */
  | { kind: 'error'; form: OutcomeForm; message: string }
  /** The plain-text "upload token is invalid, consumed or expired" reply. */
  | { kind: 'token-gone'; message: string }
  /**
   * A bare `OK`: what the vendor answers when the token has no `return_url` [doc: "If return_url is
   * empty or omitted, the request will return a simple HTTP 200 OK message"]. The file was taken,
   * but the reply does not say the new photo's id.
   */
  | { kind: 'accepted' }
  /** Nothing recognisable (a proxy page, an empty body...). */
  | { kind: 'unknown' };

export interface OutcomeReply {
  status: number;
  location: string | undefined;
  body: string;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * The token reply is "a plain, unstyled error message" [doc] whose wording is not documented; it is
 * recognised by naming a token together with one of the ways a token stops working.
 */
export function isTokenGoneText(body: string): boolean {
  const text = body.trim();
  if (text.length === 0 || text.length > 500 || text.startsWith('{') || text.startsWith('<')) return false;
  return /token/i.test(text) && /(invalid|consumed|expired|used|unknown|not found|no longer)/i.test(text);
}

function pickId(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  return null;
}

function fromJson(value: unknown): ParsedOutcome | null {
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  // The newer API nests its payload under `data`; the older one answers at the top level.
  const nested =
    typeof record.data === 'object' && record.data !== null ? (record.data as Record<string, unknown>) : null;
  for (const candidate of nested ? [nested, record] : [record]) {
    const photoId = pickId(candidate.photo_id);
    if (photoId !== null) {
      return {
        kind: 'photo',
        form: 'json',
        photoId,
        treeId: pickId(candidate.tree_id),
        domain: pickId(candidate.domain),
        token: pickId(candidate.token),
        callbackUrl: null,
      };
    }
  }
  if (record.status === 'error' || typeof record.error === 'string' || typeof record.error_message === 'string') {
    const message = pickId(record.message) ?? pickId(record.error_message) ?? pickId(record.error) ?? 'unknown error';
    return { kind: 'error', form: 'json', message };
  }
  return null;
}

function fromRedirect(location: string, baseUrl: string): ParsedOutcome {
  let url: URL;
  try {
    url = new URL(location, `${baseUrl}/`);
  } catch {
    return { kind: 'unknown' };
  }
  const photoId = pickId(url.searchParams.get('photo_id'));
  if (photoId !== null) {
    return {
      kind: 'photo',
      form: 'redirect',
      photoId,
      treeId: pickId(url.searchParams.get('tree_id')),
      domain: pickId(url.searchParams.get('domain')),
      token: pickId(url.searchParams.get('token')),
      callbackUrl: null,
    };
  }
  const error = url.searchParams.get('error_message');
  if (error !== null) return { kind: 'error', form: 'redirect', message: error.trim() || 'unknown error' };
  return { kind: 'unknown' };
}

/** Parses the completing reply in whichever documented form it came. */
export function parseOutcome(reply: OutcomeReply, baseUrl: string): ParsedOutcome {
  if (REDIRECT_STATUSES.has(reply.status) && reply.location) return fromRedirect(reply.location, baseUrl);

  const body = reply.body.trim();
  if (body.startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(body) as unknown;
    } catch {
      value = undefined;
    }
    const parsed = fromJson(value);
    if (parsed) return parsed;
  }

  // `ok <domain> <tree_id> <photo_id> <token> <callback_url>` with background_return_p=1.
  const ok = /^ok\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+(\S+))?(?:\s+(\S.*))?$/is.exec(body);
  if (ok) {
    const [, domain, treeId, photoId, token, callbackUrl] = ok;
    return {
      kind: 'photo',
      form: 'text',
      photoId: photoId ?? '',
      treeId: treeId ?? null,
      domain: domain ?? null,
      token: token ?? null,
      callbackUrl: callbackUrl?.trim() || null,
    };
  }
  if (/^ok\.?$/i.test(body)) return { kind: 'accepted' };
  if (isTokenGoneText(body)) return { kind: 'token-gone', message: body };
  const error = /^error(?:\s+(.*))?$/is.exec(body);
  if (error) return { kind: 'error', form: 'text', message: error[1]?.trim() || 'unknown error' };

  // A bare photo id; photo ids are numeric on every TwentyThree site seen so far.
  if (/^\d+$/.test(body)) {
    return { kind: 'photo', form: 'bare', photoId: body, treeId: null, domain: null, token: null, callbackUrl: null };
  }
  return { kind: 'unknown' };
}
