/**
 * The desktop app without Electron: the API table, the engine (with the data folder's run lock, and
 * restarted when the concurrency setting changes), watched folders, the overall progress shown in
 * the tray and the taskbar, batched notifications, the power-save decision, the start-at-login
 * setting, and files handed over from outside. It mirrors `startServe` (main/serve/serve.ts) and
 * `ferry run`; `index.ts` puts Electron around it through the `DesktopShell` port.
 *
 * When another process (a `ferry run` in a terminal) holds the run lock, the app still shows and
 * changes the queue, and follows that process's job changes through the database, like `ferry serve`.
 */
import type { ApiEvent, ApiResult, RemoveResult } from '../api/contract.ts';
import { FerryApi } from '../api/ferryApi.ts';
import { followQueueChanges } from '../api/followQueue.ts';
import { syncRuleInfos } from '../api/syncViews.ts';
import type { Job } from '../db/jobsRepository.ts';
import { Engine, type EngineOptions, type ProgressUpdate } from '../engine/engine.ts';
import type { JobState } from '../core/jobState.ts';
import type { Queue } from '../engine/queue.ts';
import { LockedError, acquireRunLock, type RunLock } from '../engine/runLock.ts';
import { SyncService, type SyncServiceOptions } from '../sync/syncService.ts';
import { FileIntake, type IntakeOutcome } from './fileIntake.ts';
import { LastAccountStore } from './lastAccount.ts';
import { NotificationBatcher, type BatchedNotification } from './notificationBatcher.ts';
import {
  NO_SYNC,
  OverallProgress,
  RECENT_UPLOADS,
  syncSummary,
  trayView,
  type RecentUpload,
  type SyncSummary,
  type TrayAction,
  type TrayView,
} from './overallProgress.ts';

/** What the core asks of the Electron side (fakes in tests). */
export interface DesktopShell {
  /** Brings the window up (creating it if needed). */
  showWindow(): void;
  /** Tray tooltip and menu state, and the taskbar/dock progress bar. */
  showStatus(view: TrayView): void;
  notify(notification: BatchedNotification): void;
  /** Puts text on the system clipboard (a link from "Recent uploads"). */
  copyText(text: string): void;
  /** Keeps the computer awake while true. */
  setUploading(uploading: boolean): void;
  setStartAtLogin(enabled: boolean): void;
}

export interface DesktopCoreOptions {
  dataDir: string;
  queue: Queue;
  shell: DesktopShell;
  version: string;
  log: (message: string, error?: unknown) => void;
  /** Engine tuning (tests); `maxJobsInFlight` here wins over the setting. */
  engineOptions?: Omit<EngineOptions, 'queue'>;
  syncOptions?: Omit<SyncServiceOptions, 'queue'>;
  notifications?: { quietMs?: number; maxWaitMs?: number };
  /** Longest wait between a change and the tray/taskbar showing it (default 250 ms). */
  statusDelayMs?: number;
  /** How often the database is read for another process's changes when it runs the engine. */
  followIntervalMs?: number;
}

export interface DesktopCore {
  readonly api: FerryApi;
  /** The engine of this process, or null when another process holds the run lock. */
  readonly engine: Engine | null;
  readonly engineNote: string | null;
  readonly intake: FileIntake;
  /** The IPC entry point: `api.call`, plus remembering the account of each upload from the window. */
  call(command: string, input: unknown): Promise<ApiResult<unknown>>;
  /** Files from outside the window (second launch, app icon), as absolute paths. */
  receiveFiles(paths: readonly string[]): Promise<IntakeOutcome>;
  pauseAll(): Promise<void>;
  resumeAll(): Promise<void>;
  /** Carries out a tray menu action; `quit` is the caller's (it owns the app's life). */
  trayAction(action: Exclude<TrayAction, { type: 'quit' }>): Promise<void>;
  /** What the tray shows now. */
  status(): TrayView;
  /**
   * Stops watching folders, then the engine (requests in flight are aborted; their jobs go back to
   * the queue and resume from their last acknowledged part next time), then the API, and releases
   * the run lock. The caller closes the database afterwards.
   */
  close(): Promise<void>;
}

