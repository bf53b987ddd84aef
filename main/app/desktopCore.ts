/**
 * The desktop app without Electron: the host (main/host/ferryHost.ts: the API table, the engine with
 * the data folder's run lock and the saved concurrency, watched folders), and around it the overall
 * progress shown in the tray and the taskbar, batched notifications, the power-save decision, the
 * start-at-login setting, and files handed over from outside. `ferry serve` and `ferry run` use the
 * same host; `index.ts` puts Electron around this core through the `DesktopShell` port.
 *
 * When another process (a `ferry run` in a terminal) holds the run lock, the app still shows and
 * changes the queue, and follows that process's job changes through the database, like `ferry serve`.
 */
import { formatCopiedLink, type ApiEvent, type ApiResult, type RemoveResult } from '../api/contract.ts';
import type { FerryApi } from '../api/ferryApi.ts';
import { syncRuleInfos } from '../api/syncViews.ts';
import type { Job } from '../db/jobsRepository.ts';
import type { Engine, ProgressUpdate } from '../engine/engine.ts';
import type { JobState } from '../core/jobState.ts';
import type { Queue } from '../engine/queue.ts';
import { openFerryHost, type EngineTuning, type HostStore, type SyncTuning } from '../host/ferryHost.ts';
import type { SystemProxy } from '../engine/proxy.ts';
import { FileIntake, type IntakeOutcome } from './fileIntake.ts';
import { LastAccountStore } from './lastAccount.ts';
import { NotificationBatcher, type BatchedNotification, type FinishedJob } from './notificationBatcher.ts';
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
  /** A native notification; clicking it runs `onClick` (else it brings the window up). */
  notify(notification: BatchedNotification, onClick?: () => void): void;
  /**
   * Puts text on the system clipboard (a link from "Recent uploads"). Resolves once it is there;
   * rejects when the system refused (Electron's clipboard.writeText is asynchronous).
   */
  copyText(text: string): Promise<void>;
  /** Keeps the computer awake while true. */
  setUploading(uploading: boolean): void;
  setStartAtLogin(enabled: boolean): void;
}

/**
 * The queue: the caller's, with its database (tests; the caller closes it), or opened by the core from the
 * adapter registry and the secret store (the app; `close()` closes the database).
 */
export type DesktopCoreOptions = HostStore & {
  dataDir: string;
  shell: DesktopShell;
  version: string;
  log: (message: string, error?: unknown) => void;
  /** Engine tuning (tests); `maxJobsInFlight` here wins over the setting. */
  engineOptions?: EngineTuning;
  syncOptions?: SyncTuning;
  notifications?: {
    quietMs?: number;
    maxWaitMs?: number;
    /** The words of a notification, in the person's language (trayText.ts); English by default. */
    describe?: (jobs: readonly FinishedJob[]) => BatchedNotification;
  };
  /** Longest wait between a change and the tray/taskbar showing it (default 250 ms). */
  statusDelayMs?: number;
  /** How often the database is read for another process's changes when it runs the engine. */
  followIntervalMs?: number;
  /** What the `system` proxy setting means: Electron's resolution per URL (systemProxy.ts). */
  systemProxy?: SystemProxy;
};

export interface DesktopCore {
  readonly api: FerryApi;
  readonly queue: Queue;
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
   * the run lock; then closes the database if the core opened it (the caller closes its own).
   */
  close(): Promise<void>;
}

