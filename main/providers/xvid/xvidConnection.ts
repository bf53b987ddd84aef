/**
 * Xvid MediaHub's connection test: asks the token endpoint for an access token with the client id and
 * secret. The token is not cached (the upload calls fetch their own through `xvidToken.ts`).
 */
import { joinUrl } from '../adapterHelpers.ts';
import { commonFailure, failed, passed, statusLine } from '../connectionCheck.ts';
import { send } from '../http.ts';
import type { AccountContext, CallContext, ConnectionCheck } from '../types.ts';
import { readApiError, readTokenReply } from './xvidReplies.ts';
import { XVID_GRANT_TYPE, XVID_SCOPE } from './xvidToken.ts';

export async function testXvidConnection(account: AccountContext, call: CallContext): Promise<ConnectionCheck> {
  const checked = 'Xvid MediaHub: asked the token endpoint for an access token (client credentials)';
  const response = await send(
    account,
    joinUrl(account.baseUrl, '/oauth2/token/'),
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
      ? passed(`${checked}: a token was issued`)
      : failed(checked, `The token endpoint answered ${status} without an access token; check the account's base URL`);
  }
  if (status === 400 || status === 401 || status === 403) {
    const error = readApiError(response.body);
    return failed(
      checked,
      `Xvid MediaHub refused the client id and secret (${status}${error.detail ? ` ${error.detail}` : ''}); check them in the account settings`,
    );
  }
  return (
    commonFailure('Xvid MediaHub', response, checked) ??
    failed(checked, `The token endpoint answered ${statusLine(response)}; check the account's base URL`)
  );
}
