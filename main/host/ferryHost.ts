/**
 * The host of the engine: the one composition that `ferry run` / `ferry upload --wait`, `ferry serve`
 * and the desktop app put their transports and their output around. It
 *
 * - takes the data folder's run lock (one engine per data folder); when another process holds it,
 *   the host runs without an engine, says who holds it (`locked`, `engineNote`) and, if asked,
 *   follows that process's job changes through the database;
 * - opens the database and the Queue (or receives them), with the adapter registry handed in by the
 *   composition root;
 * - builds the FerryApi, and the Engine with the saved global concurrency (engine tuning passed in
 *   wins) whose faults of the machine become API notices;
 * - applies settings as they change (the global concurrency in place, uploads in flight carry on);
 * - starts the engine and, when asked, the watched folders;
 * - closes in order: watched folders, engine, API, run lock, then the database if it opened it.
 *
 * Two steps, so that a caller can wire its listeners and its transport between them: `openFerryHost`
 * builds everything and starts nothing that uploads; `start()` starts the engine and the watched
 * folders.
 */
import { FerryApi } from '../api/ferryApi.ts';
import { followQueueChanges } from '../api/followQueue.ts';
import { openDatabase } from '../db/database.ts';
import type { Job } from '../db/jobsRepository.ts';
import { Engine, type EngineOptions } from '../engine/engine.ts';
import { Queue, type QueueOptions } from '../engine/queue.ts';
import { LockedError, acquireRunLock, type RunLock } from '../engine/runLock.ts';
import type { SecretStore } from '../secrets/secretStore.ts';
import type { SyncService, SyncServiceOptions } from '../sync/syncService.ts';

/** Engine options other than the queue (tests, the FERRY_* variables of the command line). */
export type EngineTuning = Omit<EngineOptions, 'queue'>;
/** Watcher options other than the queue (tests, the FERRY_SYNC_* variables). */
export type SyncTuning = Omit<SyncServiceOptions, 'queue'>;

/** Where the queue comes from: the caller's (who closes its database), or opened here. */
export type HostStore = { queue: Queue } | { adapterFor: QueueOptions['adapterFor']; secrets: SecretStore };

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
   * `ferry serve`): each change is announced by the API, then handed to `onJobs`.
   */
  follow?: { intervalMs?: number; onJobs?: (jobs: Job[]) => void };
  /**
   * Whether a transport answers commands through this API (the window, `ferry serve`): then the secret
   * values to scrub are loaded and the staging folder swept at once (`FerryApi.start`). `ferry run`
   * answers none and leaves both to such a process. Default true.
   */
  answersCommands?: boolean;
};

export interface FerryHost {
  readonly dataDir: string;
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
   * uploads, and the following stops. Resolves whether this process now runs the engine; a failure
   * other than "held by another process" rejects.
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
  const ownsDatabase = !('queue' in options);
  const queue =
    'queue' in options
      ? options.queue
      : new Queue({ adapterFor: options.adapterFor, db: openDatabase(dataDir), secrets: options.secrets });

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
    if (ownsDatabase) queue.db.close();
    throw error;
  }

  const api = new FerryApi({
    queue,
    dataDir,
    engine: { running: lock !== null, note: engineNote },
    ...(options.version !== undefined ? { version: options.version } : {}),
    log,
  });
  const newEngine = (): Engine => {
    const created = new Engine({
      queue,
      maxJobsInFlight: api.settings.get().globalConcurrency,
      ...options.engineOptions,
    });
    created.on('fault', (fault) => api.machineFault(fault.message));
    return created;
  };
  let engine: Engine | null = lock ? newEngine() : null;
  api.setProgressSource(engine);
  api.setNetworkSource(engine);
  if (options.answersCommands ?? true) await api.start();

  const stopSettings = api.onSettingsChanged((next, previous) => {
    if (next.bandwidthCapKbps !== previous.bandwidthCapKbps && next.bandwidthCapKbps > 0) {
      api.notice(
        'info',
        'The bandwidth cap is saved, but this version of Ferry does not throttle uploads yet; only the number of uploads at once is limited',
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

  let sync: SyncService | null = null;
  let started = false;
  let closing: Promise<void> | undefined;

  const startWatchedFolders = async (asked: WatchedFoldersOptions): Promise<void> => {
    // Loaded only when it runs: `ferry upload --wait` does without the watcher (chokidar, the index).
    const { SyncService } = await import('../sync/syncService.ts');
    const service = new SyncService({ queue, ...asked.tuning });
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

  return {
    dataDir,
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
    async takeOver() {
      if (engine) return true;
      if (closing || !tryLock()) return false;
      api.setEngineStatus(true, null);
      stopFollowing?.();
      stopFollowing = null;
      engine = newEngine();
      api.setProgressSource(engine);
      api.setNetworkSource(engine);
      if (started) await startEngine();
      return true;
    },
    close() {
      closing ??= (async () => {
        stopFollowing?.();
        stopSettings();
        api.setSyncSource(null);
        await sync?.stop();
        const running = engine;
        engine = null;
        await running?.stop();
        api.close();
        lock?.release();
        if (ownsDatabase) queue.db.close();
      })();
      return closing;
    },
  };
}
