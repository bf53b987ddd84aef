/**
 * Which proxy a provider request goes through, and the keep-alive agents that carry it.
 *
 * The choice is made for every request, from (first that applies) the account's own `proxy` setting,
 * the global `proxy` setting, and — when that says `system` — the system's proxy: the `HTTPS_PROXY`,
 * `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` variables for `ferry` and `ferry serve` (proxy-from-env),
 * or Electron's per-URL resolution in the desktop app (handed in by `main/index.ts`). So a changed
 * setting applies to the next request without a restart; requests already sent finish where they are.
 *
 * http targets go through http-proxy-agent (the proxy receives the absolute URL), https targets through
 * https-proxy-agent (a CONNECT tunnel, TLS end to end: the proxy never sees the path, the headers or
 * the body). The agents are kept per proxy, so connections to the proxy are reused like direct ones.
 */
import { once } from 'node:events';
import { Agent as HttpAgent, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';
import { UploadError } from '../core/errors.ts';
import { rememberSecret } from '../secrets/knownSecrets.ts';
import { proxySettingProblem } from './proxySetting.ts';

export { maskProxyText, proxySettingProblem } from './proxySetting.ts';

/** For a request URL, the proxy URL the system says to use, or '' to go direct. */
export type SystemProxy = (url: string) => string | Promise<string>;

/** The system proxy of `ferry` and `ferry serve`: the proxy variables of the environment. */
export const envSystemProxy: SystemProxy = (url) => getProxyForUrl(url);

export interface ProxySettings {
  /** The account's own `proxy` setting, read for each request ('' or undefined: the global one). */
  account?: () => string | undefined;
  /** The global `proxy` setting (`system`, `direct` or a URL), read for each request. Default `system`. */
  global?: () => string;
  /** What `system` means here. Default: the environment's variables. */
  system?: SystemProxy;
}

/** Where a proxy came from, for messages that tell the user what to change. */
export type ProxySource = 'account' | 'setting' | 'system';

export interface ProxyRoute {
  /** The proxy, with its credentials; null: direct. */
  proxy: URL | null;
  source: ProxySource | null;
}

/** The proxy as messages may name it: scheme, host and port, never the user or password. */
export function shownProxy(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

/** Parses a proxy URL found in a setting or given by the system; throws an `invalid` UploadError. */
function proxyUrl(value: string, source: ProxySource): URL {
  // The system and the environment may give `host:port` alone; such a proxy is spoken to in plain HTTP.
  const text = source === 'system' && !/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? `http://${value}` : value;
  const problem = proxySettingProblem(text, 'global');
  if (problem !== null) {
    const where =
      source === 'account'
        ? "the account's proxy setting"
        : source === 'setting'
          ? 'the proxy setting'
          : "the system's proxy settings (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY)";
    throw new UploadError('invalid', `Cannot use ${where}: the proxy ${problem}`);
  }
  const url = new URL(text);
  // Redacted wherever a message, a log or an event could carry it (knownSecrets.ts).
  if (url.password) rememberSecret(decodeURIComponent(url.password));
  return url;
}

/** Chooses the proxy for `url` from the settings, in order: the account's, the global one, the system's. */
export async function chooseProxy(url: string, settings: ProxySettings): Promise<ProxyRoute> {
  const own = settings.account?.() ?? '';
  const value = own !== '' ? own : (settings.global?.() ?? 'system');
  const source: ProxySource = own !== '' ? 'account' : 'setting';
  if (value === 'direct') return { proxy: null, source: null };
  if (value === 'system') {
    const found = await (settings.system ?? envSystemProxy)(url);
    return found ? { proxy: proxyUrl(found, 'system'), source: 'system' } : { proxy: null, source: null };
  }
  return { proxy: proxyUrl(value, source), source };
}

/**
 * `read` (a setting read from the database for each request), falling back to the last value read when
 * a read fails (the database busy in another process): a proxy choice must not fail an upload.
 */
export function lastGood<T>(read: () => T, initial: T): () => T {
  let last = initial;
  return () => {
    try {
      last = read();
    } catch {
      // Keep the last value; the next request reads again.
    }
    return last;
  };
}

/**
 * http-proxy-agent with one repair. Its `addRequest` already gives the request its absolute URL and
 * proxy headers before anything is written; its `connect` then regenerates the stored header, and when
 * the body was written before the connection to the proxy was open (every POST with a body, on Node 24),
 * the header goes out a second time after the body — the proxy reads it as a broken next request and
 * the kept-alive connection dies (seen with the `proxy` package and a plain Node proxy alike). This
 * `connect` only opens the connection to the proxy.
 */
class AbsoluteUrlProxyAgent extends HttpProxyAgent<string> {
  override async connect(request: ClientRequest): Promise<Socket> {
    if (!request.path.includes('://')) throw new Error(`http-proxy-agent did not make ${request.path} absolute`);
    const socket = this.proxy.protocol === 'https:' ? tlsConnect(this.connectOpts) : netConnect(this.connectOpts);
    // Fail here rather than inside the http machinery when the proxy cannot be reached.
    await once(socket, this.proxy.protocol === 'https:' ? 'secureConnect' : 'connect');
    return socket;
  }
}

export interface AgentPair {
  http: HttpAgent;
  https: HttpsAgent;
}

/**
 * The keep-alive agents of one HTTP client: the direct pair, and one pair per proxy used so far (keyed
 * by the proxy's full URL, credentials included, so that a changed password gets new connections).
 * Agents of a proxy no longer chosen are kept: requests still running on them finish there, and their
 * idle sockets close by the proxy's or the server's keep-alive timeout.
 */
export class ProxyAgents {
  readonly direct: AgentPair;
  readonly #maxSockets: number;
  readonly #byProxy = new Map<string, AgentPair>();

  constructor(maxSockets: number) {
    this.#maxSockets = maxSockets;
    this.direct = {
      http: new HttpAgent({ keepAlive: true, maxSockets }),
      https: new HttpsAgent({ keepAlive: true, maxSockets }),
    };
  }

  for(proxy: URL | null): AgentPair {
    if (proxy === null) return this.direct;
    let pair = this.#byProxy.get(proxy.href);
    if (!pair) {
      const options = { keepAlive: true, maxSockets: this.#maxSockets };
      pair = {
        // agent-base's Agent extends http.Agent; got takes it for either protocol.
        http: new AbsoluteUrlProxyAgent(proxy, options) as unknown as HttpAgent,
        https: new HttpsProxyAgent(proxy, options) as unknown as HttpsAgent,
      };
      this.#byProxy.set(proxy.href, pair);
    }
    return pair;
  }

  /** Closes every connection of every agent (the throwaway client of a connection test). */
  destroy(): void {
    for (const pair of [this.direct, ...this.#byProxy.values()]) {
      pair.http.destroy();
      pair.https.destroy();
    }
  }
}

/**
 * What a request records in got's `context` about the proxy it went through, so that a 407 or an
 * unreachable proxy can be reported by name (`providers/http.ts` reads it; it names no password).
 */
export interface ProxyContext {
  ferryProxy?: { shown: string; source: ProxySource; hasCredentials: boolean };
}
