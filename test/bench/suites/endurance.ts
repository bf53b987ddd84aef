/**
 * Endurance: many small files through ONE `ferry run --until-idle` process, to see whether its memory
 * stays flat over hours of work (issue 18). N files of 2–4 KB are queued for a SelfCommunity emulator
 * (keepBytes: false; each file is one chunk and one complete, so the run is all per-job work: job
 * state changes, sessions, events, progress), then one child uploads them all while this process
 * samples its RSS from /proc/<pid>/status every 200 ms and the child reports its V8 heap
 * (lib/heapProbe.ts). The timeline is cut by completed jobs: RSS and heap of the first quarter of the
 * completions against the last quarter; flat means growth ≤ 10 %. The emulator must have received
 * every file, each completed exactly once.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startSelfCommunitySandbox } from '../../sandbox/selfcommunity.ts';
import type { BenchFiles } from '../lib/files.ts';
import { REPO_ROOT, median, round, runNode } from '../lib/measure.ts';
import type { Row } from '../lib/report.ts';

const FERRY_BIN = join(REPO_ROOT, 'bin', 'ferry.js');
const HEAP_PROBE = join(REPO_ROOT, 'test', 'bench', 'lib', 'heapProbe.ts');
const SAMPLE_MS = 200;
/** Uploads at once (account concurrency and the global limit). */
const AT_ONCE = 4;

interface MemorySample {
  at: number;
  completed: number;
  rssBytes: number;
  /** The anonymous part of the RSS (V8's heap, malloc): what a leak grows. The rest is mapped files,
   * mostly the pages of the node binary that the run has touched so far. */
  anonBytes: number;
}

export interface EnduranceResult {
  files: number;
  seconds: number;
  filesPerSecond: number;
  firstQuarterRssMB: number;
  lastQuarterRssMB: number;
  rssGrowth: number;
  firstQuarterAnonMB: number;
  lastQuarterAnonMB: number;
  anonGrowth: number;
  firstQuarterHeapMB: number | null;
  lastQuarterHeapMB: number | null;
  heapGrowth: number | null;
  peakRssMB: number;
  received: number;
  distinctFiles: number;
  completes: number;
  samples: MemorySample[];
}

/** VmRSS and RssAnon of process `pid`, in bytes, or null once it is gone. */
function rssOf(pid: number): { rssBytes: number; anonBytes: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    const anon = /^RssAnon:\s+(\d+) kB$/m.exec(status);
    return rss && anon ? { rssBytes: Number(rss[1]) * 1024, anonBytes: Number(anon[1]) * 1024 } : null;
  } catch {
    return null;
  }
}

function check(run: { code: number | null; stderr: string; stdout: string }, what: string): void {
  if (run.code !== 0)
    throw new Error(`${what} exited with ${String(run.code)}:\n${run.stderr.slice(-2000)}\n${run.stdout.slice(-2000)}`);
}

/** Median of `values` taken between the times `from` and `to` (inclusive); NaN when none. */
function medianBetween<T>(
  items: readonly T[],
  at: (item: T) => number,
  value: (item: T) => number,
  from: number,
  to: number,
): number {
  return median(items.filter((item) => at(item) >= from && at(item) <= to).map(value));
}

