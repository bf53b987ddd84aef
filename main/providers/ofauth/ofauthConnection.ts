/**
 * OFAuth's connection test. OFAuth has no side-effect-free authenticated read in what Ferry knows of
 * its API, so the test asks to complete an upload that does not exist, once without and once with the
 * credentials (see `controlledProbe`).
 */
import type { Response } from 'got';
import { joinUrl } from '../adapterHelpers.ts';
import { controlledProbe, failed, MISSING_UPLOAD, statusLine } from '../connectionCheck.ts';
import { send } from '../http.ts';
import type { AccountContext, CallContext, ConnectionCheck } from '../types.ts';
import { readErrorReply } from './ofauthReplies.ts';

export async function testOfauthConnection(account: AccountContext, call: CallContext): Promise<ConnectionCheck> {
  const { apiKey, connectionId } = account.secrets;
  const url = joinUrl(account.baseUrl, '/v2/access/uploads/complete');
  let withCredentialsReply: Response<string> | undefined;
  const result = await controlledProbe(
    account,
    'OFAuth',
    'asked to complete an upload that does not exist',
    async (withCredentials) => {
      const response = await send(
        account,
        url,
        {
          method: 'POST',
          json: { mediaUploadId: `upload:${MISSING_UPLOAD}` },
          headers: withCredentials
            ? { apiKey: apiKey ?? '', 'x-connection-id': connectionId ?? '', accept: 'application/json' }
            : { accept: 'application/json' },
        },
        call,
        'Testing the OFAuth connection',
      );
      if (withCredentials) withCredentialsReply = response;
      return response;
    },
  );
  // OFAuth's SESSION_EXPIRED / SESSION_NOT_PROVIDED (401) are the OnlyFans session behind the
  // connection, not the key (https://docs.ofauth.com/reference/error-handling.md): the cure is Link.
  const reply = withCredentialsReply ? readErrorReply(withCredentialsReply.body) : null;
  if (!result.ok && reply?.code && ['SESSION_EXPIRED', 'SESSION_NOT_PROVIDED'].includes(reply.code)) {
    return failed(
      result.checked,
      `OFAuth accepted the API key, but connection ${connectionId ?? ''} is unknown or its OnlyFans session has expired ` +
        `(${statusLine(withCredentialsReply!)}); check the connection id, or reconnect the account through OFAuth Link`,
    );
  }
  return result;
}
