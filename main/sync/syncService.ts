/**
 * Watched folders, engine side: the coordinator of the parts, each in its own file.
 * - syncWatchers.ts: for every active sync rule a chokidar watcher reports files that appear or
 *   change, and scans (at start and every `rescanIntervalMs`) catch what the watcher missed;
 * - intakeBatcher.ts: each path waits until it stops changing (StabilityTracker), then joins an
 *   intake batch (flushed every `batchDelayMs` or `batchSize` files, so a burst of a thousand files
 *   becomes a handful of enqueue calls);
 * - syncIndexer.ts: a batch is processed one at a time: each file is checked against the sync index,
 *   checked against the provider's limits, hashed (streamed), deduplicated by (account, SHA-256), and
 *   the new ones are queued through Queue.enqueue;
 * - jobOutcomes.ts: a job's end is recorded for its paths, and the index is reconciled with the jobs
 *   after a stop in the middle of something;
 * - afterUpload.ts: the after-upload action (move to a subfolder, or delete into Ferry's trash), which
 *   is destructive, so it waits and checks, and when in doubt keeps the file and says why.
 * The service owns the order between them: batches, reconciliations and rule changes run one after
 * another on one chain, and `whenSettled()` counts the work in progress of every part.
 *
 * The service never uploads; the Engine does. It only needs the Queue, so it runs the same way in
 * `ferry run`, in the desktop app and in tests.
 */
import { EventEmitter } from 'node:events';
import type { Db } from '../db/database.ts';
import type { Job } from '../db/jobsRepository.ts';
import { SyncRepository } from '../db/syncRepository.ts';
import type { Queue } from '../engine/queue.ts';
import { AfterUpload } from './afterUpload.ts';
import { IntakeBatcher, type Candidate } from './intakeBatcher.ts';
import { JobOutcomes } from './jobOutcomes.ts';
import type { SyncContext, SyncFileEvent, SyncStats } from './syncContext.ts';
import { SyncIndexer } from './syncIndexer.ts';
import { purgeTrash } from './syncTrash.ts';
import { SyncWatchers, type SyncRuleStatus } from './syncWatchers.ts';

export type { SyncFileEvent, SyncStats } from './syncContext.ts';
export type { SyncRuleStatus } from './syncWatchers.ts';

export interface SyncServiceOptions {
  queue: Queue;
  /** The queue's database: the sync index lives beside the jobs, and changes with them in one transaction. */
  db: Db;
  /** Identical size+mtime looks in a row before a file counts as complete (default 3). */
  stableChecks?: number;
  /** Time between those looks (default 500 ms). */
  stableIntervalMs?: number;
  /** Longest a stable file waits for its batch to be queued (default 250 ms). */
  batchDelayMs?: number;
  /** Files per enqueue call (default 200). */
  batchSize?: number;
  /** Full rescan of every rule, reconciling what events missed (default 60 s). */
  rescanIntervalMs?: number;
  /** How often the rules table is re-read, to follow rules added or paused by another process (default 2 s). */
  rulesPollMs?: number;
  /** Files checked and hashed at once (default 8: small files are many, big ones are read in streams). */
  hashConcurrency?: number;
  /**
   * How long a file must go unchanged before it is moved or deleted; when not given, the setting
   * `syncQuietSeconds` is read each time (tests give a short one).
   */
  quietPeriodMs?: number;
  /**
   * How soon a file kept because it is in use (open elsewhere, still read by a job, not yet uploaded
   * by an overlapping rule) is looked at again while watching (default: the quiet period, at least 1 s).
   */
  inUseRecheckMs?: number;
}

export interface SyncServiceEvents {
  /** A path's outcome changed (queued, duplicate, refused, uploaded, failed, moved, deleted). */
  file: [SyncFileEvent];
  /** Something went wrong that is not about one upload (a folder vanished, a move failed...). */
  error: [Error];
  /**
   * Something a UI may want to show again changed: a file started waiting to be complete, or a
   * rule started, stopped or failed to be watched. No payload: read `status()` and
   * `pendingByRule()`. Emitted often during a burst; listeners coalesce.
   */
  activity: [];
}

