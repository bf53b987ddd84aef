/**
 * OAuth 1.0a HMAC-SHA1 signing of TwentyThree API calls, through the maintained `oauth-1.0a` library.
 * Only the token request is signed: chunks are authorized by the upload token alone.
 */
import { createHmac } from 'node:crypto';
import OAuth from 'oauth-1.0a';

export interface OAuthKeys {
  consumerKey: string;
  consumerSecret: string;
  accessToken: string;
  accessTokenSecret: string;
}

export interface SignedForm {
  /** The `Authorization: OAuth …` header value. */
  authorization: string;
  /** The form-urlencoded body, encoded exactly as it was signed. */
  body: string;
}

/**
 * Signs a form POST. Per RFC 5849 §3.4.1.3 the form-urlencoded body parameters are part of the
 * signature base string, so the body is encoded here with the same RFC 3986 percent-encoding the
 * signature uses (a space becomes %20, never '+'), which leaves no room for the server to decode a
 * different value than the one signed.
 */
export function signFormPost(url: string, params: Readonly<Record<string, string>>, keys: OAuthKeys): SignedForm {
  const oauth = new OAuth({
    consumer: { key: keys.consumerKey, secret: keys.consumerSecret },
    signature_method: 'HMAC-SHA1',
    hash_function: (baseString, key) => createHmac('sha1', key).update(baseString).digest('base64'),
  });
  // The library merges the request data into its own objects; hand it a copy.
  const data = { ...params };
  const authorization = oauth.toHeader(
    oauth.authorize({ url, method: 'POST', data }, { key: keys.accessToken, secret: keys.accessTokenSecret }),
  ).Authorization;
  const body = Object.entries(params)
    .map(([name, value]) => `${oauth.percentEncode(name)}=${oauth.percentEncode(value)}`)
    .join('&');
  return { authorization, body };
}
