import { describe, expect, it } from 'vitest';
import { ERROR_KINDS } from '../../main/core/errors.ts';
import type { ErrorKind } from '../../main/core/errors.ts';
import { DEFAULT_RETRY_OPTIONS, backoffDelay, decideRetry } from '../../main/engine/retryPolicy.ts';
import type { RetryDecision, RetryOptions } from '../../main/engine/retryPolicy.ts';

/** The largest value Math.random() can return, close enough to 1 for the jitter's upper bound. */
const ALMOST_ONE = 1 - Number.EPSILON;
const MINUTE = 60_000;

interface Row {
  kind: ErrorKind;
  streak: number;
  retryAfterMs?: number;
  random: number;
  expected: RetryDecision;
}

const retry = (delayMs: number): RetryDecision => ({ action: 'retry', delayMs });
const newSession = (delayMs: number): RetryDecision => ({ action: 'new-session', delayMs });
const fail: RetryDecision = { action: 'fail' };

/**
 * With the defaults (base 1 s, cap 60 s) the un-jittered backoff for streak n is min(60 s, 2^(n-1) s);
 * random 0 gives half of it, random → 1 the whole of it.
 */
const TABLE: Row[] = [
  // Transient errors: exponential backoff, the server's Retry-After when it asks for longer.
  { kind: 'network', streak: 1, random: 0, expected: retry(500) },
  { kind: 'network', streak: 1, random: 0.5, expected: retry(750) },
  { kind: 'network', streak: 1, random: ALMOST_ONE, expected: retry(1_000) },
  { kind: 'network', streak: 8, random: 0, expected: retry(30_000) },
  { kind: 'network', streak: 9, random: 0, expected: fail },
  { kind: 'timeout', streak: 2, random: 0, expected: retry(1_000) },
  { kind: 'timeout', streak: 9, random: 0.5, expected: fail },
  { kind: 'server', streak: 4, random: 0, expected: retry(4_000) },
  { kind: 'server', streak: 1, retryAfterMs: 5_000, random: 0, expected: retry(5_000) },
  { kind: 'server', streak: 4, retryAfterMs: 100, random: 0, expected: retry(4_000) },
  { kind: 'server', streak: 9, retryAfterMs: 5_000, random: 0, expected: fail },
  // Rate limits: the server's delay as asked (capped), otherwise backoff; twenty in a row at most.
  { kind: 'rate-limited', streak: 1, retryAfterMs: 30_000, random: 0.5, expected: retry(30_000) },
  // "Retry-After: 0" still waits the first backoff step, so a server repeating it causes no retry storm.
  { kind: 'rate-limited', streak: 1, retryAfterMs: 0, random: 0.5, expected: retry(1_000) },
  { kind: 'rate-limited', streak: 3, retryAfterMs: 60 * MINUTE, random: 0, expected: retry(15 * MINUTE) },
  { kind: 'rate-limited', streak: 1, random: 0, expected: retry(500) },
  { kind: 'rate-limited', streak: 20, random: 0, expected: retry(30_000) },
  { kind: 'rate-limited', streak: 21, retryAfterMs: 1_000, random: 0, expected: fail },
  // Conflict: at once the first time (the adapter re-synchronised), then backoff one step behind.
  { kind: 'conflict', streak: 1, random: ALMOST_ONE, expected: retry(0) },
  { kind: 'conflict', streak: 2, random: 0, expected: retry(500) },
  { kind: 'conflict', streak: 3, random: 0, expected: retry(1_000) },
  { kind: 'conflict', streak: 8, random: 0, expected: retry(30_000) },
  { kind: 'conflict', streak: 9, random: 0, expected: fail },
  // Session gone: a new session at once, then with backoff, three in a row at most.
  { kind: 'session-gone', streak: 1, random: ALMOST_ONE, expected: newSession(0) },
  { kind: 'session-gone', streak: 2, random: 0, expected: newSession(500) },
  { kind: 'session-gone', streak: 3, random: 0, expected: newSession(1_000) },
  { kind: 'session-gone', streak: 4, random: 0, expected: fail },
  // Nothing a retry can fix: fail at once, whatever the server asked for.
  { kind: 'auth', streak: 1, random: 0, expected: fail },
  { kind: 'auth', streak: 1, retryAfterMs: 1_000, random: 0, expected: fail },
  { kind: 'too-large', streak: 1, random: 0, expected: fail },
  { kind: 'unsupported', streak: 1, random: 0, expected: fail },
  { kind: 'local-file', streak: 1, random: 0, expected: fail },
  { kind: 'aborted', streak: 1, random: 0, expected: fail },
  { kind: 'invalid', streak: 1, retryAfterMs: 1_000, random: 0, expected: fail },
];

