/**
 * From "a file appeared or changed" to batches of complete files. Each path waits in the
 * StabilityTracker until it stops changing, then joins an intake batch, flushed every `batchDelayMs`
 * or `batchSize` files, so a burst of a thousand files becomes a handful of enqueue calls. What a
 * batch becomes is the SyncService's business (`onBatch`: the indexer, one batch at a time).
 */
import { ruleOfKey, type SyncContext } from './syncContext.ts';
import { StabilityTracker, type FileSnapshot } from './stabilityTracker.ts';

/** A stable file of a rule, as it looked when it became stable. */
export interface Candidate {
  ruleId: number;
  path: string;
  snapshot: FileSnapshot;
}

export interface IntakeBatcherOptions {
  /** Identical size+mtime looks in a row before a file counts as complete. */
  stableChecks: number;
  /** Time between those looks. */
  stableIntervalMs: number;
  /** Longest a stable file waits for its batch. */
  batchDelayMs: number;
  /** Files per batch (at least 1). */
  batchSize: number;
}

export class IntakeBatcher {
  readonly #context: SyncContext;
  readonly #options: IntakeBatcherOptions;
  readonly #onBatch: (batch: Candidate[]) => void;
  readonly #tracker: StabilityTracker;
  #intake: Candidate[] = [];
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(context: SyncContext, options: IntakeBatcherOptions, onBatch: (batch: Candidate[]) => void) {
    this.#context = context;
    this.#options = options;
    this.#onBatch = onBatch;
    this.#tracker = new StabilityTracker(
      { checks: options.stableChecks, intervalMs: options.stableIntervalMs },
      {
        stable: (key, path, snapshot) => this.#stable(ruleOfKey(key), path, snapshot),
        gone: () => context.checkSettled(),
      },
    );
  }

  /** Files waiting to be stable or in the next batch. */
  get size(): number {
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

  /** Whether the path is waiting to be stable. */
  has(key: string): boolean {
    return this.#tracker.has(key);
  }

  /**
   * Watches a path until it is stable (again); `snapshot` is a look just taken. A path that was not
   * waiting yet is an `activity` (the pending counts changed).
   */
  observe(key: string, path: string, snapshot?: FileSnapshot): void {
    const fresh = !this.#tracker.has(key);
    this.#tracker.observe(key, path, snapshot);
    if (fresh) this.#context.activity();
  }

  /**
   * Starts a path's count over after it looked stable (it changed while its batch was processed).
   * Unlike `observe`, this emits no `activity`.
   */
  restart(key: string, path: string, snapshot: FileSnapshot): void {
    this.#tracker.observe(key, path, snapshot);
  }

  /** Stops waiting for a path (it was deleted, or is being moved away). */
  forget(key: string): void {
    this.#tracker.forget(key);
  }

  /** Drops every path of a rule, waiting to be stable or in the next batch. */
  forgetRule(ruleId: number): void {
    this.#tracker.forgetPrefix(`${ruleId}:`);
    this.#intake = this.#intake.filter((candidate) => candidate.ruleId !== ruleId);
  }

  /** Drops everything: nothing was recorded for these files, so the next start's scan finds them again. */
  stop(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#intake = [];
    this.#tracker.stop();
  }

  #stable(ruleId: number, path: string, snapshot: FileSnapshot): void {
    if (!this.#context.started()) return;
    this.#context.stats.stableFiles += 1;
    this.#intake.push({ ruleId, path, snapshot });
    if (this.#intake.length >= this.#options.batchSize) this.#flush();
    else this.#flushTimer ??= setTimeout(() => this.#flush(), this.#options.batchDelayMs);
  }

  #flush(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    while (this.#intake.length > 0) this.#onBatch(this.#intake.splice(0, this.#options.batchSize));
  }
}
