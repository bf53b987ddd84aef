/**
 * What the tray, the taskbar and the notifications show, decided without Electron: overall progress
 * over a batch of uploads, the tooltip and menu, batched notifications, and when the computer is
 * kept awake.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NotificationBatcher, describeBatch, type BatchedNotification } from '../../main/app/notificationBatcher.ts';
import {
  OverallProgress,
  syncSummary,
  trayMenu,
  trayView,
  type TrackedJob,
  type TrayMenuItem,
} from '../../main/app/overallProgress.ts';
import { PowerSaveSwitch } from '../../main/app/powerSave.ts';

const MB = 1024 * 1024;
const job = (id: number, state: TrackedJob['state'], size: number | null, bytesConfirmed = 0): TrackedJob => ({
  id,
  state,
  size,
  bytesConfirmed,
});

describe('overall progress', () => {
  it('is the bytes done over the bytes of the batch, finished jobs counted as done', () => {
    const progress = new OverallProgress();
    progress.job(job(1, 'queued', 100 * MB));
    progress.job(job(2, 'queued', 300 * MB));
    expect(progress.snapshot()).toEqual({ running: 2, finished: 0, total: 2, paused: 0, fraction: 0, failed: 0 });
    progress.job(job(1, 'uploading', 100 * MB));
    progress.progress([{ jobId: 1, bytesDone: 50 * MB, total: 100 * MB }]);
    expect(progress.snapshot().fraction).toBeCloseTo(50 / 400);
    progress.job(job(1, 'completed', 100 * MB, 100 * MB));
    progress.progress([{ jobId: 2, bytesDone: 100 * MB, total: 300 * MB }]);
    // Job 1 stays in the batch as done: the bar does not jump back when it leaves.
    expect(progress.snapshot()).toEqual({ running: 1, finished: 1, total: 2, paused: 0, fraction: 0.5, failed: 0 });
  });

  it('ends the batch (no bar) once nothing in it is left to do', () => {
    const progress = new OverallProgress();
    progress.job(job(1, 'uploading', 10));
    progress.job(job(2, 'uploading', 10));
    progress.job(job(1, 'completed', 10, 10));
    progress.job(job(2, 'failed', 10, 3));
    // The failure of the batch that ended is still told (the tray shows it until it is dealt with).
    expect(progress.snapshot()).toEqual({ running: 0, finished: 0, total: 0, paused: 0, fraction: null, failed: 1 });
    // The next upload starts a new batch from zero.
    progress.job(job(3, 'queued', 10));
    expect(progress.snapshot()).toMatchObject({ total: 1, fraction: 0, failed: 0 });
  });

  it('keeps the failures of the last batch until they are retried or removed', () => {
    const progress = new OverallProgress();
    progress.job(job(1, 'uploading', 10));
    progress.job(job(2, 'uploading', 10));
    progress.job(job(1, 'failed', 10));
    expect(progress.snapshot()).toMatchObject({ running: 1, failed: 1 });
    progress.job(job(2, 'failed', 10));
    expect(progress.snapshot()).toMatchObject({ running: 0, failed: 2 });
    progress.removed([2]);
    expect(progress.snapshot()).toMatchObject({ failed: 1 });
    // A retry starts a new batch: the old failure is no longer shown as one.
    progress.job(job(1, 'queued', 10));
    progress.job(job(1, 'completed', 10, 10));
    expect(progress.snapshot()).toMatchObject({ running: 0, failed: 0 });
  });

  it('counts paused jobs and jobs of a paused account apart from the batch', () => {
    const progress = new OverallProgress();
    progress.job(job(1, 'uploading', 10, 5));
    progress.job(job(2, 'queued', 10), true);
    progress.job(job(3, 'paused', 10));
    expect(progress.snapshot()).toMatchObject({ running: 1, paused: 2, fraction: 0.5 });
    progress.job(job(2, 'queued', 10), false);
    expect(progress.snapshot()).toMatchObject({ running: 2, paused: 1, fraction: 0.25 });
    progress.job(job(3, 'canceled', 10));
    progress.removed([2]);
    expect(progress.snapshot()).toMatchObject({ running: 1, paused: 0, total: 1 });
  });

  it('counts finished jobs when no job of the batch knows its size (URL imports)', () => {
    const progress = new OverallProgress();
    for (const id of [1, 2, 3, 4]) progress.job(job(id, 'processing', null));
    progress.job(job(1, 'completed', null));
    expect(progress.snapshot().fraction).toBe(0.25);
  });

  it('starts a job again from zero when its upload restarts with a new session', () => {
    const progress = new OverallProgress();
    progress.job(job(1, 'uploading', 100, 60));
    progress.job(job(2, 'uploading', 100, 0));
    progress.job(job(1, 'waiting', 100, 0));
    expect(progress.snapshot().fraction).toBe(0);
  });

  it('never shows more than 100% or less than 0%', () => {
    const progress = new OverallProgress();
    progress.job(job(1, 'uploading', 10));
    progress.job(job(2, 'uploading', 10));
    progress.progress([{ jobId: 1, bytesDone: 50, total: null }]);
    expect(progress.snapshot().fraction).toBe(0.5);
  });
});

describe('the tray', () => {
  const idle = { running: 0, finished: 0, total: 0, paused: 0, fraction: null, failed: 0 };
  const labels = (menu: TrayMenuItem[]): string[] =>
    menu.map((item) =>
      item.kind === 'separator'
        ? '---'
        : `${item.label}${item.enabled ? '' : ' (disabled)'}${item.kind === 'submenu' ? ` [${labels(item.items).join(', ')}]` : ''}`,
    );

  it('shows uploading with the percentage (rounded down) and how many uploads are done', () => {
    const view = trayView({ running: 3, finished: 2, total: 5, paused: 0, fraction: 0.4299, failed: 0 });
    expect(view).toMatchObject({
      state: 'uploading',
      tooltip: 'Ferry: uploading 42% · 2 of 5 uploads done',
      progressBar: 0.4299,
      canPauseAll: true,
      canResumeAll: false,
    });
    expect(trayView({ running: 1, finished: 1, total: 2, paused: 2, fraction: 0.999, failed: 1 }).tooltip).toBe(
      'Ferry: uploading 99% · 1 of 2 uploads done · 1 failed · 2 paused',
    );
  });

  it('is idle without a bar when nothing runs, and says which folders it watches', () => {
    expect(trayView(idle)).toEqual({
      state: 'idle',
      tooltip: 'Ferry: no uploads running',
      progressBar: -1,
      canPauseAll: false,
      canResumeAll: false,
      sync: 'none',
      recent: [],
    });
    expect(trayView(idle, { rules: 3, paused: 1, errors: [] })).toMatchObject({
      state: 'idle',
      tooltip: 'Ferry: idle · watching 2 folders',
      sync: 'active',
    });
  });

  it('is paused when uploads or every watched folder are paused', () => {
    expect(trayView({ ...idle, paused: 1 })).toMatchObject({
      state: 'paused',
      tooltip: 'Ferry: 1 upload paused',
      canResumeAll: true,
    });
    expect(trayView(idle, { rules: 2, paused: 2, errors: [] })).toMatchObject({
      state: 'paused',
      tooltip: 'Ferry: sync paused',
      sync: 'paused',
    });
  });

  it('is in error when a folder cannot be watched or the last uploads failed, with the reason', () => {
    const folder =
      'Cannot watch /home/me/Drop/Exports from the camera (sync rule #1): the folder does not exist (moved or deleted?); will try again';
    const view = trayView(idle, { rules: 1, paused: 0, errors: [folder] });
    expect(view.state).toBe('error');
    expect(view.tooltip.length).toBeLessThanOrEqual(120);
    expect(view.tooltip).toMatch(/^Ferry: Cannot watch \/home\/me\/Drop\/Exports .*…$/);
    expect(trayView({ ...idle, failed: 2 })).toMatchObject({ state: 'error', tooltip: 'Ferry: 2 uploads failed' });
    expect(trayView(idle, { rules: 2, paused: 0, errors: ['a', 'b'] }).tooltip).toBe(
      'Ferry: 2 folders cannot be watched',
    );
    // Uploading wins: the percent is what a person wants to see then; the trouble is still said.
    expect(
      trayView(
        { running: 1, finished: 0, total: 1, paused: 0, fraction: 0.5, failed: 0 },
        { rules: 1, paused: 0, errors: ['x'] },
      ),
    ).toMatchObject({
      state: 'uploading',
      tooltip: 'Ferry: uploading 50% · 0 of 1 upload done · x',
    });
  });

  it('sums up a sync rule list for the tray', () => {
    expect(
      syncSummary([
        { paused: false, status: 'watching', statusMessage: null },
        { paused: true, status: 'paused', statusMessage: null },
        { paused: false, status: 'error', statusMessage: 'Cannot watch /x' },
      ]),
    ).toEqual({ rules: 3, paused: 1, errors: ['Cannot watch /x'] });
  });

  it('has Open, Pause all, Resume all, Recent uploads and Quit, enabled when they can do something', () => {
    const menu = trayMenu(trayView({ running: 2, finished: 0, total: 2, paused: 0, fraction: 0, failed: 0 }));
    expect(labels(menu)).toEqual([
      'Open Ferry',
      '---',
      'Pause all',
      'Resume all (disabled)',
      '---',
      'Recent uploads (disabled) []',
      '---',
      'Quit Ferry',
    ]);
  });

  it('offers Pause sync or Resume sync with watched folders, and copies the link of a recent upload', () => {
    const recent = Array.from({ length: 7 }, (_, i) => ({
      jobId: i + 1,
      name: `photo-${i + 1}.png`,
      url: i === 1 ? null : `https://c.example/media/${i + 1}`,
    }));
    const active = trayMenu(trayView(idle, { rules: 1, paused: 0, errors: [] }, recent));
    expect(labels(active)).toEqual([
      'Open Ferry',
      '---',
      'Pause all (disabled)',
      'Resume all (disabled)',
      'Pause sync',
      '---',
      'Recent uploads [photo-1.png — copy link, photo-2.png (no link) (disabled), photo-3.png — copy link, photo-4.png — copy link, photo-5.png — copy link]',
      '---',
      'Quit Ferry',
    ]);
    const submenu = active.find((item) => item.kind === 'submenu');
    expect(submenu?.kind === 'submenu' && submenu.items[0]).toMatchObject({
      action: { type: 'copy-link', url: 'https://c.example/media/1', name: 'photo-1.png' },
    });
    expect(active.find((item) => item.kind === 'item' && item.label === 'Pause sync')).toMatchObject({
      action: { type: 'pause-sync' },
    });
    const paused = trayMenu(trayView(idle, { rules: 2, paused: 2, errors: [] }));
    expect(paused.find((item) => item.kind === 'item' && item.label === 'Resume sync')).toMatchObject({
      action: { type: 'resume-sync' },
      enabled: true,
    });
  });
});

describe('batched notifications', () => {
  let shown: BatchedNotification[];
  let enabled: boolean;
  let batcher: NotificationBatcher;

  beforeEach(() => {
    vi.useFakeTimers();
    shown = [];
    enabled = true;
    batcher = new NotificationBatcher({
      notify: (n) => shown.push(n),
      enabled: () => enabled,
      quietMs: 3_000,
      maxWaitMs: 15_000,
    });
  });
  afterEach(() => {
    batcher.close();
    vi.useRealTimers();
  });

  it('gathers uploads that finish close together into one notification', () => {
    for (let id = 1; id <= 12; id += 1) {
      batcher.record({ id, name: `photo-${id}.jpg`, state: 'completed' });
      vi.advanceTimersByTime(500);
    }
    batcher.record({ id: 13, name: 'clip.mp4', state: 'failed' });
    expect(shown).toEqual([]);
    vi.advanceTimersByTime(2_999);
    expect(shown).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(shown).toEqual([{ title: 'Uploads finished', body: '12 uploads finished, 1 failed' }]);
  });

  it('reports a long stream at least every maxWait', () => {
    for (let id = 1; id <= 40; id += 1) {
      batcher.record({ id, name: `f${id}`, state: 'completed' });
      vi.advanceTimersByTime(1_000);
    }
    expect(shown.length).toBeGreaterThanOrEqual(2);
    expect(shown[0]).toEqual({ title: 'Uploads finished', body: '15 uploads finished' });
  });

  it('counts a job once, as it ended', () => {
    batcher.record({ id: 1, name: 'a.png', state: 'failed' });
    batcher.record({ id: 1, name: 'a.png', state: 'completed' });
    vi.runAllTimers();
    expect(shown).toEqual([{ title: 'Upload finished', body: 'a.png was uploaded' }]);
  });

  it('respects the notifications setting, also when it is turned off during a batch', () => {
    enabled = false;
    batcher.record({ id: 1, name: 'a.png', state: 'completed' });
    vi.runAllTimers();
    enabled = true;
    batcher.record({ id: 2, name: 'b.png', state: 'completed' });
    enabled = false;
    vi.runAllTimers();
    expect(shown).toEqual([]);
  });

  it('words single failures and all-failed batches without error details', () => {
    expect(describeBatch([{ id: 1, name: 'a.png', state: 'failed' }])).toEqual({
      title: 'Upload failed',
      body: 'a.png could not be uploaded; Ferry shows why',
    });
    expect(
      describeBatch([
        { id: 1, name: 'a', state: 'failed' },
        { id: 2, name: 'b', state: 'failed' },
      ]),
    ).toEqual({ title: 'Uploads failed', body: '2 uploads failed; Ferry shows why' });
  });
});

describe('the power-save blocker', () => {
  it('is started once while uploading and stopped when idle', () => {
    const calls: string[] = [];
    let next = 41;
    const power = new PowerSaveSwitch({
      start: (type) => {
        calls.push(`start ${type}`);
        return (next += 1);
      },
      stop: (id) => calls.push(`stop ${id}`),
    });
    power.update(false);
    power.update(true);
    power.update(true);
    expect(power.blocking).toBe(true);
    power.update(false);
    power.update(false);
    power.update(true);
    expect(calls).toEqual(['start prevent-app-suspension', 'stop 42', 'start prevent-app-suspension']);
  });
});
