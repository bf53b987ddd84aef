/**
 * MediaHub's OAuth2 client-credentials token, and the authorized API call built on it. A token is
 * fetched once and shared by every job of an account until shortly before it expires; a 403
 * "Invalid access token" (revoked early, server clock ahead of ours) drops it and the call is made
 * once more with a fresh one, so the engine never sees an expiry it could do nothing about.
 */
import type { Response } from 'got';
import { UploadError } from '../../core/errors.ts';
import { rememberSecret } from '../../secrets/knownSecrets.ts';
import { joinUrl } from '../adapterHelpers.ts';
import { bodyExcerpt, send, statusError, type SendOptions } from '../http.ts';
import type { AccountContext, CallContext } from '../types.ts';
import { readApiError, readTokenReply, XVID_INVALID_TOKEN } from './xvidReplies.ts';

/**
 * The vendor documents `grant_type=client_credential`, singular, where RFC 6749 says
 * `client_credentials`. Ferry sends what MediaHub documents; a server that wants the RFC spelling
 * answers 400, which is reported as an auth problem naming the grant type.
 */
export const XVID_GRANT_TYPE = 'client_credential';
export const XVID_SCOPE = 'mediahub';

/** Lifetime assumed when the token reply has no `expires_in`. */
const DEFAULT_TOKEN_SECONDS = 300;
/** A token is renewed this long before its expiry (or halfway through, for very short ones). */
const RENEW_MARGIN_MS = 60_000;

interface CachedToken {
  accessToken: string;
  /** When Ferry stops using it (ms since epoch), already less the renewal margin. */
  renewAtMs: number;
}

/**
 * Tokens by API origin and client id. Module-level on purpose: every job of an account builds its own
 * calls, and asking for one token per job would hammer the token endpoint. Concurrent jobs that both
 * find no token each fetch one; the last one wins the cache, and both tokens stay valid.
 */
const tokens = new Map<string, CachedToken>();

function cacheKey(account: AccountContext): string {
  return `${account.baseUrl}\n${account.secrets.clientId ?? ''}`;
}

/** Forgets every cached token (tests, and after the user edits an account's credentials). */
export function clearXvidTokenCache(): void {
  tokens.clear();
}

function credentials(account: AccountContext): { clientId: string; clientSecret: string } {
  const clientId = account.secrets.clientId;
  const clientSecret = account.secrets.clientSecret;
  if (!clientId || !clientSecret) {
    throw new UploadError(
      'auth',
      `Xvid MediaHub account "${account.name}" has no ${!clientId ? 'client id' : 'client secret'}: add it in the account settings`,
    );
  }
  return { clientId, clientSecret };
}

export function apiUrl(account: AccountContext, path: string): string {
  return joinUrl(account.baseUrl, path);
}

/**
 * A 3xx reply of the API, as an error. The account's client does not follow redirects, and a redirect
 * is never an answer: MediaHub's server redirects a path that lacks its trailing slash (Django's
 * APPEND_SLASH) without running the request, so reading the empty 301 as "done" would lose the call
 * silently. Not retried: the same request would be redirected again.
 */
export function redirectError(account: AccountContext, response: Response<string>, doing: string): UploadError {
  const status = response.statusCode;
  const location = response.headers.location;
  return new UploadError(
    'invalid',
    `${doing}: MediaHub answered ${status} redirecting to ${location ? String(location) : 'an unnamed address'}, and Ferry does not follow redirects of API calls; ` +
      `check the account's base URL (${account.baseUrl})`,
    { status },
  );
}

function isRedirect(response: Response<string>): boolean {
  return response.statusCode >= 300 && response.statusCode < 400;
}

async function fetchToken(account: AccountContext, call: CallContext): Promise<CachedToken> {
  const { clientId, clientSecret } = credentials(account);
  const doing = `Signing in to Xvid MediaHub as client ${clientId}`;
  const response = await send(
    account,
    apiUrl(account, '/oauth2/token/'),
    {
      method: 'POST',
      form: { grant_type: XVID_GRANT_TYPE, client_id: clientId, client_secret: clientSecret, scope: XVID_SCOPE },
      headers: { accept: 'application/json' },
    },
    call,
    doing,
  );
  const status = response.statusCode;
  if (isRedirect(response)) throw redirectError(account, response, doing);
  if (status >= 200 && status < 300) {
    const reply = readTokenReply(response.body);
    if (!reply) {
      throw new UploadError(
        'server',
        `${doing}: the token endpoint answered without an access token (${status} ${bodyExcerpt(response.body) || 'empty body'}); will retry`,
        { status },
      );
    }
    // As secret as the client secret it was fetched with: logs, stored errors and API answers scrub it.
    rememberSecret(reply.accessToken);
    const lifetimeMs = (reply.expiresInSeconds ?? DEFAULT_TOKEN_SECONDS) * 1000;
    return {
      accessToken: reply.accessToken,
      renewAtMs: Date.now() + lifetimeMs - Math.min(RENEW_MARGIN_MS, lifetimeMs / 2),
    };
  }
  const error = readApiError(response.body);
  if (status === 400 || status === 401 || status === 403) {
    const grant =
      error.code === 'unsupported_grant_type' ? ` (Ferry sends grant_type=${XVID_GRANT_TYPE}, as documented)` : '';
    throw new UploadError(
      'auth',
      `${doing}: ${status}${error.detail ? ` ${error.detail}` : ''}${grant}; check the client id and secret`,
      { status },
    );
  }
  throw statusError(response, doing, error.detail || undefined);
}

/** A token for the account: the cached one while it is fresh, otherwise a new one. */
export async function accessToken(account: AccountContext, call: CallContext): Promise<string> {
  const key = cacheKey(account);
  const cached = tokens.get(key);
  if (cached && cached.renewAtMs > Date.now()) return cached.accessToken;
  const fresh = await fetchToken(account, call);
  tokens.set(key, fresh);
  return fresh.accessToken;
}

/** Drops `token` from the cache unless another job already replaced it with a newer one. */
function forgetToken(account: AccountContext, token: string): void {
  const key = cacheKey(account);
  if (tokens.get(key)?.accessToken === token) tokens.delete(key);
}

export function isInvalidToken(response: Response<string>): boolean {
  return response.statusCode === 403 && readApiError(response.body).code === XVID_INVALID_TOKEN;
}

/**
 * Sends one MediaHub API request with a Bearer token. A 403 "Invalid access token" is answered once
 * by fetching a new token and sending the request again; a redirect is thrown as an error; every
 * other reply is returned as it is.
 * Only idempotent or not-yet-applied requests go through here (an invalid token means the server did
 * nothing), so the second send cannot double an effect.
 */
export async function authorizedSend(
  account: AccountContext,
  path: string,
  options: SendOptions,
  call: CallContext,
  doing: string,
): Promise<Response<string>> {
  const attempt = async (token: string): Promise<Response<string>> =>
    send(
      account,
      apiUrl(account, path),
      { ...options, headers: { accept: 'application/json', ...options.headers, authorization: `Bearer ${token}` } },
      call,
      doing,
    );
  const token = await accessToken(account, call);
  let response = await attempt(token);
  if (isInvalidToken(response)) {
    forgetToken(account, token);
    response = await attempt(await accessToken(account, call));
  }
  if (isRedirect(response)) throw redirectError(account, response, doing);
  return response;
}
