/**
 * Watched folders through the API: sync.add/list/pause/resume/pauseAll/resumeAll/remove with a real
 * SyncService (real folder, real chokidar watcher), a real Engine and the SelfCommunity emulator.
 * What the emulator received is the proof of an upload; the sync.changed events are checked for the
 * status and counts a UI shows. Also jobs.summary, the queue header's exact totals.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, ApiResult, SyncRuleInfo } from '../../main/api/contract.ts';
import { FerryApi } from '../../main/api/ferryApi.ts';
import { SyncService } from '../../main/sync/syncService.ts';
import { startSelfCommunitySandbox, type SelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { Fixtures, randomFile, sleep, waitFor, type EngineHandle } from '../support/ferryHarness.ts';

const fixtures = new Fixtures();
let handle: EngineHandle;
let api: FerryApi;
let sync: SyncService;
let sandbox: SelfCommunitySandbox;
let watched: string;
let ruleId: number;
const events: ApiEvent[] = [];

function unwrap<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

/** The latest sync.changed payload's rule `id`. */
function lastSent(id: number): SyncRuleInfo | undefined {
  for (let i = events.length - 1; i >= 0; i -= 1) {
    const event = events[i]!;
    if (event.event === 'sync.changed') return event.payload.find((rule) => rule.id === id);
  }
  return undefined;
}

beforeAll(async () => {
  sandbox = fixtures.track(await startSelfCommunitySandbox());
  const dir = await fixtures.tempDir('ferry-api-sync-');
  watched = await fixtures.tempDir('ferry-api-sync-watched-');
  handle = fixtures.openEngine(join(dir, 'data'));
  sync = new SyncService({
    queue: handle.queue,
    db: handle.db,
    stableChecks: 2,
    stableIntervalMs: 100,
    batchDelayMs: 50,
    rulesPollMs: 60_000,
    rescanIntervalMs: 60_000,
  });
  sync.on('error', (error) => console.warn(`sync: ${error.message}`));
  await sync.start();
  api = new FerryApi({
    queue: handle.queue,
    db: handle.db,
    dataDir: handle.dir,
    progress: handle.engine,
    sync,
    jobsChangedDelayMs: 5,
    syncChangedDelayMs: 20,
  });
  await api.start();
  api.subscribe((event) => void events.push(event));
  unwrap(
    await api.invoke('accounts.add', {
      provider: 'selfcommunity',
      name: 'community',
      baseUrl: sandbox.url,
      secrets: { accessToken: sandbox.token },
    }),
  );
  unwrap(
    await api.invoke('accounts.add', {
      provider: 'oktopost',
      name: 'social',
      secrets: { accountId: 'a', apiKey: 'k' },
    }),
  );
  handle.engine.start();
});

afterAll(async () => {
  api.close();
  await sync.stop();
  await fixtures.cleanup();
});