export class SyncService extends EventEmitter<SyncServiceEvents> {
  readonly queue: Queue;
  readonly #db: Db;
  readonly #options: Pick<Required<SyncServiceOptions>, 'rescanIntervalMs' | 'rulesPollMs'>;
  readonly #stats: SyncStats = {
    watcherEvents: 0,
    scannedFiles: 0,
    stableFiles: 0,
    batches: 0,
    enqueueCalls: 0,
    queued: 0,
    duplicates: 0,
    refused: 0,
    unchanged: 0,
    queueLatencyMs: [],
  };
  readonly #batcher: IntakeBatcher;
  readonly #watchers: SyncWatchers;
  readonly #indexer: SyncIndexer;
  readonly #outcomes: JobOutcomes;
  readonly #afterUpload: AfterUpload;
  #rescanTimer: NodeJS.Timeout | undefined;
  #rulesTimer: NodeJS.Timeout | undefined;
  /** Batches, reconciliations and rule changes run one after another on this chain. */
  #work: Promise<void> = Promise.resolve();
  /** Work in progress of every part (scans, the chain, after-upload actions and their bounded waits). */
  #busy = 0;
  #started = false;
  #watching = false;
  #settleWaiters: Array<() => void> = [];
  readonly #onJob = (job: Job): void => this.#outcomes.jobChanged(job);

  constructor(options: SyncServiceOptions) {
    super();
    this.queue = options.queue;
    this.#db = options.db;
    this.#options = {
      rescanIntervalMs: options.rescanIntervalMs ?? 60_000,
      rulesPollMs: options.rulesPollMs ?? 2_000,
    };
    const context: SyncContext = {
      queue: options.queue,
      db: options.db,
      repo: new SyncRepository(options.db),
      stats: this.#stats,
      started: () => this.#started,
      watching: () => this.#watching,
      beginWork: () => {
        this.#busy += 1;
      },
      endWork: () => {
        this.#busy -= 1;
      },
      checkSettled: () => this.#checkSettled(),
      emitFile: (event) => {
        this.emit('file', event);
      },
      activity: () => {
        this.emit('activity');
      },
      report: (error, doing) => this.#report(error, doing),
    };
    this.#batcher = new IntakeBatcher(
      context,
      {
        stableChecks: options.stableChecks ?? 3,
        stableIntervalMs: options.stableIntervalMs ?? 500,
        batchDelayMs: options.batchDelayMs ?? 250,
        batchSize: Math.max(1, options.batchSize ?? 200),
      },
      (batch) => this.#processBatch(batch),
    );
    this.#watchers = new SyncWatchers(context, this.#batcher);
    this.#afterUpload = new AfterUpload(
      context,
      { batcher: this.#batcher, watchers: this.#watchers },
      {
        ...(options.quietPeriodMs !== undefined ? { quietPeriodMs: Math.max(0, options.quietPeriodMs) } : {}),
        ...(options.inUseRecheckMs !== undefined ? { inUseRecheckMs: Math.max(10, options.inUseRecheckMs) } : {}),
      },
    );
    const parts = { batcher: this.#batcher, watchers: this.#watchers, afterUpload: this.#afterUpload };
    this.#indexer = new SyncIndexer(context, parts, Math.max(1, options.hashConcurrency ?? 8));
    this.#outcomes = new JobOutcomes(context, parts);
  }

  /** Counters since this service was created (the figures the issue asks for). */
  get stats(): SyncStats {
    return { ...this.#stats, queueLatencyMs: [...this.#stats.queueLatencyMs] };
  }

  /** Per active or failing rule: is it watched, and if not, why. For the tray and the Sync view. */
  status(): SyncRuleStatus[] {
    return this.#watchers.status();
  }

  /** Files waiting to be stable, in a batch, or being hashed and queued. */
  get pendingFiles(): number {
    return this.#batcher.size;
  }

  /** Files waiting to be stable or in the next batch, per rule id (rules without any are absent). */
  pendingByRule(): Map<number, number> {
    return this.#batcher.pendingByRule();
  }

  /**
   * Starts following the queue's job events, reconciles the index with the jobs (a previous process
   * may have stopped between two steps), then activates every rule that is not paused and scans it.
   * With `watch: false` there are no watchers, no periodic rescan and no rule polling: one full scan
   * (what `ferry run --until-idle` does); `whenSettled()` then says when everything found is queued.
   * Resolves once the initial scans are done (their files may still be waiting to be stable).
   */
  async start(options: { watch?: boolean } = {}): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    this.#watching = options.watch ?? true;
    this.queue.on('job', this.#onJob);
    await this.#enqueueWork(async () => {
      this.#outcomes.reconcile();
      await this.#purgeTrash();
    });
    await this.#enqueueWork(() => this.#watchers.apply());
    if (this.#watching) {
      this.#rescanTimer = setInterval(
        () => void this.rescan().catch((error: unknown) => this.#report(error)),
        this.#options.rescanIntervalMs,
      );
      this.#rulesTimer = setInterval(
        () => void this.refresh().catch((error: unknown) => this.#report(error)),
        this.#options.rulesPollMs,
      );
    }
  }

  /**
   * Stops watching. Files not yet queued are simply dropped: nothing was recorded for them, so the
   * next start's scan finds them again. Waits for the batch and the after-upload actions in progress.
   */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    clearInterval(this.#rescanTimer);
    clearInterval(this.#rulesTimer);
    this.#batcher.stop();
    this.#afterUpload.cancelAll();
    await this.#watchers.closeAll();
    await Promise.allSettled([this.#work, this.#afterUpload.running]);
    // Actions started by the last batch's job events.
    await Promise.allSettled([this.#afterUpload.running]);
    this.queue.off('job', this.#onJob);
    this.#releaseSettled();
  }

  /** Re-reads the rules: starts new ones, stops removed or paused ones, retries failing ones. */
  refresh(): Promise<void> {
    return this.#enqueueWork(() => this.#watchers.apply());
  }

  /** Reconciles the index with the jobs and scans every active rule (what the periodic timer does). */
  async rescan(): Promise<void> {
    await this.#enqueueWork(async () => {
      this.#outcomes.reconcile();
      await this.#purgeTrash();
    });
    await this.#watchers.scanAll();
  }

  /**
   * Resolves when nothing is in progress: no file waiting to be stable or queued, no batch, no
   * after-upload action. A file that never stops changing keeps it pending.
   */
  async whenSettled(): Promise<void> {
    while (!this.#settled()) {
      await new Promise<void>((resolve) => this.#settleWaiters.push(resolve));
      if (!this.#started) return;
    }
  }

  // The work chain ----------------------------------------------------------------------------------

  /** A batch of stable files goes to the indexer, on the chain, after what is already on it. */
  #processBatch(batch: Candidate[]): void {
    void this.#enqueueWork(() => this.#indexer.process(batch)).catch((error: unknown) => this.#report(error));
  }

  #enqueueWork(work: () => Promise<void>): Promise<void> {
    this.#busy += 1;
    const run = this.#work.then(work);
    this.#work = run
      .catch(() => undefined)
      .finally(() => {
        this.#busy -= 1;
        this.#checkSettled();
      });
    return run;
  }

  async #purgeTrash(): Promise<void> {
    try {
      await purgeTrash(this.#db);
    } catch (error) {
      this.#report(error, "Purging expired files from Ferry's trash");
    }
  }

  // Settling ----------------------------------------------------------------------------------------

  #settled(): boolean {
    return this.#batcher.size === 0 && this.#busy === 0;
  }

  #checkSettled(): void {
    if (this.#settled()) this.#releaseSettled();
  }

  #releaseSettled(): void {
    const waiters = this.#settleWaiters;
    this.#settleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #report(error: unknown, doing?: string): void {
    const message = error instanceof Error ? error.message : String(error);
    const wrapped = new Error(doing ? `${doing}: ${message}` : message, { cause: error });
    if (this.listenerCount('error') > 0) this.emit('error', wrapped);
  }
}
