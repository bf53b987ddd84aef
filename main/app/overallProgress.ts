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
import type { JobState } from '../core/jobState.ts';

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
  /**
   * Jobs that failed in the running batch, or in the last one once it ended (until they are
   * retried or removed, or the next batch starts).
   */
  failed: number;
}

interface Entry {
  size: number | null;
  done: number;
  finished: boolean;
  failed: boolean;
}

const RUNNABLE: ReadonlySet<JobState> = new Set(['queued', 'uploading', 'waiting', 'finalizing', 'processing']);
/** States that wait for a time, not a person: held by a paused account, they count as paused. */
const HELD_BY_ACCOUNT: ReadonlySet<JobState> = new Set(['queued', 'waiting']);

export class OverallProgress {
  readonly #batch = new Map<number, Entry>();
  readonly #paused = new Set<number>();
  /** Failures of the batch that ended last. */
  readonly #lastFailed = new Set<number>();
  // The batch's sums, kept as entries change: the tray asks for a snapshot up to four times a second,
  // and a batch can hold every job of a large queue (a million queued jobs is a walk of ~10 ms each time).
  #running = 0;
  #finished = 0;
  #failed = 0;
  #sized = 0;
  #sizeSum = 0;
  #doneSum = 0;

  /** Adds (sign 1) or takes away (sign -1) what one entry contributes to the sums. */
  #count(entry: Entry, sign: 1 | -1): void {
    if (entry.finished) this.#finished += sign;
    else this.#running += sign;
    if (entry.failed) this.#failed += sign;
    if (entry.size !== null && entry.size > 0) {
      this.#sized += sign;
      this.#sizeSum += sign * entry.size;
      this.#doneSum += sign * (entry.finished ? entry.size : Math.min(Math.max(entry.done, 0), entry.size));
    }
  }

  /** Changes an entry of the batch, keeping the sums right. */
  #change(entry: Entry, change: (entry: Entry) => void): void {
    this.#count(entry, -1);
    change(entry);
    this.#count(entry, 1);
  }

  #delete(id: number): void {
    const entry = this.#batch.get(id);
    if (!entry) return;
    this.#count(entry, -1);
    this.#batch.delete(id);
  }

  /** Records a job's current row. `accountPaused`: its account's lane is paused. */
  job(job: TrackedJob, accountPaused = false): void {
    const state: JobState = accountPaused && HELD_BY_ACCOUNT.has(job.state) ? 'paused' : job.state;
    if (RUNNABLE.has(state)) {
      this.#paused.delete(job.id);
      // A new batch starts: the failures of the last one were seen (or are being retried).
      if (this.#batch.size === 0) this.#lastFailed.clear();
      const entry = this.#batch.get(job.id);
      if (entry && !entry.finished) {
        this.#change(entry, (entry) => {
          entry.size = job.size;
          // Progress events run ahead of the acknowledged bytes; a new session starts again from 0.
          entry.done = job.bytesConfirmed === 0 ? 0 : Math.max(entry.done, job.bytesConfirmed);
        });
      } else {
        this.#delete(job.id);
        const fresh: Entry = { size: job.size, done: job.bytesConfirmed, finished: false, failed: false };
        this.#batch.set(job.id, fresh);
        this.#count(fresh, 1);
      }
      return;
    }
    switch (state) {
      case 'completed':
      case 'failed': {
        this.#paused.delete(job.id);
        if (state === 'completed') this.#lastFailed.delete(job.id);
        const entry = this.#batch.get(job.id);
        if (entry)
          this.#change(entry, (entry) => {
            entry.finished = true;
            entry.failed = state === 'failed';
            entry.size = job.size ?? entry.size;
            entry.done = entry.size ?? entry.done;
          });
        break;
      }
      case 'paused':
        this.#paused.add(job.id);
        this.#delete(job.id);
        this.#lastFailed.delete(job.id);
        break;
      case 'canceled':
        this.#paused.delete(job.id);
        this.#delete(job.id);
        this.#lastFailed.delete(job.id);
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
      this.#delete(id);
      this.#paused.delete(id);
      this.#lastFailed.delete(id);
    }
    this.#endBatchIfDone();
  }

  /** Bytes sent so far by running jobs (the engine's coalesced progress events). */
  progress(items: readonly ProgressItemLike[]): void {
    for (const item of items) {
      const entry = this.#batch.get(item.jobId);
      if (!entry || entry.finished) continue;
      this.#change(entry, (entry) => {
        entry.done = item.bytesDone;
        if (item.total !== null) entry.size = item.total;
      });
    }
  }

  snapshot(): ProgressSnapshot {
    const running = this.#running;
    const finished = this.#finished;
    const total = this.#batch.size;
    let fraction: number | null = null;
    if (running > 0) fraction = this.#sized > 0 ? this.#doneSum / this.#sizeSum : finished / total;
    return {
      running,
      finished,
      total,
      paused: this.#paused.size,
      fraction: fraction === null ? null : Math.min(1, Math.max(0, fraction)),
      failed: total > 0 ? this.#failed : this.#lastFailed.size,
    };
  }

  #endBatchIfDone(): void {
    if (this.#running > 0) return;
    for (const [id, entry] of this.#batch) if (entry.failed) this.#lastFailed.add(id);
    this.#batch.clear();
    this.#finished = this.#failed = this.#sized = this.#sizeSum = this.#doneSum = 0;
  }
}

