/**
 * Transfer benchmarks: Ferry (`ferry upload --wait` as a child process) against the floor client of
 * the same protocol, on the same emulator, alternating A/B runs; plus the machine's physical limit.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { GiB, REPO_ROOT, ServerWatch, mb, median, runNode, type ChildRun } from '../lib/measure.ts';
import type { BenchTarget } from './providers.ts';

const FERRY_BIN = join(REPO_ROOT, 'bin', 'ferry.js');

export interface Sample {
  client: 'ferry' | 'floor' | 'physical';
  bytes: number;
  seconds: number;
  mbPerSecond: number;
  /** Client CPU over the transfer window, per GiB moved. */
  cpuSecondsPerGiB: number | null;
  maxRssBytes: number | null;
  processCpuSeconds: number | null;
  wallSeconds: number;
}

function sampleOf(
  client: Sample['client'],
  bytes: number,
  window: { seconds: number; cpuSeconds: number | null },
  run: ChildRun,
): Sample {
  return {
    client,
    bytes,
    seconds: window.seconds,
    mbPerSecond: mb(bytes) / window.seconds,
    cpuSecondsPerGiB: window.cpuSeconds === null ? null : window.cpuSeconds / (bytes / GiB),
    maxRssBytes: run.maxRssBytes,
    processCpuSeconds: run.processCpuSeconds,
    wallSeconds: run.wallSeconds,
  };
}

function check(run: ChildRun, what: string): void {
  if (run.code !== 0)
    throw new Error(`${what} exited with ${String(run.code)}:\n${run.stderr.slice(-2000)}\n${run.stdout.slice(-2000)}`);
}

export interface FerrySetup {
  dataDir: string;
  account: string;
  env: NodeJS.ProcessEnv;
}

/** Creates the Ferry account for `target` in `dataDir`. */
export async function ferryAccount(
  target: BenchTarget,
  dataDir: string,
  options: { concurrency?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<FerrySetup> {
  const account = `bench-${target.provider}`;
  const args = [
    '--data-dir',
    dataDir,
    'accounts',
    'add',
    ...target.accountArgs.slice(0, 1),
    '--name',
    account,
    ...target.accountArgs.slice(1),
  ];
  if (options.concurrency !== undefined) args.push('--concurrency', String(options.concurrency));
  check(await runNode(FERRY_BIN, args), 'ferry accounts add');
  // Processing polls start after 50 ms (default 2 s); they are outside the measured window anyway.
  return { dataDir, account, env: { FERRY_DATA_DIR: '', FERRY_POLL_INITIAL_MS: '50', ...options.env } };
}

/** `bin` runs another checkout's Ferry (test/bench/ab.ts). */
export async function runFerry(
  target: BenchTarget,
  setup: FerrySetup,
  files: readonly string[],
  bytes: number,
  nodeArgs: readonly string[] = [],
  bin: string = FERRY_BIN,
): Promise<Sample> {
  const watch = new ServerWatch([target.url], target.isWork);
  const run = await runNode(
    bin,
    ['--data-dir', setup.dataDir, 'upload', '--account', setup.account, '--wait', '--json', ...files],
    {
      env: setup.env,
      nodeArgs,
      onSpawn: (pid) => (watch.pid = pid),
    },
  );
  const window = watch.stop();
  check(run, `ferry upload (${target.provider})`);
  const completed = run.stdout
    .split('\n')
    .filter((line) => line.includes('"event":"job"') && line.includes('"status":"completed"')).length;
  if (completed !== files.length)
    throw new Error(`ferry completed ${completed} of ${files.length} uploads:\n${run.stdout.slice(-2000)}`);
  return sampleOf('ferry', bytes, window, run);
}

export async function runFloor(
  target: BenchTarget,
  files: readonly string[],
  filesAtOnce: number,
  bytes: number,
): Promise<Sample> {
  const watch = new ServerWatch([target.url], target.isWork);
  const run = await runNode(target.floorScript, [JSON.stringify(target.floorConfig(files, filesAtOnce))], {
    onSpawn: (pid) => (watch.pid = pid),
  });
  const window = watch.stop();
  check(run, `floor client (${target.provider})`);
  return sampleOf('floor', bytes, window, run);
}

/** Runs `reps` A/B pairs, alternating which client goes first. */
export async function alternate(
  reps: number,
  a: () => Promise<Sample>,
  b: () => Promise<Sample>,
): Promise<{ a: Sample[]; b: Sample[] }> {
  const result = { a: [] as Sample[], b: [] as Sample[] };
  // One untimed run of each first: an emulator's first upload is slow (its own code warming up), and
  // that penalised whichever client went first in rep 0 (first pairs ran 0.57–0.85 while the others
  // agreed within ~10 %).
  await b();
  await a();
  for (let rep = 0; rep < reps; rep += 1) {
    if (rep % 2 === 0) {
      result.a.push(await a());
      result.b.push(await b());
    } else {
      result.b.push(await b());
      result.a.push(await a());
    }
  }
  return result;
}

export function medianOf(samples: readonly Sample[], pick: (sample: Sample) => number | null): number | null {
  const values = samples.map(pick).filter((value): value is number => value !== null && Number.isFinite(value));
  return values.length ? median(values) : null;
}

/** One raw PUT of `file` over loopback to a server that discards the body. */
export async function runPhysical(file: string, bytes: number): Promise<Sample> {
  const sink = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(204).end());
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/sink`;
  try {
    const watch = new ServerWatch([url]);
    const run = await runNode(
      join(REPO_ROOT, 'test', 'bench', 'floor', 'physical.ts'),
      [JSON.stringify({ url, file })],
      {
        onSpawn: (pid) => (watch.pid = pid),
      },
    );
    const window = watch.stop();
    check(run, 'physical PUT');
    return sampleOf('physical', bytes, window, run);
  } finally {
    sink.closeAllConnections();
    await new Promise((resolve) => sink.close(resolve));
  }
}