export async function endurance(
  benchFiles: BenchFiles,
  count: number,
): Promise<{ rows: Row[]; result: EnduranceResult }> {
  const sandbox = await startSelfCommunitySandbox({ keepBytes: false });
  try {
    const src = await benchFiles.dir(`endurance-${count}`);
    for (let i = 0; i < count; i += 1)
      await benchFiles.random(src, `e-${String(i).padStart(6, '0')}.png`, 2048 + ((i * 7919) % 2048));
    const dataDir = await benchFiles.dir(`data-endurance-${count}`);
    const env = { FERRY_DATA_DIR: '', FERRY_MAX_JOBS: String(AT_ONCE) };
    const account = 'endurance';
    check(
      await runNode(FERRY_BIN, [
        '--data-dir',
        dataDir,
        'accounts',
        'add',
        'selfcommunity',
        '--name',
        account,
        '--base-url',
        sandbox.url,
        '--secret',
        `accessToken=${sandbox.token}`,
        '--concurrency',
        String(AT_ONCE),
      ]),
      'ferry accounts add',
    );
    check(
      await runNode(FERRY_BIN, ['--data-dir', dataDir, 'upload', '--account', account, src], { env }),
      'ferry upload (queueing)',
    );

    const heapFile = join(await benchFiles.dir('endurance-heap'), `heap-${count}.txt`);
    const started = Date.now();
    const child = spawn(
      process.execPath,
      ['--import', HEAP_PROBE, FERRY_BIN, '--data-dir', dataDir, 'run', '--until-idle', '--json'],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, NODE_NO_WARNINGS: '1', ...env, FERRY_BENCH_HEAP: heapFile },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const pid = child.pid!;
    const completedAt: number[] = [];
    let failed = 0;
    let pending = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('"event":"job"')) continue;
        if (line.includes('"status":"completed"')) completedAt.push(Date.now());
        else failed += 1;
      }
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4000)));
    const samples: MemorySample[] = [];
    const sampler = setInterval(() => {
      const rss = rssOf(pid);
      if (rss !== null) samples.push({ at: Date.now(), completed: completedAt.length, ...rss });
    }, SAMPLE_MS);
    const code = await new Promise<number | null>((done) => child.on('close', (exit) => done(exit)));
    clearInterval(sampler);
    check({ code, stderr, stdout: pending }, 'ferry run --until-idle');
    if (completedAt.length !== count || failed > 0)
      throw new Error(`ferry completed ${completedAt.length} of ${count} uploads (${failed} failed):\n${stderr}`);

    // What the emulator received: every file, each completed exactly once.
    const names = new Set(sandbox.media.map((media) => sandbox.uploads.get(media.uploadId)?.filename));
    const completes = sandbox.completeCalls.filter((call) => call.status === 200 || call.status === 201).length;
    if (sandbox.media.length !== count || names.size !== count || completes !== count)
      throw new Error(
        `the emulator has ${sandbox.media.length} media of ${names.size} distinct files from ${completes} completes; expected ${count} of each`,
      );

    const first = completedAt[0]!;
    const quarter = completedAt[Math.floor(count / 4) - 1]!;
    const threeQuarters = completedAt[Math.ceil((3 * count) / 4) - 1]!;
    const last = completedAt[count - 1]!;
    const firstAnon = medianBetween(
      samples,
      (s) => s.at,
      (s) => s.anonBytes,
      first,
      quarter,
    );
    const lastAnon = medianBetween(
      samples,
      (s) => s.at,
      (s) => s.anonBytes,
      threeQuarters,
      last,
    );
    const firstRss = medianBetween(
      samples,
      (s) => s.at,
      (s) => s.rssBytes,
      first,
      quarter,
    );
    const lastRss = medianBetween(
      samples,
      (s) => s.at,
      (s) => s.rssBytes,
      threeQuarters,
      last,
    );
    const heap = (await readFile(heapFile, 'utf8').catch(() => ''))
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.split(' ').map(Number) as [number, number, number, number, number, number]);
    const firstHeap = heap.length
      ? medianBetween(
          heap,
          (h) => h[0],
          (h) => h[2],
          first,
          quarter,
        )
      : Number.NaN;
    const lastHeap = heap.length
      ? medianBetween(
          heap,
          (h) => h[0],
          (h) => h[2],
          threeQuarters,
          last,
        )
      : Number.NaN;
    const seconds = (last - started) / 1000;
    const result: EnduranceResult = {
      files: count,
      seconds,
      filesPerSecond: count / seconds,
      firstQuarterRssMB: firstRss / 1e6,
      lastQuarterRssMB: lastRss / 1e6,
      rssGrowth: lastRss / firstRss - 1,
      firstQuarterAnonMB: firstAnon / 1e6,
      lastQuarterAnonMB: lastAnon / 1e6,
      anonGrowth: lastAnon / firstAnon - 1,
      firstQuarterHeapMB: Number.isFinite(firstHeap) ? firstHeap / 1e6 : null,
      lastQuarterHeapMB: Number.isFinite(lastHeap) ? lastHeap / 1e6 : null,
      heapGrowth: Number.isFinite(firstHeap) && Number.isFinite(lastHeap) ? lastHeap / firstHeap - 1 : null,
      peakRssMB: Math.max(...samples.map((s) => s.rssBytes)) / 1e6,
      received: sandbox.media.length,
      distinctFiles: names.size,
      completes,
      samples,
    };
    const label = `${count.toLocaleString('en-US')} files of 2–4 KB through one "ferry run" (selfcommunity, ${AT_ONCE} at once)`;
    const rows: Row[] = [
      {
        suite: 'endurance',
        name: `${label}: RSS, last quarter vs first quarter of the completions`,
        unit: 'MB',
        ferry: round(result.lastQuarterRssMB, 1),
        baseline: round(result.firstQuarterRssMB, 1),
        baselineName: 'first quarter',
        ratio: round(lastRss / firstRss, 3),
        target: '≤ 1.10',
        met: lastRss / firstRss <= 1.1,
        note: `peak ${round(result.peakRssMB, 0)} MB; ${samples.length} samples every ${SAMPLE_MS} ms; anonymous RSS ${round(result.firstQuarterAnonMB, 1)} → ${round(result.lastQuarterAnonMB, 1)} MB; heap used ${result.firstQuarterHeapMB === null ? '?' : round(result.firstQuarterHeapMB, 1)} → ${result.lastQuarterHeapMB === null ? '?' : round(result.lastQuarterHeapMB, 1)} MB`,
      },
      {
        suite: 'endurance',
        name: `${label}: files per second (queue → last completion)`,
        unit: 'files/s',
        ferry: round(result.filesPerSecond, 1),
        baseline: null,
        baselineName: '',
        ratio: null,
        target: '',
        met: null,
        note: `${round(seconds, 1)} s; the emulator received ${result.received} files (${result.distinctFiles} distinct), ${result.completes} completes`,
      },
    ];
    return { rows, result };
  } finally {
    await sandbox.close();
  }
}