const NON_RETRYABLE: ErrorKind[] = ['auth', 'too-large', 'unsupported', 'local-file', 'aborted', 'invalid'];
const TRANSIENT: ErrorKind[] = ['network', 'timeout', 'server'];

/** Every decision a transient error gets from its first failure until the policy gives up. */
function transientDelays(kind: ErrorKind, random: number, options: RetryOptions = DEFAULT_RETRY_OPTIONS): number[] {
  const delays: number[] = [];
  for (let streak = 1; ; streak += 1) {
    const decision = decideRetry({ kind, streak, random }, options);
    if (decision.action === 'fail') return delays;
    expect(decision.action).toBe('retry');
    delays.push(decision.delayMs);
    if (streak > 1_000) throw new Error(`${kind} never gives up`);
  }
}

describe('decideRetry', () => {
  it('has a row for every error kind', () => {
    const covered = new Set(TABLE.map((row) => row.kind));
    expect([...covered].sort()).toEqual([...ERROR_KINDS].sort());
  });

  it.each(TABLE)(
    '$kind, streak $streak, retry-after $retryAfterMs, random $random → $expected.action',
    ({ kind, streak, retryAfterMs, random, expected }) => {
      expect(decideRetry({ kind, streak, retryAfterMs, random })).toEqual(expected);
    },
  );

  it.each(NON_RETRYABLE)('fails %s at once, even on the first failure with any random', (kind) => {
    for (const random of [0, 0.5, ALMOST_ONE]) {
      expect(decideRetry({ kind, streak: 1, random })).toEqual(fail);
    }
  });

  it.each(TRANSIENT)('retries %s exactly maxTransientStreak times, then fails', (kind) => {
    expect(transientDelays(kind, 0.5)).toHaveLength(DEFAULT_RETRY_OPTIONS.maxTransientStreak);
    const custom = { ...DEFAULT_RETRY_OPTIONS, maxTransientStreak: 3 };
    expect(transientDelays(kind, 0.5, custom)).toHaveLength(3);
  });

  it('starts a new session maxSessionRestarts times in a row, then fails', () => {
    const decisions = [1, 2, 3, 4, 5].map((streak) => decideRetry({ kind: 'session-gone', streak, random: 0 }));
    expect(decisions.map((decision) => decision.action)).toEqual([
      'new-session',
      'new-session',
      'new-session',
      'fail',
      'fail',
    ]);
    const custom = { ...DEFAULT_RETRY_OPTIONS, maxSessionRestarts: 1 };
    expect(decideRetry({ kind: 'session-gone', streak: 1, random: 0 }, custom).action).toBe('new-session');
    expect(decideRetry({ kind: 'session-gone', streak: 2, random: 0 }, custom).action).toBe('fail');
  });

  it('honours a rate-limit Retry-After longer than the backoff, and caps it at maxRetryAfterMs', () => {
    const honoured = decideRetry({ kind: 'rate-limited', streak: 1, retryAfterMs: 10 * MINUTE, random: 0 });
    expect(honoured).toEqual(retry(10 * MINUTE));
    const custom = { ...DEFAULT_RETRY_OPTIONS, maxRetryAfterMs: 2 * MINUTE };
    expect(decideRetry({ kind: 'rate-limited', streak: 1, retryAfterMs: 10 * MINUTE, random: 0 }, custom)).toEqual(
      retry(2 * MINUTE),
    );
  });

  // A 503 with "Retry-After: 86400" must not park a job for a day: the cap documented on
  // maxRetryAfterMs applies to every server-requested delay, not only to 429s.
  it.each(TRANSIENT)('caps a %s Retry-After at maxRetryAfterMs', (kind) => {
    const decision = decideRetry({ kind, streak: 1, retryAfterMs: 24 * 60 * MINUTE, random: 0 });
    expect(decision).toEqual(retry(DEFAULT_RETRY_OPTIONS.maxRetryAfterMs));
  });

  describe('no retry storm for transient errors', () => {
    it.each(TRANSIENT.flatMap((kind) => [0, 0.5, ALMOST_ONE].map((random) => ({ kind, random }))))(
      '$kind with random $random: delays never decrease and sum to under 10 minutes',
      ({ kind, random }) => {
        const delays = transientDelays(kind, random);
        for (let i = 1; i < delays.length; i += 1) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1]!);
        // Every retry waits at least half a second: no hammering a failing server.
        expect(Math.min(...delays)).toBeGreaterThanOrEqual(DEFAULT_RETRY_OPTIONS.baseDelayMs / 2);
        const total = delays.reduce((sum, delay) => sum + delay, 0);
        expect(total).toBeLessThan(10 * MINUTE);
      },
    );

    it('adds up to exactly 1+2+4+8+16+32+60+60 seconds at the jitter ceiling', () => {
      expect(transientDelays('network', ALMOST_ONE)).toEqual([
        1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000,
      ]);
    });
  });
});

