/**
 * Offline is a state, not a failure. When a request fails because the network seems gone (DNS
 * failure, no route, connection refused or reset), the engine asks this monitor to probe the origin
 * the request went to. A probe that reaches the host means the server itself misbehaved and the
 * failure counts towards giving up as usual; a probe that cannot reach it marks the origin offline:
 * its jobs wait without using up their retries, and the monitor keeps probing with a backoff (1 s
 * doubling, capped at 4 s) until the host answers, then says so at once so that they resume.
 *
 * Why a 4 s cap rather than a longer one: uploads must resume within 5 s of the host coming back,
 * and nothing tells a process that a remote port reopened; only a probe can. A probe is one TCP
 * connection attempt (no request, no bytes of payload): one every 4 s per unreachable host costs
 * nothing measurable, while a 30 s cap would leave a returned network unused for up to 30 s. Wake
 * from sleep and network changes probe at once anyway (probeNow).
 *
 * Origins, not accounts: an account can talk to several hosts (OFAuth sends parts to a separate
 * storage host), and several accounts can share one.
 */
import { EventEmitter } from 'node:events';
import { connect } from 'node:net';
import { systemClock, type Clock } from './tokenBucket.ts';

/**
 * Error codes of a request that did not get a reply because the network (or the host) is gone. The
 * probe decides whether it really is: a host that accepts a connection is up, and the failure is
 * the server's.
 */
export const OFFLINE_CODES: ReadonlySet<string> = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
]);

export type ProbeResult = { ok: true } | { ok: false; code: string };

/** Tries to reach an origin (`http://host:port`) cheaply; resolves, never rejects. */
export type Probe = (origin: string) => Promise<ProbeResult>;

export interface NetworkMonitorOptions {
  /** How an origin is probed (default: a TCP connection to its host and port). */
  probe?: Probe;
  /** Time for the backoff between probes (tests pass a fake one to live through long outages fast). */
  clock?: Clock;
  /** First wait between probes of an offline origin; doubles after each failed probe... */
  firstDelayMs?: number;
  /** ...up to this. */
  maxDelayMs?: number;
  /** The default probe gives up on a connection after this long. */
  probeTimeoutMs?: number;
}

export interface OfflineHost {
  /** `host:port` as a person reads it. */
  host: string;
  origin: string;
  /** Why the last probe failed (ECONNREFUSED, ENOTFOUND...). */
  code: string;
  /** When the origin was found offline (the monitor's clock). */
  since: number;
  /** Probes that failed since. */
  probes: number;
}

export interface NetworkChange {
  host: string;
  origin: string;
  state: 'offline' | 'online';
  /** Why it is offline (offline only). */
  code?: string;
}

export interface NetworkMonitorEvents {
  changed: [NetworkChange];
}

interface Watch extends OfflineHost {
  /** Cuts the current backoff wait short (probeNow, stop). */
  wake: AbortController;
  stopped: boolean;
}

export class NetworkMonitor extends EventEmitter<NetworkMonitorEvents> {
  readonly #probe: Probe;
  readonly #clock: Clock;
  readonly #firstDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #offline = new Map<string, Watch>();
  /** Origins a probe has connected to: a refusal from them later means they went away. */
  readonly #reached = new Set<string>();
  /** Probes in flight by origin: many jobs failing at once share one probe. */
  readonly #probing = new Map<string, Promise<ProbeResult>>();

  constructor(options: NetworkMonitorOptions = {}) {
    super();
    const timeoutMs = options.probeTimeoutMs ?? 5_000;
    this.#probe = options.probe ?? ((origin) => tcpProbe(origin, timeoutMs));
    this.#clock = options.clock ?? systemClock;
    this.#firstDelayMs = options.firstDelayMs ?? 1_000;
    this.#maxDelayMs = options.maxDelayMs ?? 4_000;
  }

  /**
   * A request to `origin` failed with no reply: probes the origin (unless it is already known
   * offline) and resolves true when it cannot be reached, i.e. the job should wait for the network
   * rather than count the failure.
   *
   * A probe refused (ECONNREFUSED) proves that the network works and the host's system answers, only
   * nothing listens on the port: that is "gone" for a host that was reached before (`reachedBefore`,
   * or a probe of it that connected), and more likely a wrong address or port for one never reached,
   * which counts as a failure as before, so that a mistyped base URL still fails with its reason.
   */
  async check(origin: string, reachedBefore = true): Promise<boolean> {
    if (this.#offline.has(origin)) return true;
    const result = await this.#probeShared(origin);
    if (result.ok) return false;
    if (result.code === 'ECONNREFUSED' && !reachedBefore && !this.#reached.has(origin)) return false;
    this.#markOffline(origin, result.code);
    return true;
  }

  isOffline(origin: string): boolean {
    return this.#offline.has(origin);
  }

  /** Origins known offline now. */
  offlineHosts(): OfflineHost[] {
    return [...this.#offline.values()].map(({ host, origin, code, since, probes }) => ({
      host,
      origin,
      code,
      since,
      probes,
    }));
  }

