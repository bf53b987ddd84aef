/**
 * Progress coalescing for one subscriber. Updates are merged by job id (the newest figures win) and
 * handed to the subscriber at most once per interval, so a window or a WebSocket gets ~10 messages a
 * second whether one job or five hundred are moving. Each subscriber has its own coalescer: a slow
 * one (a WebSocket with a full send buffer) only delays itself, and what it missed is merged into
 * its next message rather than queued.
 */
import type { ProgressItem } from './contract.ts';

export interface ProgressCoalescerOptions {
  intervalMs?: number;
  /** Receives one merged batch. Returning false means "could not take it now": it is merged again. */
  deliver: (items: ProgressItem[]) => boolean | void;
  now?: () => number;
}

export class ProgressCoalescer {
  readonly #intervalMs: number;
  readonly #deliver: ProgressCoalescerOptions['deliver'];
  readonly #now: () => number;
  #pending = new Map<number, ProgressItem>();
  #timer: NodeJS.Timeout | undefined;
  #lastFlush = Number.NEGATIVE_INFINITY;
  #closed = false;

  constructor(options: ProgressCoalescerOptions) {
    this.#intervalMs = options.intervalMs ?? 100;
    this.#deliver = options.deliver;
    this.#now = options.now ?? Date.now;
  }

  push(items: readonly ProgressItem[]): void {
    if (this.#closed || items.length === 0) return;
    for (const item of items) this.#pending.set(item.jobId, item);
    this.#arm();
  }

  /** Drops what is pending and stops; later pushes are ignored. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending.clear();
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    // The first update after a quiet spell goes out at once; then one message per interval at most.
    const wait = Math.max(0, this.#lastFlush + this.#intervalMs - this.#now());
    this.#timer = setTimeout(() => this.#flush(), wait);
    this.#timer.unref?.();
  }

  #flush(): void {
    this.#timer = undefined;
    if (this.#closed || this.#pending.size === 0) return;
    const batch = [...this.#pending.values()];
    this.#pending = new Map();
    this.#lastFlush = this.#now();
    if (this.#deliver(batch) === false) {
      // Not taken: keep these unless newer figures for the same job arrived meanwhile.
      for (const item of batch) if (!this.#pending.has(item.jobId)) this.#pending.set(item.jobId, item);
      this.#arm();
    }
  }
}
