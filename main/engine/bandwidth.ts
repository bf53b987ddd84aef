/**
 * The upload bandwidth limit: byte limiters that request bodies wait on before their file bytes go
 * out (main/engine/fileSource.ts `readPiece`, which every provider's part bytes flow through).
 *
 * - `ByteLimiter` is one token bucket in bytes with a FIFO of waiters. Grants are small (a body asks
 *   for one piece at a time, and pieces are cut to about 1/8 s of the limit while a limit applies),
 *   so jobs that share a limiter take turns and get the same share. The bucket may go into debt by
 *   one grant, so any grant size is served and the long-run rate is exact. A timer wakes the bucket
 *   only while someone waits (no polling), at most every 10 ms; a change of rate re-plans at once.
 * - `BandwidthControl` holds the global limiter and one per account (both apply to a job: it waits
 *   on its account's, then on the global one), turns rclone timetables into the rate of the moment,
 *   and re-applies them at each timetable boundary.
 *
 * Off costs nothing: a job whose account and global limits are both off does not call into this at
 * all (`JobThrottle.active` is false and the body reads as before).
 */
import { activeLimit, nextChange, parseBwLimit, type BwSchedule } from '../core/bwlimit.ts';
import { systemClock, type Clock } from './tokenBucket.ts';

/**
 * How long the bucket may save up while nobody waits. It makes up for short idle moments of a
 * protocol (a part's reply, the next part's request: about 8 % of the time at 16 MiB/s with OFAuth's
 * 5 MiB parts when it was 0.1 s) while keeping any 10 s window within 0.25 s + one piece (1/8 s) of
 * the limit, under the ±5 % the limit promises.
 */
const BURST_SECONDS = 0.25;
/** The timer never fires more often than this: several grants are served per wake-up at high rates. */
const MIN_WAKE_MS = 10;

interface Waiter {
  bytes: number;
  resolve: () => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class ByteLimiter {
  readonly #clock: Clock;
  #rate: number | null = null;
  #tokens = 0;
  #updatedAt: number;
  readonly #waiters: Waiter[] = [];
  #timer: AbortController | null = null;
  /** Bytes granted in total, for the benchmark and tests (what the limiter let through). */
  granted = 0;

  constructor(rate: number | null = null, clock: Clock = systemClock) {
    this.#clock = clock;
    this.#updatedAt = clock.now();
    this.setRate(rate);
  }

  get rate(): number | null {
    return this.#rate;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  /** Changes the rate (null = no limit); waiters are re-planned at once (all released when off). */
  setRate(rate: number | null): void {
    const next = rate !== null && rate > 0 ? rate : null;
    if (next === this.#rate) return;
    this.#refill();
    if (this.#rate === null) {
      // From off to a limit: start empty, so the limit holds from the first byte.
      this.#tokens = 0;
      this.#updatedAt = this.#clock.now();
    }
    this.#rate = next;
    this.#pump();
  }

  /** Resolves when `bytes` may be sent; rejects with the signal's reason when aborted first. */
  take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#rate === null) {
      this.granted += bytes;
      return Promise.resolve();
    }
    this.#refill();
    if (this.#waiters.length === 0 && this.#tokens >= 0) {
      this.#tokens -= bytes;
      this.granted += bytes;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { bytes, resolve, reject, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          const index = this.#waiters.indexOf(waiter);
          if (index >= 0) this.#waiters.splice(index, 1);
          reject(signal.reason);
          this.#pump();
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
      this.#pump();
    });
  }

  #refill(): void {
    const now = this.#clock.now();
    if (this.#rate !== null) {
      const burst = Math.max(1, this.#rate * BURST_SECONDS);
      this.#tokens = Math.min(burst, this.#tokens + ((now - this.#updatedAt) * this.#rate) / 1000);
    }
    this.#updatedAt = now;
  }

  #grant(waiter: Waiter): void {
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    this.granted += waiter.bytes;
    waiter.resolve();
  }

