/**
 * The fault matrix: every provider, through its emulator, meets each fault below once, with the real
 * Queue + Engine on a temporary data folder (stall timeout 600 ms, backoff 20 → 400 ms with a fixed
 * jitter). The table states the outcome each fault must have:
 *
 * - retried      the job completes after one retry; one error event of that kind; byte-exact, one media
 * - new session  the session (or token) is dropped and a new one completes the upload
 * - clean        the job completes with no error event at all
 * - failed       the job fails with that kind and a one-line message saying what to do, no "will retry"
 *
 * Every scenario is bounded in time (`within`), requests per job are bounded (no retry storm), a 429
 * holds the lane for its Retry-After, and a dead endpoint is given up after 9 attempts with delays
 * that grow (and never come sooner than the policy's backoff).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { FaultAction } from '../sandbox/harness.ts';
import { gaps, runScenario, type Scenario } from '../support/faultMatrix.ts';
import type { RIGS } from '../support/faultRigs.ts';
import { Fixtures } from '../support/ferryHarness.ts';

const HTML_PAGE =
  '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>nginx</p></body></html>';
const WRONG_TYPES = '{"upload_id":12,"offset":"lots","mediaUploadId":7,"Result":"yes","upload":[],"uploadtoken":5}';
const CREDENTIALS = /credential|key|secret/i;

const status = (code: number, extra: Partial<Extract<FaultAction, { type: 'status' }>> = {}): FaultAction => ({
  type: 'status',
  status: code,
  ...extra,
});
const malformed = (body: string, contentType = 'application/json'): FaultAction => ({
  type: 'malformed',
  body,
  status: 200,
  contentType,
});

// prettier-ignore
/** The table every provider starts from.          fault                          step        action                                                           outcome        kind */
const BASE: Scenario[] = [
  { fault: 'no fault (baseline)',                   step: 'chunk',    action: { type: 'delay', ms: 0 }, times: 0,                             expect: 'clean' },
  { fault: 'connection reset mid-body',             step: 'chunk',    action: { type: 'reset', afterBytes: 20_000 },                          expect: 'retried',     kind: 'network' },
  { fault: 'HTTP 500',                              step: 'chunk',    action: status(500, { body: '{"error":"boom"}' }),                      expect: 'retried',     kind: 'server' },
  { fault: 'HTTP 502',                              step: 'chunk',    action: status(502),                                                    expect: 'retried',     kind: 'server' },
  { fault: 'HTTP 503 on finalize',                  step: 'finalize', action: status(503),                                                    expect: 'retried',     kind: 'server' },
  { fault: '429 with Retry-After: 1',               step: 'chunk',    action: status(429, { headers: { 'retry-after': '1' }, body: '{"error":"slow down"}' }), expect: 'retried', kind: 'rate-limited', minGapMs: 900 },
  { fault: 'stalled response (no bytes)',           step: 'chunk',    action: { type: 'stall' },                                              expect: 'retried',     kind: 'timeout', message: /stalled/ },
  { fault: 'very slow server (250 ms a request)',   step: 'chunk',    action: { type: 'delay', ms: 250 }, times: 'always',                    expect: 'clean' },
  { fault: 'session expiry',                        step: 'chunk',    action: 'expire',                                                       expect: 'new session', kind: 'session-gone' },
  { fault: '401 (wrong credentials)',               step: 'auth',     action: status(401, { body: '{"error":"unauthorized"}' }), times: 'always', expect: 'failed',  kind: 'auth', message: CREDENTIALS },
  { fault: '403 (forbidden)',                       step: 'auth',     action: status(403, { body: '{"error":"forbidden"}' }), times: 'always', expect: 'failed',     kind: 'auth', message: CREDENTIALS },
  { fault: 'HTML error page with 502',              step: 'chunk',    action: status(502, { body: HTML_PAGE, headers: { 'content-type': 'text/html' } }), expect: 'retried', kind: 'server' },
  { fault: 'HTML page with 200',                    step: 'create',   action: malformed(HTML_PAGE, 'text/html'),                              expect: 'retried',     kind: 'server' },
  { fault: 'truncated JSON with 200',               step: 'create',   action: malformed('{"upload_id":"abc","off'),                           expect: 'retried',     kind: 'server' },
  { fault: 'wrong types in JSON with 200',          step: 'create',   action: malformed(WRONG_TYPES),                                         expect: 'retried',     kind: 'server' },
  { fault: '503 forever (dead endpoint)',           step: 'create',   action: status(503), times: 'always',                                   expect: 'failed',      kind: 'server', message: /503.*gave up after 9 attempts/ },
];

