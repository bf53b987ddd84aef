/**
 * Waking from sleep and network changes make the engine probe the hosts it cannot reach at once,
 * instead of after its backoff (up to 30 s): a laptop opened on a working network resumes its
 * uploads within a second or two.
 *
 * Electron 45 has no "network changed" event in the main process; `net.isOnline()` says whether any
 * link is up, so it is polled (cheap, no traffic) and a change from offline to online is the signal.
 * Wake (`powerMonitor` 'resume'), unlocking the screen and the user becoming active again are the
 * other signals. Only Electron's types are used here; main/index.ts passes the real objects in.
 */
import type { PowerMonitor } from 'electron';

/** The part of Electron's `powerMonitor` used here. */
export type PowerMonitorLike = Pick<PowerMonitor, 'on' | 'off'>;

/** The part of Electron's `net` used here. */
export interface NetLike {
  isOnline(): boolean;
}

export interface NetworkWakeOptions {
  powerMonitor: PowerMonitorLike;
  net: NetLike;
  /** Probes the offline hosts now (the engine's `probeNow`; nothing to do when none is offline). */
  probeNow: () => Promise<void>;
  /** How often `net.isOnline()` is read (default 2 s). */
  pollMs?: number;
  log?: (message: string, error?: unknown) => void;
}

const WAKE_EVENTS = ['resume', 'unlock-screen', 'user-did-become-active'] as const;

/** Wires the signals to `probeNow`; returns the function that unwires them. */
export function wireNetworkWake(options: NetworkWakeOptions): () => void {
  const { powerMonitor, net } = options;
  const probe = (why: string): void => {
    options.probeNow().catch((error: unknown) => options.log?.(`Could not probe the network after ${why}`, error));
  };
  const onWake = (): void => probe('waking up');
  for (const event of WAKE_EVENTS) powerMonitor.on(event as 'resume', onWake);
  let online = readOnline(net);
  const timer = setInterval(() => {
    const now = readOnline(net);
    if (now && !online) probe('the network came back');
    online = now;
  }, options.pollMs ?? 2_000);
  timer.unref?.();
  return () => {
    clearInterval(timer);
    for (const event of WAKE_EVENTS) powerMonitor.off(event as 'resume', onWake);
  };
}

function readOnline(net: NetLike): boolean {
  try {
    return net.isOnline();
  } catch {
    // Unknown counts as online: the engine's own probes decide.
    return true;
  }
}
