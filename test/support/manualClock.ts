/**
 * A test clock for the engine's `Clock`: sleeps stay pending until `advance` moves the time past them,
 * waking each in order of its time (so a sleeper woken early may sleep again within the same advance);
 * aborted sleeps reject with the signal's reason.
 */
import type { Clock } from '../../main/engine/tokenBucket.ts';

export class ManualClock implements Clock {
  time: number;
  readonly #sleepers = new Set<{ until: number; resolve: () => void }>();

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  get sleeping(): number {
    return this.#sleepers.size;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const sleeper = { until: this.time + ms, resolve };
      this.#sleepers.add(sleeper);
      signal?.addEventListener(
        'abort',
        () => {
          this.#sleepers.delete(sleeper);
          reject(signal.reason as Error);
        },
        { once: true },
      );
    });
  }

  /** Moves time forward by `ms`, waking each sleeper at its time and letting promises settle. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (let guard = 0; guard < 1_000_000; guard += 1) {
      await settle();
      let next: { until: number; resolve: () => void } | undefined;
      for (const sleeper of this.#sleepers)
        if (sleeper.until <= target && (!next || sleeper.until < next.until)) next = sleeper;
      if (!next) break;
      this.#sleepers.delete(next);
      this.time = Math.max(this.time, next.until);
      next.resolve();
    }
    this.time = target;
    await settle();
  }
}

/** Lets pending promise callbacks run (a few microtask turns). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
}