type Provider = keyof typeof RIGS;

/** Where a provider's protocol makes a row different, and why (docs/protocols.md). */
const TABLE: Record<Provider, Scenario[]> = {
  // The first chunk creates the upload; 410 on an expired upload starts over from byte 0.
  selfcommunity: BASE,
  ofauth: BASE.map((row) =>
    // An init reply whose mediaUploadId is a number and whose plan is missing is taken as "one part =
    // the whole file" (docs/protocols.md); the PUT to that id is answered 404, which drops the session.
    row.fault === 'wrong types in JSON with 200' ? { ...row, expect: 'new session', kind: 'session-gone' } : row,
  ),
  twentythree: BASE
    // The chunk that completes the file is its finalize: there is no separate request to break.
    .filter((row) => row.step !== 'finalize')
    // A chunk answered 500 means "file not supported": the whole upload is canceled, not retried.
    // An expired upload token is renewed by the adapter, which starts the chunks over under the new
    // one without an error (the renewals are bounded per job: twentythree.adapter.test.ts).
    .map((row): Scenario => {
      if (row.fault === 'HTTP 500') return { ...row, expect: 'failed', kind: 'unsupported', message: /not supported/ };
      if (row.fault === 'session expiry')
        return { ...row, fault: 'upload token expiry', expect: 'renewed', kind: undefined };
      return row;
    }),
  xvid: [
    ...BASE,
    // "chunk" is the S3 form POST of the whole file; "session expiry" is the signed policy expiring (403
    // AccessDenied from S3), which needs a new upload; the access token expiring (403 0x0000003) is
    // refreshed in place and the refused call repeated, with no error reaching the job.
    { fault: 'access token expiry', step: 'create', action: 'expire-token', expect: 'clean' },
    { fault: 'HTTP 503 on a processing poll', step: 'poll', action: status(503), expect: 'retried', kind: 'server' },
  ],
  oktopost: BASE
    // Oktopost pulls the file itself: Ferry's requests are the import request and the status polls.
    .filter((row) => row.step !== 'finalize')
    .map((row): Scenario => {
      if (row.fault === 'connection reset mid-body')
        return { ...row, step: 'create', action: { type: 'reset', afterBytes: 10 } };
      // The import request vanished on Oktopost's side (404): a new one is made.
      if (row.fault === 'session expiry') return { ...row, step: 'poll', fault: 'import request vanished (404)' };
      return row.step === 'chunk' ? { ...row, step: 'poll' } : row;
    }),
};

/** Parts sent at once per job (OFAuth 2, TwentyThree 3): the most that can be in flight at a 429. */
const WIDTH: Record<Provider, number> = { selfcommunity: 1, ofauth: 2, twentythree: 3, xvid: 1, oktopost: 1 };

const RETRY_BASE_MS = 20;
const RETRY_MAX_MS = 400;