export async function startDesktopCore(options: DesktopCoreOptions): Promise<DesktopCore> {
  const { queue, dataDir, shell, log } = options;

  let lock: RunLock | null = null;
  let engineNote: string | null = null;
  try {
    lock = acquireRunLock(dataDir);
  } catch (error) {
    if (!(error instanceof LockedError)) throw error;
    engineNote = `${error.message}: this window shows and changes the queue, and that process does the uploading`;
  }

  const api = new FerryApi({ queue, dataDir, engine: { running: lock !== null, note: engineNote }, version: options.version, log });
  const lastAccount = new LastAccountStore(queue.db);
  const intake = new FileIntake({
    queue,
    enqueue: (account, paths) => api.invoke('jobs.enqueue', { account, paths }),
    lastAccount,
    notice: (level, message) => api.notice(level, message),
    showWindow: () => shell.showWindow(),
  });

  // Tray, taskbar, power save ---------------------------------------------------------------------

  const progress = new OverallProgress();
  let statusTimer: NodeJS.Timeout | undefined;
  let syncState: SyncSummary = NO_SYNC;
  /** The last uploads that completed, newest first, for the tray's "Recent uploads". */
  let recent: RecentUpload[] = queue.jobs
    .list({ states: ['completed'], order: 'finished', limit: RECENT_UPLOADS })
    .map((job) => ({ jobId: job.id, name: job.name, url: job.result?.url ?? null }));
  let lastStatus = trayView(progress.snapshot(), syncState, recent);
  let closed = false;
  const publishStatus = (): void => {
    clearTimeout(statusTimer);
    statusTimer = undefined;
    if (closed) return;
    const snapshot = progress.snapshot();
    lastStatus = trayView(snapshot, syncState, recent);
    shell.showStatus(lastStatus);
    // Only the process that uploads keeps the computer awake.
    shell.setUploading(engine !== null && snapshot.running > 0);
  };
  const statusSoon = (): void => {
    statusTimer ??= setTimeout(publishStatus, options.statusDelayMs ?? 250);
  };
  const accountPaused = (accountId: number): boolean => queue.accounts.get(accountId)?.paused ?? false;
  const track = (job: Job): void => {
    progress.job(job, accountPaused(job.accountId));
    statusSoon();
  };
  const trackAll = (): void => {
    const pending: JobState[] = ['queued', 'uploading', 'waiting', 'finalizing', 'processing', 'paused'];
    for (const job of queue.jobs.list({ states: pending })) progress.job(job, accountPaused(job.accountId));
    statusSoon();
  };
  const onProgress = (updates: ProgressUpdate[]): void => {
    progress.progress(updates);
    statusSoon();
  };

  const notifications = new NotificationBatcher({
    notify: (notification) => shell.notify(notification),
    enabled: () => api.settings.get().notifications,
    ...options.notifications,
  });

  const onJob = (job: Job): void => {
    track(job);
    // Outcomes reached by this process's engine; the process that uploads reports its own.
    if (engine && (job.state === 'completed' || job.state === 'failed')) notifications.record({ id: job.id, name: job.name, state: job.state });
  };
  const onAccounts = (): void => trackAll();

  // The API's own events keep the tray's watched folders and recent uploads current, the same way in
  // the process that uploads and in one that follows another process through the database.
  const onApiEvent = (event: ApiEvent): void => {
    if (event.event === 'sync.changed') {
      syncState = syncSummary(event.payload);
      statusSoon();
    } else if (event.event === 'jobs.changed') {
      const gone = new Set(event.payload.removed);
      let next = recent.filter((upload) => !gone.has(upload.jobId));
      for (const job of event.payload.jobs) {
        next = next.filter((upload) => upload.jobId !== job.id);
        if (job.state === 'completed') next.unshift({ jobId: job.id, name: job.name, url: job.result?.url ?? null });
      }
      // Rows of a burst arrive in any order; the newest finished stay.
      const finishedAt = new Map(event.payload.jobs.map((job) => [job.id, job.finishedAt ?? 0]));
      next = next.slice(0, RECENT_UPLOADS * 4);
      const keep = new Set(
        [...next].sort((a, b) => (finishedAt.get(b.jobId) ?? 0) - (finishedAt.get(a.jobId) ?? 0)).slice(0, RECENT_UPLOADS).map((u) => u.jobId),
      );
      const trimmed = next.filter((upload) => keep.has(upload.jobId));
      if (JSON.stringify(trimmed) !== JSON.stringify(recent)) {
        recent = trimmed;
        statusSoon();
      }
    }
  };

  // Engine ----------------------------------------------------------------------------------------

  const newEngine = (): Engine => {
    const created = new Engine({ queue, maxJobsInFlight: api.settings.get().globalConcurrency, ...options.engineOptions });
    created.on('fault', (fault) => api.machineFault(fault.message));
    created.on('progress', onProgress);
    return created;
  };
  let engine: Engine | null = lock ? newEngine() : null;
  api.setProgressSource(engine);
  await api.start();

  const stopSettings = api.onSettingsChanged((next, previous) => {
    if (next.startAtLogin !== previous.startAtLogin) applyStartAtLogin(next.startAtLogin);
    if (next.bandwidthCapKbps !== previous.bandwidthCapKbps && next.bandwidthCapKbps > 0) {
      api.notice('info', 'The bandwidth cap is saved, but this version of Ferry does not throttle uploads yet; only the number of uploads at once is limited');
    }
    if (!engine || next.globalConcurrency === previous.globalConcurrency || options.engineOptions?.maxJobsInFlight !== undefined) return;
    engine.setMaxJobsInFlight(next.globalConcurrency);
    api.notice('info', `Up to ${next.globalConcurrency} uploads now run at once`);
  });

  const applyStartAtLogin = (enabled: boolean): void => {
    try {
      shell.setStartAtLogin(enabled);
    } catch (error) {
      log('Could not change the start-at-login setting of the system', error);
      api.notice('warning', 'Ferry could not change whether it starts at login on this system');
    }
  };
  applyStartAtLogin(api.settings.get().startAtLogin);

  // Without the engine, follow the other process through the database.
  const stopFollowing = engine
    ? null
    : followQueueChanges(
        queue,
        (jobs) => {
          api.announceJobs(jobs);
          for (const job of jobs) track(job);
        },
        log,
        options.followIntervalMs,
      );

  queue.on('job', onJob);
  queue.on('accounts', onAccounts);
  const stopApiEvents = api.subscribe(onApiEvent);
  trackAll();
  publishStatus();

  // Watched folders run beside the engine, as with `ferry run`.
  let sync: SyncService | null = null;
  if (engine) {
    engine.start();
    sync = new SyncService({ queue, ...options.syncOptions });
    sync.on('error', (error) => api.notice('warning', error.message));
    try {
      await sync.start({ watch: true });
      api.setSyncSource(sync);
    } catch (error) {
      log('Could not start the watched folders', error);
      api.notice('error', 'Ferry could not start watching folders; uploads from the window still work');
    }
  }
  try {
    syncState = syncSummary(syncRuleInfos(queue, api.syncSource));
    publishStatus();
  } catch (error) {
    log('Could not read the watched folders', error);
  }

  /** Tray commands: a refusal is shown in the window as a notice (there is no other place for it). */
  const runCommand = async (command: 'jobs.pauseAll' | 'jobs.resumeAll' | 'sync.pauseAll' | 'sync.resumeAll'): Promise<void> => {
    const result = await api.invoke(command, undefined);
    if (!result.ok) api.notice('error', result.error.message);
  };

  let closing: Promise<void> | undefined;
  return {
    api,
    get engine() {
      return engine;
    },
    engineNote,
    intake,
    async call(command, input) {
      const result = await api.call(command, input);
      if (result.ok && command === 'jobs.enqueue') {
        const account = (input as { account?: unknown }).account;
        if (typeof account === 'string') {
          try {
            lastAccount.set(account);
          } catch (error) {
            log('Could not remember the last account', error);
          }
        }
      }
      if (result.ok && command === 'jobs.remove') {
        progress.removed((result.value as RemoveResult).removed);
        statusSoon();
      }
      return result;
    },
    receiveFiles: (paths) => intake.receive(paths),
    pauseAll: () => runCommand('jobs.pauseAll'),
    resumeAll: () => runCommand('jobs.resumeAll'),
    async trayAction(action) {
      switch (action.type) {
        case 'open':
          shell.showWindow();
          return;
        case 'pause-all':
          return runCommand('jobs.pauseAll');
        case 'resume-all':
          return runCommand('jobs.resumeAll');
        case 'pause-sync':
          return runCommand('sync.pauseAll');
        case 'resume-sync':
          return runCommand('sync.resumeAll');
        case 'copy-link':
          try {
            shell.copyText(action.url);
          } catch (error) {
            log('Could not copy a link to the clipboard', error);
            api.notice('error', `Ferry could not copy the link to ${action.name}`);
          }
          return;
        default: {
          const unreachable: never = action;
          log(`Unknown tray action ${JSON.stringify(unreachable)}`);
        }
      }
    },
    status: () => lastStatus,
    close() {
      closing ??= (async () => {
        closed = true;
        stopFollowing?.();
        clearTimeout(statusTimer);
        stopSettings();
        stopApiEvents();
        notifications.close();
        api.setSyncSource(null);
        await sync?.stop();
        const running = engine;
        engine = null;
        await running?.stop();
        running?.off('progress', onProgress);
        queue.off('job', onJob);
        queue.off('accounts', onAccounts);
        api.close();
        lock?.release();
        shell.setUploading(false);
      })();
      return closing;
    },
  };
}
