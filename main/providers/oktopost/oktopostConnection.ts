/** Oktopost's connection test: asks who the account id and API key belong to. */
import { commonFailure, failed, passed, statusLine } from '../connectionCheck.ts';
import { send } from '../http.ts';
import type { AccountContext, CallContext, ConnectionCheck } from '../types.ts';
import { oktopostBaseUrl } from './oktopostRegion.ts';
import { readEnvelope } from './oktopostReplies.ts';

export async function testOktopostConnection(account: AccountContext, call: CallContext): Promise<ConnectionCheck> {
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
    return failed(
      checked,
      `Oktopost refused the account id and API key (${statusLine(response)}); check them in the account settings`,
    );
  }
  const problem = commonFailure('Oktopost', response, checked);
  if (problem) return problem;
  if (status === 404) return failed(checked, `Oktopost answered 404; check the account's region and base URL`);
  const envelope = readEnvelope(response.body);
  if (status >= 200 && status < 300 && envelope.kind === 'ok') return passed(`${checked}: accepted`);
  const detail = envelope.kind === 'refused' ? envelope.detail : envelope.kind === 'unreadable' ? envelope.excerpt : '';
  return failed(
    checked,
    `Oktopost answered ${status}${detail ? ` (${detail})` : ''}; check the account's region and base URL`,
  );
}
