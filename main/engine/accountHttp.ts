/**
 * The HTTP client of one account: got with keep-alive agents, no automatic retries (the engine owns
 * retries so that they are counted, logged and bounded), every status returned to the adapter, and
 * a request preparation (core/requestRoute.ts) that waits for the account lane's token bucket before
 * each request goes out and chooses its proxy (proxy.ts).
 */
import got, { type Got } from 'got';
import { setRequestPreparation } from '../core/requestRoute.ts';
import { ProxyAgents, chooseProxy, shownProxy, type ProxyContext, type ProxySettings } from './proxy.ts';

export interface AccountHttpOptions {
  /** Awaited before every request (rate limit and lane-wide 429 pause). Rejects when aborted. */
  pace?: (signal: AbortSignal | undefined) => Promise<void>;
  /** Sockets kept per origin; parallel parts need as many as the lane runs at once. */
  maxSockets?: number;
  /** Where the proxy settings come from (default: the environment's proxy variables). */
  proxy?: ProxySettings;
}

/** The account's client and its agents (`agents.destroy()` closes its connections). */
export interface AccountHttp {
  http: Got;
  agents: ProxyAgents;
}

export const USER_AGENT = 'Ferry/0.1 (+desktop upload manager)';

export function createAccountHttp(options: AccountHttpOptions = {}): Got {
  return createAccountClient(options).http;
}

export function createAccountClient(options: AccountHttpOptions = {}): AccountHttp {
  const agents = new ProxyAgents(options.maxSockets ?? 16);
  const pace = options.pace;
  const proxySettings = options.proxy ?? {};
  // Prepared once per account; no hooks: what used to be a beforeRequest hook (pacing, the proxy) is
  // the client's request preparation, run by providers/http.ts before it calls got (core/requestRoute.ts).
  const http = got.extend({
    agent: agents.direct,
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    // Connection set-up gets a bound here; a transfer that stops moving is caught by the engine's
    // stall watchdog, which knows when bytes last moved.
    timeout: { lookup: 15_000, connect: 15_000, secureConnect: 15_000 },
    headers: { 'user-agent': USER_AGENT },
  });
  setRequestPreparation(http, async (url, signal) => {
    if (pace) await pace(signal);
    // Chosen after the wait, so that a setting changed meanwhile applies.
    const route = await chooseProxy(url, proxySettings);
    // A direct request keeps the client's own agents: no option to merge.
    if (!route.proxy) return undefined;
    const agent = agents.for(route.proxy);
    if (!route.source) return { agent };
    const context: ProxyContext = {
      ferryProxy: {
        shown: shownProxy(route.proxy),
        source: route.source,
        hasCredentials: route.proxy.username !== '' || route.proxy.password !== '',
      },
    };
    return { agent, context: context as Record<string, unknown> };
  });
  return { http, agents };
}
