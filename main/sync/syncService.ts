/**
 * Watched folders, engine side. For every active sync rule a chokidar watcher reports files that
 * appear or change; each path waits in the StabilityTracker until it stops changing, then joins an
 * intake batch (flushed every `batchDelayMs` or `batchSize` files, so a burst of a thousand files
 * becomes a handful of enqueue calls). A batch is processed one at a time: each file is checked
 * against the sync index, checked against the provider's limits, hashed (streamed), deduplicated by
 * (account, SHA-256), and the new ones are queued through Queue.enqueue. A periodic rescan catches
 * what the watcher missed (events dropped under load, files added while Ferry was not running).
 *
 * The after-upload action (move to a subfolder, or delete into Ferry's trash) is destructive, so it
 * waits and checks, and when in doubt keeps the file and says why (the path's `reason`):
 * - only after the job completed, and only when the file's content hash, taken right before acting,
 *   is the hash of bytes a completed job of the account really sent (`jobs.sent_sha256`, confirmed
 *   part by part by the runner), so bytes that never reached the provider are never moved or deleted;
 * - only once the file has not changed (mtime and ctime) for the quiet period (setting
 *   `syncQuietSeconds`, default 60 s), checked again right before acting: a writer that pauses
 *   longer than the stability check (a slow NAS, a phone, a card reader) is still writing;
 * - never while another process has it open where the platform can tell (openFiles.ts), while an
 *   unfinished job of any account still reads it, or while another rule that watches the same path
 *   has not uploaded that content to its own account;
 * - never over another file: moves and deletes go through placeFile.ts (link + unlink, or a checked
 *   exclusive copy across devices), and "delete" moves the file into Ferry's trash (syncTrash.ts).
 *
 * The service never uploads; the Engine does. It only needs the Queue, so it runs the same way in
 * `ferry run`, in the desktop app and in tests.
 */
import { EventEmitter } from 'node:events';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import mime from 'mime-types';
import { SettingsStore } from '../api/settingsStore.ts';
import type { Account } from '../db/accountsRepository.ts';
import { transaction } from '../db/database.ts';
import type { Job } from '../db/jobsRepository.ts';
import { SyncRepository, type SyncFile, type SyncFileState, type SyncRule } from '../db/syncRepository.ts';
import { UploadError } from '../core/errors.ts';
import { openFileSource } from '../engine/fileSource.ts';
import type { Queue } from '../engine/queue.ts';
import { whoHasOpen } from './openFiles.ts';
import { SourceChangedError, identityOf, placeFile, sameIdentity, type FileIdentity } from './placeFile.ts';
import { createSyncFilter, type SyncFilter } from './syncFilter.ts';
import { moveToTrash, purgeTrash } from './syncTrash.ts';
import { StabilityTracker, sameSnapshot, snapshotOf, type FileSnapshot } from './stabilityTracker.ts';

export interface SyncServiceOptions {
  queue: Queue;
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

export interface SyncStats {
  /** add/change events received from the watchers. */
  watcherEvents: number;
  /** Files looked at by scans (start and periodic rescans). */
  scannedFiles: number;
  /** Files that became stable and joined an intake batch. */
  stableFiles: number;
  /** Intake batches processed. */
  batches: number;
  /** Queue.enqueue calls (a batch holds one per account; a failed one is retried file by file). */
  enqueueCalls: number;
  queued: number;
  duplicates: number;
  refused: number;
  /** Files already known with this content (a touch, or nothing changed). */
  unchanged: number;
  /** Milliseconds from each queued file's last write (its mtime) to its job being queued; the last 10,000. */
  queueLatencyMs: number[];
}

export interface SyncFileEvent {
  ruleId: number;
  path: string;
  /** `kept`: the after-upload action did not run (yet); `reason` says why. */
  state: SyncFileState | 'moved' | 'deleted' | 'kept';
  jobId: number | null;
  reason: string | null;
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

export interface SyncRuleStatus {
  ruleId: number;
  dir: string;
  watching: boolean;
  /** Why the rule is not watched (e.g. its folder is gone); retried on every rule poll. */
  error: string | null;
}

interface ActiveRule {
  rule: SyncRule;
  filter: SyncFilter;
  watcher: FSWatcher | null;
}

interface Candidate {
  ruleId: number;
  path: string;
  snapshot: FileSnapshot;
}

/** A job, or why there is none (null: the file vanished). */
interface EnqueueOutcome {
  job: Job | null;
  reason: string | null;
}

type Verdict =
  | { kind: 'skip' }
  | { kind: 'refused'; candidate: Candidate; reason: string }
  | { kind: 'hashed'; candidate: Candidate; sha256: string; known: SyncFile | undefined };

const TERMINAL = new Set(['completed', 'failed', 'canceled']);
const LATENCY_SAMPLES = 10_000;

export class SyncService extends EventEmitter<SyncServiceEvents> {
  readonly queue: Queue;
  readonly #repo: SyncRepository;
  readonly #options: Required<Omit<SyncServiceOptions, 'queue' | 'quietPeriodMs' | 'inUseRecheckMs'>> &
    Pick<SyncServiceOptions, 'quietPeriodMs' | 'inUseRecheckMs'>;
  /** After-upload actions waiting to be looked at again, per key; `counts`: part of `whenSettled`. */
  readonly #deferred = new Map<string, { timer: NodeJS.Timeout; counts: boolean }>();
  readonly #tracker: StabilityTracker;
  readonly #active = new Map<number, ActiveRule>();
  readonly #ruleErrors = new Map<number, string>();
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
  #intake: Candidate[] = [];
  #flushTimer: NodeJS.Timeout | undefined;
  #rescanTimer: NodeJS.Timeout | undefined;
  #rulesTimer: NodeJS.Timeout | undefined;
  /** Batches, reconciliations and rule changes run one after another on this chain. */
  #work: Promise<void> = Promise.resolve();
  /** After-upload actions run one after another on this chain. */
  #actions: Promise<void> = Promise.resolve();
  #busy = 0;
  #started = false;
  #watching = false;
  #settleWaiters: Array<() => void> = [];
  readonly #onJob = (job: Job): void => this.#jobChanged(job);

