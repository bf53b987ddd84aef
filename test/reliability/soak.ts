/**
 * `npm run soak`: the crash harness at full length — 20 SIGKILLs of the real `ferry run` per provider
 * at seeded random moments (see test/support/crashHarness.ts) — then a summary table in Markdown (the
 * one docs/reliability.md quotes) and the full figures in test-results/soak.json.
 * Exits 1 when any promise was broken. Loopback only; about 3–5 minutes on two cores.
 *
 *   npm run soak                        all providers, 20 kills each, seed from the date
 *   SOAK_KILLS=5 SOAK_SEED=42 SOAK_PROVIDERS=ofauth,xvid npm run soak
 *
 * Then the offline soak (test/reliability/offlineSoak.ts): five real minutes with every provider's
 * port closed mid-upload (SOAK_OFFLINE=0 skips it).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crashRun, type CrashProviderId, type CrashReport } from '../support/crashHarness.ts';
import { REPO_ROOT } from '../support/ferryHarness.ts';
import { offlineSoak, offlineTable } from './offlineSoak.ts';

const ALL: CrashProviderId[] = ['ofauth', 'selfcommunity', 'oktopost', 'xvid', 'twentythree'];
const kills = Number(process.env.SOAK_KILLS ?? 20);
const seed = Number(process.env.SOAK_SEED ?? Math.floor(Date.now() / 86_400_000));
const providers = (process.env.SOAK_PROVIDERS?.split(',') ?? ALL) as CrashProviderId[];

const reports: CrashReport[] = [];
const started = Date.now();
for (const [index, provider] of providers.entries()) {
  const dir = await mkdtemp(join(tmpdir(), `ferry-soak-${provider}-`));
  try {
    const report = await crashRun({
      provider,
      kills,
      seed: seed + index,
      dir,
      budgetMs: 4 * 60_000,
      log: (line) => process.stdout.write(`${line}\n`),
    });
    reports.push(report);
    process.stdout.write(
      `${provider}: ${report.kills} kills, ${report.files} files, ${report.violations.length} violation(s), ${(report.ms / 1000).toFixed(1)} s\n`,
    );
    for (const violation of report.violations) process.stdout.write(`  VIOLATION ${violation}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const moments = (report: CrashReport): string =>
  Object.entries(report.killsByMoment)
    .map(([kind, count]) => `${kind} ${count}`)
    .join(', ');
const table = [
  '| provider | kills survived | where the kills landed | files | runs | re-sent chunks (allowed) | parallel width | finalize once | all completed | integrity_check | time |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
  ...reports.map(
    (r) =>
      `| ${r.provider} | ${r.kills} | ${moments(r)} | ${r.files} | ${r.runs} | ${r.resentChunks} (≤ ${r.resentBound}) | ${r.width} | ${r.violations.some((v) => /finalize|media|import/.test(v)) ? 'NO' : 'yes'} | ${r.states.completed === r.files ? 'yes' : 'NO'} | ${r.integrity} | ${(r.ms / 1000).toFixed(0)} s |`,
  ),
].join('\n');
const total = (Date.now() - started) / 1000;
process.stdout.write(`\nSoak (seed ${seed}, ${kills} kills per provider, ${total.toFixed(0)} s):\n\n${table}\n`);
await mkdir(join(REPO_ROOT, 'test-results'), { recursive: true });
await writeFile(
  join(REPO_ROOT, 'test-results', 'soak.json'),
  `${JSON.stringify({ seed, kills, seconds: total, reports }, null, 2)}\n`,
);
process.exitCode = reports.every((r) => r.violations.length === 0) && reports.length === providers.length ? 0 : 1;

// Offline in real time: every provider's port closed for five minutes mid-upload, then reopened
// (test/reliability/offlineSoak.ts). SOAK_OFFLINE=0 skips it; SOAK_OFFLINE_MS shortens it.
if (process.env.SOAK_OFFLINE !== '0') {
  const offline = await offlineSoak((line) => process.stdout.write(`${line}\n`));
  process.stdout.write(`\nOffline soak:\n\n${offlineTable(offline)}\n`);
  await writeFile(join(REPO_ROOT, 'test-results', 'offline-soak.json'), `${JSON.stringify(offline, null, 2)}\n`);
  if (!offline.every((r) => r.problems.length === 0)) process.exitCode = 1;
}
