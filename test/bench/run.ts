/**
 * `npm run bench [-- --full] [-- --only physical,throughput,latency,memory,queue,ui,bandwidth,startup,endurance] [-- --reps N] [-- --providers selfcommunity,…]`
 *
 * Ferry against a minimal raw client of the same protocol (the floor), on the same loopback emulator,
 * in the same run, alternating A/B and reporting medians. Prints a table and writes every sample to
 * bench-results/<timestamp>.json. Quick mode (the default) scales the sizes down to finish in a few
 * minutes on a small machine; --full uses the sizes of issue 7. Never part of `npm test`.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, freemem, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchFiles } from './lib/files.ts';
import { GiB, MiB, REPO_ROOT, median, round } from './lib/measure.ts';
import { table, type Row } from './lib/report.ts';
import { startTarget, type ProviderId } from './suites/providers.ts';
import { runLimited, type LimitSample } from './suites/bandwidth.ts';
import { queueScale, queueSeeded, type QueueScaleResult } from './suites/queueScale.ts';
import { alternate, ferryAccount, medianOf, runFerry, runFloor, runPhysical, type Sample } from './suites/transfer.ts';
import { buildRenderer, uiActive, uiRender } from './suites/uiScale.ts';
import { startup } from './suites/startup.ts';
import { endurance } from './suites/endurance.ts';

const SUITES = [
  'physical',
  'throughput',
  'latency',
  'memory',
  'queue',
  'ui',
  'bandwidth',
  'startup',
  'endurance',
] as const;
type Suite = (typeof SUITES)[number];

const { values: flags } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    only: { type: 'string' },
    reps: { type: 'string' },
    providers: { type: 'string' },
  },
});
const full = flags.full ?? false;
const only = new Set<Suite>(flags.only ? (flags.only.split(',') as Suite[]) : SUITES);
for (const suite of only)
  if (!SUITES.includes(suite)) throw new Error(`unknown suite ${suite}; known: ${SUITES.join(', ')}`);

const sizes = full
  ? {
      reps: 5,
      scFiles: 40,
      bigFile: 1 * GiB,
      memory: [1 * GiB, 2 * GiB],
      queue: [10_000, 100_000],
      queueSeeded: 1_000_000,
      uiJobs: [10_000, 100_000],
      uiLoads: 5,
      uiWindowMs: 5_000,
    }
  : {
      reps: 3,
      scFiles: 40,
      bigFile: 256 * MiB,
      memory: [256 * MiB, 512 * MiB],
      queue: [10_000, 100_000],
      queueSeeded: 1_000_000,
      uiJobs: [100_000],
      uiLoads: 3,
      uiWindowMs: 3_000,
    };
const reps = flags.reps ? Number(flags.reps) : sizes.reps;
const SC_FILE = 4_500_000;
const LATENCY_FILES = 16;
const LATENCY_MS = 40;

const rows: Row[] = [];
const raw: Record<string, unknown> = {};
const log = (text: string): void => void process.stderr.write(`${text}\n`);
const mbps = (s: Sample): number => s.mbPerSecond;

// Ferry runs as after `npm ci`: bin/ferry.js takes the compiled engine in dist/main when it is newer
// than the sources (else it would strip types at start-up, ~30 MB more RSS). Build it now.
log('building dist/main (npm run build:main)');
execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'build:main'], {
  cwd: REPO_ROOT,
  stdio: 'inherit',
});

const files = await BenchFiles.create();
try {
  const bigBytesNeeded = 0; // Big files are sparse: they take no disk space.
  await files.requireFree(bigBytesNeeded + 2 * 1e9, 'the benchmarks');
  const src = await files.dir('src');
  const bigFile = (name: string, size: number): Promise<string> => files.sparse(src, name, size);

  // Physical limit -------------------------------------------------------------------------------
  let physical: number | null = null;
  if (only.has('physical') || only.has('throughput')) {
    const file = await bigFile('physical.bin', sizes.bigFile);
    const samples: Sample[] = [];
    for (let rep = 0; rep < reps; rep += 1) samples.push(await runPhysical(file, sizes.bigFile));
    physical = median(samples.map(mbps));
    raw.physical = samples;
    rows.push({
      suite: 'physical',
      name: `1 raw PUT stream, loopback, ${sizes.bigFile / MiB} MiB`,
      unit: 'MB/s',
      ferry: null,
      baseline: round(physical),
      baselineName: 'raw PUT',
      ratio: null,
      target: '',
      met: null,
      note: `client CPU ${round(medianOf(samples, (s) => s.cpuSecondsPerGiB) ?? 0)} s/GiB`,
    });
    log(`physical: ${round(physical)} MB/s`);
  }

  // Throughput and CPU per provider --------------------------------------------------------------
  if (only.has('throughput')) {
    const scFiles = await Promise.all(
      Array.from({ length: sizes.scFiles }, (_, i) => files.random(src, `photo-${i}.png`, SC_FILE)),
    );
    const plans: Array<{
      provider: ProviderId;
      label: string;
      files: string[];
      bytes: number;
      filesAtOnce: number;
      target: number;
    }> = [
      {
        provider: 'selfcommunity',
        label: `${sizes.scFiles} × 4.5 MB, serial 204,800-byte chunks, 2 files at once`,
        files: scFiles,
        bytes: sizes.scFiles * SC_FILE,
        filesAtOnce: 2,
        target: 0.8,
      },
      {
        provider: 'twentythree',
        label: `${sizes.bigFile / MiB} MiB, 8 MiB chunks, 3 in parallel`,
        files: [await bigFile('tt.mp4', sizes.bigFile)],
        bytes: sizes.bigFile,
        filesAtOnce: 1,
        target: 0.9,
      },
      {
        provider: 'ofauth',
        label: `${sizes.bigFile / MiB} MiB, 5 MiB parts, 2 in parallel, paced 60/min burst 90`,
        files: [await bigFile('of.mp4', sizes.bigFile)],
        bytes: sizes.bigFile,
        filesAtOnce: 1,
        target: 0.9,
      },
      {
        provider: 'xvid',
        label: `${sizes.bigFile / MiB} MiB, one S3 form POST`,
        files: [await bigFile('xv.mp4', sizes.bigFile)],
        bytes: sizes.bigFile,
        filesAtOnce: 1,
        target: 0.9,
      },
    ];
    const throughput: Record<string, unknown> = {};
    const wanted = flags.providers ? new Set(flags.providers.split(',')) : null;
    for (const plan of plans) {
      if (wanted && !wanted.has(plan.provider)) continue;
      const target = await startTarget(plan.provider);
      try {
        const setup = await ferryAccount(target, await files.dir(`data-${plan.provider}`));
        const result = await alternate(
          reps,
          () => runFerry(target, setup, plan.files, plan.bytes),
          () => runFloor(target, plan.files, plan.filesAtOnce, plan.bytes),
        );
        throughput[plan.provider] = result;
        const ferry = median(result.a.map(mbps));
        const floor = median(result.b.map(mbps));
        const pairRatios = result.a.map((sample, i) => round(sample.mbPerSecond / result.b[i]!.mbPerSecond, 3));
        rows.push({
          suite: 'throughput',
          name: `${plan.provider}: ${plan.label}`,
          unit: 'MB/s',
          ferry: round(ferry),
          baseline: round(floor),
          baselineName: 'floor',
          ratio: round(ferry / floor, 3),
          target: `≥ ${plan.target}`,
          met: ferry / floor >= plan.target,
          note: `per-pair ratios ${pairRatios.join(', ')}; physical ${physical === null ? '?' : round(physical)} MB/s`,
        });
        const ferryCpu = medianOf(result.a, (s) => s.cpuSecondsPerGiB);
        const floorCpu = medianOf(result.b, (s) => s.cpuSecondsPerGiB);
        rows.push({
          suite: 'cpu',
          name: `${plan.provider}: client CPU per GiB moved`,
          unit: 'CPU s/GiB',
          ferry: ferryCpu === null ? null : round(ferryCpu),
          baseline: floorCpu === null ? null : round(floorCpu),
          baselineName: 'floor',
          ratio: ferryCpu !== null && floorCpu ? round(ferryCpu / floorCpu) : null,
          target: '≤ 1.3',
          met: ferryCpu !== null && floorCpu ? ferryCpu / floorCpu <= 1.3 : null,
        });
        const ferryRss = medianOf(result.a, (s) => s.maxRssBytes);
        const floorRss = medianOf(result.b, (s) => s.maxRssBytes);
        rows.push({
          suite: 'memory',
          name: `${plan.provider}: peak RSS of the uploading process`,
          unit: 'MB',
          ferry: ferryRss === null ? null : round(ferryRss / 1e6, 0),
          baseline: floorRss === null ? null : round(floorRss / 1e6, 0),
          baselineName: 'floor',
          ratio: ferryRss !== null && floorRss ? round(ferryRss / floorRss) : null,
          target: '≤ 150 MB',
          met: ferryRss === null ? null : ferryRss <= 150e6,
        });
        log(
          `throughput ${plan.provider}: Ferry ${round(ferry)} MB/s, floor ${round(floor)} MB/s, ratio ${round(ferry / floor, 3)}`,
        );
      } finally {
        await target.close();
      }
    }
    raw.throughput = throughput;
  }

  // Latency-bound: 40 ms added to every reply, 16 SelfCommunity files at once --------------------
  if (only.has('latency')) {
    const latencyFiles = await Promise.all(
      Array.from({ length: LATENCY_FILES }, (_, i) => files.random(src, `late-${i}.png`, SC_FILE)),
    );
    const target = await startTarget('selfcommunity');
    try {
      target.fault({ times: Number.MAX_SAFE_INTEGER, action: { type: 'delay', ms: LATENCY_MS } });
      const setup = await ferryAccount(target, await files.dir('data-latency'), {
        concurrency: LATENCY_FILES,
        env: { FERRY_MAX_JOBS: String(LATENCY_FILES) },
      });
      const bytes = LATENCY_FILES * SC_FILE;
      const result = await alternate(
        reps,
        () => runFerry(target, setup, latencyFiles, bytes),
        () => runFloor(target, latencyFiles, LATENCY_FILES, bytes),
      );
      raw.latency = result;
      const ideal = (LATENCY_FILES * 204_800) / 1e6 / (LATENCY_MS / 1000);
      const ferry = median(result.a.map(mbps));
      const floor = median(result.b.map(mbps));
      rows.push({
        suite: 'latency',
        name: `selfcommunity, +${LATENCY_MS} ms per reply, ${LATENCY_FILES} files at once`,
        unit: 'MB/s',
        ferry: round(ferry),
        baseline: round(ideal),
        baselineName: 'ideal lanes×chunk/RTT',
        ratio: round(ferry / ideal, 3),
        target: '≥ 0.9',
        met: ferry / ideal >= 0.9,
        note: `floor client ${round(floor)} MB/s (${round(floor / ideal, 3)} of ideal); Ferry/floor ${round(ferry / floor, 3)}`,
      });
      log(`latency: Ferry ${round(ferry)} MB/s, floor ${round(floor)}, ideal ${round(ideal)}`);
    } finally {
      await target.close();
    }
  }

  // Memory: 4 big files at once, and again at twice the size --------------------------------------
  if (only.has('memory')) {
    const target = await startTarget('twentythree');
    const memory: Record<string, Sample[]> = {};
    try {
      const setup = await ferryAccount(target, await files.dir('data-memory'), {
        concurrency: 4,
        env: { FERRY_MAX_JOBS: '4' },
      });
      const peaks: number[] = [];
      for (const size of sizes.memory) {
        const four = await Promise.all(Array.from({ length: 4 }, (_, i) => bigFile(`mem-${size}-${i}.mp4`, size)));
        const samples: Sample[] = [];
        for (let rep = 0; rep < Math.min(reps, 2); rep += 1)
          samples.push(await runFerry(target, setup, four, 4 * size));
        memory[String(size)] = samples;
        const peak = medianOf(samples, (s) => s.maxRssBytes) ?? Number.NaN;
        peaks.push(peak);
        rows.push({
          suite: 'memory',
          name: `twentythree: 4 × ${size / MiB} MiB at once (3 chunks of 8 MiB in flight each)`,
          unit: 'MB',
          ferry: round(peak / 1e6, 0),
          baseline: null,
          baselineName: '',
          ratio: null,
          target: '≤ 150 MB',
          met: peak <= 150e6,
          note: `${round(medianOf(samples, mbps) ?? 0)} MB/s aggregate`,
        });
        log(`memory 4 × ${size / MiB} MiB: peak RSS ${round(peak / 1e6, 0)} MB`);
      }
      const [small, big] = peaks as [number, number];
      rows.push({
        suite: 'memory',
        name: `peak RSS growth when the file size doubles (${sizes.memory[0]! / MiB} → ${sizes.memory[1]! / MiB} MiB)`,
        unit: 'ratio',
        ferry: round(big / 1e6, 0),
        baseline: round(small / 1e6, 0),
        baselineName: 'half size',
        ratio: round(big / small, 3),
        target: '≈ 1 (flat)',
        met: big / small <= 1.1,
      });
    } finally {
      await target.close();
    }
    raw.memory = memory;
  }

  // Queue scale ----------------------------------------------------------------------------------
  if (only.has('queue')) {
    const results: QueueScaleResult[] = [];
    for (const jobs of sizes.queue) {
      results.push(await queueScale(files, jobs));
      log(`queue ${jobs}: ${JSON.stringify(results.at(-1))}`);
    }
    raw.queue = results;
    const [small, big] = results as [QueueScaleResult, QueueScaleResult];
    const growth = big.jobs / small.jobs;
    const add = (name: string, unit: string, pick: (r: QueueScaleResult) => number, digits = 2): void => {
      rows.push({
        suite: 'queue',
        name: `${name} (${small.jobs.toLocaleString('en-US')} → ${big.jobs.toLocaleString('en-US')} jobs)`,
        unit,
        ferry: round(pick(big), digits),
        baseline: round(pick(small), digits),
        baselineName: `${small.jobs / 1000}k`,
        ratio: round(pick(big) / pick(small), 2),
        target: `growth ≤ ${growth} (linear)`,
        met: pick(big) / pick(small) <= growth * 1.15,
      });
    };
    add('enqueue, total', 's', (r) => r.enqueueSeconds);
    add('enqueue, per file', 'µs', (r) => r.enqueueMicrosPerFile, 1);
    add('ferry list --json', 's', (r) => r.listSeconds);
    add('ferry list --json, peak RSS', 'MB', (r) => (r.listMaxRssBytes ?? Number.NaN) / 1e6, 0);
    add('ferry list --json, CPU', 's', (r) => r.listCpuSeconds ?? Number.NaN);
    add('engine cold start (recovery + first schedule)', 'ms', (r) => r.coldStartMs, 1);
    add('idle engine CPU (account paused, queue checked every s)', 'CPU ms/s', (r) => r.idleCpuMsPerSecond, 1);
    add('database size', 'MB', (r) => r.dbBytes / 1e6, 1);

    // A million queued jobs, written straight into SQLite (enqueueing them file by file takes minutes),
    // against the 100,000 of the enqueue run above.
    const million = await queueSeeded(files, sizes.queueSeeded);
    log(`queue seeded ${million.jobs}: ${JSON.stringify(million)}`);
    raw.queueSeeded = million;
    const label = `${big.jobs.toLocaleString('en-US')} → ${million.jobs.toLocaleString('en-US')} jobs`;
    const vs = (
      name: string,
      unit: string,
      before: number,
      after: number,
      target: string,
      met: boolean,
      digits = 2,
    ): void => {
      rows.push({
        suite: 'queue',
        name: `${name} (${label})`,
        unit,
        ferry: round(after, digits),
        baseline: round(before, digits),
        baselineName: `${big.jobs / 1000}k`,
        ratio: round(after / before, 2),
        target,
        met,
      });
    };
    const scale = million.jobs / big.jobs;
    vs('engine cold start', 'ms', big.coldStartMs, million.coldStartMs, '≤ 1000 ms', million.coldStartMs <= 1_000, 1);
    vs(
      'idle engine CPU (account paused)',
      'CPU ms/s',
      big.idleCpuMsPerSecond,
      million.idleCpuMsPerSecond,
      'flat (≤ 1.5×)',
      million.idleCpuMsPerSecond <= big.idleCpuMsPerSecond * 1.5 + 1,
      1,
    );
    vs(
      'window start: summary + first page + total',
      'ms',
      big.firstViewMs ?? Number.NaN,
      million.firstViewMs,
      `growth ≤ ${scale} (linear)`,
      million.firstViewMs / (big.firstViewMs ?? Number.NaN) <= scale * 1.15,
      1,
    );
    vs(
      'summary (jobs.summary)',
      'ms',
      big.summaryMs ?? Number.NaN,
      million.summaryMs,
      'flat (≤ 1.5×)',
      million.summaryMs <= (big.summaryMs ?? Number.NaN) * 1.5 + 0.5,
      2,
    );
    rows.push({
      suite: 'queue',
      name: `${million.jobs.toLocaleString('en-US')} jobs, half of them finished: summary / history's first page + total`,
      unit: 'ms',
      ferry: round(million.historyPageMs, 2),
      baseline: round(million.summaryHalfFinishedMs, 2),
      baselineName: 'summary',
      ratio: null,
      target: 'no sort, no scan',
      met: million.historyPageMs < 50 && million.summaryHalfFinishedMs < 5,
    });
    vs(
      'database size',
      'MB',
      big.dbBytes / 1e6,
      million.dbBytes / 1e6,
      `growth ≤ ${scale} (linear)`,
      million.dbBytes / big.dbBytes <= scale * 1.15,
      1,
    );
  }

  // UI scale (Chromium against ferry serve) --------------------------------------------------------
  if (only.has('ui')) {
    buildRenderer();
    const ui: Record<string, unknown> = {};
    for (const jobs of sizes.uiJobs) {
      const { render, scroll } = await uiRender(files, jobs, sizes.uiLoads);
      ui[`render-${jobs}`] = render;
      ui[`scroll-${jobs}`] = scroll;
      const label = jobs.toLocaleString('en-US');
      rows.push({
        suite: 'ui',
        name: `first render of the queue, ${label} jobs (navigation → first rows)`,
        unit: 'ms',
        ferry: round(render.firstRowsMs, 0),
        baseline: null,
        baselineName: '',
        ratio: null,
        target: '',
        met: null,
        note: `loads ${render.loads.map((ms) => round(ms, 0)).join(', ')} ms (as the bench heard of them: ${render.noticedMs.map((ms) => round(ms, 0)).join(', ')} ms); totals showing ${label}: ${round(render.totalShownMs, 0)} ms`,
      });
      rows.push({
        suite: 'ui',
        name: `the queue of ${label} jobs opened again (reloaded twice in one browser context, the third load): navigation → first rows`,
        unit: 'ms',
        ferry: round(render.warmFirstRowsMs, 0),
        baseline: null,
        baselineName: '',
        ratio: null,
        target: '',
        met: null,
        note: `loads ${render.warmLoads.map((ms) => round(ms, 0)).join(', ')} ms (files and the bundle's compiled code from the browser's caches)`,
      });
      rows.push({
        suite: 'ui',
        name: `first render of the queue, ${label} jobs, in a Chromium without DevTools attached (navigation → rows rendered)`,
        unit: 'ms',
        ferry: round(render.noDevtoolsRowsMs, 0),
        baseline: null,
        baselineName: '',
        ratio: null,
        target: '',
        met: null,
        note: `loads ${render.noDevtoolsLoads.map((ms) => round(ms, 0)).join(', ')} ms; first contentful paint ${round(render.noDevtoolsFcpMs, 0)} ms (startup trace, no CDP client: what a user's page does)`,
      });
      rows.push({
        suite: 'ui',
        name: `scrolling the queue of ${label} jobs, a screenful per frame + jumps: frame time p95`,
        unit: 'ms',
        ferry: round(scroll.p95Ms, 1),
        baseline: null,
        baselineName: '',
        ratio: null,
        target: '≤ 33 (30 fps)',
        met: scroll.p95Ms <= 33.4,
        note: `${scroll.frames} frames: p50 ${round(scroll.p50Ms, 1)} ms, max ${round(scroll.maxMs, 1)} ms, ${scroll.slowFrames} over 50 ms, ${scroll.skippedFrames} skipped by the frame clock; ${scroll.rowsAfterJump} rows shown after the last jump`,
      });
      rows.push({
        suite: 'ui',
        name: `scrolling the queue of ${label} jobs, the same scroll by the frame clock (rAF timestamps): interval p95`,
        unit: 'ms',
        ferry: round(scroll.clockP95Ms, 1),
        baseline: null,
        baselineName: '',
        ratio: null,
        target: '≤ 16.7 (60 fps): one frame period',
        // One period, not two: the timestamps are coarsened to 0.1 ms, so a period reads 16.7 or 16.8.
        met: scroll.clockP95Ms < 1.5 * scroll.clockPeriodMs,
        note: `frame period ${round(scroll.clockPeriodMs, 1)} ms; ${scroll.skippedFrames} frames skipped, longest interval ${round(scroll.clockMaxMs, 1)} ms; the line above times the bench's own callback in each frame, which runs after the list's scroll handler, so it also moves with that handler's time from one frame to the next`,
      });
      log(
        `ui ${label}: first rows ${round(render.firstRowsMs, 0)} ms (opened again: ${round(render.warmFirstRowsMs, 0)} ms), scroll p95 ${round(scroll.p95Ms, 1)} ms`,
      );
    }
    const active = await uiActive(files, 50, sizes.uiWindowMs);
    ui.active = active;
    rows.push({
      suite: 'ui',
      name: `${active.activeJobs} active uploads: progress messages received`,
      unit: 'msg/s',
      ferry: round(active.progressMessagesPerSecond, 1),
      baseline: null,
      baselineName: '',
      ratio: null,
      target: '≤ ~10 (coalesced)',
      met: active.progressMessagesPerSecond <= 11,
      note: `${active.jobsInProgressMessages} jobs named, ${round(active.progressItemsPerMessage, 1)} items per message over ${round(active.windowSeconds, 1)} s`,
    });
    rows.push({
      suite: 'ui',
      name: `${active.activeJobs} active uploads: renderer long tasks (> 50 ms)`,
      unit: 'count',
      ferry: active.longTasks,
      baseline: null,
      baselineName: '',
      ratio: null,
      target: '0',
      met: active.longTasks === 0,
      note: `${round(active.longTaskMsTotal, 0)} ms in long tasks over ${round(active.windowSeconds, 1)} s, longest ${round(active.longestTaskMs, 0)} ms`,
    });
    log(`ui active: ${JSON.stringify(active)}`);
    raw.ui = ui;
  }

  // Bandwidth limit: accuracy at 1, 4 and 16 MiB/s per provider, and its CPU cost ---------------------
  if (only.has('bandwidth')) {
    // Each upload lasts `seconds` at the limit (quick mode too: accuracy needs the ≥ 10 s of the issue).
    const seconds = full ? 20 : 10;
    const limits = [
      ['1M', 1 * MiB],
      ['4M', 4 * MiB],
      ['16M', 16 * MiB],
    ] as const;
    const wanted = flags.providers ? new Set(flags.providers.split(',')) : null;
    const samples: LimitSample[] = [];
    for (const provider of ['selfcommunity', 'twentythree', 'ofauth', 'xvid'] as const) {
      if (wanted && !wanted.has(provider)) continue;
      const target = await startTarget(provider);
      try {
        // Two SelfCommunity files at once, as in the throughput suite: one alone idles between chunks.
        const setup = await ferryAccount(target, await files.dir(`data-bw-${provider}`), {
          ...(provider === 'selfcommunity' ? { concurrency: 2 } : {}),
        });
        // SelfCommunity takes images of at most 5 MB: its bytes come as files of 4.5 MB (random, as in
        // the throughput suite), uploaded 2 at once, sharing the limit.
        const fileOf = async (name: string, size: number): Promise<string[]> =>
          provider === 'selfcommunity'
            ? Promise.all(
                Array.from({ length: Math.ceil(size / SC_FILE) }, (_, i) =>
                  files.random(src, `${name}-${i}.png`, Math.min(SC_FILE, size - i * SC_FILE)),
                ),
              )
            : [await bigFile(`${name}.mp4`, size)];
        let fastest: { sample: LimitSample; file: string[] } | null = null;
        for (const [limit, rate] of limits) {
          const bytes = rate * seconds;
          const file = await fileOf(`bw-${provider}-${limit}`, bytes);
          const sample = await runLimited(target, setup, file, bytes, limit, rate);
          samples.push(sample);
          fastest = { sample, file };
          rows.push({
            suite: 'bandwidth',
            name: `${provider}: --bwlimit ${limit}, ${bytes / MiB} MiB (${seconds} s at the limit)`,
            unit: 'achieved/limit',
            ferry: round(sample.accuracy ?? 0, 3),
            baseline: null,
            baselineName: '',
            ratio: null,
            target: '0.95–1.05',
            met: Math.abs((sample.accuracy ?? 0) - 1) <= 0.05,
            note: `${round(sample.bytesPerSecond / MiB, 3)} MiB/s over ${round(sample.seconds, 1)} s; client CPU ${round(sample.cpuSecondsPerGiB ?? 0)} s/GiB`,
          });
          log(`bandwidth ${provider} ${limit}: ${round(sample.accuracy ?? 0, 3)} of the limit`);
        }
        if (fastest) {
          const unlimited = await runLimited(target, setup, fastest.file, fastest.sample.bytes, 'off', null);
          samples.push(unlimited);
          const limitedCpu = fastest.sample.cpuSecondsPerGiB;
          const freeCpu = unlimited.cpuSecondsPerGiB;
          rows.push({
            suite: 'bandwidth',
            name: `${provider}: client CPU per GiB, limited to ${fastest.sample.limit} vs unlimited`,
            unit: 'CPU s/GiB',
            ferry: limitedCpu === null ? null : round(limitedCpu),
            baseline: freeCpu === null ? null : round(freeCpu),
            baselineName: 'unlimited',
            ratio: limitedCpu !== null && freeCpu ? round(limitedCpu / freeCpu) : null,
            target: '',
            met: null,
            note: `unlimited: ${round(unlimited.bytesPerSecond / MiB, 1)} MiB/s over ${round(unlimited.seconds, 2)} s`,
          });
        }
      } finally {
        await target.close();
      }
    }
    raw.bandwidth = samples;
  }

  // Start-up of short commands, against `node -e 0` (20 alternating pairs; --reps N × 5) -------------
  if (only.has('startup')) {
    const result = await startup(files, flags.reps ? reps * 5 : full ? 30 : 20);
    rows.push(...result.rows);
    raw.startup = result.samples;
    for (const row of result.rows) log(`${row.name}: ${row.ferry} ms, node -e 0 ${row.baseline} ms`);
  }

  // Endurance: small files through one `ferry run` (quick 5,000; --full 20,000), RSS over time ------
  if (only.has('endurance')) {
    const result = await endurance(files, full ? 20_000 : 5_000);
    rows.push(...result.rows);
    raw.endurance = result.result;
    log(`endurance: ${JSON.stringify({ ...result.result, samples: result.result.samples.length })}`);
  }

  // Output ---------------------------------------------------------------------------------------
  const machine = {
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    ramGiB: round(totalmem() / GiB, 1),
    freeRamGiB: round(freemem() / GiB, 1),
    node: process.version,
    loadAverage: (await import('node:os')).loadavg().map((value) => round(value, 2)),
  };
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const outDir = join(REPO_ROOT, 'bench-results');
  await mkdir(outDir, { recursive: true });
  const outFile = join(outDir, `${stamp}.json`);
  await writeFile(
    outFile,
    `${JSON.stringify({ at: new Date().toISOString(), mode: full ? 'full' : 'quick', reps, sizes, machine, rows, raw }, null, 2)}\n`,
  );
  process.stdout.write(
    `\nFerry benchmarks (${full ? 'full' : 'quick'} mode, ${reps} A/B reps, medians) on ${machine.nproc} × ${machine.cpuModel}, ${machine.ramGiB} GiB RAM, Node ${machine.node}\n\n`,
  );
  process.stdout.write(`${table(rows)}\n\n`);
  for (const row of rows) if (row.note) process.stdout.write(`- ${row.suite} / ${row.name}: ${row.note}\n`);
  process.stdout.write(`\nAll samples: ${outFile}\n`);
} finally {
  await files.cleanup();
}
