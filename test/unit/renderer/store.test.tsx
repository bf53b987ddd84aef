// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setTransport } from '../../../renderer/store/api.ts';
import { applyJobsChanged, applyProgress, connectEvents } from '../../../renderer/store/connectEvents.ts';
import { selectAllJobs, selectedIds, toggleSelected } from '../../../renderer/store/jobActions.ts';
import { jobIdAt, setQueueFilter, showRange } from '../../../renderer/store/lists.ts';
import { choosePickerAccount, judge, LAST_ACCOUNT_KEY, openPicker } from '../../../renderer/store/picker.ts';
import { PAGE_SIZE } from '../../../renderer/store/slices.ts';
import { ferryStore, resetFerryStore } from '../../../renderer/store/store.ts';
import { account, fakeTransport, job, listOf, SELFCOMMUNITY } from './fakeTransport.tsx';

const ACCOUNT = account(1, { baseUrl: 'https://c.example', secrets: { accessToken: 'set' } });

beforeEach(() => {
  resetFerryStore();
  localStorage.clear();
});

afterEach(() => {
  setTransport(null);
  vi.useRealTimers();
});

describe('the jobs slice', () => {
  it('replaces only the progress entries a message names, so other rows keep their state object', () => {
    applyProgress([
      { jobId: 1, bytesDone: 10, total: 100, bytesPerSecond: 5 },
      { jobId: 2, bytesDone: 20, total: 100, bytesPerSecond: 5 },
    ]);
    const before = ferryStore.getState().progress;
    applyProgress([{ jobId: 1, bytesDone: 30, total: 100, bytesPerSecond: 7 }]);
    const after = ferryStore.getState().progress;
    expect(after[1]).toEqual({ jobId: 1, bytesDone: 30, total: 100, bytesPerSecond: 7 });
    expect(after[2]).toBe(before[2]);
  });

  it('merges changed rows it shows, and forgets the speed of a job that stopped uploading', async () => {
    setTransport(fakeTransport({ 'jobs.list': listOf(3) }));
    await showRange('queue', 0, 2);
    applyProgress([{ jobId: 2, bytesDone: 500, total: 1_000_000, bytesPerSecond: 100 }]);
    applyJobsChanged({ jobs: [job(2, { state: 'paused', bytesConfirmed: 400 })], removed: [] });
    const state = ferryStore.getState();
    expect(state.jobs.get(2)?.state).toBe('paused');
    expect(state.progress[2]).toBeUndefined();
  });

  it('drops removed jobs from the cache, the selection and the details panel', async () => {
    setTransport(fakeTransport({ 'jobs.list': listOf(3) }));
    await showRange('queue', 0, 2);
    toggleSelected(3, true);
    ferryStore.setState({ detailsId: 3 });
    applyJobsChanged({ jobs: [], removed: [3] });
    const state = ferryStore.getState();
    expect(state.jobs.get(3)).toBeUndefined();
    expect(state.selection[3]).toBeUndefined();
    expect(state.detailsId).toBeNull();
  });

  it('follows events from the transport once connected', () => {
    const transport = fakeTransport({});
    setTransport(transport);
    const stop = connectEvents(transport);
    transport.emit('accounts.changed', [ACCOUNT]);
    transport.emit('progress', [{ jobId: 9, bytesDone: 1, total: 2, bytesPerSecond: 3 }]);
    expect(ferryStore.getState().accounts).toEqual([ACCOUNT]);
    expect(ferryStore.getState().progress[9]?.bytesPerSecond).toBe(3);
    expect(ferryStore.getState().connection).toBe('open');
    stop();
  });
});

