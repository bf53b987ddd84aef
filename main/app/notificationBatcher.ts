/**
 * Gathers finished uploads into one native notification ("12 uploads finished, 1 failed") instead
 * of one per file. A batch is sent once no upload has finished for `quietMs`, or `maxWaitMs` after
 * its first upload whatever happens, so a long stream of small files still reports now and then.
 *
 * Only the engine's outcomes are counted (completed and failed); a cancel is the person's own act.
 * The notifications setting is read when an upload finishes and again when the batch is sent.
 * Error messages are left out on purpose: a notification bypasses the API's secret redactor, and the
 * window shows each failure with its reason.
 */

export interface FinishedJob {
  id: number;
  name: string;
  state: 'completed' | 'failed';
  /** The link of a completed upload (null without one), for "click to copy". */
  url?: string | null;
  mime?: string | null;
}

export interface BatchedNotification {
  title: string;
  body: string;
}

export interface NotificationBatcherOptions {
  /** Shows the notification; `jobs` are the uploads it is about (a click copies their links). */
  notify: (notification: BatchedNotification, jobs: readonly FinishedJob[]) => void;
  enabled: () => boolean;
  /** Quiet time that closes a batch (default 3 s). */
  quietMs?: number;
  /** Longest a batch waits after its first upload (default 15 s). */
  maxWaitMs?: number;
  /** The words of a notification (default `describeBatch`, English; the app passes trayText.ts's). */
  describe?: (jobs: readonly FinishedJob[]) => BatchedNotification;
}

export class NotificationBatcher {
  readonly #options: Required<NotificationBatcherOptions>;
  /** By job id: a job that failed and then completed after a retry counts once, as it ended. */
  #pending = new Map<number, FinishedJob>();
  #firstAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: NotificationBatcherOptions) {
    this.#options = { quietMs: 3_000, maxWaitMs: 15_000, describe: describeBatch, ...options };
  }

  record(job: FinishedJob): void {
    if (this.#closed || !this.#options.enabled()) return;
    const now = Date.now();
    if (this.#pending.size === 0) this.#firstAt = now;
    this.#pending.delete(job.id);
    this.#pending.set(job.id, job);
    clearTimeout(this.#timer);
    const wait = Math.max(0, Math.min(this.#options.quietMs, this.#firstAt + this.#options.maxWaitMs - now));
    this.#timer = setTimeout(() => this.flush(), wait);
  }

  /** Sends the pending batch now (if notifications are still on). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const jobs = [...this.#pending.values()];
    this.#pending = new Map();
    if (jobs.length === 0 || this.#closed || !this.#options.enabled()) return;
    this.#options.notify(this.#options.describe(jobs), jobs);
  }

  /** Drops what is pending (quitting: nobody is there to read it). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#pending.clear();
  }
}

function uploads(count: number): string {
  return `${count} upload${count === 1 ? '' : 's'}`;
}

/** The text of one notification for a batch of finished uploads. */
export function describeBatch(jobs: readonly FinishedJob[]): BatchedNotification {
  const failed = jobs.filter((job) => job.state === 'failed');
  const completed = jobs.length - failed.length;
  if (jobs.length === 1) {
    const job = jobs[0]!;
    return job.state === 'completed'
      ? { title: 'Upload finished', body: `${job.name} was uploaded` }
      : { title: 'Upload failed', body: `${job.name} could not be uploaded; Ferry shows why` };
  }
  if (failed.length === 0) return { title: 'Uploads finished', body: `${uploads(completed)} finished` };
  if (completed === 0) return { title: 'Uploads failed', body: `${uploads(failed.length)} failed; Ferry shows why` };
  return { title: 'Uploads finished', body: `${uploads(completed)} finished, ${failed.length} failed` };
}
