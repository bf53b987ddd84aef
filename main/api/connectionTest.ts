/**
 * "Test connection" for an account: the cheapest request each provider answers only for valid
 * credentials, sent through the same HTTP helper the adapters use. Adapters have no test method of
 * their own, so the probes live here, one per provider, and each result says in words what was
 * actually checked. Where a provider has no side-effect-free authenticated read (OFAuth and
 * SelfCommunity in what Ferry knows of their APIs), the probe asks about an upload that does not
 * exist, once without and once with the credentials: only "refused without, accepted with" counts
 * as a pass, so a wrong base URL that answers 404 to everything cannot pass by accident.
 */
import type { Response } from 'got';
import { createAccountHttp } from '../engine/accountHttp.ts';
import { UploadError } from '../core/errors.ts';
import { bodyExcerpt, send } from '../providers/http.ts';
import { readErrorReply } from '../providers/ofauth/ofauthReplies.ts';
import { oktopostBaseUrl } from '../providers/oktopost/oktopostAdapter.ts';
import { readEnvelope } from '../providers/oktopost/oktopostReplies.ts';
import { signFormPost } from '../providers/twentythree/twentythreeOAuth.ts';
import { isAuthError, readApiReply } from '../providers/twentythree/twentythreeReplies.ts';
import type { AccountContext, CallContext, ProviderAdapter } from '../providers/types.ts';
import { readApiError, readTokenReply } from '../providers/xvid/xvidReplies.ts';
import { XVID_GRANT_TYPE, XVID_SCOPE } from '../providers/xvid/xvidToken.ts';
import type { ConnectionTestResult } from './contract.ts';

const PROBE_TIMEOUT_MS = 15_000;
/** A syntactically plausible upload id that no server has issued. */
const MISSING_UPLOAD = 'ferry-connection-test-0000';

export interface ProbeAccount {
  id: number;
  name: string;
  baseUrl: string | null;
  settings: Record<string, string>;
  secrets: Record<string, string>;
}

const ok = (checked: string): ConnectionTestResult => ({ ok: true, checked, message: null });
const fail = (checked: string, message: string): ConnectionTestResult => ({ ok: false, checked, message });

function statusLine(response: Response<string>): string {
  const excerpt = bodyExcerpt(response.body);
  return `${response.statusCode}${excerpt ? ` ${excerpt.slice(0, 120)}` : ''}`;
}

/** A failure every probe reads the same way (rate limit, server error, redirect). */
function generic(provider: string, response: Response<string>, checked: string): ConnectionTestResult | null {
  const status = response.statusCode;
  if (status === 429) return fail(checked, `${provider} is rate-limiting this account right now (${statusLine(response)}); try again in a minute`);
  if (status >= 500) return fail(checked, `${provider} answered with a server error (${statusLine(response)}); try again later`);
  if (status >= 300 && status < 400) {
    return fail(checked, `${provider} answered with a redirect (${status}); check the account's base URL (https, exact host)`);
  }
  return null;
}

type Probe = (account: AccountContext, call: CallContext, adapter: ProviderAdapter) => Promise<ConnectionTestResult>;

/** Sends the same request without and with credentials; passes on "401/403 without, not with". */
async function controlledProbe(
  account: AccountContext,
  call: CallContext,
  provider: string,
  what: string,
  request: (withCredentials: boolean) => Promise<Response<string>>,
): Promise<ConnectionTestResult> {
  const checked = `${provider}: ${what}, once without and once with the account's credentials`;
  const control = await request(false);
  if (control.statusCode !== 401 && control.statusCode !== 403) {
    const problem = generic(provider, control, checked);
    if (problem) return problem;
    return fail(
      checked,
      `The server at ${account.baseUrl} did not ask for credentials (it answered ${statusLine(control)} without them), so it does not look like ${provider}; check the account's base URL`,
    );
  }
  const response = await request(true);
  const status = response.statusCode;
  if (status === 401 || status === 403) {
    return fail(checked, `${provider} refused the credentials (${statusLine(response)}); check them in the account settings`);
  }
  const problem = generic(provider, response, checked);
  if (problem) return problem;
  return ok(`${checked}: refused without (${control.statusCode}), accepted with (${status}); nothing was created`);
}

