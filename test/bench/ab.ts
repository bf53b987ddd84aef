/**
 * `node test/bench/ab.ts OTHER_CHECKOUT [FILES] [REPS] [AT_ONCE]` — this checkout's Ferry against another
 * checkout's (e.g. `git worktree add /tmp/base HEAD~1 && (cd /tmp/base && npm run build:main)`), on the
 * SelfCommunity small-chunk case (FILES × 4.5 MB, AT_ONCE files at once, default 2), alternating which goes first, with
 * the floor client as a third column. On a shared machine only such same-run comparisons mean much.
 * Both checkouts use their own compiled engine (dist/main), so build both first. Not a benchmark.
 * `AB_DELAY_MS=40 node test/bench/ab.ts OTHER 16 5 16` is the latency-bound case of `npm run bench`
 * (every reply delayed, as many files at once as there are files). `AB_THIS_NODE_ARGS` / `AB_OTHER_NODE_ARGS`
 * (space-separated) start that side's node with extra flags, e.g. `AB_THIS_NODE_ARGS=--min-semi-space-size=16
 * node test/bench/ab.ts .` compares a V8 flag against the same build without it.
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { BenchFiles } from './lib/files.ts';
import { REPO_ROOT, median } from './lib/measure.ts';
import { startTarget } from './suites/providers.ts';
import { ferryAccount, runFerry, runFloor, type Sample } from './suites/transfer.ts';

const other = process.argv[2];
if (!other) throw new Error('usage: node test/bench/ab.ts OTHER_CHECKOUT [FILES] [REPS] [AT_ONCE]');
const count = Number(process.argv[3] ?? 40);
const reps = Number(process.argv[4] ?? 5);
const FILE_SIZE = 4_500_000;
const FILES_AT_ONCE = Number(process.argv[5] ?? 2);

execFileSync('npm', ['run', '--silent', 'build:main'], { cwd: REPO_ROOT, stdio: 'inherit' });
const files = await BenchFiles.create();
const target = await startTarget('selfcommunity');
const delayMs = Number(process.env.AB_DELAY_MS ?? 0);
if (delayMs > 0) target.fault({ times: Number.MAX_SAFE_INTEGER, action: { type: 'delay', ms: delayMs } });
try {
  const src = await files.dir('src');
  const sources = await Promise.all(
    Array.from({ length: count }, (_, i) => files.random(src, `ab-${i}.png`, FILE_SIZE)),
  );
  const bytes = count * FILE_SIZE;
  const clients: Array<[string, () => Promise<Sample>]> = [];
  for (const [name, root, nodeArgs] of [
    ['this', REPO_ROOT, process.env.AB_THIS_NODE_ARGS],
    ['other', resolve(other), process.env.AB_OTHER_NODE_ARGS],
  ] as const) {
    const setup = await ferryAccount(target, await files.dir(`data-${name}`), {
      concurrency: FILES_AT_ONCE,
      env: { FERRY_MAX_JOBS: String(Math.max(FILES_AT_ONCE, 4)) },
    });
    clients.push([
      name,
      () =>
        runFerry(
          target,
          setup,
          sources,
          bytes,
          nodeArgs?.split(' ').filter(Boolean) ?? [],
          join(root, 'bin', 'ferry.js'),
        ),
    ]);
  }
  clients.push(['floor', () => runFloor(target, sources, FILES_AT_ONCE, bytes)]);
  const samples = new Map<string, Sample[]>(clients.map(([name]) => [name, []]));
  for (const [, run] of clients) await run(); // warm-up
  for (let rep = 0; rep < reps; rep += 1) {
    const order = rep % 2 === 0 ? clients : [...clients].reverse();
    for (const [name, run] of order) samples.get(name)!.push(await run());
  }
  const floor = median(samples.get('floor')!.map((s) => s.mbPerSecond));
  for (const [name, list] of samples) {
    const speed = median(list.map((s) => s.mbPerSecond));
    const cpu = median(list.map((s) => s.cpuSecondsPerGiB ?? Number.NaN));
    const rss = Math.max(...list.map((s) => s.maxRssBytes ?? Number.NaN)) / 2 ** 20;
    process.stdout.write(
      `${name.padEnd(5)} ${speed.toFixed(1).padStart(6)} MB/s (${(speed / floor).toFixed(3)} of floor), ${cpu.toFixed(2)} CPU s/GiB, peak RSS ${rss.toFixed(0)} MB, ` +
        `runs ${list.map((s) => s.mbPerSecond.toFixed(1)).join(' ')}\n`,
    );
  }
} finally {
  await target.close();
  await files.cleanup();
}