for (const provider of Object.keys(TABLE) as Provider[]) {
  // The rows of a provider run at once (each with its own folder, emulator and engine): most of their
  // time is spent waiting for backoff timers, Retry-After and stall timeouts.
  describe.concurrent(`fault matrix: ${provider}`, () => {
    let baseline = 0;
    beforeAll(async () => {
      const own = new Fixtures();
      try {
        const clean = await runScenario(
          own,
          provider,
          TABLE[provider].find((row) => row.fault === 'no fault (baseline)')!,
        );
        expect(clean.job.state).toBe('completed');
        baseline = clean.requests;
      } finally {
        await own.cleanup();
      }
    });
    for (const scenario of TABLE[provider]) {
      it(`${scenario.fault} on ${scenario.step} → ${scenario.expect}${scenario.kind ? ` (${scenario.kind})` : ''}`, async () => {
        const own = new Fixtures();
        try {
          await check(own, scenario);
        } finally {
          await own.cleanup();
        }
      }, 30_000);
    }

    async function check(fixtures: Fixtures, scenario: Scenario): Promise<void> {
      const result = await runScenario(fixtures, provider, scenario);
      const { job, errors } = result;
      const context = `${provider} / ${scenario.fault}: ${job.state} ${JSON.stringify(job.error)} errors=${JSON.stringify(errors.map((e) => e.message))}`;
      expect(baseline, 'the baseline ran first').toBeGreaterThan(0);

      if (scenario.expect === 'failed') {
        expect(job.state, context).toBe('failed');
        expect(job.error?.kind, context).toBe(scenario.kind);
        expect(job.error?.message, context).toMatch(scenario.message ?? /./);
        // A clear message: one line, names the file, and does not promise a retry that won't come.
        expect(job.error?.message).not.toMatch(/[\r\n]/);
        // It names the file, or (for an account-wide refusal such as a sign-in) the account's client.
        expect(job.error?.message).toMatch(new RegExp(`${job.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}|client`));
        expect(job.error?.message).not.toMatch(/will retry|waiting before trying again/);
        if (scenario.times === 'always' && scenario.kind === 'server') {
          // Nothing retries forever: 1 try + 8 retries, each try a bounded number of requests.
          expect(job.attempts).toBe(9);
          expect(result.requests).toBeLessThanOrEqual(9 * 2);
          // Delays grow: wait n is never sooner than the policy's backoff, 0.75 × 20·2^n ms with the
          // fixed jitter (15, 30, 60, 120, 240, then the cap 0.75 × 400)…
          const waits = gaps(result.stepTimes);
          expect(waits.length, context).toBeGreaterThanOrEqual(8);
          waits.slice(0, 8).forEach((wait, n) => {
            expect(wait, `wait ${n + 1} of ${JSON.stringify(waits)}`).toBeGreaterThanOrEqual(
              Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** n) * 0.75 - 5,
            );
          });
          // …and never much longer than the cap: a bounded, growing schedule, not a storm or a hang.
          for (const wait of waits) expect(wait).toBeLessThan(RETRY_MAX_MS + 3_000);
          expect(result.ms).toBeLessThan(10_000);
        } else {
          // Failures that retrying cannot fix stop at the first attempt.
          expect(job.attempts, context).toBe(1);
          expect(result.requests).toBeLessThanOrEqual(baseline);
        }
        return;
      }

      expect(job.state, context).toBe('completed');
      expect(result.problems, context).toEqual([]);
      if (scenario.expect === 'clean') {
        expect(errors, context).toEqual([]);
        // A token refreshed in place costs the token call and the repeated call.
        expect(result.requests).toBeLessThanOrEqual(baseline + 2);
        return;
      }
      if (scenario.expect === 'renewed') {
        expect(errors, context).toEqual([]);
        // The file once more, plus the new token and the refused request.
        expect(result.requests, context).toBeLessThanOrEqual(2 * baseline + 2);
        return;
      }
      // One fault, one retry: no storm.
      expect(
        errors.map((e) => e.errorKind),
        context,
      ).toEqual([scenario.kind]);
      expect(job.attempts).toBe(2);
      if (scenario.expect === 'new session') {
        expect(errors[0]!.message, context).toMatch(/new session/);
        expect(result.requests).toBeLessThanOrEqual(2 * baseline + 2);
      } else {
        expect(errors[0]!.message, context).not.toMatch(/new session/);
        expect(result.requests, context).toBeLessThanOrEqual(baseline + 3);
        if (scenario.message) expect(errors[0]!.message).toMatch(scenario.message);
      }
      const minGap = scenario.minGapMs;
      if (minGap !== undefined) {
        // The 429 held the account lane for Retry-After: nothing new went out before it was over. Parts
        // of a parallel provider that were already on their way may still arrive (at most width − 1).
        const refused = result.faultedTimes[0]!;
        const early = result.allTimes.filter((at) => at > refused && at < refused + minGap);
        expect(
          early.length,
          `${context}: ${JSON.stringify(early.map((at) => at - refused))} ms after the 429`,
        ).toBeLessThanOrEqual(WIDTH[provider] - 1);
        expect(
          result.allTimes.some((at) => at >= refused + minGap),
          context,
        ).toBe(true);
      }
    }
  });
}