const PROBES: Record<string, Probe> = {
  async ofauth(account, call) {
    const { apiKey, connectionId } = account.secrets;
    const url = `${account.baseUrl}/v2/access/uploads/complete`;
    let withCredentialsReply: Response<string> | undefined;
    const result = await controlledProbe(account, call, 'OFAuth', 'asked to complete an upload that does not exist', async (withCredentials) => {
      const response = await send(
        account,
        url,
        {
          method: 'POST',
          json: { mediaUploadId: `upload:${MISSING_UPLOAD}` },
          headers: withCredentials ? { apiKey: apiKey ?? '', 'x-connection-id': connectionId ?? '', accept: 'application/json' } : { accept: 'application/json' },
        },
        call,
        'Testing the OFAuth connection',
      );
      if (withCredentials) withCredentialsReply = response;
      return response;
    });
    // OFAuth's SESSION_EXPIRED / SESSION_NOT_PROVIDED (401) are the OnlyFans session behind the
    // connection, not the key (https://docs.ofauth.com/reference/error-handling.md): the cure is Link.
    const reply = withCredentialsReply ? readErrorReply(withCredentialsReply.body) : null;
    if (!result.ok && reply?.code && ['SESSION_EXPIRED', 'SESSION_NOT_PROVIDED'].includes(reply.code)) {
      return fail(
        result.checked,
        `OFAuth accepted the API key, but connection ${connectionId ?? ''} is unknown or its OnlyFans session has expired ` +
          `(${statusLine(withCredentialsReply!)}); check the connection id, or reconnect the account through OFAuth Link`,
      );
    }
    return result;
  },

  async selfcommunity(account, call) {
    const url = `${account.baseUrl}/api/v2/media/upload/complete/`;
    return controlledProbe(account, call, 'SelfCommunity', 'asked to complete an upload that does not exist', (withCredentials) =>
      send(
        account,
        url,
        {
          method: 'POST',
          form: { upload_id: MISSING_UPLOAD, md5: '0'.repeat(32) },
          headers: {
            accept: 'application/json',
            ...(withCredentials ? { authorization: `Bearer ${account.secrets.accessToken ?? ''}` } : {}),
          },
        },
        call,
        'Testing the SelfCommunity connection',
      ),
    );
  },

  async oktopost(account, call) {
    const base = oktopostBaseUrl(account);
    // The vendor's Getting Started page names /me as the call that verifies the credentials.
    const checked = `Oktopost: asked which user the account id and API key belong to (GET ${base}/me)`;
    const { accountId, apiKey } = account.secrets;
    const response = await send(
      account,
      `${base}/me`,
      {
        method: 'GET',
        headers: {
          accept: 'application/json',
          authorization: `Basic ${Buffer.from(`${accountId ?? ''}:${apiKey ?? ''}`, 'utf8').toString('base64')}`,
        },
      },
      call,
      'Testing the Oktopost connection',
    );
    const status = response.statusCode;
    if (status === 401 || status === 403) {
      return fail(checked, `Oktopost refused the account id and API key (${statusLine(response)}); check them in the account settings`);
    }
    const problem = generic('Oktopost', response, checked);
    if (problem) return problem;
    if (status === 404) return fail(checked, `Oktopost answered 404; check the account's region and base URL`);
    const envelope = readEnvelope(response.body);
    if (status >= 200 && status < 300 && envelope.kind === 'ok') return ok(`${checked}: accepted`);
    const detail = envelope.kind === 'refused' ? envelope.detail : envelope.kind === 'unreadable' ? envelope.excerpt : '';
    return fail(checked, `Oktopost answered ${status}${detail ? ` (${detail})` : ''}; check the account's region and base URL`);
  },

  async xvid(account, call) {
    const checked = 'Xvid MediaHub: asked the token endpoint for an access token (client credentials)';
    const response = await send(
      account,
      `${account.baseUrl}/oauth2/token/`,
      {
        method: 'POST',
        form: {
          grant_type: XVID_GRANT_TYPE,
          client_id: account.secrets.clientId ?? '',
          client_secret: account.secrets.clientSecret ?? '',
          scope: XVID_SCOPE,
        },
        headers: { accept: 'application/json' },
      },
      call,
      'Testing the Xvid MediaHub connection',
    );
    const status = response.statusCode;
    if (status >= 200 && status < 300) {
      return readTokenReply(response.body)
        ? ok(`${checked}: a token was issued`)
        : fail(checked, `The token endpoint answered ${status} without an access token; check the account's base URL`);
    }
    if (status === 400 || status === 401 || status === 403) {
      const error = readApiError(response.body);
      return fail(checked, `Xvid MediaHub refused the client id and secret (${status}${error.detail ? ` ${error.detail}` : ''}); check them in the account settings`);
    }
    return generic('Xvid MediaHub', response, checked) ?? fail(checked, `The token endpoint answered ${statusLine(response)}; check the account's base URL`);
  },

  async twentythree(account, call) {
    const checked =
      'TwentyThree: asked for an upload token with a signed (OAuth 1.0a) request; the token is never used and expires after 15 minutes';
    const keys = {
      consumerKey: account.secrets.consumerKey ?? '',
      consumerSecret: account.secrets.consumerSecret ?? '',
      accessToken: account.secrets.accessToken ?? '',
      accessTokenSecret: account.secrets.accessTokenSecret ?? '',
    };
    let url: string;
    try {
      url = new URL(`${account.baseUrl}/api/photo/get-upload-token`).href;
    } catch {
      return fail(checked, `The base URL "${account.baseUrl}" is not a valid address`);
    }
    // format=json and raw: the legacy API answers XML otherwise (both forms are read below).
    const signed = signFormPost(
      url,
      { title: 'Ferry connection test', valid_minutes: '15', max_uploads: '1', background_return_p: '1', format: 'json', raw: '1' },
      keys,
    );
    const response = await send(
      account,
      url,
      {
        method: 'POST',
        body: signed.body,
        headers: { authorization: signed.authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      },
      call,
      'Testing the TwentyThree connection',
    );
    const status = response.statusCode;
    if (status === 401 || status === 403) {
      return fail(checked, `TwentyThree refused the OAuth keys (${statusLine(response)}); check the four keys in the account settings`);
    }
    const problem = generic('TwentyThree', response, checked);
    if (problem) return problem;
    // Refusals, a bad signature included, come with HTTP 200 and status="error".
    const reply = readApiReply(response.body);
    if (status >= 200 && status < 300 && reply.status !== 'error' && reply.uploadToken !== null) {
      return ok(`${checked}: a token was issued`);
    }
    const said = reply.message ?? bodyExcerpt(response.body);
    if (reply.status === 'error' && isAuthError(reply)) {
      return fail(checked, `TwentyThree refused the OAuth keys (${reply.code ?? 'error'}${said ? `: ${said}` : ''}); check the four keys in the account settings`);
    }
    return fail(checked, `TwentyThree answered ${status}${said ? ` (${said})` : ''} without an upload token; check the keys and the base URL`);
  },
};

/**
 * Runs the provider's probe for `account`. Never throws for a connection problem: the result says
 * what failed (missing secret, network error, refusal). `signal` lets the caller give up early.
 */
export async function testConnection(adapter: ProviderAdapter, account: ProbeAccount, signal?: AbortSignal): Promise<ConnectionTestResult> {
  const probe = PROBES[adapter.id];
  if (!probe) return fail(`${adapter.displayName}: no connection test`, `Ferry has no connection test for ${adapter.displayName}`);
  for (const field of adapter.fields) {
    if (field.kind === 'secret' && field.required && !account.secrets[field.key]) {
      return fail(`${adapter.displayName}: stored secrets`, `${adapter.displayName} account "${account.name}" has no ${field.label}; add it in the account settings`);
    }
  }
  const baseUrl = (account.baseUrl ?? adapter.capabilities.defaultBaseUrl)?.replace(/\/+$/, '');
  if (!baseUrl) return fail(`${adapter.displayName}: base URL`, `Account "${account.name}" has no base URL; set the site's address`);
  const http = createAccountHttp({ maxSockets: 2 });
  const timeout = AbortSignal.timeout(PROBE_TIMEOUT_MS);
  const context: AccountContext = { id: account.id, name: account.name, baseUrl, settings: account.settings, secrets: account.secrets, http };
  const call: CallContext = { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, onBytes: () => undefined };
  try {
    return await probe(context, call, adapter);
  } catch (error) {
    const checked = `${adapter.displayName}: connection to ${baseUrl}`;
    if (timeout.aborted) return fail(checked, `${adapter.displayName} did not answer within ${PROBE_TIMEOUT_MS / 1000} s at ${baseUrl}`);
    const message = error instanceof UploadError ? error.message : error instanceof Error ? error.message : String(error);
    return fail(checked, `Could not reach ${adapter.displayName} at ${baseUrl}: ${message}`);
  } finally {
    const agents = http.defaults.options.agent;
    if (agents.http) agents.http.destroy();
    if (agents.https) agents.https.destroy();
  }
}
