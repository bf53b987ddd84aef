/**
 * One call of TwentyThree's legacy `/api/…` path: a form POST signed with OAuth 1.0a, asking for
 * plain JSON. The legacy API answers XML otherwise, and JSON wrapped in `var visual = …` without
 * `raw` [doc: response formats]; both are request parameters, so they are signed with the rest and
 * go in the body (parameters in the query string of a POST are not read [doc: oauth]).
 */
import type { Response } from 'got';
import { send } from '../http.ts';
import type { AccountContext, CallContext } from '../types.ts';
import { signFormPost, type OAuthKeys } from './twentythreeOAuth.ts';

export function postSignedApi(
  account: AccountContext,
  url: string,
  params: Readonly<Record<string, string>>,
  keys: OAuthKeys,
  call: CallContext,
  doing: string,
): Promise<Response<string>> {
  const signed = signFormPost(url, { ...params, format: 'json', raw: '1' }, keys);
  return send(
    account,
    url,
    {
      method: 'POST',
      body: signed.body,
      headers: {
        authorization: signed.authorization,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
    },
    call,
    doing,
  );
}
