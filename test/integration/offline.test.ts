/**
 * Offline is a state, not a failure: for every provider, the emulator's port is closed in the middle
 * of an upload (listening stopped, open connections destroyed) for five minutes, then reopened on the
 * same port. The network monitor's backoff runs on a manual clock, so the five minutes (every probe
 * of them, each a real refused connection on loopback) take well under a second. Asserted on what the
 * emulator holds: byte-exact, finalized once, no acknowledged part sent again, no job failed. A server
 * that answers 503 meanwhile still fails the job, as before.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../main/api/contract.ts';
import { startDesktopCore, type DesktopShell } from '../../main/app/desktopCore.ts';
import { wireNetworkWake, type PowerMonitorLike } from '../../main/app/networkWake.ts';
import type { TrayView } from '../../main/app/overallProgress.ts';
import { NetworkMonitor, tcpProbe } from '../../main/engine/networkMonitor.ts';
import { replugSandbox, unplugSandbox } from '../sandbox/harness.ts';
import { startSelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import {
  Fixtures,
  jsonLines,
  randomFile,
  resentCount,
  runFerry,
  waitFor,
  type EngineHandle,
} from '../support/ferryHarness.ts';
import { ManualClock, OFFLINE_PROVIDERS, offlineSubject, type OfflineProvider } from '../support/offlineRig.ts';
import { openTestQueue } from '../support/testQueue.ts';

const fixtures = new Fixtures();

afterEach(async () => {
  await fixtures.cleanup();
});

const FIVE_MINUTES = 5 * 60_000;

async function setUp(provider: OfflineProvider): Promise<{
  w: EngineHandle;
  clock: ManualClock;
  network: NetworkMonitor;
  probes: () => number;
  subject: Awaited<ReturnType<typeof offlineSubject>>;
}> {
  const clock = new ManualClock();
  let probes = 0;
  const network = new NetworkMonitor({
    clock,
    probe: (origin) => {
      probes += 1;
      return tcpProbe(origin, 2_000);
    },
  });
  const w = fixtures.openEngine(await fixtures.tempDir('ferry-offline-data-'), { network });
  const subject = fixtures.track(await offlineSubject(provider, w.queue, await fixtures.tempDir('ferry-offline-')));
  return { w, clock, network, probes: () => probes, subject };
}

describe('a host that goes away mid-upload', () => {
  it.each(OFFLINE_PROVIDERS)(
    '%s: waits through a five-minute outage without using retries, then resumes byte-exact',
    async (provider) => {
      const { w, clock, network, probes, subject } = await setUp(provider);
      const { queue, engine } = w;
      const changes: string[] = [];
      engine.on('network', (change) => changes.push(`${change.state} ${change.host}`));
      subject.hold();
      const [job] = await queue.enqueue(subject.account, [subject.source]);
      engine.start();
      await waitFor('the held request to arrive', () => subject.held());
      const ackedBefore = subject.acked().length;

      for (const host of subject.hosts) await unplugSandbox(host);
      const waiting = await waitFor('the job to wait for the network', () => {
        const current = queue.jobs.get(job!.id);
        return current?.state === 'waiting' && current.error?.message.startsWith('Waiting for network:')
          ? current
          : null;
      });
      const host = new URL(subject.hosts[0]!).host;
      expect(waiting.error?.message).toBe(`Waiting for network: ${host} cannot be reached (ECONNREFUSED)`);
      expect(engine.offlineHosts().map((h) => h.host)).toEqual([host]);
      expect(changes).toEqual([`offline ${host}`]);

      // Five minutes go by on the monitor's clock: it keeps probing with its backoff (1 s doubling,
      // capped at 4 s: 1, 2, then every 4 s), every probe refused.
      const settled = (): boolean => clock.pending > 0 || network.offlineHosts().length === 0;
      const before = probes();
      await clock.advance(FIVE_MINUTES, settled);
      expect(probes() - before).toBeGreaterThanOrEqual(70);
      expect(probes() - before).toBeLessThanOrEqual(80);
      const during = queue.jobs.get(job!.id)!;
      expect(during.state).toBe('waiting');
      // Not one retry was charged for the outage: the streak is what it was before it.
      expect(during.retryStreak).toBe(waiting.retryStreak);
      expect(during.retryStreak).toBe(0);
      // Nothing reached the emulator meanwhile (it was not listening), and nothing was acknowledged.
      expect(subject.acked().length).toBe(ackedBefore);

      for (const origin of subject.hosts) await replugSandbox(origin);
      // The next probe is at most 4 s away on the monitor's clock; it finds the host and releases the job.
      await clock.advance(4_000, settled);
      expect(network.offlineHosts()).toEqual([]);
      expect(changes).toEqual([`offline ${host}`, `online ${host}`]);
      await waitFor(
        'the job to complete',
        () => ['completed', 'failed'].includes(queue.jobs.get(job!.id)!.state),
        20_000,
      );

      const done = queue.jobs.get(job!.id)!;
      expect(done.error?.message ?? null).toBe(null);
      expect(done.state).toBe('completed');
      expect(queue.jobs.list({ states: ['failed'] })).toEqual([]);
      expect(subject.check()).toEqual([]);
      expect(resentCount(subject.acked())).toBe(0);
    },
    30_000,
  );

  // OFAuth's storage host is left out: a 503 from object storage means "slow down" there, a rate
  // limit with its own, longer budget (maxRateLimitedStreak), which the fault matrix covers.
  it.each(['selfcommunity', 'twentythree', 'xvid', 'oktopost'] as const)(
    '%s: a server that answers 503 meanwhile still fails the job after the retry budget',
    async (provider) => {
      const { w, network, subject } = await setUp(provider);
      const { queue, engine } = w;
      subject.fail503(50);
      const [job] = await queue.enqueue(subject.account, [subject.source]);
      engine.start();
      await waitFor('the job to fail', () => ['completed', 'failed'].includes(queue.jobs.get(job!.id)!.state), 20_000);
      const failed = queue.jobs.get(job!.id)!;
      expect(failed.state).toBe('failed');
      expect(failed.error?.kind).toBe('server');
      // The server answered: the host was never taken for offline.
      expect(network.offlineHosts()).toEqual([]);
      expect(queue.jobs.events(job!.id).some((e) => /Waiting for network/.test(e.message ?? ''))).toBe(false);
    },
    30_000,
  );

  it('probeNow (waking from sleep, a network change) releases the jobs at once, without waiting for the backoff', async () => {
    const { w, clock, network, subject } = await setUp('selfcommunity');
    const { queue, engine } = w;
    subject.hold();
    const [job] = await queue.enqueue(subject.account, [subject.source]);
    engine.start();
    await waitFor('the held request to arrive', () => subject.held());
    await unplugSandbox(subject.hosts[0]!);
    await waitFor('the job to wait for the network', () => queue.jobs.get(job!.id)?.state === 'waiting');
    await waitFor('the monitor to sleep', () => clock.pending > 0);
    // Still offline: a probe now changes nothing, and the job stays waiting.
    await engine.probeNow();
    expect(network.offlineHosts()).toHaveLength(1);
    await replugSandbox(subject.hosts[0]!);
    // The clock does not move: only probeNow can notice the return.
    await engine.probeNow();
    expect(network.offlineHosts()).toEqual([]);
    await waitFor('the job to complete', () => queue.jobs.get(job!.id)!.state === 'completed', 20_000);
    expect(subject.check()).toEqual([]);
    expect(resentCount(subject.acked())).toBe(0);
  }, 30_000);

  it('pause works while a job waits for the network; resumed while offline, it waits without an attempt', async () => {
    const { w, probes, subject } = await setUp('selfcommunity');
    const { queue, engine } = w;
    subject.hold();
    const [job] = await queue.enqueue(subject.account, [subject.source]);
    engine.start();
    await waitFor('the held request to arrive', () => subject.held());
    await unplugSandbox(subject.hosts[0]!);
    await waitFor('the job to wait for the network', () => queue.jobs.get(job!.id)?.state === 'waiting');
    queue.pause(job!.id);
    expect(queue.jobs.get(job!.id)!.state).toBe('paused');
    const attempts = queue.jobs.get(job!.id)!.attempts;
    const probed = probes();
    queue.resume(job!.id);
    // The host is still known offline: the job is not started (no attempt, no probe of its own).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(queue.jobs.get(job!.id)!.state).toBe('queued');
    expect(queue.jobs.get(job!.id)!.attempts).toBe(attempts);
    expect(probes()).toBe(probed);
    await replugSandbox(subject.hosts[0]!);
    await engine.probeNow();
    await waitFor('the job to complete', () => queue.jobs.get(job!.id)!.state === 'completed', 20_000);
    expect(subject.check()).toEqual([]);
    expect(resentCount(subject.acked())).toBe(0);
  }, 30_000);

  it('a host already gone when Ferry starts again: a job with acknowledged parts waits, it does not fail', async () => {
    const { w, subject } = await setUp('selfcommunity');
    const { queue, engine } = w;
    subject.hold();
    const [job] = await queue.enqueue(subject.account, [subject.source]);
    engine.start();
    await waitFor('the held request to arrive', () => subject.held());
    await engine.stop();
    expect(queue.jobs.get(job!.id)!.bytesConfirmed).toBeGreaterThan(0);
    await unplugSandbox(subject.hosts[0]!);
    engine.start();
    // The first failure now is a refused connection, not one broken mid-way: the acknowledged parts
    // say that this host was reached before (a host never reached fails as before: badInput.test.ts).
    const waiting = await waitFor('the job to wait for the network', () => {
      const current = queue.jobs.get(job!.id)!;
      return current.state === 'waiting' && current.error?.message.startsWith('Waiting for network') ? current : null;
    });
    expect(waiting.error?.message).toMatch(/\(ECONNREFUSED\)$/);
    expect(waiting.retryStreak).toBe(0);
    await replugSandbox(subject.hosts[0]!);
    await engine.probeNow();
    await waitFor('the job to complete', () => queue.jobs.get(job!.id)!.state === 'completed', 20_000);
    expect(subject.check()).toEqual([]);
    expect(resentCount(subject.acked())).toBe(0);
  }, 30_000);

  it.each([true, false])(
    '`ferry run` (--json: %s) says when a host goes offline and comes back, and the upload completes',
    async (json) => {
      const data = await fixtures.tempDir('ferry-offline-cli-');
      const sandbox = fixtures.track(await startSelfCommunitySandbox({ token: 'offline-cli-token-0123456789' }));
      const added = await runFerry(data, [
        'accounts',
        'add',
        'selfcommunity',
        '--name',
        'community',
        '--base-url',
        sandbox.url,
        '--secret',
        `accessToken=${sandbox.token}`,
      ]);
      expect(added.code).toBe(0);
      const file = await randomFile(data, 'offline cli.png', 4 * 204_800 + 11);
      expect((await runFerry(data, ['upload', '--account', 'community', file.path])).code).toBe(0);
      sandbox.fault({
        method: 'POST',
        path: '/api/v2/media/upload/chunk/',
        when: (r) => String(r.headers['content-range'] ?? '').startsWith(`bytes ${2 * 204_800}-`),
        action: { type: 'stall' },
      });
      const args = ['run', '--until-idle', ...(json ? ['--json'] : [])];
      const running = fixtures.spawnFerry(data, args, { timeoutMs: 40_000 });
      await waitFor('the held chunk', () => sandbox.requests.some((r) => r.fault === 'stall'), 15_000);
      await unplugSandbox(sandbox.url);
      await waitFor('the offline event', () => /"event":"network"|Waiting for network/.test(running.stdout), 15_000);
      await replugSandbox(sandbox.url);
      const ran = await running.exited;
      expect(ran.code).toBe(0);
      const host = new URL(sandbox.url).host;
      expect(sandbox.media).toHaveLength(1);
      expect(sandbox.media[0]!.sha256).toBe(file.sha256);
      if (!json) {
        // Not a terminal: no bars, one line each way.
        expect(ran.stdout).toContain(
          `Waiting for network: ${host} cannot be reached (ECONNREFUSED); its uploads resume when it answers, without using up their retries`,
        );
        expect(ran.stdout).toContain(`Network back: ${host} answers again; resuming its uploads`);
        expect(ran.stdout).not.toMatch(/^retry/m);
        return;
      }
      const lines = jsonLines(ran.stdout);
      expect(lines.filter((line) => line.event === 'network')).toEqual([
        { event: 'network', state: 'offline', host, code: 'ECONNREFUSED' },
        { event: 'network', state: 'online', host },
      ]);
      expect(lines.filter((line) => line.event === 'retry')).toEqual([]);
      expect(lines.find((line) => line.event === 'job')).toMatchObject({ status: 'completed' });
      expect(sandbox.media).toHaveLength(1);
      expect(sandbox.media[0]!.sha256).toBe(file.sha256);
      expect(sandbox.completeCalls.filter((call) => call.status === 201)).toHaveLength(1);
      expect(resentCount(sandbox.chunkLog.filter((c) => c.status === 201).map((c) => c.start))).toBe(0);
    },
    60_000,
  );

  it('desktop: the tray says "Waiting for network", app.status names the host, and waking up resumes at once', async () => {
    const dir = await fixtures.tempDir('ferry-offline-desktop-');
    const { db, queue } = openTestQueue(dir);
    const statuses: TrayView[] = [];
    const shell: DesktopShell = {
      showWindow: () => undefined,
      showStatus: (view) => statuses.push(view),
      notify: () => undefined,
      copyText: () => Promise.resolve(),
      setUploading: () => undefined,
      setStartAtLogin: () => undefined,
    };
    // The monitor's own backoff never fires (its clock does not move): only the wake signal can
    // notice that the host is back.
    const clock = new ManualClock();
    const core = await startDesktopCore({
      dataDir: dir,
      db,
      queue,
      shell,
      version: '1.2.3',
      log: () => undefined,
      statusDelayMs: 5,
      engineOptions: {
        network: new NetworkMonitor({ clock }),
        stallTimeoutMs: 5_000,
        retry: { baseDelayMs: 20, maxDelayMs: 200 },
      },
    });
    fixtures.track({
      close: async () => {
        await core.close();
        db.close();
      },
    });
    const events: ApiEvent[] = [];
    const unsubscribe = core.api.subscribe((event) => {
      events.push(event);
    });
    const power = new EventEmitter();
    let online = true;
    const unwire = wireNetworkWake({
      powerMonitor: power as unknown as PowerMonitorLike,
      net: { isOnline: () => online },
      probeNow: () => core.engine?.probeNow() ?? Promise.resolve(),
      pollMs: 20,
    });
    try {
      const subject = fixtures.track(await offlineSubject('selfcommunity', queue, dir));
      subject.hold();
      const [job] = await queue.enqueue(subject.account, [subject.source]);
      await waitFor('the held request to arrive', () => subject.held());
      await unplugSandbox(subject.hosts[0]!);
      online = false;
      const host = new URL(subject.hosts[0]!).host;
      await waitFor('the tray to say it waits for the network', () =>
        statuses.at(-1)?.tooltip.startsWith(`Ferry: Waiting for network (${host})`),
      );
      const status = await core.api.invoke('app.status', undefined);
      expect(status.ok && status.value.offlineHosts?.map((h) => h.host)).toEqual([host]);
      expect(events.filter((e) => e.event === 'network.changed').map((e) => e.payload)).toMatchObject([
        { host, state: 'offline', code: 'ECONNREFUSED', offlineHosts: [{ host, code: 'ECONNREFUSED' }] },
      ]);

      await replugSandbox(subject.hosts[0]!);
      // Waking from sleep probes at once.
      power.emit('resume');
      await waitFor('the job to complete', () => queue.jobs.get(job!.id)!.state === 'completed', 20_000);
      expect(subject.check()).toEqual([]);
      expect(resentCount(subject.acked())).toBe(0);
      await waitFor('the tray to stop waiting', () => !statuses.at(-1)?.tooltip.includes('Waiting for network'));
      const after = await core.api.invoke('app.status', undefined);
      expect(after.ok && after.value.offlineHosts).toBe(undefined);
      expect(events.filter((e) => e.event === 'network.changed').map((e) => e.payload)).toMatchObject([
        { state: 'offline' },
        { host, state: 'online', code: null, offlineHosts: [] },
      ]);
    } finally {
      unwire();
      unsubscribe();
    }
  }, 30_000);
});