export async function startDesktopCore(options: DesktopCoreOptions): Promise<DesktopCore> {
  const { dataDir, shell, log } = options;
  const host = await openFerryHost({
    ...('queue' in options
      ? { db: options.db, queue: options.queue }
      : { adapterFor: options.adapterFor, secrets: options.secrets }),
    dataDir,
    log,
    version: options.version,
    ...(options.engineOptions ? { engineOptions: options.engineOptions } : {}),
    ...(options.systemProxy ? { systemProxy: options.systemProxy } : {}),
    engineNote: (locked) =>
      `${locked.message}: this window shows and changes the queue, and that process does the uploading`,
    // The window becomes the uploader when that process ends: the new engine's progress reaches the tray.
    onTakeOver: (taken) => taken.on('progress', onProgress),
    // Without the engine, follow the other process through the database (and show its jobs in the tray).
    follow: {
      ...(options.followIntervalMs !== undefined ? { intervalMs: options.followIntervalMs } : {}),
      onJobs: (jobs) => {
        for (const job of jobs) track(job);
      },
    },
    // Watched folders run beside the engine, as with `ferry run`.
    watchedFolders: {
      watch: true,
      ...(options.syncOptions ? { tuning: options.syncOptions } : {}),
      unavailableNotice: 'Ferry could not start watching folders; uploads from the window still work',
    },
  });
  const { api, queue } = host;
  /** The engine this process runs: its progress reaches the tray. */
  const engine = host.engine;
  const lastAccount = new LastAccountStore(host.db);
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
  /** Hosts the engine cannot reach (from the API's network.changed): the tray says it waits for them. */
  let offlineHosts: string[] = [];
  let lastStatus = trayView(progress.snapshot(), syncState, recent);
  let closed = false;
  const publishStatus = (): void => {
    clearTimeout(statusTimer);
    statusTimer = undefined;
    if (closed) return;
    const snapshot = progress.snapshot();
    lastStatus = trayView(snapshot, syncState, recent, offlineHosts);
    shell.showStatus(lastStatus);
    // Only the process that uploads keeps the computer awake.
    shell.setUploading(host.engine !== null && snapshot.running > 0);
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
    // Page by page in queue order: a large queue is not read into memory at once.
    for (let after: { position: number; id: number } | undefined; ;) {
      const page = queue.jobs.list({ states: pending, after, limit: 1000 });
      for (const job of page) progress.job(job, accountPaused(job.accountId));
      const last = page.at(-1);
      if (!last || page.length < 1000) break;
      after = { position: last.position, id: last.id };
    }
    statusSoon();
  };
  const onProgress = (updates: ProgressUpdate[]): void => {
    progress.progress(updates);
    statusSoon();
  };

  /** The links of finished uploads, one per line, in the auto-copy style (plain URLs when it is off). */
  const copyLinks = async (jobs: readonly FinishedJob[], reason: string): Promise<void> => {
    const chosen = api.settings.get().autoCopyLink;
    const style = chosen === 'off' ? 'url' : chosen;
    const text = jobs
      .filter((job) => job.state === 'completed')
      .map((job) => formatCopiedLink(style, { url: job.url ?? null, name: job.name, mime: job.mime ?? null }))
      .filter((line): line is string => line !== null)
      .join('\n');
    if (text === '') return;
    try {
      await shell.copyText(text);
    } catch (error) {
      log(`Could not copy the link (${reason})`, error);
      api.notice('error', 'Ferry could not put the link on the clipboard');
    }
  };

  const notifications = new NotificationBatcher({
    // A click on "Upload finished" copies the links of the uploads it reports.
    notify: (notification, jobs) =>
      shell.notify(notification, () => {
        shell.showWindow();
        void copyLinks(jobs, 'notification clicked');
      }),
    enabled: () => api.settings.get().notifications,
    ...options.notifications,
  });

  const onJob = (job: Job): void => {
    track(job);
    // Outcomes reached by this process's engine; the process that uploads reports its own.
    if (host.engine && (job.state === 'completed' || job.state === 'failed')) {
      const finished: FinishedJob = {
        id: job.id,
        name: job.name,
        state: job.state,
        url: job.result?.url ?? null,
        mime: job.mime,
      };
      notifications.record(finished);
      // Auto-copy (setting): the link of each upload this process finishes, as it finishes.
      if (job.state === 'completed' && api.settings.get().autoCopyLink !== 'off')
        void copyLinks([finished], 'auto-copy');
    }
  };
  const onAccounts = (): void => trackAll();

  // The API's own events keep the tray's watched folders and recent uploads current, the same way in
  // the process that uploads and in one that follows another process through the database.
  const onApiEvent = (event: ApiEvent): void => {
    if (event.event === 'sync.changed') {
      syncState = syncSummary(event.payload);
      statusSoon();
    } else if (event.event === 'network.changed') {
      offlineHosts = event.payload.offlineHosts.map((host) => host.host);
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
        [...next]
          .sort((a, b) => (finishedAt.get(b.jobId) ?? 0) - (finishedAt.get(a.jobId) ?? 0))
          .slice(0, RECENT_UPLOADS)
          .map((u) => u.jobId),
      );
      const trimmed = next.filter((upload) => keep.has(upload.jobId));
      if (JSON.stringify(trimmed) !== JSON.stringify(recent)) {
        recent = trimmed;
        statusSoon();
      }
    }
  };

  // Engine ----------------------------------------------------------------------------------------

  engine?.on('progress', onProgress);
  const stopSettings = api.onSettingsChanged((next, previous) => {
    if (next.startAtLogin !== previous.startAtLogin) applyStartAtLogin(next.startAtLogin);
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

  queue.on('job', onJob);
  queue.on('accounts', onAccounts);
  const stopApiEvents = api.subscribe(onApiEvent);
  trackAll();
  publishStatus();

  await host.start();
  try {
    syncState = syncSummary(syncRuleInfos(host, api.syncSource));
    publishStatus();
  } catch (error) {
    log('Could not read the watched folders', error);
  }

  /** Tray commands: a refusal is shown in the window as a notice (there is no other place for it). */
  const runCommand = async (
    command: 'jobs.pauseAll' | 'jobs.resumeAll' | 'sync.pauseAll' | 'sync.resumeAll',
  ): Promise<void> => {
    const result = await api.invoke(command, undefined);
    if (!result.ok) api.notice('error', result.error.message);
  };

  let closing: Promise<void> | undefined;
  return {
    api,
    queue,
    get engine() {
      return host.engine;
    },
    engineNote: host.engineNote,
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
            await shell.copyText(action.url);
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
        clearTimeout(statusTimer);
        stopSettings();
        stopApiEvents();
        notifications.close();
        await host.close();
        engine?.off('progress', onProgress);
        queue.off('job', onJob);
        queue.off('accounts', onAccounts);
        shell.setUploading(false);
      })();
      return closing;
    },
  };
}