  /** Serves waiters in order while the bucket is not in debt, then sleeps until it is not. */
  #pump(): void {
    this.#timer?.abort();
    this.#timer = null;
    this.#refill();
    while (this.#waiters.length > 0 && (this.#rate === null || this.#tokens >= 0)) {
      const waiter = this.#waiters.shift()!;
      if (this.#rate !== null) this.#tokens -= waiter.bytes;
      this.#grant(waiter);
    }
    if (this.#waiters.length === 0 || this.#rate === null) return;
    const wait = Math.max(MIN_WAKE_MS, Math.ceil((-this.#tokens * 1000) / this.#rate));
    const timer = new AbortController();
    this.#timer = timer;
    this.#clock.sleep(wait, timer.signal).then(
      () => {
        if (this.#timer === timer) this.#pump();
      },
      () => undefined,
    );
  }
}

/** What a job's request bodies wait on: its account's limiter and the global one. */
export interface JobThrottle {
  /** False when neither limit applies right now: bodies then skip the limiter altogether. */
  readonly active: boolean;
  /** How many bytes one body piece should be at most (about 1/8 s at the tighter limit). */
  pieceSize(requested: number): number;
  /** Waits until `bytes` may go out under both limits. */
  take(bytes: number, signal?: AbortSignal): Promise<void>;
}

/** Pieces while limited: about 1/8 s of the tighter limit, at least 16 KiB. */
const PIECE_SECONDS = 1 / 8;
const MIN_PIECE = 16 * 1024;

interface ScheduledLimiter {
  limiter: ByteLimiter;
  schedule: BwSchedule | null;
}

export class BandwidthControl {
  readonly #clock: Clock;
  readonly #global: ScheduledLimiter;
  readonly #accounts = new Map<number, ScheduledLimiter>();
  #timer: AbortController | null = null;
  /** The timetable timer runs only between start and stop (the engine's), so it never keeps a process alive. */
  #stopped = true;

  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
    this.#global = { limiter: new ByteLimiter(null, clock), schedule: null };
  }

  get global(): ByteLimiter {
    return this.#global.limiter;
  }

  /** The account's limiter (created on first use). */
  account(accountId: number): ByteLimiter {
    return this.#entry(accountId).limiter;
  }

  /**
   * Sets the global limit from rclone syntax (`off`, a rate or a timetable). Throws with the one-line
   * reason for malformed text (callers validate first; this keeps a bad value from half-applying).
   */
  setGlobal(text: string): void {
    this.#global.schedule = scheduleOf(text);
    this.#apply();
  }

  /** Sets an account's own limit; '' or undefined means none (only the global one applies). */
  setAccount(accountId: number, text: string | undefined): void {
    const entry = this.#entry(accountId);
    const schedule = text === undefined || text.trim() === '' ? null : scheduleOf(text);
    if (schedule?.text === entry.schedule?.text) return;
    entry.schedule = schedule;
    this.#apply();
  }

  /** The throttle a job of the account uses; it reads the limiters' current rates on every piece. */
  forAccount(accountId: number): JobThrottle {
    const account = this.account(accountId);
    const global = this.#global.limiter;
    return {
      get active() {
        return account.rate !== null || global.rate !== null;
      },
      pieceSize(requested) {
        const rates = [account.rate, global.rate].filter((rate): rate is number => rate !== null);
        if (rates.length === 0) return requested;
        const tightest = Math.min(...rates);
        return Math.min(requested, Math.max(MIN_PIECE, Math.floor(tightest * PIECE_SECONDS)));
      },
      async take(bytes, signal) {
        await account.take(bytes, signal);
        await global.take(bytes, signal);
      },
    };
  }

  /** Applies the timetables now and follows their boundaries until `stop` (the engine's start). */
  start(): void {
    this.#stopped = false;
    this.#apply();
  }

  /** Stops the timetable timer (the engine's stop); the rates of the moment stay as they are. */
  stop(): void {
    this.#stopped = true;
    this.#timer?.abort();
    this.#timer = null;
  }

  #entry(accountId: number): ScheduledLimiter {
    let entry = this.#accounts.get(accountId);
    if (!entry) {
      entry = { limiter: new ByteLimiter(null, this.#clock), schedule: null };
      this.#accounts.set(accountId, entry);
    }
    return entry;
  }

  /** Applies every timetable at the current time and sleeps until the next boundary. */
  #apply(): void {
    this.#timer?.abort();
    this.#timer = null;
    const now = new Date(this.#clock.now());
    let next: number | null = null;
    for (const entry of [this.#global, ...this.#accounts.values()]) {
      entry.limiter.setRate(entry.schedule ? activeLimit(entry.schedule, now) : null);
      const change = entry.schedule ? nextChange(entry.schedule, now) : null;
      if (change !== null && (next === null || change.getTime() < next)) next = change.getTime();
    }
    if (next === null || this.#stopped) return;
    // Wake at the boundary, or within an hour at most: a laptop that slept, or a clock that was set,
    // is noticed then rather than weeks later.
    const wait = Math.max(MIN_WAKE_MS, Math.min(next - now.getTime(), 60 * 60_000));
    const timer = new AbortController();
    this.#timer = timer;
    this.#clock.sleep(wait, timer.signal).then(
      () => {
        if (this.#timer === timer) this.#apply();
      },
      () => undefined,
    );
  }
}

function scheduleOf(text: string): BwSchedule {
  const parsed = parseBwLimit(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.schedule;
}
