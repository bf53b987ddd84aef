/**
 * Request pacing for one account: a token bucket for the provider's documented budget plus a
 * lane-wide hold (429 with Retry-After pauses every job of the account, not just the one that got it).
 */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #updatedAt: number;
  #holdUntil = 0;
  /** Waiters are served in order so that one job cannot starve the others. */
  #tail: Promise<void> = Promise.resolve();

  /** `perMinute` = null means unlimited (only the lane-wide hold applies). */
  constructor(perMinute: number | null, burst: number, clock: Clock = systemClock) {
    this.#ratePerMs = perMinute === null ? Number.POSITIVE_INFINITY : perMinute / 60_000;
    this.#burst = burst;
    this.#clock = clock;
    this.#tokens = burst;
    this.#updatedAt = clock.now();
  }

  /** Pauses the whole lane until `untilMs` (never shortens an existing hold). */
  holdUntil(untilMs: number): void {
    this.#holdUntil = Math.max(this.#holdUntil, untilMs);
  }

  get heldUntil(): number {
    return this.#holdUntil;
  }

  /** Resolves when a request may go out; rejects with the signal's reason when aborted. */
  take(signal?: AbortSignal): Promise<void> {
    const turn = this.#tail.then(() => this.#takeNow(signal));
    // The queue must move on even when this waiter is aborted.
    this.#tail = turn.catch(() => undefined);
    if (!signal) return turn;
    // A waiter queued behind others stops as soon as it is aborted, not when its turn comes.
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason);
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      turn.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  async #takeNow(signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.#clock.now();
      if (now < this.#holdUntil) {
        await this.#clock.sleep(this.#holdUntil - now, signal);
        continue;
      }
      if (this.#ratePerMs === Number.POSITIVE_INFINITY) return;
      this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#updatedAt) * this.#ratePerMs);
      this.#updatedAt = now;
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      await this.#clock.sleep(Math.ceil((1 - this.#tokens) / this.#ratePerMs), signal);
    }
  }
}