describe('the windowed queue', () => {
  it('reads only the pages near the screen of a 100,000-job queue', async () => {
    const transport = fakeTransport({ 'jobs.list': listOf(100_000) });
    setTransport(transport);
    await showRange('queue', 50_000, 50_020);
    const state = ferryStore.getState();
    expect(state.queue.total).toBe(100_000);
    expect(transport.calls).toHaveLength(1);
    expect(transport.calls[0]?.input).toEqual({ limit: PAGE_SIZE, offset: 250 * PAGE_SIZE });
    expect(jobIdAt(state.queue, 50_000)).toBe(50_001);
    expect(jobIdAt(state.queue, 0)).toBeUndefined();
    expect(state.jobs.size).toBe(PAGE_SIZE);
  });

  it('reads the next page ahead while scrolling towards it, and the one before when scrolling back', async () => {
    const transport = fakeTransport({ 'jobs.list': listOf(100_000) });
    setTransport(transport);
    const offsets = () =>
      transport.calls.filter((c) => c.command === 'jobs.list').map((c) => (c.input as { offset?: number }).offset);
    await showRange('queue', 0, 20);
    await showRange('queue', 60, 80);
    expect(offsets()).toEqual([0]);
    // Rows 120–140 are on page 0; page 1 starts 60 rows below them.
    await showRange('queue', 120, 140);
    expect(offsets()).toEqual([0, PAGE_SIZE]);
    expect(jobIdAt(ferryStore.getState().queue, PAGE_SIZE)).toBe(PAGE_SIZE + 1);
    // A jump down to the end of page 250 (page 251 is near), then back up towards the start of page 250.
    await showRange('queue', 50_150, 50_170);
    expect(offsets().slice(2)).toEqual([250 * PAGE_SIZE, 251 * PAGE_SIZE]);
    await showRange('queue', 50_040, 50_060);
    expect(offsets().slice(4)).toEqual([249 * PAGE_SIZE]);
  });

  it('drops pages far from the screen and prunes their rows from the cache', async () => {
    setTransport(fakeTransport({ 'jobs.list': listOf(100_000) }));
    for (let start = 0; start < 40_000; start += 2_000) await showRange('queue', start, start + 20);
    const state = ferryStore.getState();
    expect(Object.keys(state.queue.pages).length).toBeLessThanOrEqual(8);
    expect(state.jobs.size).toBeLessThanOrEqual(40 * PAGE_SIZE);
    expect(jobIdAt(state.queue, 38_000)).toBe(38_001);
  });

  it('starts over with the filter sent to the server', async () => {
    const transport = fakeTransport({ 'jobs.list': listOf(5) });
    setTransport(transport);
    await setQueueFilter({ state: 'failed', search: ' harbour ' });
    expect(transport.calls.at(-1)?.input).toEqual({
      states: ['failed'],
      search: 'harbour',
      limit: PAGE_SIZE,
      offset: 0,
    });
    expect(ferryStore.getState().queue.generation).toBe(1);
  });

  it('"select all" means every row of the filter, read from the server page by page', async () => {
    const transport = fakeTransport({ 'jobs.list': listOf(2_500) });
    setTransport(transport);
    await showRange('queue', 0, 10);
    selectAllJobs();
    const ids = await selectedIds();
    expect(ids).toHaveLength(2_500);
    expect(ids[2_499]).toBe(2_500);
  });
});

describe('the drop picker', () => {
  it('remembers the last account chosen', () => {
    ferryStore.setState({ accounts: [ACCOUNT, { ...ACCOUNT, id: 2, name: 'second' }], providers: [SELFCOMMUNITY] });
    openPicker({ files: [new File(['x'], 'a.png', { type: 'image/png' })], urls: [] });
    expect(ferryStore.getState().picker?.accountName).toBe('community');
    choosePickerAccount('second');
    expect(localStorage.getItem(LAST_ACCOUNT_KEY)).toBe('second');
    ferryStore.setState({ picker: null });
    openPicker({ files: [new File(['x'], 'b.png', { type: 'image/png' })], urls: [] });
    expect(ferryStore.getState().picker?.accountName).toBe('second');
  });

  it('refuses what the provider cannot take, with the reason, before anything is queued', () => {
    ferryStore.setState({ accounts: [ACCOUNT], providers: [SELFCOMMUNITY] });
    openPicker({
      files: [
        new File(['x'], 'ok.png', { type: 'image/png' }),
        new File(['hello'], 'notes.txt', { type: 'text/plain' }),
        new File([], 'empty.png'),
      ],
      urls: ['https://example.com/clip.mp4'],
    });
    const verdicts = judge(ferryStore.getState().picker!.items, SELFCOMMUNITY);
    expect(verdicts.map((v) => v.reason === null)).toEqual([true, false, false, false]);
    expect(verdicts[1]?.reason).toContain('SelfCommunity takes images, PDF documents');
    expect(verdicts[2]?.reason).toContain('empty');
    expect(verdicts[3]?.reason).toContain('uploads local files, not links');
  });
});
