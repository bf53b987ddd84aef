/**
 * "Test connection" for an account. Each adapter knows its own cheapest authenticated request
 * (`ProviderAdapter.testConnection`, in the provider's folder); this is the glue around it that is the
 * same for every provider: the stored secrets and the base URL are checked first, the request goes
 * through a throwaway HTTP client with a deadline, and a request that got no answer at all is
 * reported as "could not reach" instead of thrown.
 */
import { createAccountClient } from '../engine/accountHttp.ts';
import type { ProxySettings } from '../engine/proxy.ts';
import { UploadError } from '../core/errors.ts';
import { trimBaseUrl } from '../providers/adapterHelpers.ts';
import type { AccountContext, CallContext, ProviderAdapter } from '../providers/types.ts';
import type { ConnectionTestResult } from './contract.ts';

const PROBE_TIMEOUT_MS = 15_000;

export interface ProbeAccount {
  id: number;
  name: string;
  baseUrl: string | null;
  settings: Record<string, string>;
  secrets: Record<string, string>;
}

const fail = (checked: string, message: string): ConnectionTestResult => ({ ok: false, checked, message });

/**
 * Runs the provider's connection test for `account`. Never throws for a connection problem: the
 * result says what failed (no test for this provider, missing secret, network error, refusal).
 * `signal` lets the caller give up early.
 */
export async function testConnection(
  adapter: ProviderAdapter,
  account: ProbeAccount,
  signal?: AbortSignal,
  proxy: Omit<ProxySettings, 'account'> = {},
): Promise<ConnectionTestResult> {
  if (!adapter.testConnection) {
    return fail(
      `${adapter.displayName}: no connection test`,
      `Ferry has no connection test for ${adapter.displayName}`,
    );
  }
  for (const field of adapter.fields) {
    if (field.kind === 'secret' && field.required && !account.secrets[field.key]) {
      return fail(
        `${adapter.displayName}: stored secrets`,
        `${adapter.displayName} account "${account.name}" has no ${field.label}; add it in the account settings`,
      );
    }
  }
  const given = account.baseUrl ?? adapter.capabilities.defaultBaseUrl;
  const baseUrl = given === null ? '' : trimBaseUrl(given);
  if (!baseUrl)
    return fail(
      `${adapter.displayName}: base URL`,
      `Account "${account.name}" has no base URL; set the site's address`,
    );
  // The same proxy as the account's uploads: a test that went direct would prove nothing behind a proxy.
  const { http, agents } = createAccountClient({
    maxSockets: 2,
    proxy: { ...proxy, account: () => account.settings.proxy },
  });
  const timeout = AbortSignal.timeout(PROBE_TIMEOUT_MS);
  const context: AccountContext = {
    id: account.id,
    name: account.name,
    baseUrl,
    settings: account.settings,
    secrets: account.secrets,
    http,
  };
  const call: CallContext = { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, onBytes: () => undefined };
  try {
    return await adapter.testConnection(context, call);
  } catch (error) {
    const checked = `${adapter.displayName}: connection to ${baseUrl}`;
    if (timeout.aborted)
      return fail(checked, `${adapter.displayName} did not answer within ${PROBE_TIMEOUT_MS / 1000} s at ${baseUrl}`);
    const message =
      error instanceof UploadError ? error.message : error instanceof Error ? error.message : String(error);
    return fail(checked, `Could not reach ${adapter.displayName} at ${baseUrl}: ${message}`);
  } finally {
    agents.destroy();
  }
}
