import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../main/engine/tokenBucket.ts';
import { ManualClock } from '../support/manualClock.ts';
import type { Clock } from '../../main/engine/tokenBucket.ts';

/** A clock whose sleeps take no real time: each one moves `now` forward and resolves at once. */
class FakeClock implements Clock {
  time = 0;
  readonly sleeps: number[] = [];

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    this.sleeps.push(ms);
    this.time += ms;
    return Promise.resolve();
  }
}

/** Lets every pending promise callback run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Takes `count` tokens one after another and returns the fake time at which each was granted. */
async function takeTimes(bucket: TokenBucket, clock: Clock, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i += 1) {
    await bucket.take();
    times.push(clock.now());
  }
  return times;
}

/** Records whether a promise has settled, and how, without awaiting it. */
function track(promise: Promise<unknown>): { state: 'pending' | 'resolved' | 'rejected'; reason?: unknown } {
  const tracker: { state: 'pending' | 'resolved' | 'rejected'; reason?: unknown } = { state: 'pending' };
  promise.then(
    () => {
      tracker.state = 'resolved';
    },
    (reason: unknown) => {
      tracker.state = 'rejected';
      tracker.reason = reason;
    },
  );
  return tracker;
}

describe('TokenBucket', () => {
  it.each([1, 5, 90])('lets a burst of %i requests out without waiting', async (burst) => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(60, burst, clock);
    const times = await takeTimes(bucket, clock, burst);
    expect(times).toEqual(Array.from({ length: burst }, () => 0));
    expect(clock.sleeps).toEqual([]);
  });

  it.each([
    { perMinute: 60, burst: 5 },
    { perMinute: 45, burst: 3 },
    { perMinute: 600, burst: 10 },
    { perMinute: 7, burst: 1 },
  ])(
    'makes request burst+1 wait about 60000/perMinute ms ($perMinute/min, burst $burst)',
    async ({ perMinute, burst }) => {
      const clock = new FakeClock();
      const bucket = new TokenBucket(perMinute, burst, clock);
      await takeTimes(bucket, clock, burst);
      expect(clock.now()).toBe(0);
      await bucket.take();
      const interval = 60_000 / perMinute;
      expect(clock.now()).toBeGreaterThanOrEqual(interval);
      expect(clock.now()).toBeLessThanOrEqual(interval + 1);
    },
  );

  it('sends 150 requests in about 60 s with a burst of 90 and 60 per minute', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(60, 90, clock);
    const times = await takeTimes(bucket, clock, 150);
    expect(times[89]).toBe(0);
    expect(times[90]).toBeGreaterThanOrEqual(1_000);
    expect(times[149]).toBeGreaterThanOrEqual(59_900);
    expect(times[149]).toBeLessThanOrEqual(60_100);
    // After the burst the pace is steady: one request a second, never two in the same second.
    for (let i = 91; i < 150; i += 1) {
      expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(999);
      expect(times[i]! - times[i - 1]!).toBeLessThanOrEqual(1_001);
    }
  });

  it('refills up to the burst (and no more) after idle time', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(60, 4, clock);
    await takeTimes(bucket, clock, 4);
    clock.time += 60 * 60_000; // An idle hour earns 3600 tokens, but the bucket holds only 4.
    const start = clock.now();
    const times = await takeTimes(bucket, clock, 5);
    expect(times.slice(0, 4)).toEqual([start, start, start, start]);
    expect(times[4]! - start).toBeGreaterThanOrEqual(1_000);
  });

  it('serves concurrent takers in the order they asked', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(60, 1, clock);
    const granted: Array<{ taker: number; at: number }> = [];
    await Promise.all(
      [0, 1, 2, 3].map((taker) =>
        bucket.take().then(() => {
          granted.push({ taker, at: clock.now() });
        }),
      ),
    );
    expect(granted.map((entry) => entry.taker)).toEqual([0, 1, 2, 3]);
    expect(granted.map((entry) => entry.at)).toEqual([0, 1_000, 2_000, 3_000]);
  });

  describe('holdUntil', () => {
    it('pauses every taker until the hold ends, even with tokens to spare', async () => {
      const clock = new FakeClock();
      const bucket = new TokenBucket(60, 10, clock);
      bucket.holdUntil(5_000);
      const granted: number[] = [];
      await Promise.all([0, 1, 2].map(() => bucket.take().then(() => granted.push(clock.now()))));
      expect(granted).toEqual([5_000, 5_000, 5_000]);
    });

    it('keeps takers pending until the clock reaches the hold', async () => {
      const clock = new ManualClock();
      const bucket = new TokenBucket(60, 10, clock);
      bucket.holdUntil(5_000);
      const first = track(bucket.take());
      const second = track(bucket.take());
      await settle();
      await clock.advance(4_999);
      expect([first.state, second.state]).toEqual(['pending', 'pending']);
      await clock.advance(1);
      expect([first.state, second.state]).toEqual(['resolved', 'resolved']);
    });

    it('never shortens an existing hold', async () => {
      const clock = new FakeClock();
      const bucket = new TokenBucket(60, 10, clock);
      bucket.holdUntil(8_000);
      bucket.holdUntil(2_000);
      expect(bucket.heldUntil).toBe(8_000);
      bucket.holdUntil(9_000);
      expect(bucket.heldUntil).toBe(9_000);
      await bucket.take();
      expect(clock.now()).toBe(9_000);
    });

    it('has no effect once the hold is in the past', async () => {
      const clock = new FakeClock();
      clock.time = 10_000;
      const bucket = new TokenBucket(60, 10, clock);
      bucket.holdUntil(3_000);
      await bucket.take();
      expect(clock.now()).toBe(10_000);
      expect(clock.sleeps).toEqual([]);
    });
  });

  describe('abort', () => {
    it('rejects a taker whose signal is already aborted with the signal reason, without using a token', async () => {
      const clock = new FakeClock();
      const bucket = new TokenBucket(60, 1, clock);
      const reason = new Error('job paused');
      await expect(bucket.take(AbortSignal.abort(reason))).rejects.toBe(reason);
      // The only token is still there for the next taker.
      await bucket.take();
      expect(clock.now()).toBe(0);
    });

    it('rejects a taker aborted during a hold and lets the next taker through when the hold ends', async () => {
      const clock = new ManualClock();
      const bucket = new TokenBucket(60, 10, clock);
      bucket.holdUntil(5_000);
      const controller = new AbortController();
      const aborted = track(bucket.take(controller.signal));
      await settle();
      const reason = new Error('job canceled');
      controller.abort(reason);
      await settle();
      expect(aborted).toEqual({ state: 'rejected', reason });

      const next = track(bucket.take());
      await settle();
      expect(next.state).toBe('pending');
      await clock.advance(5_000);
      expect(next.state).toBe('resolved');
    });

    it('rejects a taker aborted while waiting for a token, and the next taker still gets one', async () => {
      const clock = new ManualClock();
      const bucket = new TokenBucket(60, 1, clock);
      await bucket.take();
      const controller = new AbortController();
      const aborted = track(bucket.take(controller.signal));
      await settle();
      controller.abort('stop');
      await settle();
      expect(aborted).toEqual({ state: 'rejected', reason: 'stop' });
      const next = track(bucket.take());
      await settle();
      await clock.advance(1_000);
      expect(next.state).toBe('resolved');
    });

    // Pausing job B must take effect at once even while job A is ahead of it in the lane's queue
    // (for example during a 15-minute rate-limit hold), not when A finally gets its token.
    it('rejects a taker aborted while queued behind another waiting taker at once', async () => {
      const clock = new ManualClock();
      const bucket = new TokenBucket(60, 10, clock);
      bucket.holdUntil(15 * 60_000);
      const ahead = track(bucket.take());
      const controller = new AbortController();
      const behind = track(bucket.take(controller.signal));
      await settle();
      const reason = new Error('job paused');
      controller.abort(reason);
      await settle();
      expect(behind).toEqual({ state: 'rejected', reason });
      expect(ahead.state).toBe('pending');
      await clock.advance(15 * 60_000);
      expect(ahead.state).toBe('resolved');
    });
  });

  describe('unlimited (perMinute null)', () => {
    it('never waits without a hold', async () => {
      const clock = new FakeClock();
      const bucket = new TokenBucket(null, 1, clock);
      await takeTimes(bucket, clock, 1_000);
      expect(clock.now()).toBe(0);
      expect(clock.sleeps).toEqual([]);
    });

    it('still honours a hold', async () => {
      const clock = new FakeClock();
      const bucket = new TokenBucket(null, 1, clock);
      bucket.holdUntil(30_000);
      const times = await takeTimes(bucket, clock, 3);
      expect(times).toEqual([30_000, 30_000, 30_000]);
    });
  });
});