describe('backoffDelay', () => {
  it.each([
    { streak: 1, random: 0, expected: 500 },
    { streak: 1, random: ALMOST_ONE, expected: 1_000 },
    { streak: 2, random: 0, expected: 1_000 },
    { streak: 2, random: ALMOST_ONE, expected: 2_000 },
    { streak: 3, random: 0.5, expected: 3_000 },
    { streak: 6, random: ALMOST_ONE, expected: 32_000 },
    { streak: 7, random: ALMOST_ONE, expected: 60_000 },
    { streak: 7, random: 0, expected: 30_000 },
    { streak: 50, random: ALMOST_ONE, expected: 60_000 },
    // A streak of 0 or less is treated like the first failure rather than a shorter delay.
    { streak: 0, random: 0, expected: 500 },
    { streak: -3, random: ALMOST_ONE, expected: 1_000 },
  ])('streak $streak, random $random → $expected ms', ({ streak, random, expected }) => {
    expect(backoffDelay(streak, random)).toBe(expected);
  });

  it('doubles with each failure until the cap', () => {
    for (let streak = 1; streak < 6; streak += 1) {
      expect(backoffDelay(streak + 1, 0)).toBe(2 * backoffDelay(streak, 0));
    }
  });

  it('never exceeds maxDelayMs, however long the streak and whatever the jitter', () => {
    for (let streak = 1; streak <= 64; streak += 1) {
      for (const random of [0, 0.25, 0.5, 0.75, ALMOST_ONE]) {
        expect(backoffDelay(streak, random)).toBeLessThanOrEqual(DEFAULT_RETRY_OPTIONS.maxDelayMs);
      }
    }
  });

  it('keeps the jitter between half and the whole of the exponential delay', () => {
    for (let streak = 1; streak <= 10; streak += 1) {
      const full = Math.min(DEFAULT_RETRY_OPTIONS.maxDelayMs, DEFAULT_RETRY_OPTIONS.baseDelayMs * 2 ** (streak - 1));
      for (const random of [0, 0.1, 0.5, 0.9, ALMOST_ONE]) {
        const delay = backoffDelay(streak, random);
        expect(delay).toBeGreaterThanOrEqual(full / 2);
        expect(delay).toBeLessThanOrEqual(full);
      }
    }
  });

  it('uses the options it is given', () => {
    const options = { ...DEFAULT_RETRY_OPTIONS, baseDelayMs: 100, maxDelayMs: 250 };
    expect([1, 2, 3, 4].map((streak) => backoffDelay(streak, 0, options))).toEqual([50, 100, 125, 125]);
  });
});
