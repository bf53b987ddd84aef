/** Oktopost's two data centres and which one an account's requests go to. */
import { trimBaseUrl } from '../adapterHelpers.ts';
import type { AccountContext } from '../types.ts';

export const OKTOPOST_US_BASE_URL = 'https://api.oktopost.com/v2';
export const OKTOPOST_EU_BASE_URL = 'https://eu-api.oktopost.com/v2';

/**
 * The API root for an account. The engine passes the account's own base URL or, when it has none,
 * the provider default, which is the US data centre; the two cannot be told apart. So an EU account
 * whose base URL is exactly the US default is taken to have none and goes to the EU data centre, while
 * any other URL (a proxy, a sandbox) is used as given whatever the region.
 */
export function oktopostBaseUrl(account: Pick<AccountContext, 'baseUrl' | 'settings'>): string {
  const base = trimBaseUrl(account.baseUrl);
  const region = (account.settings.region ?? 'us').trim().toLowerCase();
  if (region === 'eu' && base === OKTOPOST_US_BASE_URL) return OKTOPOST_EU_BASE_URL;
  return base;
}
