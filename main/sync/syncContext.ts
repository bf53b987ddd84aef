/**
 * What the parts of one SyncService share: the queue and the sync index, the counters, whether the
 * service runs, the count of work in progress that `whenSettled()` waits for, and the service's
 * events. The parts (watchers, intake batcher, indexer, job outcomes, after-upload actions) receive
 * this from the SyncService that owns them and never see each other's state.
 */
import type { Db } from '../db/database.ts';
import type { SyncFileState, SyncRepository } from '../db/syncRepository.ts';
import type { Queue } from '../engine/queue.ts';

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

export interface SyncContext {
  readonly queue: Queue;
  /** The queue's database: a change to the index and to the jobs it concerns is one transaction on it. */
  readonly db: Db;
  readonly repo: SyncRepository;
  /** The service's counters, updated in place. */
  readonly stats: SyncStats;
  /** Between `start()` and `stop()`. */
  started(): boolean;
  /** Started with watchers (false: one scan, as `ferry run --until-idle` does). */
  watching(): boolean;
  /** Counts one piece of work in progress: `whenSettled()` waits until each has ended. */
  beginWork(): void;
  /** Ends one piece of work; it does not release `whenSettled()` by itself (see `checkSettled`). */
  endWork(): void;
  /** Releases `whenSettled()` if nothing is in progress any more. */
  checkSettled(): void;
  /** A path's outcome changed: the service's `file` event. */
  emitFile(event: SyncFileEvent): void;
  /** Something a UI may want to show again changed: the service's `activity` event. */
  activity(): void;
  /** Something went wrong that is not about one upload: the service's `error` event, if anyone listens. */
  report(error: unknown, doing?: string): void;
}

/** One path of one rule, as the stability tracker and the after-upload waits know it. */
export function keyOf(ruleId: number, path: string): string {
  return `${ruleId}:${path}`;
}

export function ruleOfKey(key: string): number {
  return Number(key.slice(0, key.indexOf(':')));
}
