/**
 * Runner of the fault matrix (the table itself is in test/reliability/faults.test.ts): one scenario =
 * a fresh data folder, the real Queue + Engine with short timings, one provider emulator with one
 * fault injected on one step, one job run until the engine is idle (bounded), and what came of it:
 * the job, its events, the requests the emulator saw and the check of what the emulator holds.
 */
import type { ErrorKind } from '../../main/core/errors.ts';
import type { FaultAction } from '../sandbox/harness.ts';
import type { Job, JobEvent } from '../../main/db/jobsRepository.ts';
import { RIGS, type Rig, type Step } from './faultRigs.ts';
import { within, type Fixtures } from './ferryHarness.ts';

export type Outcome =
  /** Completed after one or more retries of the failed request (an error event of `kind`). */
  | 'retried'
  /** Completed after the session was dropped and a new one started (an error event of `kind`). */
  | 'new session'
  /** Completed with no error event at all (e.g. a slow server, a token refreshed in place). */
  | 'clean'
  /**
   * Completed with no error event, the adapter having started the upload over on its own (e.g. a new
   * TwentyThree upload token when the old one ran out): the file is sent again, at most once more.
   */
  | 'renewed'
  /** Failed with an error of `kind` whose message matches `message`; bounded attempts. */
  | 'failed';

export interface Scenario {
  fault: string;
  step: Step;
  /** The fault, or 'expire' to expire the session/token when the step's request arrives. */
  action: FaultAction | 'expire' | 'expire-token';
  /** How many requests of the step get the fault (default 1; 'always' for a dead endpoint). */
  times?: number | 'always';
  expect: Outcome;
  kind?: ErrorKind;
  message?: RegExp;
  /** For 429: the least gap between the refused request and the next one. */
  minGapMs?: number;
}

/** Gaps between consecutive request times. */
export function gaps(times: readonly number[]): number[] {
  return times.slice(1).map((time, i) => time - times[i]!);
}

export function errorEvents(events: readonly JobEvent[]): JobEvent[] {
  return events.filter((event) => event.type === 'error');
}

export type { Rig };

// Running one scenario ----------------------------------------------------------------------------------

export interface ScenarioResult {
  job: Job;
  events: JobEvent[];
  errors: JobEvent[];
  requests: number;
  /** Times of the requests of the faulted step. */
  stepTimes: number[];
  /** Times of every request, and of those a fault answered (delays not counted). */
  allTimes: number[];
  faultedTimes: number[];
  problems: string[];
  ms: number;
}

/** Engine settings of the matrix: short, and a fixed jitter so that delays are exact. */
export const MATRIX_ENGINE = {
  stallTimeoutMs: 600,
  // A reply that never comes counts against the reply deadline (the body was sent): as short here.
  replyDeadlines: { request: 600, part: 600, finalize: 600 },
  retry: { baseDelayMs: 20, maxDelayMs: 400 },
  pollDelays: { initialMs: 20, maxMs: 80, maxPolls: 60 },
  controlPollMs: 100,
  random: () => 0.5,
} as const;

export async function runScenario(
  fixtures: Fixtures,
  provider: keyof typeof RIGS,
  scenario: Scenario,
): Promise<ScenarioResult> {
  const started = Date.now();
  const data = await fixtures.tempDir('ferry-fault-data-');
  const files = await fixtures.tempDir('ferry-fault-files-');
  const handle = fixtures.openEngine(data, MATRIX_ENGINE);
  const rig = fixtures.track(await RIGS[provider](handle.queue, files));
  const match = rig.steps[scenario.step];
  if (!match) throw new Error(`${provider} has no ${scenario.step} step`);
  const times = scenario.times === 'always' ? 1e9 : (scenario.times ?? 1);
  if (scenario.action === 'expire' || scenario.action === 'expire-token') {
    const expire = scenario.action === 'expire' ? rig.expire : rig.expireToken;
    if (!expire) throw new Error(`${provider} has no ${scenario.action}`);
    let done = false;
    // Expire once, as the step's request arrives; the request is then handled normally (and refused).
    rig.fault({
      ...(match.method ? { method: match.method } : {}),
      path: match.path,
      when: (request) => {
        if (done || (match.when && !match.when(request))) return false;
        done = true;
        expire();
        return false;
      },
      action: { type: 'delay', ms: 0 },
    });
  } else if (times > 0) {
    rig.fault({
      ...(match.method ? { method: match.method } : {}),
      path: match.path,
      ...(match.when ? { when: match.when } : {}),
      times,
      action: scenario.action,
    });
  }
  const [queued] = await handle.queue.enqueue('acct', [rig.source]);
  handle.engine.start();
  await within(`${provider}: ${scenario.fault} to settle`, 20_000, handle.engine.whenIdle());
  const job = handle.queue.jobs.get(queued!.id)!;
  const events = handle.queue.jobs.events(job.id);
  const matches = (r: { method: string; path: string }): boolean =>
    (!match.method || r.method === match.method) &&
    (typeof match.path === 'string' ? r.path === match.path : match.path.test(r.path));
  return {
    job,
    events,
    errors: errorEvents(events),
    requests: rig.requests().length,
    stepTimes: rig
      .requests()
      .filter(matches)
      .map((r) => r.at),
    allTimes: rig.requests().map((r) => r.at),
    faultedTimes: rig
      .requests()
      .filter((r) => r.fault !== null && r.fault !== 'delay')
      .map((r) => r.at),
    problems: job.state === 'completed' ? rig.check() : [],
    ms: Date.now() - started,
  };
}
