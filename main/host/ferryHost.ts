/**
 * The host of the engine: the one composition that `ferry run` / `ferry upload --wait`, `ferry serve`
 * and the desktop app put their transports and their output around. It
 *
 * - takes the data folder's run lock (one engine per data folder); when another process holds it,
 *   the host runs without an engine, says who holds it (`locked`, `engineNote`) and, if asked,
 *   follows that process's job changes through the database;
 * - opens the database and the Queue (or receives them), with the adapter registry handed in by the
 *   composition root, and hands the database to whoever works on it (the API, the engine, the watched
 *   folders): the Queue keeps its own handle private;
 * - builds the FerryApi, and the Engine with the saved global concurrency (engine tuning passed in
 *   wins) whose faults of the machine become API notices;
 * - applies settings as they change (the global concurrency in place, uploads in flight carry on;
 *   the bandwidth limit, global and per account, from the uploads' next piece);
 * - starts the engine and, when asked, the watched folders;
 * - closes in order: watched folders, engine, API, run lock, then the database if it opened it.
 *
 * Two steps, so that a caller can wire its listeners and its transport between them: `openFerryHost`
 * builds everything and starts nothing that uploads; `start()` starts the engine and the watched
 * folders.
 */
import { FerryApi } from '../api/ferryApi.ts';
import { followQueueChanges } from '../api/followQueue.ts';
import { openDatabase, type Db } from '../db/database.ts';
import type { Job } from '../db/jobsRepository.ts';
import { Engine, type EngineOptions } from '../engine/engine.ts';
import { Queue, type QueueOptions } from '../engine/queue.ts';
import { LockedError, acquireRunLock, type RunLock } from '../engine/runLock.ts';
import { lastGood, type SystemProxy } from '../engine/proxy.ts';
import type { SecretStore } from '../secrets/secretStore.ts';
import type { SyncService, SyncServiceOptions } from '../sync/syncService.ts';

/** Engine options other than the queue and its database (tests, the FERRY_* variables of the command line). */
export type EngineTuning = Omit<EngineOptions, 'queue' | 'db'>;
/** Watcher options other than the queue and its database (tests, the FERRY_SYNC_* variables). */
export type SyncTuning = Omit<SyncServiceOptions, 'queue' | 'db'>;

/**
 * Where the queue comes from: the caller's, with the database it was built on (the caller closes it),
 * or opened here.
 */
export type HostStore = { db: Db; queue: Queue } | { adapterFor: QueueOptions['adapterFor']; secrets: SecretStore };

export interface WatchedFoldersOptions {
  /** Keep watching (true), or scan every folder once (`ferry run --until-idle`). */
  watch: boolean;
  tuning?: SyncTuning;
  /** Told of each error of the watched folders while they run (each is also a warning notice of the API). */
  onError?: (error: Error) => void;
  /**
   * Given, a failure to start the watched folders is logged and shown as this notice, and the host
   * runs on without them (the window, `ferry serve`). Not given, `start()` fails (`ferry run`).
   */
  unavailableNotice?: string;
}

export type FerryHostOptions = HostStore & {
  dataDir: string;
  /** Where unexpected errors go, with their stack (the API's log, the follower's read errors...). */
  log: (message: string, error?: unknown) => void;
  /** The version the API reports (`app.status`). */
  version?: string;
  /** Engine tuning; `maxJobsInFlight` here wins over the saved setting, and over later changes to it. */
  engineOptions?: EngineTuning;
  /** The watched folders, run beside the engine (only where this process uploads). */
  watchedFolders?: WatchedFoldersOptions;
  /**
   * Why this process does not upload when another holds the run lock, as the API says it (a sticky
   * notice, `app.status`). Default: the holder's message.
   */
  engineNote?: (locked: LockedError) => string;
  /**
   * Without the engine, follow the other process's job changes through the database (the window,
   * `ferry serve`): each change is announced by the API, then handed to `onJobs`. Meanwhile the host
   * asks for the run lock again every `takeOverIntervalMs` (default 1 s), so that this process becomes
   * the uploader once the other one ends (see `takeOver`).
   */
  follow?: { intervalMs?: number; onJobs?: (jobs: Job[]) => void; takeOverIntervalMs?: number };
  /** Told of the engine built when this process takes over the uploads (before it starts). */
  onTakeOver?: (engine: Engine) => void;
  /**
   * Whether a transport answers commands through this API (the window, `ferry serve`): then the secret
   * values to scrub are loaded and the staging folder swept at once (`FerryApi.start`). `ferry run`
   * answers none and leaves both to such a process. Default true.
   */
  answersCommands?: boolean;
  /**
   * What the `system` proxy setting means in this process: the desktop app's resolver (Electron's, per
   * URL). Default: the environment's proxy variables (`ferry`, `ferry serve`).
   */
  systemProxy?: SystemProxy;
};

