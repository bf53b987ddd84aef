/**
 * The host of the engine (main/host/ferryHost.ts), the one composition behind `ferry run`, `ferry
 * serve` and the desktop app, on a real SQLite data folder against the SelfCommunity emulator: the run
 * lock taken and released, the engine built with the saved global concurrency, settings applied in
 * place, another holder of the lock followed and then taken over from (in the host, by itself when it
 * follows, and by a real `ferry upload --wait`), and the order of the close.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ApiEvent } from '../../main/api/contract.ts';
import { SettingsStore } from '../../main/api/settingsStore.ts';
import { openDatabase, type Db } from '../../main/db/database.ts';
import type { Queue } from '../../main/engine/queue.ts';
import { LockedError, acquireRunLock } from '../../main/engine/runLock.ts';
import { openFerryHost, type FerryHost, type FerryHostOptions } from '../../main/host/ferryHost.ts';
import { getAdapter } from '../../main/providers/registry.ts';
import { FileSecretStore } from '../../main/secrets/fileSecretStore.ts';
import { startSelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { Fixtures, randomFile, runFerry, sleep, waitFor } from '../support/ferryHarness.ts';
import { JobsRepository } from '../../main/db/jobsRepository.ts';
import { openTestQueue } from '../support/testQueue.ts';

const fixtures = new Fixtures();
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await fixtures.cleanup();
});

const TUNING = { stallTimeoutMs: 5_000, retry: { baseDelayMs: 20, maxDelayMs: 200 }, controlPollMs: 100 };
const SYNC_TUNING = {
  rulesPollMs: 50,
  rescanIntervalMs: 1_000,
  stableChecks: 2,
  stableIntervalMs: 50,
  batchDelayMs: 20,
};

async function dataDir(): Promise<string> {
  const dir = join(await fixtures.tempDir('ferry-host-'), 'data');
  await mkdir(dir, { recursive: true });
  return dir;
}

/** A queue and its database handed to the host, as `ferry serve` and the command line do (the caller closes it). */
function queueOn(dir: string): { db: Db; queue: Queue } {
  const { db, queue } = openTestQueue(dir);
  closers.push(() => db.close());
  return { db, queue };
}

async function host(options: FerryHostOptions): Promise<FerryHost> {
  const opened = await openFerryHost(options);
  closers.push(() => opened.close());
  return opened;
}

function events(opened: FerryHost): ApiEvent[] {
  const seen: ApiEvent[] = [];
  opened.api.subscribe((event) => void seen.push(event));
  return seen;
}

function isLocked(dir: string): boolean {
  try {
    acquireRunLock(dir).release();
    return false;
  } catch (error) {
    if (error instanceof LockedError) return true;
    throw error;
  }
}