/** What the tray shows of the watched folders (from the API's sync rule list). */
export interface SyncSummary {
  /** Watched folders. */
  rules: number;
  /** Of them, paused. */
  paused: number;
  /** Why folders cannot be watched, one message per folder in error. */
  errors: string[];
}

export const NO_SYNC: SyncSummary = { rules: 0, paused: 0, errors: [] };

/** The tray's summary of a sync rule list (anything with `paused`, `status` and `statusMessage`). */
export function syncSummary(
  rules: ReadonlyArray<{ paused: boolean; status: string; statusMessage: string | null }>,
): SyncSummary {
  return {
    rules: rules.length,
    paused: rules.filter((rule) => rule.paused).length,
    errors: rules
      .filter((rule) => rule.status === 'error')
      .map((rule) => rule.statusMessage ?? 'A watched folder cannot be watched'),
  };
}

/** A finished upload in the tray's "Recent uploads" menu. */
export interface RecentUpload {
  jobId: number;
  name: string;
  /** Null when the provider returned no link: the item is shown, disabled. */
  url: string | null;
}

/** How many uploads "Recent uploads" lists. */
export const RECENT_UPLOADS = 5;

/** The four looks of the tray icon. */
export type TrayState = 'idle' | 'uploading' | 'paused' | 'error';

export interface TrayView {
  /** Also the icon: each state has its own. */
  state: TrayState;
  tooltip: string;
  /** For `BrowserWindow.setProgressBar`: 0..1, or -1 to remove the bar. */
  progressBar: number;
  canPauseAll: boolean;
  canResumeAll: boolean;
  /** The sync item: hidden without watched folders, else "Pause sync" or "Resume sync". */
  sync: 'none' | 'active' | 'paused';
  recent: RecentUpload[];
}

function uploads(count: number): string {
  return `${count} upload${count === 1 ? '' : 's'}`;
}

function folders(count: number): string {
  return `${count} folder${count === 1 ? '' : 's'}`;
}

function waitingForNetwork(hosts: readonly string[]): string {
  return hosts.length === 1 ? `Waiting for network (${hosts[0]!})` : `Waiting for network (${hosts.length} hosts)`;
}

/** Tooltips are cut by some systems (Windows keeps 127 characters). */
const TOOLTIP_MAX = 120;

function tooltip(parts: string[]): string {
  const text = `Ferry: ${parts.filter(Boolean).join(' · ')}`;
  return text.length > TOOLTIP_MAX ? `${text.slice(0, TOOLTIP_MAX - 1)}…` : text;
}

/**
 * What the tray and the taskbar show. The state, by precedence: `uploading` while a batch runs (with
 * its percent, or "Waiting for network" first when hosts cannot be reached, since that is why it
 * does not move); `error` when a watched folder cannot be watched or uploads of the last batch
 * failed; `paused` when uploads or every watched folder are paused; `idle` otherwise.
 */