export interface FerryHost {
  readonly dataDir: string;
  /** The database of the queue, for the parts of the caller that keep their own state in it. */
  readonly db: Db;
  readonly queue: Queue;
  readonly api: FerryApi;
  /** The engine of this process, or null: another process holds the run lock, or the host is closing. */
  readonly engine: Engine | null;
  /** The watched folders of this process once started, or null. */
  readonly sync: SyncService | null;
  /** Who holds the run lock when this process does not, or null. */
  readonly locked: LockedError | null;
  /** Why the engine does not run here (as the API says it), or null. */
  readonly engineNote: string | null;
  /**
   * Starts the engine (jobs left in flight by a stopped process go back to the queue first) and the
   * watched folders, if this process holds the run lock; otherwise does nothing. Fails only when the
   * watched folders cannot start and no `unavailableNotice` was given (the engine then still runs;
   * `close()` stops it).
   */
  start(): Promise<void>;
  /**
   * Asks for the run lock again (the process that held it may have ended). Taken, the engine is built
   * (and started, with the watched folders, if `start()` was called), the API says that this process
   * uploads (`app.status` and an info notice), and the following stops. Resolves whether this process
   * now runs the engine; a failure other than "held by another process" rejects. A host that follows
   * calls it by itself every `follow.takeOverIntervalMs`.
   */
  takeOver(): Promise<boolean>;
  /**
   * Stops following, then the watched folders, then the engine (requests in flight are aborted; their
   * jobs go back to the queue and resume from their last acknowledged part next time), closes the API,
   * releases the run lock, and closes the database if the host opened it. Idempotent.
   */
  close(): Promise<void>;
}

