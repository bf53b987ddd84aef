/**
 * The bandwidth limit's accuracy and cost: `ferry upload --wait --bwlimit RATE` (a child process) to
 * each provider's emulator with a file of RATE × seconds bytes. Accuracy is the rate the emulator
 * saw (bytes over the window from the first request's arrival to the last work reply) divided by the
 * limit; cost is the client's CPU per GiB, limited and unlimited (`--bwlimit off`), over the same window.
 */
import { join } from 'node:path';
import { GiB, REPO_ROOT, ServerWatch, runNode } from '../lib/measure.ts';
import type { BenchTarget } from './providers.ts';
import type { FerrySetup } from './transfer.ts';

const FERRY_BIN = join(REPO_ROOT, 'bin', 'ferry.js');

export interface LimitSample {
  provider: string;
  /** The --bwlimit given (rclone syntax), and in bytes per second (null = off). */
  limit: string;
  limitBytesPerSecond: number | null;
  bytes: number;
  seconds: number;
  bytesPerSecond: number;
  /** Achieved / limit (null when unlimited). */
  accuracy: number | null;
  cpuSecondsPerGiB: number | null;
}

export async function runLimited(
  target: BenchTarget,
  setup: FerrySetup,
  files: readonly string[],
  bytes: number,
  limit: string,
  limitBytesPerSecond: number | null,
): Promise<LimitSample> {
  const watch = new ServerWatch([target.url], target.isWork);
  const run = await runNode(
    FERRY_BIN,
    [
      '--data-dir',
      setup.dataDir,
      'upload',
      '--account',
      setup.account,
      '--wait',
      '--json',
      '--bwlimit',
      limit,
      ...files,
    ],
    { env: setup.env, onSpawn: (pid) => (watch.pid = pid) },
  );
  const completed = run.stdout.split('\n').filter((line) => line.includes('"status":"completed"')).length;
  if (run.code !== 0 || completed !== files.length) {
    try {
      watch.stop();
    } catch {
      // The failure below says more.
    }
    throw new Error(`ferry upload --bwlimit ${limit} (${target.provider}) failed:\n${run.stderr}\n${run.stdout}`);
  }
  const window = watch.stop();
  const bytesPerSecond = bytes / window.seconds;
  return {
    provider: target.provider,
    limit,
    limitBytesPerSecond,
    bytes,
    seconds: window.seconds,
    bytesPerSecond,
    accuracy: limitBytesPerSecond === null ? null : bytesPerSecond / limitBytesPerSecond,
    cpuSecondsPerGiB: window.cpuSeconds === null ? null : window.cpuSeconds / (bytes / GiB),
  };
}
