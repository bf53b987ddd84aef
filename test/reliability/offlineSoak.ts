/**
 * The offline test in real time (run by `npm run soak`, not by `npm test`): for every provider at
 * once, an upload is cut in the middle by closing its emulator's port (listening stopped, open
 * connections destroyed) for five real minutes, then the port reopens. The engines run with their
 * real network monitor (backoff 1 s doubling, capped at 4 s). Checked per provider: no job failed,
 * the job resumed within 5 s of the port reopening, the emulator holds the file byte-exact, finalized
 * once, with no acknowledged part sent again. Prints a Markdown table (quoted in
 * docs/reliability.md) and writes test-results/offline-soak.json.
 *
 *   node test/reliability/offlineSoak.ts                 five minutes
 *   SOAK_OFFLINE_MS=20000 node test/reliability/offlineSoak.ts
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine } from '../../main/engine/engine.ts';
import { replugSandbox, unplugSandbox } from '../sandbox/harness.ts';
import { Fixtures, REPO_ROOT, resentCount, waitFor } from '../support/ferryHarness.ts';
import { OFFLINE_PROVIDERS, offlineSubject, type OfflineSubject } from '../support/offlineRig.ts';

const OUTAGE_MS = Number(process.env.SOAK_OFFLINE_MS ?? 5 * 60_000);
const RESUME_LIMIT_MS = 5_000;

export interface OfflineSoakReport {
  provider: string;
  outageMs: number;
  /** Failed probes during the outage. */
  probes: number;
  /** Port reopened → the job left "Waiting for network" (a new attempt started). */
  resumeMs: number | null;
  /** Port reopened → the job completed. */
  completeMs: number | null;
  state: string;
  retryStreak: number;
  resentParts: number;
  problems: string[];
}

export async function offlineSoak(log: (line: string) => void = () => undefined): Promise<OfflineSoakReport[]> {
  const fixtures = new Fixtures();
  try {
    const runs: Array<{ engine: Engine; subject: OfflineSubject; jobId: number; provider: string }> = [];
    for (const provider of OFFLINE_PROVIDERS) {
      // The real network monitor, in real time.
      const w = fixtures.openEngine(await fixtures.tempDir(`ferry-offline-soak-${provider}-`));
      const subject = fixtures.track(await offlineSubject(provider, w.queue, w.dir));
      subject.hold();
      const [job] = await w.queue.enqueue(subject.account, [subject.source]);
      w.engine.start();
      runs.push({ engine: w.engine, subject, jobId: job!.id, provider });
    }
    await Promise.all(
      runs.map((run) => waitFor(`${run.provider}: the held request`, () => run.subject.held(), 30_000)),
    );
    for (const run of runs) for (const host of run.subject.hosts) await unplugSandbox(host);
    await Promise.all(
      runs.map((run) =>
        waitFor(
          `${run.provider}: waiting for the network`,
          () => run.engine.queue.jobs.get(run.jobId)?.error?.message.startsWith('Waiting for network:'),
          30_000,
        ),
      ),
    );
    log(`every job waits for the network; the ports stay closed for ${Math.round(OUTAGE_MS / 1000)} s`);
    const probesDuring = new Map<string, number>();
    const attemptsBefore = new Map(runs.map((run) => [run.provider, run.engine.queue.jobs.get(run.jobId)!.attempts]));
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    for (const run of runs) probesDuring.set(run.provider, run.engine.offlineHosts()[0]?.probes ?? 0);
    for (const run of runs) for (const host of run.subject.hosts) await replugSandbox(host);
    const reopened = Date.now();
    log('ports reopened');

    return await Promise.all(
      runs.map(async (run): Promise<OfflineSoakReport> => {
        const jobs = run.engine.queue.jobs;
        let resumeMs: number | null = null;
        let completeMs: number | null = null;
        const problems: string[] = [];
        try {
          await waitFor(
            'a new attempt',
            () => {
              const job = jobs.get(run.jobId)!;
              return job.attempts > attemptsBefore.get(run.provider)! || job.state === 'completed' ? job : null;
            },
            60_000,
            5,
          );
          resumeMs = Date.now() - reopened;
          await waitFor('completion', () => ['completed', 'failed'].includes(jobs.get(run.jobId)!.state), 60_000, 5);
          completeMs = Date.now() - reopened;
        } catch (error) {
          problems.push(error instanceof Error ? error.message : String(error));
        }
        const job = jobs.get(run.jobId)!;
        if (job.state !== 'completed') problems.push(`job ${job.state}: ${job.error?.message ?? ''}`);
        if (resumeMs !== null && resumeMs > RESUME_LIMIT_MS) problems.push(`resumed after ${resumeMs} ms`);
        problems.push(...run.subject.check());
        const resentParts = resentCount(run.subject.acked());
        if (resentParts > 0) problems.push(`${resentParts} acknowledged part(s) sent again`);
        return {
          provider: run.provider,
          outageMs: OUTAGE_MS,
          probes: probesDuring.get(run.provider) ?? 0,
          resumeMs,
          completeMs,
          state: job.state,
          retryStreak: job.retryStreak,
          resentParts,
          problems,
        };
      }),
    );
  } finally {
    await fixtures.cleanup();
  }
}

export function offlineTable(reports: readonly OfflineSoakReport[]): string {
  return [
    '| provider | port closed | failed probes | resumed after reopening | completed after reopening | job | retries charged | re-sent acked parts | byte-exact, finalized once |',
    '|---|---|---|---|---|---|---|---|---|',
    ...reports.map(
      (r) =>
        `| ${r.provider} | ${Math.round(r.outageMs / 1000)} s | ${r.probes} | ${r.resumeMs ?? '—'} ms | ${r.completeMs ?? '—'} ms | ${r.state} | ${r.retryStreak} | ${r.resentParts} | ${r.problems.length === 0 ? 'yes' : r.problems.join('; ')} |`,
    ),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const reports = await offlineSoak((line) => process.stdout.write(`${line}\n`));
  process.stdout.write(`\nOffline soak:\n\n${offlineTable(reports)}\n`);
  await mkdir(join(REPO_ROOT, 'test-results'), { recursive: true });
  await writeFile(join(REPO_ROOT, 'test-results', 'offline-soak.json'), `${JSON.stringify(reports, null, 2)}\n`);
  process.exitCode = reports.every((r) => r.problems.length === 0) ? 0 : 1;
}
