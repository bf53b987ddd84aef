/**
 * The desktop's wake hooks (main/app/networkWake.ts) through fakes of Electron's `powerMonitor` and
 * `net`, and the tray tooltip while hosts cannot be reached (main/app/overallProgress.ts).
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { wireNetworkWake, type PowerMonitorLike } from '../../main/app/networkWake.ts';
import { trayView } from '../../main/app/overallProgress.ts';
import { waitFor } from '../support/ferryHarness.ts';

function rig(): { power: EventEmitter; net: { online: boolean; isOnline(): boolean }; probes: string[] } {
  const net = {
    online: true,
    isOnline() {
      return this.online;
    },
  };
  return { power: new EventEmitter(), net, probes: [] };
}

describe('wake hooks', () => {
  it('probes at once on resume, unlock and the user coming back, and stops when unwired', () => {
    const { power, net } = rig();
    let probes = 0;
    const unwire = wireNetworkWake({
      powerMonitor: power as unknown as PowerMonitorLike,
      net,
      probeNow: () => {
        probes += 1;
        return Promise.resolve();
      },
      pollMs: 60_000,
    });
    power.emit('resume');
    power.emit('unlock-screen');
    power.emit('user-did-become-active');
    expect(probes).toBe(3);
    unwire();
    power.emit('resume');
    expect(probes).toBe(3);
    expect(power.listenerCount('resume')).toBe(0);
  });

  it('probes when net.isOnline() goes from false to true, not while it stays the same', async () => {
    const { power, net } = rig();
    const seen: boolean[] = [];
    let probes = 0;
    const unwire = wireNetworkWake({
      powerMonitor: power as unknown as PowerMonitorLike,
      net: {
        isOnline: () => {
          seen.push(net.online);
          return net.online;
        },
      },
      probeNow: () => {
        probes += 1;
        return Promise.resolve();
      },
      pollMs: 5,
    });
    try {
      net.online = false;
      await waitFor('an offline reading', () => seen.includes(false));
      const readings = seen.length;
      await waitFor('more readings', () => seen.length > readings + 3);
      expect(probes).toBe(0);
      net.online = true;
      await waitFor('a probe', () => probes === 1);
      const again = seen.length;
      await waitFor('more readings', () => seen.length > again + 3);
      expect(probes).toBe(1);
    } finally {
      unwire();
    }
  });

  it('a failing probe is logged, not thrown', async () => {
    const { power, net } = rig();
    const logged: string[] = [];
    const unwire = wireNetworkWake({
      powerMonitor: power as unknown as PowerMonitorLike,
      net,
      probeNow: () => Promise.reject(new Error('boom')),
      log: (message) => logged.push(message),
      pollMs: 60_000,
    });
    power.emit('resume');
    await waitFor('the log line', () => logged.length === 1);
    expect(logged).toEqual(['Could not probe the network after waking up']);
    unwire();
  });
});

describe('the tray while hosts cannot be reached', () => {
  const running = { running: 2, finished: 1, total: 3, paused: 0, fraction: 0.5, failed: 0 };

  it('says "Waiting for network" first, with the host, while a batch cannot move', () => {
    expect(trayView(running, undefined, [], ['api.example.test:443']).tooltip).toBe(
      'Ferry: Waiting for network (api.example.test:443) · uploading 50% · 1 of 3 uploads done',
    );
    expect(trayView(running, undefined, [], ['a:1', 'b:2']).tooltip).toMatch(/^Ferry: Waiting for network \(2 hosts\)/);
  });

  it('says nothing of the network when every host is reachable or nothing runs', () => {
    expect(trayView(running).tooltip).toBe('Ferry: uploading 50% · 1 of 3 uploads done');
    const idle = { running: 0, finished: 0, total: 0, paused: 0, fraction: null, failed: 0 };
    expect(trayView(idle, undefined, [], ['a:1']).tooltip).toBe('Ferry: no uploads running');
  });
});
