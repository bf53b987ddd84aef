/**
 * Jobs through the API: enqueue files and folders, list with paging, filters and search, get with
 * the attempts timeline, the control commands by id and for all, move to top, and the jobs.changed
 * events that follow. Finished with a real engine run against the SelfCommunity emulator.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, JobView } from '../../main/api/contract.ts';
import { FerryApi } from '../../main/api/ferryApi.ts';
import { startSelfCommunitySandbox, type SelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { Fixtures, randomFile, sleep, waitFor, type EngineHandle } from '../support/ferryHarness.ts';

const fixtures = new Fixtures();
let handle: EngineHandle;
let api: FerryApi;
let sandbox: SelfCommunitySandbox;
let dir: string;
const events: ApiEvent[] = [];

function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: { code: string; message: string } }): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

beforeAll(async () => {
  sandbox = fixtures.track(await startSelfCommunitySandbox());
  dir = await fixtures.tempDir('ferry-api-jobs-');
  handle = fixtures.openEngine(join(dir, 'data'));
  api = new FerryApi({
    queue: handle.queue,
    db: handle.db,
    dataDir: handle.dir,
    progress: handle.engine,
    jobsChangedDelayMs: 5,
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
});

afterAll(async () => {
  api.close();
  await fixtures.cleanup();
});

describe('jobs', () => {
  let queued: JobView[] = [];

  it('enqueues files and folders for an account, all or nothing', async () => {
    const folder = join(dir, 'album');
    await mkdir(folder);
    await randomFile(folder, 'b.png', 300);
    await randomFile(folder, 'a.png', 200);
    await randomFile(folder, '.hidden.png', 10);
    const single = await randomFile(dir, 'cover.jpg', 100);
    queued = unwrap(
      await api.invoke('jobs.enqueue', {
        account: 'community',
        paths: [single.path, folder],
        options: { type: 'image' },
      }),
    );
    expect(queued.map((job) => job.name)).toEqual(['cover.jpg', 'a.png', 'b.png']);
    expect(queued[0]).toMatchObject({
      state: 'queued',
      accountName: 'community',
      provider: 'selfcommunity',
      options: { type: 'image' },
      staged: false,
    });
    expect(queued[0]).not.toHaveProperty('session');

    const bad = await api.invoke('jobs.enqueue', {
      account: 'community',
      paths: [single.path, join(dir, 'missing.png')],
    });
    expect(bad).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT', message: expect.stringMatching(/missing\.png/) },
    });
    const text = await randomFile(dir, 'notes.txt', 10);
    const unsupported = await api.invoke('jobs.enqueue', { account: 'community', paths: [text.path] });
    expect(unsupported).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT', message: expect.stringMatching(/notes\.txt/) },
    });
    expect(await api.invoke('jobs.enqueue', { account: 'nobody', paths: [single.path] })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    expect(unwrap(await api.invoke('jobs.list', {})).total).toBe(3);
  });

  it('lists with paging, state and account filters and text search', async () => {
    const firstPage = unwrap(await api.invoke('jobs.list', { limit: 2 }));
    expect(firstPage.total).toBe(3);
    expect(firstPage.items.map((job) => job.name)).toEqual(['cover.jpg', 'a.png']);
    const secondPage = unwrap(await api.invoke('jobs.list', { limit: 2, offset: 2 }));
    expect(secondPage.items.map((job) => job.name)).toEqual(['b.png']);
    expect(unwrap(await api.invoke('jobs.list', { search: 'COVER' })).items.map((job) => job.name)).toEqual([
      'cover.jpg',
    ]);
    expect(unwrap(await api.invoke('jobs.list', { search: '%' })).total).toBe(0);
    expect(unwrap(await api.invoke('jobs.list', { states: ['paused'] })).total).toBe(0);
    expect(unwrap(await api.invoke('jobs.list', { accountId: queued[0]!.accountId })).total).toBe(3);
    expect(unwrap(await api.invoke('jobs.list', { accountId: 999 })).total).toBe(0);
  });

  it('pauses, resumes, cancels, retries and moves to top by id, reporting each refusal', async () => {
    const [cover, a, b] = queued.map((job) => job.id) as [number, number, number];
    const paused = unwrap(await api.invoke('jobs.pause', { ids: [cover, a, 424242] }));
    expect(paused.jobs.map((job) => [job.id, job.state])).toEqual([
      [cover, 'paused'],
      [a, 'paused'],
    ]);
    expect(paused.errors).toEqual([{ id: 424242, code: 'NOT_FOUND', message: 'No job 424242' }]);
    const resumed = unwrap(await api.invoke('jobs.resumeAll', undefined));
    expect(resumed.jobs.map((job) => job.id).sort()).toEqual([cover, a].sort());
    const canceled = unwrap(await api.invoke('jobs.cancel', { ids: [b] }));
    expect(canceled.jobs[0]!.state).toBe('canceled');
    const resumeCanceled = unwrap(await api.invoke('jobs.resume', { ids: [b] }));
    expect(resumeCanceled.jobs[0]!.state).toBe('canceled'); // nothing to resume; retry is the way back
    const retried = unwrap(await api.invoke('jobs.retry', { ids: [b, cover] }));
    expect(retried.jobs.map((job) => job.state)).toEqual(['queued']);
    expect(retried.errors).toMatchObject([{ id: cover, code: 'CONFLICT' }]);

    unwrap(await api.invoke('jobs.moveToTop', { ids: [b, a] }));
    const order = unwrap(await api.invoke('jobs.list', {})).items.map((job) => job.id);
    expect(order).toEqual([b, a, cover]);

    const detail = unwrap(await api.invoke('jobs.get', { id: b }));
    expect(detail.timeline.map((entry) => entry.message)).toEqual([
      'Queued for community',
      'Canceled',
      'Retry requested',
    ]);
    expect(detail.job.id).toBe(b);
    expect(await api.invoke('jobs.get', { id: 424242 })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });

    await sleep(30);
    const changedIds = new Set(
      events.flatMap((event) => (event.event === 'jobs.changed' ? event.payload.jobs.map((job) => job.id) : [])),
    );
    expect([...changedIds].sort()).toEqual([cover, a, b].sort());
  });

  it('pauses everything at once and removes jobs that are not running', async () => {
    const all = unwrap(await api.invoke('jobs.pauseAll', {}));
    expect(all.jobs).toHaveLength(3);
    const [first] = queued;
    const removed = unwrap(await api.invoke('jobs.remove', { ids: [first!.id, 424242] }));
    expect(removed).toEqual({
      removed: [first!.id],
      errors: [{ id: 424242, code: 'NOT_FOUND', message: 'No job 424242' }],
    });
    await sleep(30);
    expect(events.some((event) => event.event === 'jobs.changed' && event.payload.removed.includes(first!.id))).toBe(
      true,
    );
    expect(unwrap(await api.invoke('jobs.list', {})).total).toBe(2);
  });

  it('runs the queue with the engine: completed jobs carry their result, progress is reported', async () => {
    unwrap(await api.invoke('jobs.resumeAll', {}));
    const big = await randomFile(dir, 'big.png', 700_000);
    const [job] = unwrap(await api.invoke('jobs.enqueue', { account: 'community', paths: [big.path] }));
    handle.engine.start();
    await waitFor(
      'every job to complete',
      async () => {
        const page = unwrap(await api.invoke('jobs.list', {}));
        return page.items.every((item) => item.state === 'completed');
      },
      20_000,
    );
    const detail = unwrap(await api.invoke('jobs.get', { id: job!.id }));
    expect(detail.job.result?.remoteId).toBeTruthy();
    expect(detail.timeline.some((entry) => entry.message.startsWith('Attempt 1'))).toBe(true);
    expect(detail.partsAcknowledged).toBe(4);
    expect(sandbox.media.map((media) => media.sha256)).toContain(big.sha256);
    await sleep(200);
    expect(
      events.some((event) => event.event === 'progress' && event.payload.some((item) => item.jobId === job!.id)),
    ).toBe(true);
    const history = unwrap(await api.invoke('history.list', {}));
    expect(history.total).toBe(3);
  });
});
