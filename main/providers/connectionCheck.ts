/**
 * What the adapters' connection tests (`ProviderAdapter.testConnection`) share: the result builders,
 * the way a reply is quoted, the failures every provider reads alike, and the "controlled" probe for
 * providers without a side-effect-free authenticated read.
 */
import type { Response } from 'got';
import { bodyExcerpt } from './http.ts';
import type { AccountContext, ConnectionCheck } from './types.ts';

/** A syntactically plausible upload id that no server has issued. */
export const MISSING_UPLOAD = 'ferry-connection-test-0000';

export const passed = (checked: string): ConnectionCheck => ({ ok: true, checked, message: null });
export const failed = (checked: string, message: string): ConnectionCheck => ({ ok: false, checked, message });

/** The status and the start of the body, as a result quotes a reply ("401 invalid key"). */
export function statusLine(response: Response<string>): string {
  const excerpt = bodyExcerpt(response.body);
  return `${response.statusCode}${excerpt ? ` ${excerpt.slice(0, 120)}` : ''}`;
}

/**
 * A failure every probe reads the same way (rate limit, server error, redirect), or null when the
 * reply is none of those and the provider's own reading applies. `provider` is the display name.
 */
export function commonFailure(provider: string, response: Response<string>, checked: string): ConnectionCheck | null {
  const status = response.statusCode;
  if (status === 429)
    return failed(
      checked,
      `${provider} is rate-limiting this account right now (${statusLine(response)}); try again in a minute`,
    );
  if (status >= 500)
    return failed(checked, `${provider} answered with a server error (${statusLine(response)}); try again later`);
  if (status >= 300 && status < 400) {
    return failed(
      checked,
      `${provider} answered with a redirect (${status}); check the account's base URL (https, exact host)`,
    );
  }
  return null;
}

/**
 * Sends the same request without and with credentials; passes only on "401/403 without, something
 * else with". Used where a provider has no side-effect-free authenticated read (OFAuth and
 * SelfCommunity in what Ferry knows of their APIs): the request asks about an upload that does not
 * exist, and the control request keeps a wrong base URL that answers 404 to everything from passing
 * by accident.
 */
export async function controlledProbe(
  account: AccountContext,
  provider: string,
  what: string,
  request: (withCredentials: boolean) => Promise<Response<string>>,
): Promise<ConnectionCheck> {
  const checked = `${provider}: ${what}, once without and once with the account's credentials`;
  const control = await request(false);
  if (control.statusCode !== 401 && control.statusCode !== 403) {
    const problem = commonFailure(provider, control, checked);
    if (problem) return problem;
    return failed(
      checked,
      `The server at ${account.baseUrl} did not ask for credentials (it answered ${statusLine(control)} without them), so it does not look like ${provider}; check the account's base URL`,
    );
  }
  const response = await request(true);
  const status = response.statusCode;
  if (status === 401 || status === 403) {
    return failed(
      checked,
      `${provider} refused the credentials (${statusLine(response)}); check them in the account settings`,
    );
  }
  const problem = commonFailure(provider, response, checked);
  if (problem) return problem;
  return passed(`${checked}: refused without (${control.statusCode}), accepted with (${status}); nothing was created`);
}
