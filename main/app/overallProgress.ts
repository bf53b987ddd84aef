/**
 * Overall progress of the uploads running now, for the taskbar/dock bar and the tray tooltip.
 *
 * It is measured over a *batch*: every job that became runnable since the queue was last idle. Jobs
 * that finish stay in the batch (counted as done), so the bar only moves forward while a batch
 * drains — it does not jump back each time a job leaves — and the batch ends, hiding the bar, once
 * nothing in it is left to do. Paused and canceled jobs leave the batch; jobs of a paused account
 * count as paused.
 *
 * Bytes are what is compared; when no job of the batch knows its size (URL imports), finished jobs
 * out of all jobs is the measure instead.
 */
import type { JobState } from '../engine/jobState.ts';

export interface TrackedJob {
  id: number;
  state: JobState;
  size: number | null;
  bytesConfirmed: number;
}

export interface ProgressItemLike {
  jobId: number;
  bytesDone: number;
  total: number | null;
}

export interface ProgressSnapshot {
  /** Jobs of the batch not finished yet (queued, uploading, waiting to retry, finalizing, processing). */
  running: number;
  /** Jobs of the batch that completed or failed. */
  finished: number;
  /** Jobs in the batch. */
  total: number;
  /** Jobs paused (or held by a paused account), in or out of the batch. */
  paused: number;
  /** 0..1 while the batch runs; null when nothing runs (no bar). */
  fraction: number | null;
}

interface Entry {
  size: number | null;
  done: number;
  finished: boolean;
}

const RUNNABLE: ReadonlySet<JobState> = new Set(['queued', 'uploading', 'waiting', 'finalizing', 'processing']);
/** States that wait for a time, not a person: held by a paused account, they count as paused. */
const HELD_BY_ACCOUNT: ReadonlySet<JobState> = new Set(['queued', 'waiting']);

export class OverallProgress {
  readonly #batch = new Map<number, Entry>();
  readonly #paused = new Set<number>();

  /** Records a job's current row. `accountPaused`: its account's lane is paused. */
  job(job: TrackedJob, accountPaused = false): void {
    const state: JobState = accountPaused && HELD_BY_ACCOUNT.has(job.state) ? 'paused' : job.state;
    if (RUNNABLE.has(state)) {
      this.#paused.delete(job.id);
      const entry = this.#batch.get(job.id);
      if (entry && !entry.finished) {
        entry.size = job.size;
        // Progress events run ahead of the acknowledged bytes; a new session starts again from 0.
        entry.done = job.bytesConfirmed === 0 ? 0 : Math.max(entry.done, job.bytesConfirmed);
      } else {
        this.#batch.set(job.id, { size: job.size, done: job.bytesConfirmed, finished: false });
      }
      return;
    }
    switch (state) {
      case 'completed':
      case 'failed': {
        this.#paused.delete(job.id);
        const entry = this.#batch.get(job.id);
        if (entry) {
          entry.finished = true;
          entry.size = job.size ?? entry.size;
          entry.done = entry.size ?? entry.done;
        }
        break;
      }
      case 'paused':
        this.#paused.add(job.id);
        this.#batch.delete(job.id);
        break;
      case 'canceled':
        this.#paused.delete(job.id);
        this.#batch.delete(job.id);
        break;
      case 'queued':
      case 'uploading':
      case 'waiting':
      case 'finalizing':
      case 'processing':
        break;
      default: {
        const unreachable: never = state;
        throw new Error(`Unknown job state ${String(unreachable)}`);
      }
    }
    this.#endBatchIfDone();
  }

  /** Jobs that no longer exist. */
  removed(ids: Iterable<number>): void {
    for (const id of ids) {
      this.#batch.delete(id);
      this.#paused.delete(id);
    }
    this.#endBatchIfDone();
  }

  /** Bytes sent so far by running jobs (the engine's coalesced progress events). */
  progress(items: readonly ProgressItemLike[]): void {
    for (const item of items) {
      const entry = this.#batch.get(item.jobId);
      if (!entry || entry.finished) continue;
      entry.done = item.bytesDone;
      if (item.total !== null) entry.size = item.total;
    }
  }

  snapshot(): ProgressSnapshot {
    let running = 0;
    let finished = 0;
    let sizeSum = 0;
    let doneSum = 0;
    let sized = 0;
    for (const entry of this.#batch.values()) {
      if (entry.finished) finished += 1;
      else running += 1;
      if (entry.size !== null && entry.size > 0) {
        sized += 1;
        sizeSum += entry.size;
        doneSum += entry.finished ? entry.size : Math.min(Math.max(entry.done, 0), entry.size);
      }
    }
    const total = this.#batch.size;
    let fraction: number | null = null;
    if (running > 0) fraction = sized > 0 ? doneSum / sizeSum : finished / total;
    return { running, finished, total, paused: this.#paused.size, fraction: fraction === null ? null : Math.min(1, Math.max(0, fraction)) };
  }

  #endBatchIfDone(): void {
    for (const entry of this.#batch.values()) if (!entry.finished) return;
    this.#batch.clear();
  }
}

export interface TrayView {
  tooltip: string;
  /** For `BrowserWindow.setProgressBar`: 0..1, or -1 to remove the bar. */
  progressBar: number;
  canPauseAll: boolean;
  canResumeAll: boolean;
}

function uploads(count: number): string {
  return `${count} upload${count === 1 ? '' : 's'}`;
}

/** What the tray and the taskbar show for a snapshot. */
export function trayView(snapshot: ProgressSnapshot): TrayView {
  const paused = snapshot.paused > 0 ? `, ${snapshot.paused} paused` : '';
  if (snapshot.fraction !== null && snapshot.running > 0) {
    // Rounded down: 100% only once everything is done.
    const percent = Math.floor(snapshot.fraction * 100);
    return {
      tooltip: `Ferry: ${percent}% · ${snapshot.finished} of ${uploads(snapshot.total)} done${paused}`,
      progressBar: snapshot.fraction,
      canPauseAll: true,
      canResumeAll: snapshot.paused > 0,
    };
  }
  return {
    tooltip: snapshot.paused > 0 ? `Ferry: ${uploads(snapshot.paused)} paused` : 'Ferry: no uploads running',
    progressBar: -1,
    canPauseAll: false,
    canResumeAll: snapshot.paused > 0,
  };
}

export type TrayAction = 'open' | 'pause-all' | 'resume-all' | 'quit';

export type TrayMenuItem = { kind: 'item'; action: TrayAction; label: string; enabled: boolean } | { kind: 'separator' };

/** The tray menu for a view: Open, Pause all, Resume all, Quit. */
export function trayMenu(view: TrayView): TrayMenuItem[] {
  return [
    { kind: 'item', action: 'open', label: 'Open Ferry', enabled: true },
    { kind: 'separator' },
    { kind: 'item', action: 'pause-all', label: 'Pause all', enabled: view.canPauseAll },
    { kind: 'item', action: 'resume-all', label: 'Resume all', enabled: view.canResumeAll },
    { kind: 'separator' },
    { kind: 'item', action: 'quit', label: 'Quit Ferry', enabled: true },
  ];
}