export function trayView(
  snapshot: ProgressSnapshot,
  sync: SyncSummary = NO_SYNC,
  recent: readonly RecentUpload[] = [],
  offlineHosts: readonly string[] = [],
): TrayView {
  const syncState: TrayView['sync'] = sync.rules === 0 ? 'none' : sync.paused === sync.rules ? 'paused' : 'active';
  const common = {
    canResumeAll: snapshot.paused > 0,
    sync: syncState,
    recent: recent.slice(0, RECENT_UPLOADS).map((upload) => ({ ...upload })),
  };
  const failed = snapshot.failed > 0 ? `${snapshot.failed} failed` : '';
  const paused = snapshot.paused > 0 ? `${snapshot.paused} paused` : '';
  const folderTrouble =
    sync.errors.length === 1
      ? sync.errors[0]!
      : sync.errors.length > 1
        ? `${folders(sync.errors.length)} cannot be watched`
        : '';
  if (snapshot.fraction !== null && snapshot.running > 0) {
    // Rounded down: 100% only once everything is done.
    const percent = Math.floor(snapshot.fraction * 100);
    return {
      ...common,
      state: 'uploading',
      tooltip: tooltip([
        offlineHosts.length > 0 ? waitingForNetwork(offlineHosts) : '',
        `uploading ${percent}%`,
        `${snapshot.finished} of ${uploads(snapshot.total)} done`,
        failed,
        paused,
        folderTrouble,
      ]),
      progressBar: snapshot.fraction,
      canPauseAll: true,
    };
  }
  const base = { ...common, progressBar: -1, canPauseAll: false };
  if (sync.errors.length > 0 || snapshot.failed > 0) {
    return {
      ...base,
      state: 'error',
      tooltip: tooltip([folderTrouble, snapshot.failed > 0 ? `${uploads(snapshot.failed)} failed` : '', paused]),
    };
  }
  const syncPaused = syncState === 'paused' ? 'sync paused' : '';
  if (snapshot.paused > 0 || syncPaused) {
    return {
      ...base,
      state: 'paused',
      tooltip: tooltip([snapshot.paused > 0 ? `${uploads(snapshot.paused)} paused` : '', syncPaused]),
    };
  }
  const watching = sync.rules > sync.paused ? `watching ${folders(sync.rules - sync.paused)}` : '';
  return { ...base, state: 'idle', tooltip: tooltip([watching ? 'idle' : 'no uploads running', watching]) };
}

/** What a tray menu item does. `copy-link` puts a finished upload's link on the clipboard. */
export type TrayAction =
  | { type: 'open' }
  | { type: 'pause-all' }
  | { type: 'resume-all' }
  | { type: 'pause-sync' }
  | { type: 'resume-sync' }
  | { type: 'copy-link'; url: string; name: string }
  | { type: 'quit' };

export type TrayMenuItem =
  | { kind: 'item'; action: TrayAction; label: string; enabled: boolean }
  | { kind: 'submenu'; label: string; enabled: boolean; items: TrayMenuItem[] }
  | { kind: 'separator' };

/**
 * The tray menu for a view: Open; Pause all, Resume all; Pause or Resume sync (with watched folders);
 * Recent uploads (each copies its link); Quit.
 */
export function trayMenu(view: TrayView): TrayMenuItem[] {
  const items: TrayMenuItem[] = [
    { kind: 'item', action: { type: 'open' }, label: 'Open Ferry', enabled: true },
    { kind: 'separator' },
    { kind: 'item', action: { type: 'pause-all' }, label: 'Pause all', enabled: view.canPauseAll },
    { kind: 'item', action: { type: 'resume-all' }, label: 'Resume all', enabled: view.canResumeAll },
  ];
  if (view.sync === 'active')
    items.push({ kind: 'item', action: { type: 'pause-sync' }, label: 'Pause sync', enabled: true });
  if (view.sync === 'paused')
    items.push({ kind: 'item', action: { type: 'resume-sync' }, label: 'Resume sync', enabled: true });
  items.push({ kind: 'separator' });
  items.push({
    kind: 'submenu',
    label: 'Recent uploads',
    enabled: view.recent.length > 0,
    items: view.recent.map((upload): TrayMenuItem =>
      upload.url
        ? {
            kind: 'item',
            action: { type: 'copy-link', url: upload.url, name: upload.name },
            label: `${upload.name} — copy link`,
            enabled: true,
          }
        : { kind: 'item', action: { type: 'open' }, label: `${upload.name} (no link)`, enabled: false },
    ),
  });
  items.push({ kind: 'separator' }, { kind: 'item', action: { type: 'quit' }, label: 'Quit Ferry', enabled: true });
  return items;
}
