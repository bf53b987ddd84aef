/**
 * The network monitor (main/engine/networkMonitor.ts) on its own: the probe schedule (1 s doubling,
 * capped at 4 s) on a manual clock with a scripted probe, one probe shared by many failing jobs,
 * probeNow, the refused-but-never-reached rule, and the real TCP probe on loopback.
 */
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  NetworkMonitor,
  hostOf,
  networkFailureOf,
  tcpProbe,
  type NetworkChange,
  type ProbeResult,
} from '../../main/engine/networkMonitor.ts';
import { UploadError } from '../../main/core/errors.ts';
import { ManualClock } from '../support/offlineRig.ts';
import { waitFor } from '../support/ferryHarness.ts';

const ORIGIN = 'http://127.0.0.1:9';

function scripted(results: () => ProbeResult): { probe: (origin: string) => Promise<ProbeResult>; times: number[] } {
  const times: number[] = [];
  return {
    times,
    probe: () => Promise.resolve(results()),
  };
}

describe('NetworkMonitor', () => {
  it('probes an offline origin 1, 2, then every 4 s, and says once when it is back', async () => {
    const clock = new ManualClock();
    let up = false;
    const times: number[] = [];
    const monitor = new NetworkMonitor({
      clock,
      probe: () => {
        times.push(clock.now());
        return Promise.resolve(up ? { ok: true } : { ok: false, code: 'ENETUNREACH' });
      },
    });
    const changes: NetworkChange[] = [];
    monitor.on('changed', (change) => changes.push(change));
    const start = clock.now();
    expect(await monitor.check(ORIGIN)).toBe(true);
    expect(monitor.offlineHosts()).toMatchObject([{ host: '127.0.0.1:9', code: 'ENETUNREACH', probes: 1 }]);
    const settled = (): boolean => clock.pending > 0 || monitor.offlineHosts().length === 0;
    await waitFor('the monitor to sleep', () => clock.pending > 0);
    await clock.advance(20_000, settled);
    expect(times.map((t) => t - start)).toEqual([0, 1_000, 3_000, 7_000, 11_000, 15_000, 19_000]);
    up = true;
    await clock.advance(4_000, settled);
    expect(monitor.offlineHosts()).toEqual([]);
    expect(changes).toEqual([
      { host: '127.0.0.1:9', origin: ORIGIN, state: 'offline', code: 'ENETUNREACH' },
      { host: '127.0.0.1:9', origin: ORIGIN, state: 'online' },
    ]);
    // Back online: no more probes.
    await clock.advance(60_000, () => true);
    expect(times).toHaveLength(8);
  });

  it('many jobs failing at once share one probe; a known offline origin is not probed again', async () => {
    let probes = 0;
    let release: (result: ProbeResult) => void = () => undefined;
    const monitor = new NetworkMonitor({
      clock: new ManualClock(),
      probe: () => {
        probes += 1;
        return new Promise((resolve) => (release = resolve));
      },
    });
    const checks = [monitor.check(ORIGIN), monitor.check(ORIGIN), monitor.check(ORIGIN)];
    release({ ok: false, code: 'EAI_AGAIN' });
    expect(await Promise.all(checks)).toEqual([true, true, true]);
    expect(await monitor.check(ORIGIN)).toBe(true);
    expect(probes).toBe(1);
    monitor.stop();
    expect(monitor.offlineHosts()).toEqual([]);
  });

  it('a reachable origin is not offline; probeNow finds a return without waiting for the backoff', async () => {
    let up = true;
    const { probe } = scripted(() => (up ? { ok: true } : { ok: false, code: 'ENOTFOUND' }));
    const clock = new ManualClock();
    const monitor = new NetworkMonitor({ clock, probe });
    expect(await monitor.check(ORIGIN)).toBe(false);
    up = false;
    expect(await monitor.check(ORIGIN)).toBe(true);
    await monitor.probeNow();
    expect(monitor.isOffline(ORIGIN)).toBe(true);
    up = true;
    await monitor.probeNow();
    expect(monitor.isOffline(ORIGIN)).toBe(false);
  });

  it('a refusal from an origin never reached is not "offline" (a wrong port); from one reached before it is', async () => {
    let result: ProbeResult = { ok: false, code: 'ECONNREFUSED' };
    const monitor = new NetworkMonitor({ clock: new ManualClock(), probe: () => Promise.resolve(result) });
    expect(await monitor.check(ORIGIN, false)).toBe(false);
    expect(await monitor.check(ORIGIN, true)).toBe(true);
    monitor.stop();
    // A probe that once connected makes the origin "reached" for later refusals.
    const other = 'http://127.0.0.1:10';
    result = { ok: true };
    expect(await monitor.check(other, false)).toBe(false);
    result = { ok: false, code: 'ECONNREFUSED' };
    expect(await monitor.check(other, false)).toBe(true);
    monitor.stop();
  });
});

describe('tcpProbe', () => {
  it('connects to a listening port and is refused by a closed one', async () => {
    const server: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    expect(await tcpProbe(`http://127.0.0.1:${port}`, 2_000)).toEqual({ ok: true });
    await new Promise((resolve) => server.close(resolve));
    expect(await tcpProbe(`http://127.0.0.1:${port}`, 2_000)).toEqual({ ok: false, code: 'ECONNREFUSED' });
    expect(await tcpProbe('not a url', 2_000)).toEqual({ ok: false, code: 'EINVAL' });
  });
});

describe('networkFailureOf', () => {
  it('finds the code and the URL along the cause chain, or the code in the message', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED'), {
      code: 'ECONNREFUSED',
      options: { url: new URL('http://storage.example.test:8443/part/3') },
    });
    const error = new UploadError('network', 'Sending part 3: network error ECONNREFUSED; will retry', { cause });
    expect(networkFailureOf(error)).toEqual({ code: 'ECONNREFUSED', url: 'http://storage.example.test:8443/part/3' });
    expect(networkFailureOf(new UploadError('network', 'Sending part 1: network error EAI_AGAIN (x)'))).toEqual({
      code: 'EAI_AGAIN',
      url: null,
    });
    // A code that says nothing about the network (a malformed reply) is not one.
    expect(networkFailureOf(new UploadError('network', 'Sending part 1: HPE_INVALID_CONSTANT'))).toEqual({
      code: null,
      url: null,
    });
    expect(hostOf('https://api.example.test')).toBe('api.example.test');
  });
});