/** Builds the host: lock, database and queue, API, engine (not started). See `FerryHost.start`. */
export async function openFerryHost(options: FerryHostOptions): Promise<FerryHost> {
  const { dataDir, log } = options;
  // The database this host opened itself (null when the caller handed in a queue): the host closes it.
  const ownDb = 'queue' in options ? null : openDatabase(dataDir);
  const db = 'queue' in options ? options.db : ownDb!;
  const queue =
    'queue' in options ? options.queue : new Queue({ adapterFor: options.adapterFor, db, secrets: options.secrets });

  let lock: RunLock | null = null;
  let locked: LockedError | null = null;
  let engineNote: string | null = null;
  const tryLock = (): boolean => {
    try {
      lock = acquireRunLock(dataDir);
      locked = null;
      engineNote = null;
      return true;
    } catch (error) {
      if (!(error instanceof LockedError)) throw error;
      locked = error;
      engineNote = options.engineNote ? options.engineNote(error) : error.message;
      return false;
    }
  };
  try {
    tryLock();
  } catch (error) {
    ownDb?.close();
    throw error;
  }

  const api = new FerryApi({
    queue,
    db,
    dataDir,
    engine: { running: lock !== null, note: engineNote },
    ...(options.version !== undefined ? { version: options.version } : {}),
    ...(options.systemProxy ? { systemProxy: options.systemProxy } : {}),
    log,
  });
  // Read for each request (also when another process changed it, within a second): a new proxy applies
  // to the next requests.
  const globalProxy = lastGood(() => api.settings.recent().proxy, 'system');
  const newEngine = (): Engine => {
    const saved = api.settings.get();
    const created = new Engine({
      queue,
      db,
      maxJobsInFlight: saved.globalConcurrency,
      // A --bwlimit of this process (engineOptions.bwlimit) wins over the saved one, as in rclone.
      bwlimit: saved.bwlimit,
      proxy: { global: globalProxy, ...(options.systemProxy ? { system: options.systemProxy } : {}) },
      ...options.engineOptions,
    });
    applyAccountLimits(created);
    created.on('fault', (fault) => api.machineFault(fault.message));
    return created;
  };
  // Each account's own limit (its setting `bwlimit`), applied again whenever accounts change.
  function applyAccountLimits(target: Engine | null): void {
    if (!target) return;
    for (const account of queue.accounts.list()) {
      try {
        target.setAccountBandwidthLimit(account.id, account.settings['bwlimit']);
      } catch (error) {
        log(`Could not apply the bandwidth limit of account "${account.name}"`, error);
      }
    }
  }
  const onAccounts = (): void => applyAccountLimits(engine);
  queue.on('accounts', onAccounts);
  let engine: Engine | null = lock ? newEngine() : null;
  api.setProgressSource(engine);
  api.setNetworkSource(engine);
  if (options.answersCommands ?? true) await api.start();

  // Another process (`ferry settings set`, or the window while `ferry run` uploads) changes limits in
  // the database only: they are looked at every second, so they apply here within a second too.
  let seenBwlimit = api.settings.get().bwlimit;
  const limitsTimer = setInterval(() => {
    if (!engine) return;
    applyAccountLimits(engine);
    const saved = api.settings.get().bwlimit;
    if (saved === seenBwlimit) return;
    seenBwlimit = saved;
    if (options.engineOptions?.bwlimit !== undefined) return;
    try {
      engine.setBandwidthLimit(saved);
    } catch (error) {
      log('Could not apply the bandwidth limit', error);
    }
  }, 1_000);
  limitsTimer.unref();

  const stopSettings = api.onSettingsChanged((next, previous) => {
    if (engine && next.bwlimit !== previous.bwlimit && options.engineOptions?.bwlimit === undefined) {
      seenBwlimit = next.bwlimit;
      try {
        engine.setBandwidthLimit(next.bwlimit);
        api.notice('info', next.bwlimit === 'off' ? 'Uploads are no longer limited' : `Upload limit: ${next.bwlimit}`);
      } catch (error) {
        // Validated when saved; a value that still does not parse changes nothing.
        log('Could not apply the bandwidth limit', error);
      }
    } else if (engine && next.bwlimit !== previous.bwlimit) {
      api.notice(
        'info',
        `The upload limit is saved; this process keeps its --bwlimit ${options.engineOptions?.bwlimit}`,
      );
    }
    if (
      !engine ||
      next.globalConcurrency === previous.globalConcurrency ||
      options.engineOptions?.maxJobsInFlight !== undefined
    )
      return;
    engine.setMaxJobsInFlight(next.globalConcurrency);
    api.notice('info', `Up to ${next.globalConcurrency} uploads now run at once`);
  });

  const follow = (): (() => void) | null => {
    const asked = options.follow;
    if (engine || !asked) return null;
    return followQueueChanges(
      queue,
      (jobs) => {
        api.announceJobs(jobs);
        asked.onJobs?.(jobs);
      },
      log,
      asked.intervalMs,
    );
  };
  // Started last, with no await after it: a caller's `onJobs` is wired before the first look.
  let stopFollowing = follow();
  let retryTimer: NodeJS.Timeout | undefined;

  let sync: SyncService | null = null;
  let started = false;
  let closing: Promise<void> | undefined;

  const startWatchedFolders = async (asked: WatchedFoldersOptions): Promise<void> => {
    // Loaded only when it runs: `ferry upload --wait` does without the watcher (chokidar, the index).
    const { SyncService } = await import('../sync/syncService.ts');
    const service = new SyncService({ queue, db, ...asked.tuning });
    sync = service;
    service.on('error', (error) => {
      asked.onError?.(error);
      api.notice('warning', error.message);
    });
    try {
      await service.start({ watch: asked.watch });
      api.setSyncSource(service);
    } catch (error) {
      if (asked.unavailableNotice === undefined) throw error;
      log('Could not start the watched folders', error);
      api.notice('error', asked.unavailableNotice);
      await service.stop().catch(() => undefined);
      sync = null;
    }
  };
  const startEngine = async (): Promise<void> => {
    if (!engine || closing) return;
    engine.start();
    if (options.watchedFolders) await startWatchedFolders(options.watchedFolders);
  };

  async function takeOver(): Promise<boolean> {
    if (engine) return true;
    if (closing || !tryLock()) return false;
    clearInterval(retryTimer);
    api.setEngineStatus(true, null);
    stopFollowing?.();
    stopFollowing = null;
    engine = newEngine();
    api.setProgressSource(engine);
    api.setNetworkSource(engine);
    options.onTakeOver?.(engine);
    api.notice('info', 'The other Ferry process has stopped: this one uploads now');
    if (started) await startEngine();
    return true;
  }

  if (stopFollowing && options.follow) {
    // `ferry serve` and the window become the uploader when the process holding the lock ends.
    let asking = false;
    retryTimer = setInterval(() => {
      if (asking) return;
      asking = true;
      takeOver()
        .catch((error: unknown) => log('Could not take over the uploads from the other Ferry process', error))
        .finally(() => (asking = false));
    }, options.follow.takeOverIntervalMs ?? 1_000);
    retryTimer.unref();
  }

  return {
    dataDir,
    db,
    queue,
    api,
    get engine() {
      return engine;
    },
    get sync() {
      return sync;
    },
    get locked() {
      return locked;
    },
    get engineNote() {
      return engineNote;
    },
    async start() {
      if (started) return;
      started = true;
      await startEngine();
    },
    takeOver,
    close() {
      closing ??= (async () => {
        clearInterval(retryTimer);
        stopFollowing?.();
        stopSettings();
        clearInterval(limitsTimer);
        queue.off('accounts', onAccounts);
        api.setSyncSource(null);
        await sync?.stop();
        const running = engine;
        engine = null;
        await running?.stop();
        api.close();
        lock?.release();
        ownDb?.close();
      })();
      return closing;
    },
  };
}
