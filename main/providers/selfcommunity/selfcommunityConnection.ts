/**
 * SelfCommunity's connection test. SelfCommunity has no side-effect-free authenticated read in what
 * Ferry knows of its API, so the test asks to complete an upload that does not exist, once without and
 * once with the access token (see `controlledProbe`).
 */
import { joinUrl } from '../adapterHelpers.ts';
import { controlledProbe, MISSING_UPLOAD } from '../connectionCheck.ts';
import { send } from '../http.ts';
import type { AccountContext, CallContext, ConnectionCheck } from '../types.ts';

export async function testSelfCommunityConnection(
  account: AccountContext,
  call: CallContext,
): Promise<ConnectionCheck> {
  const url = joinUrl(account.baseUrl, '/api/v2/media/upload/complete/');
  return controlledProbe(
    account,
    'SelfCommunity',
    'asked to complete an upload that does not exist',
    (withCredentials) =>
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
}