describe('the Ferry host', () => {
  it('takes the run lock, builds the engine with the saved global concurrency, uploads, and closes in order', async () => {
    const sandbox = fixtures.track(await startSelfCommunitySandbox());
    const dir = await dataDir();
    const saved = openDatabase(dir);
    new SettingsStore(saved).set({ globalConcurrency: 3 });
    saved.close();

    // Opened by the host from the registry and the secret store handed in, as the desktop app does.
    const opened = await host({
      dataDir: dir,
      adapterFor: getAdapter,
      secrets: new FileSecretStore(dir),
      log: () => undefined,
      engineOptions: TUNING,
    });
    expect(opened.engine?.maxJobsInFlight).toBe(3);
    expect(opened.locked).toBeNull();
    expect(isLocked(dir)).toBe(true);
    expect(await opened.api.invoke('app.status', undefined)).toMatchObject({
      ok: true,
      value: { engineRunning: true, engineNote: null },
    });

    const added = await opened.api.invoke('accounts.add', {
      provider: 'selfcommunity',
      name: 'community',
      baseUrl: sandbox.url,
      secrets: { accessToken: sandbox.token },
    });
    expect(added.ok).toBe(true);
    const file = await randomFile(await fixtures.tempDir('ferry-host-files-'), 'harbour.png', 300_000);
    expect((await opened.api.invoke('jobs.enqueue', { account: 'community', paths: [file.path] })).ok).toBe(true);
    // Built, not started: nothing uploads until start().
    expect(sandbox.media).toHaveLength(0);
    await opened.start();
    await waitFor('the upload', () => sandbox.media.length === 1, 15_000);
    expect(sandbox.media[0]!.sha256).toBe(file.sha256);

    const order: string[] = [];
    const engine = opened.engine!;
    const stopEngine = engine.stop.bind(engine);
    vi.spyOn(engine, 'stop').mockImplementation(async () => {
      order.push(`engine stops, lock ${isLocked(dir) ? 'held' : 'free'}`);
      await stopEngine();
    });
    await opened.close();
    order.push(`closed, lock ${isLocked(dir) ? 'held' : 'free'}`);
    expect(order).toEqual(['engine stops, lock held', 'closed, lock free']);
    expect(opened.engine).toBeNull();
    // The host opened the database, so the host closed it.
    expect(opened.db.isOpen).toBe(false);
  });

  it('stops the watched folders before the engine, and leaves a queue it was handed open', async () => {
    const dir = await dataDir();
    const { db, queue } = queueOn(dir);
    const opened = await host({
      dataDir: dir,
      db,
      queue,
      log: () => undefined,
      engineOptions: TUNING,
      watchedFolders: { watch: true, tuning: SYNC_TUNING },
    });
    await opened.start();
    const sync = opened.sync!;
    expect(opened.api.syncSource).toBe(sync);
    const order: string[] = [];
    const stopSync = sync.stop.bind(sync);
    vi.spyOn(sync, 'stop').mockImplementation(async () => {
      order.push(`sync stops, engine ${opened.engine ? 'running' : 'gone'}`);
      await stopSync();
    });
    const engine = opened.engine!;
    const stopEngine = engine.stop.bind(engine);
    vi.spyOn(engine, 'stop').mockImplementation(async () => {
      order.push('engine stops');
      await stopEngine();
    });
    await opened.close();
    expect(order).toEqual(['sync stops, engine running', 'engine stops']);
    expect(opened.api.syncSource).toBeNull();
    expect(db.isOpen).toBe(true);
    expect(isLocked(dir)).toBe(false);
  });

  it('applies a changed global concurrency to the running engine in place; engine tuning wins over the setting', async () => {
    const dir = await dataDir();
    const { db, queue } = queueOn(dir);
    const opened = await host({ dataDir: dir, db, queue, log: () => undefined, engineOptions: TUNING });
    await opened.start();
    const seen = events(opened);
    const before = opened.engine;
    expect(before?.maxJobsInFlight).toBe(4);
    expect(await opened.api.invoke('settings.set', { globalConcurrency: 2 })).toMatchObject({ ok: true });
    expect(opened.engine).toBe(before);
    expect(opened.engine?.maxJobsInFlight).toBe(2);
    await waitFor('the notice', () =>
      seen.some((event) => event.event === 'notice' && event.payload.message === 'Up to 2 uploads now run at once'),
    );
    await opened.close();

    const tuned = await host({
      dataDir: dir,
      db,
      queue,
      log: () => undefined,
      engineOptions: { ...TUNING, maxJobsInFlight: 1 },
    });
    expect(tuned.engine?.maxJobsInFlight).toBe(1);
    expect(await tuned.api.invoke('settings.set', { globalConcurrency: 5 })).toMatchObject({ ok: true });
    expect(tuned.engine?.maxJobsInFlight).toBe(1);
  });

  it("says a fault of the machine reported by the engine as the API's error notice", async () => {
    const dir = await dataDir();
    const opened = await host({ dataDir: dir, ...queueOn(dir), log: () => undefined, engineOptions: TUNING });
    const seen = events(opened);
    opened.engine!.emit('fault', { jobId: 1, message: 'Disk full: 0 B free in /tmp', retryInMs: 5_000 });
    await waitFor('the notice', () =>
      seen.find(
        (event) =>
          event.event === 'notice' &&
          event.payload.level === 'error' &&
          event.payload.message === 'Disk full: 0 B free in /tmp',
      ),
    );
  });

  it('without the lock runs no engine, names the holder, follows its job changes, and takes over once it is free', async () => {
    const dir = await dataDir();
    const { db, queue } = queueOn(dir);
    const other = acquireRunLock(dir);
    closers.push(() => other.release());
    const followed: number[] = [];
    const opened = await host({
      dataDir: dir,
      db,
      queue,
      log: () => undefined,
      engineOptions: TUNING,
      engineNote: (locked) => `${locked.message}: this test only watches`,
      follow: { intervalMs: 20, onJobs: (jobs) => followed.push(...jobs.map((job) => job.id)) },
      watchedFolders: { watch: true, tuning: SYNC_TUNING },
    });
    expect(opened.engine).toBeNull();
    expect(opened.locked).toBeInstanceOf(LockedError);
    expect(opened.locked?.pid).toBe(process.pid);
    expect(opened.engineNote).toMatch(
      /^Another Ferry \(pid \d+\) is already uploading from .*: this test only watches$/,
    );
    expect(await opened.api.invoke('app.status', undefined)).toMatchObject({
      ok: true,
      value: { engineRunning: false },
    });
    await opened.start();
    expect(opened.sync).toBeNull();

    // A job changed by the process that uploads reaches this one through the database.
    const seen = events(opened);
    const account = await queue.accounts.add({
      provider: 'selfcommunity',
      name: 'community',
      baseUrl: 'http://127.0.0.1:9',
      settings: {},
      secrets: { accessToken: 'tok-1234' },
    });
    const [row] = new JobsRepository(db).insert([
      {
        accountId: account.id,
        sourceKind: 'file',
        source: '/tmp/z.png',
        name: 'z.png',
        mime: 'image/png',
        size: 1,
        mtimeMs: 1,
        edgeHash: 'x',
        options: {},
      },
    ]);
    await waitFor('the followed change', () => followed.includes(row!.id));
    await waitFor('the announced change', () =>
      seen.some((event) => event.event === 'jobs.changed' && event.payload.jobs.some((job) => job.id === row!.id)),
    );

    // Still held: no take-over.
    expect(await opened.takeOver()).toBe(false);
    other.release();
    expect(await opened.takeOver()).toBe(true);
    expect(opened.engine).not.toBeNull();
    expect(opened.locked).toBeNull();
    // start() was called before, so the engine and the watched folders run now.
    expect(opened.sync).not.toBeNull();
    expect(await opened.api.invoke('app.status', undefined)).toMatchObject({
      ok: true,
      value: { engineRunning: true, engineNote: null },
    });
    expect(isLocked(dir)).toBe(true);
    await opened.close();
    expect(isLocked(dir)).toBe(false);
  });

  it('becomes the uploader by itself when the host holding the lock closes (as `ferry serve` and the window do)', async () => {
    const sandbox = fixtures.track(await startSelfCommunitySandbox());
    const dir = await dataDir();
    // The first host holds the lock; its engine is built but never started, so it uploads nothing.
    const first = await openFerryHost({
      dataDir: dir,
      adapterFor: getAdapter,
      secrets: new FileSecretStore(dir),
      log: () => undefined,
      engineOptions: TUNING,
    });
    let firstClosed = false;
    closers.push(() => (firstClosed ? undefined : first.close()));
    const logged: string[] = [];
    const second = await host({
      dataDir: dir,
      ...queueOn(dir),
      log: (message) => logged.push(message),
      engineOptions: TUNING,
      follow: { intervalMs: 20, takeOverIntervalMs: 50 },
    });
    await second.start();
    const seen = events(second);
    expect(second.engine).toBeNull();
    expect(
      (
        await second.api.invoke('accounts.add', {
          provider: 'selfcommunity',
          name: 'community',
          baseUrl: sandbox.url,
          secrets: { accessToken: sandbox.token },
        })
      ).ok,
    ).toBe(true);
    const file = await randomFile(await fixtures.tempDir('ferry-host-files-'), 'handover.png', 250_000);
    expect((await second.api.invoke('jobs.enqueue', { account: 'community', paths: [file.path] })).ok).toBe(true);
    // Several retries while the lock is held change nothing.
    await sleep(200);
    expect(second.engine).toBeNull();
    expect(sandbox.requests).toHaveLength(0);

    await first.close();
    firstClosed = true;
    await waitFor('the second host to take over', () => second.engine !== null, 10_000);
    expect(second.locked).toBeNull();
    expect(await second.api.invoke('app.status', undefined)).toMatchObject({
      ok: true,
      value: { engineRunning: true, engineNote: null },
    });
    await waitFor('the announcement', () =>
      seen.some((event) => event.event === 'notice' && /this one uploads now/.test(event.payload.message)),
    );
    await waitFor('the upload by the second host', () => sandbox.media.length === 1, 15_000);
    expect(sandbox.media[0]!.sha256).toBe(file.sha256);
    expect(sandbox.completeCalls.filter((call) => call.status === 201)).toHaveLength(1);
    expect(logged).toEqual([]);
  });

  it('lets `ferry upload --wait` follow another holder of the lock, then take over once it is released', async () => {
    const sandbox = fixtures.track(await startSelfCommunitySandbox());
    const dir = await dataDir();
    const added = await runFerry(dir, [
      'accounts',
      'add',
      'selfcommunity',
      '--name',
      'c',
      '--base-url',
      sandbox.url,
      '--secret',
      `accessToken=${sandbox.token}`,
    ]);
    expect(added.code, added.stderr).toBe(0);
    const file = await randomFile(await fixtures.tempDir('ferry-host-files-'), 'quay.png', 200_000);
    const other = acquireRunLock(dir);
    closers.push(() => other.release());
    const child = fixtures.spawnFerry(dir, ['upload', '--account', 'c', '--wait', file.path], { timeoutMs: 30_000 });
    await waitFor('the follower', () => /following its progress/.test(child.stderr), 15_000);
    // Nothing is uploaded while another process holds the lock.
    expect(sandbox.media).toHaveLength(0);
    other.release();
    const result = await child.exited;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /^ferry: Another Ferry \(pid \d+\) is already uploading from .*; following its progress\n$/,
    );
    expect(sandbox.media.map((media) => media.sha256)).toEqual([file.sha256]);
    expect(isLocked(dir)).toBe(false);
  }, 40_000);
});
