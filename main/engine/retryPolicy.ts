/**
 * What to do after a failure, as a pure function of the error kind, how many failures happened in a
 * row without progress, and what the server asked for. The engine resets the streak whenever a part
 * is acknowledged, so a long upload on a flaky network never runs out of attempts while it advances,
 * and a dead server is given up on after a bounded number of tries.
 */
import type { ErrorKind } from '../core/errors.ts';

export interface RetryOptions {
  /** First backoff delay. */
  baseDelayMs: number;
  /** Largest backoff delay. */
  maxDelayMs: number;
  /** Failures in a row (without progress) before a transient error fails the job. */
  maxTransientStreak: number;
  /** Rate-limit replies in a row before giving up. */
  maxRateLimitedStreak: number;
  /** New sessions in a row before giving up (a server that forgets every session it creates). */
  maxSessionRestarts: number;
  /** Largest server-requested delay honoured as is; longer ones are capped (and said so). */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_OPTIONS: RetryOptions = {
  baseDelayMs: 1_000,
  maxDelayMs: 60_000,
  maxTransientStreak: 8,
  maxRateLimitedStreak: 20,
  maxSessionRestarts: 3,
  maxRetryAfterMs: 15 * 60_000,
};

export interface RetryInput {
  kind: ErrorKind;
  /** Failures in a row without progress, counting this one (1 for the first failure). */
  streak: number;
  retryAfterMs?: number | undefined;
  /** Uniform random number in [0, 1): injected so that the function stays pure and testable. */
  random: number;
}

export type RetryDecision =
  { action: 'retry'; delayMs: number } | { action: 'new-session'; delayMs: number } | { action: 'fail' };

/** Exponential backoff with "equal jitter": half the delay is fixed, half random, to spread retries. */
export function backoffDelay(streak: number, random: number, options: RetryOptions = DEFAULT_RETRY_OPTIONS): number {
  const exponential = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, streak - 1));
  return Math.round(exponential / 2 + (exponential / 2) * random);
}

export function decideRetry(input: RetryInput, options: RetryOptions = DEFAULT_RETRY_OPTIONS): RetryDecision {
  const { kind, streak, random } = input;
  switch (kind) {
    case 'network':
    case 'timeout':
    case 'server':
      if (streak > options.maxTransientStreak) return { action: 'fail' };
      return {
        action: 'retry',
        delayMs: Math.max(
          backoffDelay(streak, random, options),
          Math.min(input.retryAfterMs ?? 0, options.maxRetryAfterMs),
        ),
      };
    case 'rate-limited': {
      if (streak > options.maxRateLimitedStreak) return { action: 'fail' };
      const asked = input.retryAfterMs;
      // A server asking for "0" again and again must not turn into a retry storm: wait at least the
      // first backoff step.
      const delayMs =
        asked !== undefined
          ? Math.max(Math.min(asked, options.maxRetryAfterMs), options.baseDelayMs)
          : backoffDelay(streak, random, options);
      return { action: 'retry', delayMs };
    }
    case 'conflict':
      // The adapter already re-synchronised with the server; try again at once, but not forever.
      if (streak > options.maxTransientStreak) return { action: 'fail' };
      return { action: 'retry', delayMs: streak === 1 ? 0 : backoffDelay(streak - 1, random, options) };
    case 'session-gone':
      if (streak > options.maxSessionRestarts) return { action: 'fail' };
      return { action: 'new-session', delayMs: streak === 1 ? 0 : backoffDelay(streak - 1, random, options) };
    case 'auth':
    case 'too-large':
    case 'unsupported':
    case 'local-file':
    case 'invalid':
    case 'aborted':
      return { action: 'fail' };
    default: {
      const unreachable: never = kind;
      throw new Error(`Unhandled error kind ${String(unreachable)}`);
    }
  }
}
