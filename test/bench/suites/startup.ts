/**
 * Start-up of the `ferry` command: wall time from spawn to exit of short commands on an empty data
 * folder, against `node -e 0` on the same machine in the same run (the floor: Node's own start-up),
 * alternating the two. bin/ferry.js runs the compiled engine (run.ts builds dist/main first).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BenchFiles } from '../lib/files.ts';
import { REPO_ROOT, median, round } from '../lib/measure.ts';
import type { Row } from '../lib/report.ts';

const FERRY_BIN = join(REPO_ROOT, 'bin', 'ferry.js');

/** Milliseconds from spawn to exit of `node ...args`; fails on a non-zero exit code. */
async function wallMs(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const code = await new Promise<number | null>((done) => child.on('close', (exit) => done(exit)));
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited with ${String(code)}: ${stderr.slice(-1000)}`);
  return ms;
}

export interface StartupSample {
  command: string;
  ferryMs: number[];
  floorMs: number[];
}

/**
 * The commands measured: ones that need nothing (providers, --help), typed as a user types them (no
 * --data-dir: `ferry providers` so is answered before the command-line parser loads, bin/ferry.js),
 * and one that opens the queue (list, on the bench's empty data folder).
 */
const COMMANDS: ReadonlyArray<{ args: string[]; dataDir: boolean; target: number | null }> = [
  { args: ['providers'], dataDir: false, target: 150 },
  { args: ['--help'], dataDir: false, target: null },
  { args: ['list', '--json'], dataDir: true, target: null },
];

export async function startup(files: BenchFiles, reps: number): Promise<{ rows: Row[]; samples: StartupSample[] }> {
  const dataDir = await files.dir('data-startup');
  const env = { ...process.env, NODE_NO_WARNINGS: '1', FERRY_DATA_DIR: '' };
  const rows: Row[] = [];
  const samples: StartupSample[] = [];
  for (const { args, dataDir: withDataDir, target } of COMMANDS) {
    const ferry = (): Promise<number> =>
      wallMs([FERRY_BIN, ...(withDataDir ? ['--data-dir', dataDir] : []), ...args], env);
    const floor = (): Promise<number> => wallMs(['-e', '0'], env);
    // One untimed run of each: the first creates the database (list) and warms the page cache.
    await ferry();
    await floor();
    const sample: StartupSample = { command: `ferry ${args.join(' ')}`, ferryMs: [], floorMs: [] };
    for (let rep = 0; rep < reps; rep += 1) {
      if (rep % 2 === 0) {
        sample.ferryMs.push(await ferry());
        sample.floorMs.push(await floor());
      } else {
        sample.floorMs.push(await floor());
        sample.ferryMs.push(await ferry());
      }
    }
    samples.push(sample);
    const ferryMs = median(sample.ferryMs);
    const floorMs = median(sample.floorMs);
    rows.push({
      suite: 'startup',
      name: `${sample.command}${withDataDir ? ' (empty data folder)' : ''}, wall time spawn → exit`,
      unit: 'ms',
      ferry: round(ferryMs, 0),
      baseline: round(floorMs, 0),
      baselineName: 'node -e 0',
      ratio: round(ferryMs / floorMs),
      target: target === null ? '' : `≤ ${target} ms`,
      met: target === null ? null : ferryMs <= target,
      note: `+${round(ferryMs - floorMs, 0)} ms over Node's own start-up; min ${round(Math.min(...sample.ferryMs), 0)} ms (floor min ${round(Math.min(...sample.floorMs), 0)} ms), ${reps} alternating pairs`,
    });
  }
  return { rows, samples };
}
