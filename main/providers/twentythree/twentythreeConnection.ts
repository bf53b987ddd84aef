/**
 * TwentyThree's connection test: asks for an upload token with a signed (OAuth 1.0a) request. The
 * token is never used and runs out by itself.
 */
import { bodyExcerpt } from '../http.ts';
import { commonFailure, failed, passed, statusLine } from '../connectionCheck.ts';
import type { AccountContext, CallContext, ConnectionCheck } from '../types.ts';
import { postSignedApi } from './twentythreeApi.ts';
import { isAuthError, readApiReply } from './twentythreeReplies.ts';

export async function testTwentyThreeConnection(account: AccountContext, call: CallContext): Promise<ConnectionCheck> {
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
    // Normalised (lower-case host, no default port) as OAuth's signature base string wants it.
    url = new URL(`${account.baseUrl}/api/photo/get-upload-token`).href;
  } catch {
    return failed(checked, `The base URL "${account.baseUrl}" is not a valid address`);
  }
  // Asked for as JSON (postSignedApi); the XML form is read too.
  const response = await postSignedApi(
    account,
    url,
    { title: 'Ferry connection test', valid_minutes: '15', max_uploads: '1', background_return_p: '1' },
    keys,
    call,
    'Testing the TwentyThree connection',
  );
  const status = response.statusCode;
  if (status === 401 || status === 403) {
    return failed(
      checked,
      `TwentyThree refused the OAuth keys (${statusLine(response)}); check the four keys in the account settings`,
    );
  }
  const problem = commonFailure('TwentyThree', response, checked);
  if (problem) return problem;
  // Refusals, a bad signature included, come with HTTP 200 and status="error".
  const reply = readApiReply(response.body);
  if (status >= 200 && status < 300 && reply.status !== 'error' && reply.uploadToken !== null) {
    return passed(`${checked}: a token was issued`);
  }
  const said = reply.message ?? bodyExcerpt(response.body);
  if (reply.status === 'error' && isAuthError(reply)) {
    return failed(
      checked,
      `TwentyThree refused the OAuth keys (${reply.code ?? 'error'}${said ? `: ${said}` : ''}); check the four keys in the account settings`,
    );
  }
  return failed(
    checked,
    `TwentyThree answered ${status}${said ? ` (${said})` : ''} without an upload token; check the keys and the base URL`,
  );
}