describe('watched folders over the API', () => {
  it('refuses unknown accounts, URL-only accounts, missing folders and a folder watched twice', async () => {
    expect(await api.invoke('sync.add', { account: 'nobody', dir: watched })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    expect(await api.invoke('sync.add', { account: 'social', dir: watched })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT', message: expect.stringMatching(/cannot take files from a watched folder/) },
    });
    const file = await randomFile(watched, '..not-a-folder.png', 10);
    expect(await api.invoke('sync.add', { account: 'community', dir: file.path })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT', message: expect.stringMatching(/not a folder/) },
    });
    expect(unwrap(await api.invoke('sync.list', undefined))).toEqual([]);
  });

  it('adds a rule, which starts watching and says so in sync.changed', async () => {
    const added = unwrap(
      await api.invoke('sync.add', { account: 'community', dir: watched, exclude: ['*.tmp.png'], afterUpload: 'keep' }),
    );
    ruleId = added.id;
    expect(added).toMatchObject({
      accountName: 'community',
      provider: 'selfcommunity',
      include: [],
      exclude: ['*.tmp.png'],
      recursive: true,
      afterUpload: 'keep',
      moveTo: null,
      paused: false,
      counts: { uploaded: 0, queued: 0, pending: 0, refused: 0, failed: 0, duplicate: 0 },
    });
    expect(['starting', 'watching']).toContain(added.status);
    await waitFor('sync.changed with the rule watching', () => lastSent(ruleId)?.status === 'watching');
    expect(await api.invoke('sync.add', { account: 'community', dir: watched })).toMatchObject({
      ok: false,
      error: { code: 'CONFLICT', message: expect.stringMatching(/already watched/) },
    });
  });

  it('uploads a file dropped into the folder, and counts it', async () => {
    const photo = await randomFile(watched, 'harbour.png', 300_000);
    await waitFor(
      'the emulator to receive harbour.png',
      () => sandbox.media.some((media) => media.sha256 === photo.sha256),
      15_000,
    );
    await waitFor('sync.changed to count the upload', () => lastSent(ruleId)?.counts.uploaded === 1, 10_000);
    const [rule] = unwrap(await api.invoke('sync.list', {}));
    expect(rule).toMatchObject({
      id: ruleId,
      status: 'watching',
      counts: { uploaded: 1, queued: 0, pending: 0, failed: 0 },
    });
    // The job is an ordinary one: the queue shows it completed.
    const jobs = unwrap(await api.invoke('jobs.list', { states: ['completed'] }));
    expect(jobs.items.map((job) => job.name)).toEqual(['harbour.png']);
  });

  it('stops uploading new files while the rule is paused, and catches up when it is resumed', async () => {
    const paused = unwrap(await api.invoke('sync.pause', { id: ruleId }));
    expect(paused).toMatchObject({ paused: true, status: 'paused' });
    await waitFor('sync.changed with the rule paused', () => lastSent(ruleId)?.status === 'paused');
    await sync.whenSettled();
    const before = sandbox.media.length;
    const late = await randomFile(watched, 'lighthouse.png', 50_000);
    // Several stability windows: a watching rule would have queued it by now.
    await sleep(800);
    await sync.rescan();
    expect(sandbox.media.length).toBe(before);
    expect(unwrap(await api.invoke('jobs.list', {})).total).toBe(1);

    const resumed = unwrap(await api.invoke('sync.resume', { id: ruleId }));
    expect(resumed.paused).toBe(false);
    await waitFor(
      'lighthouse.png to be uploaded after resume',
      () => sandbox.media.some((media) => media.sha256 === late.sha256),
      15_000,
    );
    await waitFor('sync.changed to count two uploads', () => lastSent(ruleId)?.counts.uploaded === 2, 10_000);
  });

  it('pauses and resumes every rule at once', async () => {
    const all = unwrap(await api.invoke('sync.pauseAll', {}));
    expect(all.map((rule) => rule.status)).toEqual(['paused']);
    const back = unwrap(await api.invoke('sync.resumeAll', undefined));
    expect(back.map((rule) => rule.paused)).toEqual([false]);
    await waitFor('the rule watching again', () => lastSent(ruleId)?.status === 'watching');
  });

  it('reports a folder that cannot be watched as an error with the reason', async () => {
    const gone = join(await fixtures.tempDir('ferry-api-sync-gone-'), 'camera');
    const { mkdir, rm } = await import('node:fs/promises');
    await mkdir(gone);
    const rule = unwrap(await api.invoke('sync.add', { account: 'community', dir: gone }));
    await waitFor('the new rule watching', () => lastSent(rule.id)?.status === 'watching');
    unwrap(await api.invoke('sync.pause', { id: rule.id }));
    await rm(gone, { recursive: true });
    unwrap(await api.invoke('sync.resume', { id: rule.id }));
    await waitFor('the rule in error', () => lastSent(rule.id)?.status === 'error');
    expect(lastSent(rule.id)?.statusMessage).toMatch(/does not exist/);
    expect(unwrap(await api.invoke('sync.remove', { id: rule.id }))).toEqual({ removed: rule.id });
  });

  it('removes a rule: it is gone from the list and refused afterwards', async () => {
    expect(unwrap(await api.invoke('sync.remove', { id: ruleId }))).toEqual({ removed: ruleId });
    expect(unwrap(await api.invoke('sync.list', {}))).toEqual([]);
    await waitFor('sync.changed with no rules', () => {
      const last = events.findLast((event) => event.event === 'sync.changed');
      return last?.event === 'sync.changed' && last.payload.length === 0;
    });
    for (const command of ['sync.remove', 'sync.pause', 'sync.resume'] as const) {
      expect(await api.invoke(command, { id: ruleId })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    }
    // Files written now are not uploaded.
    await writeFile(join(watched, 'after-removal.png'), Buffer.alloc(2000, 3));
    await sleep(500);
    expect(unwrap(await api.invoke('jobs.list', {})).total).toBe(2);
  });
});

describe('jobs.summary', () => {
  it('gives exact counts and bytes per state and overall, matching the rows', async () => {
    const dir = await fixtures.tempDir('ferry-api-summary-');
    const a = await randomFile(dir, 'a.png', 1234);
    const b = await randomFile(dir, 'b.png', 4321);
    unwrap(await api.invoke('accounts.pause', { account: 'community' }));
    const queued = unwrap(await api.invoke('jobs.enqueue', { account: 'community', paths: [a.path, b.path] }));
    unwrap(await api.invoke('jobs.pause', { ids: [queued[1]!.id] }));
    unwrap(await api.invoke('jobs.enqueue', { account: 'social', paths: ['https://cdn.example/clip.mp4'] }));

    const summary = unwrap(await api.invoke('jobs.summary', undefined));
    const rows = unwrap(await api.invoke('jobs.list', { limit: 1000 })).items;
    for (const [state, tally] of Object.entries(summary.states)) {
      const of = rows.filter((job) => job.state === state);
      expect(tally, state).toEqual({
        count: of.length,
        bytesTotal: of.reduce((sum, job) => sum + (job.size ?? 0), 0),
        bytesConfirmed: of.reduce((sum, job) => sum + Math.min(job.bytesConfirmed, job.size ?? job.bytesConfirmed), 0),
        sizeUnknown: of.filter((job) => job.size === null).length,
      });
    }
    expect(summary.states.completed).toMatchObject({ count: 2, bytesTotal: 350_000, bytesConfirmed: 350_000 });
    expect(summary.states.queued).toMatchObject({ count: 2, bytesTotal: 1234, bytesConfirmed: 0, sizeUnknown: 1 });
    expect(summary.states.paused).toMatchObject({ count: 1, bytesTotal: 4321 });
    expect(summary.all).toEqual({
      count: 5,
      bytesTotal: 350_000 + 1234 + 4321,
      bytesConfirmed: 350_000,
      sizeUnknown: 1,
    });
  });
});