  constructor(options: SyncServiceOptions) {
    super();
    this.queue = options.queue;
    this.#repo = new SyncRepository(options.queue.db);
    this.#options = {
      stableChecks: options.stableChecks ?? 3,
      stableIntervalMs: options.stableIntervalMs ?? 500,
      batchDelayMs: options.batchDelayMs ?? 250,
      batchSize: Math.max(1, options.batchSize ?? 200),
      rescanIntervalMs: options.rescanIntervalMs ?? 60_000,
      rulesPollMs: options.rulesPollMs ?? 2_000,
      hashConcurrency: Math.max(1, options.hashConcurrency ?? 8),
      ...(options.quietPeriodMs !== undefined ? { quietPeriodMs: Math.max(0, options.quietPeriodMs) } : {}),
      ...(options.inUseRecheckMs !== undefined ? { inUseRecheckMs: Math.max(10, options.inUseRecheckMs) } : {}),
    };
    this.#tracker = new StabilityTracker(
      { checks: this.#options.stableChecks, intervalMs: this.#options.stableIntervalMs },
      {
        stable: (key, path, snapshot) => this.#stable(ruleOfKey(key), path, snapshot),
        gone: () => this.#checkSettled(),
      },
    );
  }

  /** Counters since this service was created (the figures the issue asks for). */
  get stats(): SyncStats {
    return { ...this.#stats, queueLatencyMs: [...this.#stats.queueLatencyMs] };
  }

  /** Per active or failing rule: is it watched, and if not, why. For the tray and the Sync view. */
  status(): SyncRuleStatus[] {
    const result: SyncRuleStatus[] = [];
    for (const { rule, watcher } of this.#active.values()) result.push({ ruleId: rule.id, dir: rule.dir, watching: watcher !== null, error: null });
    for (const [ruleId, error] of this.#ruleErrors) {
      const rule = this.#repo.rule(ruleId);
      if (rule) result.push({ ruleId, dir: rule.dir, watching: false, error });
    }
    return result.sort((a, b) => a.ruleId - b.ruleId);
  }

  /** Files waiting to be stable, in a batch, or being hashed and queued. */
  get pendingFiles(): number {
    return this.#tracker.size + this.#intake.length;
  }

  /** Files waiting to be stable or in the next batch, per rule id (rules without any are absent). */
  pendingByRule(): Map<number, number> {
    const counts = new Map<number, number>();
    for (const key of this.#tracker.keys()) {
      const ruleId = ruleOfKey(key);
      counts.set(ruleId, (counts.get(ruleId) ?? 0) + 1);
    }
    for (const candidate of this.#intake) counts.set(candidate.ruleId, (counts.get(candidate.ruleId) ?? 0) + 1);
    return counts;
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
      this.#reconcile();
      await this.#purgeTrash();
    });
    await this.#enqueueWork(() => this.#applyRules());
    if (this.#watching) {
      this.#rescanTimer = setInterval(() => void this.rescan().catch((error: unknown) => this.#report(error)), this.#options.rescanIntervalMs);
      this.#rulesTimer = setInterval(() => void this.refresh().catch((error: unknown) => this.#report(error)), this.#options.rulesPollMs);
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
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#intake = [];
    for (const key of [...this.#deferred.keys()]) this.#cancelDeferred(key);
    this.#tracker.stop();
    await Promise.allSettled([...this.#active.values()].map((active) => active.watcher?.close()));
    this.#active.clear();
    await Promise.allSettled([this.#work, this.#actions]);
    // Actions started by the last batch's job events.
    await Promise.allSettled([this.#actions]);
    this.queue.off('job', this.#onJob);
    this.#releaseSettled();
  }

  /** Re-reads the rules: starts new ones, stops removed or paused ones, retries failing ones. */
  refresh(): Promise<void> {
    return this.#enqueueWork(() => this.#applyRules());
  }

  /** Reconciles the index with the jobs and scans every active rule (what the periodic timer does). */
  async rescan(): Promise<void> {
    await this.#enqueueWork(async () => {
      this.#reconcile();
      await this.#purgeTrash();
    });
    await Promise.all([...this.#active.values()].map((active) => this.#scan(active)));
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

  // Rules -------------------------------------------------------------------------------------------

  async #applyRules(): Promise<void> {
    if (!this.#started) return;
    const before = JSON.stringify(this.status());
    try {
      await this.#applyRuleChanges();
    } finally {
      if (JSON.stringify(this.status()) !== before) this.emit('activity');
    }
  }

  async #applyRuleChanges(): Promise<void> {
    const wanted = new Map(this.#repo.rules().filter((rule) => !rule.paused).map((rule) => [rule.id, rule]));
    for (const [id, active] of [...this.#active]) {
      if (!wanted.has(id)) await this.#deactivate(active);
    }
    for (const id of [...this.#ruleErrors.keys()]) if (!wanted.has(id)) this.#ruleErrors.delete(id);
    for (const rule of wanted.values()) {
      if (this.#active.has(rule.id)) continue;
      await this.#activate(rule);
    }
  }

  async #activate(rule: SyncRule): Promise<void> {
    try {
      const info = await stat(rule.dir);
      if (!info.isDirectory()) throw new Error('it is not a folder any more');
    } catch (error) {
      const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the folder does not exist (moved or deleted?)' : (error as Error).message;
      const message = `Cannot watch ${rule.dir} (sync rule #${rule.id}): ${why}; will try again`;
      if (this.#ruleErrors.get(rule.id) !== message) this.#report(new Error(message));
      this.#ruleErrors.set(rule.id, message);
      return;
    }
    this.#ruleErrors.delete(rule.id);
    const filter = createSyncFilter(rule);
    const active: ActiveRule = { rule, filter, watcher: null };
    this.#active.set(rule.id, active);
    if (this.#watching) {
      const watcher = watch(rule.dir, {
        ignoreInitial: true,
        ignored: (path: string) => filter.ignores(path),
        followSymlinks: false,
        ...(rule.recursive ? {} : { depth: 0 }),
        // Stability is decided here, for events and rescans alike (see StabilityTracker).
        awaitWriteFinish: false,
      });
      const onFile = (path: string): void => {
        this.#stats.watcherEvents += 1;
        if (!filter.accepts(path)) return;
        this.#observe(keyOf(rule.id, path), path);
      };
      watcher.on('add', onFile);
      watcher.on('change', onFile);
      watcher.on('unlink', (path: string) => {
        this.#tracker.forget(keyOf(rule.id, path));
        this.#checkSettled();
      });
      watcher.on('error', (error: unknown) => this.#report(error, `Watching ${rule.dir}`));
      active.watcher = watcher;
      await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    }
    // The scan runs after the watcher is ready, so a file created in between is seen by one or both
    // (the tracker merges them).
    await this.#scan(active);
  }

  async #deactivate(active: ActiveRule): Promise<void> {
    this.#active.delete(active.rule.id);
    this.#tracker.forgetPrefix(`${active.rule.id}:`);
    this.#intake = this.#intake.filter((candidate) => candidate.ruleId !== active.rule.id);
    await active.watcher?.close();
    this.#checkSettled();
  }

  // Discovery ---------------------------------------------------------------------------------------

  /** Walks a rule's folder and tracks every acceptable file whose size or mtime is not the indexed one. */
  async #scan(active: ActiveRule): Promise<void> {
    this.#busy += 1;
    try {
      const { rule, filter } = active;
      const walk = async (dir: string, depth: number): Promise<void> => {
        let entries;
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch (error) {
          if (dir === rule.dir) this.#report(error, `Scanning ${rule.dir}`);
          return;
        }
        for (const entry of entries) {
          if (!this.#started || this.#active.get(rule.id) !== active) return;
          const path = join(dir, entry.name);
          if (filter.ignores(path)) continue;
          if (entry.isDirectory()) {
            if (rule.recursive) await walk(path, depth + 1);
            continue;
          }
          if (!entry.isFile() || !filter.accepts(path)) continue;
          this.#stats.scannedFiles += 1;
          const key = keyOf(rule.id, path);
          if (this.#tracker.has(key)) continue;
          const snapshot = await snapshotOf(path);
          if (!snapshot) continue;
          if (isUnchanged(this.#repo.file(rule.id, path), snapshot)) continue;
          this.#observe(key, path, snapshot);
        }
      };
      await walk(rule.dir, 0);
    } finally {
      this.#busy -= 1;
      this.#checkSettled();
    }
  }

  #observe(key: string, path: string, snapshot?: FileSnapshot): void {
    const fresh = !this.#tracker.has(key);
    this.#tracker.observe(key, path, snapshot);
    if (fresh) this.emit('activity');
  }

  #stable(ruleId: number, path: string, snapshot: FileSnapshot): void {
    if (!this.#started) return;
    this.#stats.stableFiles += 1;
    this.#intake.push({ ruleId, path, snapshot });
    if (this.#intake.length >= this.#options.batchSize) this.#flush();
    else this.#flushTimer ??= setTimeout(() => this.#flush(), this.#options.batchDelayMs);
  }

  #flush(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    while (this.#intake.length > 0) {
      const batch = this.#intake.splice(0, this.#options.batchSize);
      void this.#enqueueWork(() => this.#process(batch)).catch((error: unknown) => this.#report(error));
    }
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

  // Processing --------------------------------------------------------------------------------------

  async #process(batch: Candidate[]): Promise<void> {
    if (!this.#started) return;
    this.#stats.batches += 1;
    const byRule = new Map<number, Candidate[]>();
    for (const candidate of batch) {
      const list = byRule.get(candidate.ruleId) ?? [];
      list.push(candidate);
      byRule.set(candidate.ruleId, list);
    }
    for (const [ruleId, candidates] of byRule) {
      const active = this.#active.get(ruleId);
      const account = active && this.queue.accounts.get(active.rule.accountId);
      if (!active || !account) continue;
      const verdicts = await mapLimit(candidates, this.#options.hashConcurrency, (candidate) => this.#judge(active, account, candidate));
      await this.#settle(active, account, verdicts);
    }
  }

  /** Decides what one stable file is: known already, refused by the provider, or hashed content. */
  async #judge(active: ActiveRule, account: Account, candidate: Candidate): Promise<Verdict> {
    const { rule } = active;
    const key = keyOf(rule.id, candidate.path);
    const now = await snapshotOf(candidate.path);
    if (!now) return { kind: 'skip' };
    if (!sameSnapshot(now, candidate.snapshot)) {
      // It changed again after it looked stable: start over.
      this.#tracker.observe(key, candidate.path, now);
      return { kind: 'skip' };
    }
    const known = this.#repo.file(rule.id, candidate.path);
    if (isUnchanged(known, now)) {
      this.#stats.unchanged += 1;
      return { kind: 'skip' };
    }
    const name = basename(candidate.path);
    try {
      // The provider's own limits (type, size) first: a file it cannot take is not even hashed.
      this.queue.adapterFor(account.provider).validateSource(
        { kind: 'file', path: candidate.path, name, size: now.size, mime: mime.lookup(name) || 'application/octet-stream' },
        {},
      );
    } catch (error) {
      if (error instanceof UploadError) return { kind: 'refused', candidate, reason: error.message };
      throw error;
    }
    let sha256: string;
    try {
      sha256 = await openFileSource(candidate.path, now.size).digest('sha256');
    } catch {
      // Gone or unreadable while hashing: the watcher or the next rescan brings it back if it returns.
      return { kind: 'skip' };
    }
    const after = await snapshotOf(candidate.path);
    if (!after || !sameSnapshot(after, now)) {
      if (after) this.#tracker.observe(key, candidate.path, after);
      return { kind: 'skip' };
    }
    return { kind: 'hashed', candidate, sha256, known };
  }

  /** Records the verdicts and queues the new contents. Synchronous up to the enqueue call. */
  async #settle(active: ActiveRule, account: Account, verdicts: Verdict[]): Promise<void> {
    const { rule } = active;
    const fresh: Array<{ candidate: Candidate; sha256: string }> = [];
    /** Files of this batch with the same content as a file queued in this batch. */
    const twins = new Map<string, Candidate[]>();
    const events: SyncFileEvent[] = [];
    const uploadedDuplicates: SyncFile[] = [];

    transaction(this.queue.db, () => {
      for (const verdict of verdicts) {
        if (verdict.kind === 'skip') continue;
        const { candidate } = verdict;
        const facts = { size: candidate.snapshot.size, mtimeMs: candidate.snapshot.mtimeMs };
        if (verdict.kind === 'refused') {
          this.#stats.refused += 1;
          this.#repo.upsertFile(rule.id, account.id, candidate.path, { ...facts, state: 'refused', reason: verdict.reason });
          events.push({ ruleId: rule.id, path: candidate.path, state: 'refused', jobId: null, reason: verdict.reason });
          continue;
        }
        const { sha256, known } = verdict;
        const upload = this.#repo.upload(account.id, sha256);
        const live = this.#liveJob(upload);
        if (live !== false && known && known.sha256 === sha256 && known.disposition === null && ['queued', 'uploaded', 'duplicate'].includes(known.state)) {
          // Touched, or written again with the same bytes: only the observed facts change.
          this.#stats.unchanged += 1;
          this.#repo.upsertFile(rule.id, account.id, candidate.path, {
            ...facts,
            sha256,
            state: known.state,
            jobId: known.jobId,
            uploadedAt: known.uploadedAt,
          });
          continue;
        }
        if (live !== false) {
          this.#stats.duplicates += 1;
          const uploaded = upload?.state === 'uploaded' || live === 'completed';
          this.#repo.upsertFile(rule.id, account.id, candidate.path, {
            ...facts,
            sha256,
            state: 'duplicate',
            jobId: upload?.jobId ?? null,
            reason: 'Same content as a file already uploaded or queued for this account',
            uploadedAt: uploaded ? (upload?.uploadedAt ?? Date.now()) : null,
          });
          events.push({ ruleId: rule.id, path: candidate.path, state: 'duplicate', jobId: upload?.jobId ?? null, reason: null });
          if (uploaded) uploadedDuplicates.push(this.#repo.file(rule.id, candidate.path)!);
          continue;
        }
        const twin = twins.get(sha256);
        if (twin) {
          twin.push(candidate);
          continue;
        }
        twins.set(sha256, []);
        fresh.push({ candidate, sha256 });
        // Recorded before the job exists: if the process stops between the two, the next start
        // adopts the job that was created (or finds none and looks at the file again).
        this.#repo.upsertFile(rule.id, account.id, candidate.path, { ...facts, sha256, state: 'pending' });
      }
    });
    for (const event of events.splice(0)) this.emit('file', event);
    for (const file of uploadedDuplicates) this.#afterUpload(file);
    if (fresh.length === 0) return;

    const jobs = await this.#enqueue(account, fresh.map((item) => item.candidate.path));
    const queuedAt = Date.now();
    transaction(this.queue.db, () => {
      fresh.forEach(({ candidate, sha256 }, index) => {
        const outcome = jobs[index]!;
        const facts = { size: candidate.snapshot.size, mtimeMs: candidate.snapshot.mtimeMs, sha256 };
        if (outcome.job) {
          const jobId = outcome.job.id;
          this.#stats.queued += 1;
          this.#recordLatency(queuedAt - candidate.snapshot.mtimeMs);
          this.#repo.upsertFile(rule.id, account.id, candidate.path, { ...facts, state: 'queued', jobId });
          this.#repo.putUpload(account.id, sha256, jobId, 'queued');
          events.push({ ruleId: rule.id, path: candidate.path, state: 'queued', jobId, reason: null });
          for (const twin of twins.get(sha256) ?? []) {
            this.#stats.duplicates += 1;
            this.#repo.upsertFile(rule.id, account.id, twin.path, {
              size: twin.snapshot.size,
              mtimeMs: twin.snapshot.mtimeMs,
              sha256,
              state: 'duplicate',
              jobId,
              reason: 'Same content as a file already uploaded or queued for this account',
            });
            events.push({ ruleId: rule.id, path: twin.path, state: 'duplicate', jobId, reason: null });
          }
        } else if (outcome.reason === null) {
          // The file vanished before it could be queued; its twins are looked at again next time.
          this.#repo.removeFile(rule.id, candidate.path);
        } else {
          this.#stats.refused += 1;
          this.#repo.upsertFile(rule.id, account.id, candidate.path, { ...facts, state: 'refused', reason: outcome.reason });
          events.push({ ruleId: rule.id, path: candidate.path, state: 'refused', jobId: null, reason: outcome.reason });
        }
      });
    });
    for (const event of events) this.emit('file', event);
  }

  /**
   * Queues the paths in one call (all or nothing); when that fails (one file vanished or changed
   * type in the meantime), file by file, so that one bad file never holds the others back.
   */
  async #enqueue(account: Account, paths: string[]): Promise<EnqueueOutcome[]> {
    this.#stats.enqueueCalls += 1;
    try {
      const jobs = await this.queue.enqueue(account.name, paths);
      // Each path is a file, so each gives exactly one job, in order.
      if (jobs.length === paths.length) return jobs.map((job) => ({ job, reason: null }));
      throw new Error(`Queueing ${paths.length} files gave ${jobs.length} jobs`);
    } catch (error) {
      if (paths.length === 1) return [await this.#whyNot(paths[0]!, error)];
    }
    const outcomes: EnqueueOutcome[] = [];
    for (const path of paths) {
      this.#stats.enqueueCalls += 1;
      try {
        const [job] = await this.queue.enqueue(account.name, [path]);
        outcomes.push({ job: job ?? null, reason: null });
      } catch (error) {
        outcomes.push(await this.#whyNot(path, error));
      }
    }
    return outcomes;
  }

  /** A path that could not be queued: vanished (reason null) or refused (the queue's message). */
  async #whyNot(path: string, error: unknown): Promise<EnqueueOutcome> {
    if (!(await snapshotOf(path))) return { job: null, reason: null };
    return { job: null, reason: error instanceof Error ? error.message : String(error) };
  }

  /**
   * Whether a content's job still counts: false when there is none, or it failed or was canceled (a
   * changed or copied file with that content may then go again); otherwise the job's state.
   */
  #liveJob(upload: ReturnType<SyncRepository['upload']>): false | string {
    if (!upload) return false;
    if (upload.state === 'uploaded') return 'completed';
    if (upload.jobId === null) return false;
    const job = this.queue.jobs.get(upload.jobId);
    if (!job || job.state === 'failed' || job.state === 'canceled') return false;
    // Completed, but it sent other bytes than this content (see #jobChanged): the content never went.
    if (upload.state === 'failed' && job.state === 'completed') return false;
    return job.state;
  }

  #recordLatency(ms: number): void {
    const samples = this.#stats.queueLatencyMs;
    samples.push(Math.max(0, ms));
    if (samples.length > LATENCY_SAMPLES) samples.splice(0, samples.length - LATENCY_SAMPLES);
  }

  // Job outcomes ------------------------------------------------------------------------------------

  #jobChanged(job: Job): void {
    if (!TERMINAL.has(job.state)) return;
    const files = this.#repo.filesOfJob(job.id);
    if (files.length === 0) return;
    const now = Date.now();
    const events: SyncFileEvent[] = [];
    // What the job really sent (null: not confirmed, e.g. a job from an older Ferry): a content the
    // index hashed but the job did not send may go again, and the sent one counts as uploaded.
    const sent = job.state === 'completed' ? this.queue.jobs.sentSha256(job.id) : null;
    const lookAgain: SyncFile[] = [];
    transaction(this.queue.db, () => {
      for (const upload of this.#repo.uploadsOfJob(job.id)) {
        const reached = job.state === 'completed' && (sent === null || sent === upload.sha256);
        this.#repo.putUpload(upload.accountId, upload.sha256, job.id, reached ? 'uploaded' : 'failed');
      }
      if (sent !== null && files[0] && !this.#repo.upload(files[0].accountId, sent)) {
        this.#repo.putUpload(files[0].accountId, sent, job.id, 'uploaded');
      }
      for (const file of files) {
        if (job.state === 'completed' && sent !== null && file.sha256 !== null && file.sha256 !== sent) {
          // The job sent other bytes than the ones hashed for this path (the file changed in
          // between): forget the path's record so that it is looked at, hashed and judged again.
          this.#repo.removeFile(file.ruleId, file.path);
          lookAgain.push(file);
          continue;
        }
        if (job.state === 'completed') {
          const state = file.state === 'duplicate' ? 'duplicate' : 'uploaded';
          this.#repo.setFileState(file.ruleId, file.path, state, { uploadedAt: now, reason: file.state === 'duplicate' ? file.reason : null });
          events.push({ ruleId: file.ruleId, path: file.path, state, jobId: job.id, reason: null });
        } else {
          const reason = job.state === 'canceled' ? 'The upload was canceled' : (job.error?.message ?? 'The upload failed');
          this.#repo.setFileState(file.ruleId, file.path, 'failed', { reason });
          events.push({ ruleId: file.ruleId, path: file.path, state: 'failed', jobId: job.id, reason });
        }
      }
    });
    for (const event of events) this.emit('file', event);
    for (const file of lookAgain) {
      if (this.#active.has(file.ruleId)) this.#observe(keyOf(file.ruleId, file.path), file.path);
    }
    if (job.state === 'completed') {
      for (const file of files) if (!lookAgain.includes(file)) this.#afterUpload({ ...file, uploadedAt: now });
    }
    // Files kept because this job still read them may go now.
    if (TERMINAL.has(job.state) && job.sourceKind === 'file') {
      for (const other of this.#repo.filesAtPath(job.source)) {
        if (other.jobId !== job.id && this.#deferred.has(keyOf(other.ruleId, other.path))) this.#afterUpload(other);
      }
    }
  }

  /**
   * Brings the index in line with the jobs after a stop in the middle of something: a pending path
   * adopts the job created for it, a path whose job ended while nobody listened gets its outcome
   * (and its after-upload action), a failed path whose job was retried is queued again, and a path
   * whose job was removed is forgotten (so that it is looked at again).
   */
  #reconcile(): void {
    const ended: Job[] = [];
    transaction(this.queue.db, () => {
      for (const file of this.#repo.files({ states: ['pending', 'queued', 'failed'] })) {
        if (file.state === 'pending') {
          const orphan = this.#repo.orphanJobFor(file);
          if (!orphan) {
            this.#repo.removeFile(file.ruleId, file.path);
            continue;
          }
          this.#repo.setFileState(file.ruleId, file.path, 'queued', { jobId: orphan.id });
          if (file.sha256) this.#repo.putUpload(file.accountId, file.sha256, orphan.id, 'queued');
          file.jobId = orphan.id;
          file.state = 'queued';
        }
        const job = file.jobId === null ? undefined : this.queue.jobs.get(file.jobId);
        if (!job) {
          if (file.state === 'queued') this.#repo.removeFile(file.ruleId, file.path);
          continue;
        }
        if (job.state === 'completed' || (file.state === 'queued' && TERMINAL.has(job.state))) ended.push(job);
        else if (file.state === 'failed' && !TERMINAL.has(job.state)) {
          // Retried by someone ("ferry retry"): it counts again.
          this.#repo.setFileState(file.ruleId, file.path, 'queued', { reason: null });
          if (file.sha256) this.#repo.putUpload(file.accountId, file.sha256, job.id, 'queued');
        }
      }
    });
    const seen = new Set<number>();
    for (const job of ended) {
      if (seen.has(job.id)) continue;
      seen.add(job.id);
      this.#jobChanged(job);
    }
    // Uploaded files whose move or delete did not happen (the process stopped right after the upload).
    for (const rule of this.#repo.rules()) {
      if (rule.afterUpload === 'keep') continue;
      for (const file of this.#repo.files({ ruleId: rule.id, states: ['uploaded', 'duplicate'] })) {
        if (file.disposition === null && file.restoredAt === null && file.uploadedAt !== null) this.#afterUpload(file);
      }
    }
  }

  // After upload ------------------------------------------------------------------------------------

  #afterUpload(file: SyncFile): void {
    const rule = this.#repo.rule(file.ruleId);
    if (!rule || rule.afterUpload === 'keep' || file.disposition !== null || file.restoredAt !== null) return;
    this.#cancelDeferred(keyOf(rule.id, file.path));
    this.#busy += 1;
    this.#actions = this.#actions
      .then(() => this.#dispose(rule, file))
      .catch((error: unknown) => this.#report(error, `Applying "${rule.afterUpload}" to ${file.path} (the file is kept)`))
      .finally(() => {
        this.#busy -= 1;
        this.#checkSettled();
      });
  }

  /** The quiet period in force now (the option, else the setting, read each time so a change applies). */
  #quietMs(): number {
    return this.#options.quietPeriodMs ?? new SettingsStore(this.queue.db).get().syncQuietSeconds * 1000;
  }

  /**
   * Looks at a kept file again after `ms`. A wait for the quiet period is bounded, so it counts as
   * work in progress (`whenSettled`, and `ferry run --until-idle`, wait for it); a wait for a file in
   * use is not, and happens only while watching (otherwise the next start's reconciliation looks again).
   */
  #defer(file: SyncFile, ms: number, counts: boolean): void {
    if (!this.#started || (!counts && !this.#watching)) return;
    const key = keyOf(file.ruleId, file.path);
    this.#cancelDeferred(key);
    if (counts) this.#busy += 1;
    const timer = setTimeout(() => {
      this.#deferred.delete(key);
      const fresh = this.#repo.file(file.ruleId, file.path);
      if (fresh && this.#started) this.#afterUpload(fresh);
      if (counts) this.#busy -= 1;
      this.#checkSettled();
    }, Math.max(0, ms));
    this.#deferred.set(key, { timer, counts });
  }

  #cancelDeferred(key: string): void {
    const deferred = this.#deferred.get(key);
    if (!deferred) return;
    clearTimeout(deferred.timer);
    this.#deferred.delete(key);
    if (deferred.counts) this.#busy -= 1;
  }

  #inUseRecheckMs(): number {
    return this.#options.inUseRecheckMs ?? Math.max(1_000, this.#quietMs());
  }

  /** Records why the action did not run (once per new reason) and tells listeners. */
  #keep(file: SyncFile, reason: string): void {
    const current = this.#repo.file(file.ruleId, file.path);
    if (!current || current.reason === reason) return;
    this.#repo.setFileState(file.ruleId, file.path, current.state, { reason });
    this.emit('file', { ruleId: file.ruleId, path: file.path, state: 'kept', jobId: current.jobId, reason });
  }

  async #dispose(rule: SyncRule, file: SyncFile): Promise<void> {
    const current = this.#repo.file(file.ruleId, file.path);
    if (!current || current.disposition !== null || current.restoredAt !== null || (current.state !== 'uploaded' && current.state !== 'duplicate')) return;
    const doing = rule.afterUpload === 'delete' ? 'moving it to Ferry\'s trash' : `moving it to ${rule.moveTo}/`;
    const account = this.queue.accounts.get(current.accountId)?.name ?? `account #${current.accountId}`;
    const first = await identityOf(file.path);
    // Gone, or a new version: the watcher and the rescan take a new version through the whole
    // pipeline again (its own upload, its own action).
    if (!first || first.size !== current.size || first.mtimeMs !== current.mtimeMs) return;

    const quietMs = this.#quietMs();
    const wait = quietLeft(first, quietMs);
    if (wait > 0) {
      this.#keep(current, `Uploaded; waiting until it has not changed for ${describeMs(quietMs)} before ${doing}`);
      this.#defer(current, wait, true);
      return;
    }
    if (this.#stillRead(current, doing)) return;

    let sha256: string;
    try {
      sha256 = await openFileSource(file.path, first.size).digest('sha256');
    } catch {
      return; // gone or unreadable: nothing to do with it
    }
    if (!this.queue.jobs.completedWithSentContent(current.accountId, sha256)) {
      if (current.sha256 !== null && current.sha256 !== sha256 && this.#active.has(rule.id)) {
        // Rewritten in place with its size and mtime put back (cp -p, some importers): only the
        // content tells. It is a new version: forget the record and take it through the pipeline.
        this.#repo.removeFile(rule.id, file.path);
        this.#observe(keyOf(rule.id, file.path), file.path);
        return;
      }
      // The index may say "uploaded" for this path, but no completed job sent these exact bytes.
      this.#keep(
        current,
        `Kept: no completed upload to "${account}" sent exactly this content (SHA-256 ${sha256.slice(0, 12)}…); Ferry only moves or deletes bytes that reached the provider`,
      );
      return;
    }
    for (const other of this.#repo.rules()) {
      if (other.id === rule.id || !createSyncFilter(other).accepts(file.path)) continue;
      if (!this.queue.jobs.completedWithSentContent(other.accountId, sha256)) {
        const otherAccount = this.queue.accounts.get(other.accountId)?.name ?? `account #${other.accountId}`;
        this.#keep(current, `Kept for now: sync rule #${other.id} also watches it and has not uploaded it to "${otherAccount}" yet`);
        this.#defer(current, this.#inUseRecheckMs(), false);
        return;
      }
    }

    // Right before acting: the file is still the one hashed, still quiet, read by no job and open in
    // no other process.
    const before = await identityOf(file.path);
    if (!before) return;
    if (!sameIdentity(before, first)) {
      if (before.size === first.size && before.mtimeMs === first.mtimeMs) this.#defer(current, quietLeft(before, quietMs), true);
      return;
    }
    if (quietLeft(before, quietMs) > 0 || this.#stillRead(current, doing)) return;
    const open = await whoHasOpen([file.path]);
    if (open.kind === 'known' && open.holders.has(file.path)) {
      const pids = open.holders.get(file.path)!.join(', ');
      this.#keep(current, `Uploaded; kept while another program (process ${pids}) still has it open, before ${doing}`);
      this.#defer(current, this.#inUseRecheckMs(), false);
      return;
    }
    if (open.kind === 'incomplete') {
      this.#keep(current, `Uploaded; kept because Ferry could not check whether another program has it open (${open.reason})`);
      this.#defer(current, this.#inUseRecheckMs(), false);
      return;
    }

    this.#tracker.forget(keyOf(rule.id, file.path));
    try {
      if (rule.afterUpload === 'delete') {
        const entry = await moveToTrash(this.queue.db, { ruleId: rule.id, accountId: current.accountId, path: file.path, jobId: current.jobId }, before, sha256);
        this.#repo.setDisposition(rule.id, file.path, 'deleted', entry.trashPath);
        this.#repo.setFileState(rule.id, file.path, current.state, { reason: null });
        this.emit('file', { ruleId: rule.id, path: file.path, state: 'deleted', jobId: current.jobId, reason: entry.trashPath });
        return;
      }
      const relativePath = createSyncFilter(rule).relative(file.path);
      const target = await placeFile(file.path, join(rule.dir, rule.moveTo, relativePath), { expect: before, sha256 });
      this.#repo.setDisposition(rule.id, file.path, 'moved', target);
      this.#repo.setFileState(rule.id, file.path, current.state, { reason: null });
      this.emit('file', { ruleId: rule.id, path: file.path, state: 'moved', jobId: current.jobId, reason: target });
    } catch (error) {
      // Changed while being moved: it stays, and goes through the pipeline as a new version.
      if (error instanceof SourceChangedError) return;
      this.#keep(current, `Kept: ${doing} failed (${(error as Error).message})`);
      throw error;
    }
  }

  /** True (and the file kept) while an unfinished job of any account still reads the file. */
  #stillRead(file: SyncFile, doing: string): boolean {
    const readers = this.queue.jobs.unfinishedReading(file.path);
    if (readers.length === 0) return false;
    const list = readers.map((job) => `#${job.id} (${job.state})`).join(', ');
    this.#keep(file, `Uploaded; kept while job ${list} still reads it, before ${doing}`);
    this.#defer(file, this.#inUseRecheckMs(), false);
    return true;
  }

  async #purgeTrash(): Promise<void> {
    try {
      await purgeTrash(this.queue.db);
    } catch (error) {
      this.#report(error, "Purging expired files from Ferry's trash");
    }
  }

  // Settling ----------------------------------------------------------------------------------------

  #settled(): boolean {
    return this.#tracker.size === 0 && this.#intake.length === 0 && this.#busy === 0;
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

function keyOf(ruleId: number, path: string): string {
  return `${ruleId}:${path}`;
}

function ruleOfKey(key: string): number {
  return Number(key.slice(0, key.indexOf(':')));
}

/**
 * Milliseconds until the file has gone `quietMs` without a change. The ctime counts too: a copy that
 * keeps the source's timestamps (cp -p, rsync -t, many card importers) sets an old mtime, but every
 * write and every timestamp change moves the ctime, which no program can set back.
 */
function quietLeft(file: FileIdentity, quietMs: number): number {
  return Math.max(0, Math.max(file.mtimeMs, file.ctimeMs) + quietMs - Date.now());
}

function describeMs(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : ms >= 1_000 ? `${Math.round(ms / 1_000)} s` : `${ms} ms`;
}

/** The index already holds this file as it is now (and nothing moved it away since). */
function isUnchanged(known: SyncFile | undefined, now: FileSnapshot): boolean {
  return (
    known !== undefined &&
    known.state !== 'pending' &&
    known.disposition === null &&
    known.size === now.size &&
    known.mtimeMs === now.mtimeMs
  );
}

/** Runs `work` over `items` with at most `limit` at once, keeping the order of results. */
async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, () => worker()));
  return results;
}