  /**
   * Probes every offline origin now, without waiting for the backoff (waking from sleep, a network
   * change): resolves once those probes are over. A failed probe starts the backoff again from its
   * first step, since the network just changed.
   */
  async probeNow(): Promise<void> {
    await Promise.all(
      [...this.#offline.values()].map(async (watch) => {
        const result = await this.#probeShared(watch.origin);
        this.#settle(watch, result);
        const wake = watch.wake;
        watch.wake = new AbortController();
        wake.abort();
      }),
    );
  }

  /** Stops probing and forgets what it knew (the engine stopped): the next failure probes afresh. */
  stop(): void {
    for (const watch of this.#offline.values()) {
      watch.stopped = true;
      watch.wake.abort();
    }
    this.#offline.clear();
  }

  #probeShared(origin: string): Promise<ProbeResult> {
    let pending = this.#probing.get(origin);
    if (!pending) {
      pending = this.#probe(origin)
        .catch((error: unknown): ProbeResult => ({ ok: false, code: errorCode(error) ?? 'EPROBE' }))
        .then((result) => {
          if (result.ok) this.#reached.add(origin);
          return result;
        })
        .finally(() => this.#probing.delete(origin));
      this.#probing.set(origin, pending);
    }
    return pending;
  }

  #markOffline(origin: string, code: string): void {
    if (this.#offline.has(origin)) return;
    const watch: Watch = {
      host: hostOf(origin),
      origin,
      code,
      since: this.#clock.now(),
      probes: 1,
      wake: new AbortController(),
      stopped: false,
    };
    this.#offline.set(origin, watch);
    this.emit('changed', { host: watch.host, origin, state: 'offline', code });
    void this.#watch(watch);
  }

  /** Records a probe's result: back online (said once) or still offline, and why. */
  #settle(watch: Watch, result: ProbeResult): void {
    if (this.#offline.get(watch.origin) !== watch) return;
    if (result.ok) {
      this.#offline.delete(watch.origin);
      watch.stopped = true;
      watch.wake.abort();
      this.emit('changed', { host: watch.host, origin: watch.origin, state: 'online' });
      return;
    }
    watch.code = result.code;
    watch.probes += 1;
  }

  async #watch(watch: Watch): Promise<void> {
    let delay = this.#firstDelayMs;
    while (!watch.stopped && this.#offline.get(watch.origin) === watch) {
      const wake = watch.wake;
      try {
        await this.#clock.sleep(delay, wake.signal);
      } catch {
        // Woken early: probeNow already probed (and restarts the backoff), or the monitor stopped.
        delay = this.#firstDelayMs;
        continue;
      }
      if (watch.stopped) return;
      this.#settle(watch, await this.#probeShared(watch.origin));
      delay = Math.min(this.#maxDelayMs, delay * 2);
    }
  }
}

/** `host:port` of an origin, as a person reads it (the origin itself when it does not parse). */
export function hostOf(origin: string): string {
  try {
    return new URL(origin).host || origin;
  } catch {
    return origin;
  }
}

/** A TCP connection to the origin's host and port: reaching it at all means the network is there. */
export function tcpProbe(origin: string, timeoutMs: number): Promise<ProbeResult> {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return Promise.resolve({ ok: false, code: 'EINVAL' });
  }
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: ProbeResult): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ ok: false, code: 'ETIMEDOUT' }), timeoutMs);
    socket.once('connect', () => done({ ok: true }));
    socket.once('error', (error) => done({ ok: false, code: errorCode(error) ?? 'ECONNECT' }));
  });
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The error code and the URL of the request behind a failure, looked up along its `cause` chain (an
 * UploadError wraps got's RequestError, which knows both). The code falls back to one named in the
 * message ("network error ECONNREFUSED"), for adapters that reword a transport error.
 */
export function networkFailureOf(error: unknown): { code: string | null; url: string | null } {
  let code: string | null = null;
  let url: string | null = null;
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current !== null && typeof current === 'object'; depth += 1) {
    const candidate = errorCode(current);
    if (code === null && candidate !== undefined && OFFLINE_CODES.has(candidate)) code = candidate;
    const options = (current as { options?: { url?: unknown } }).options;
    if (url === null && options && (options.url instanceof URL || typeof options.url === 'string')) {
      url = String(options.url);
    }
    current = (current as { cause?: unknown }).cause;
  }
  if (code === null && error instanceof Error) {
    for (const match of error.message.matchAll(/\b(?:E[A-Z_]{3,}|UND_ERR_SOCKET)\b/g)) {
      if (OFFLINE_CODES.has(match[0])) {
        code = match[0];
        break;
      }
    }
  }
  return { code, url };
}
