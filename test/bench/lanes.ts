/**
 * `node test/bench/lanes.ts [OTHER_CHECKOUT]` — where the latency-bound case loses time, seen from the
 * emulator: 16 SelfCommunity files at once, every reply delayed 40 ms, floor and Ferry (and another
 * checkout's Ferry, built with `npm run build:main`) alternating, one untimed round first. For each run
 * it prints when the 16 first chunks arrived, when the completes went out, the median gap on a
 * connection between a reply and the next chunk (the client's own time per round trip, including
 * waiting for its event loop behind the other lanes) and the gap before a complete (finalize's own
 * preparation: the finalize marker's sync). Not a benchmark.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { BenchFiles } from './lib/files.ts';
import { median } from './lib/measure.ts';
import { startTarget } from './suites/providers.ts';
import { ferryAccount, runFerry, runFloor, type Sample } from './suites/transfer.ts';

interface Seen {
  start: number;
  finish: number;
  url: string;
  port: number;
  range: string;
}

const FILE_SIZE = 4_500_000;
const LANES = 16;
const other = process.argv[2];
const files = await BenchFiles.create();
const target = await startTarget('selfcommunity');
target.fault({ times: Number.MAX_SAFE_INTEGER, action: { type: 'delay', ms: 40 } });
try {
  const src = await files.dir('src');
  const sources = await Promise.all(
    Array.from({ length: LANES }, (_, i) => files.random(src, `lane-${i}.png`, FILE_SIZE)),
  );
  const setup = await ferryAccount(target, await files.dir('data'), {
    concurrency: LANES,
    env: { FERRY_MAX_JOBS: String(LANES) },
  });
  const bytes = LANES * FILE_SIZE;
  const runs: Array<[string, () => Promise<Sample>]> = [
    ['floor', () => runFloor(target, sources, LANES, bytes)],
    ['ferry', () => runFerry(target, setup, sources, bytes)],
  ];
  if (other) runs.push(['other', () => runFerry(target, setup, sources, bytes, [], join(other, 'bin', 'ferry.js'))]);
  for (const round of [0, 1, 2]) {
    for (const [name, run] of round === 2 ? [...runs].reverse() : runs) {
      const seen: Seen[] = [];
      const open = new Map<ServerResponse, Omit<Seen, 'finish'>>();
      const onStart = (message: unknown): void => {
        const { request, response } = message as { request: IncomingMessage; response: ServerResponse };
        open.set(response, {
          start: performance.now(),
          url: request.url ?? '',
          port: request.socket.remotePort ?? 0,
          range: String(request.headers['content-range'] ?? ''),
        });
      };
      const onFinish = (message: unknown): void => {
        const begun = open.get((message as { response: ServerResponse }).response);
        if (begun) seen.push({ ...begun, finish: performance.now() });
      };
      subscribe('http.server.request.start', onStart);
      subscribe('http.server.response.finish', onFinish);
      const sample = await run();
      unsubscribe('http.server.request.start', onStart);
      unsubscribe('http.server.response.finish', onFinish);
      if (round === 0) continue;
      report(name, sample, seen);
    }
  }
} finally {
  await target.close();
  await files.cleanup();
}

function report(name: string, sample: Sample, seen: Seen[]): void {
  seen.sort((a, b) => a.start - b.start);
  const t0 = seen[0]!.start;
  const firsts = seen.filter((r) => r.range.startsWith('bytes 0-')).map((r) => r.start - t0);
  const completes = seen.filter((r) => r.url.includes('/complete')).map((r) => r.start - t0);
  const byConnection = new Map<number, Seen[]>();
  for (const r of seen) byConnection.set(r.port, [...(byConnection.get(r.port) ?? []), r]);
  const gaps: number[] = [];
  const beforeComplete: number[] = [];
  for (const list of byConnection.values()) {
    for (let i = 1; i < list.length; i += 1) {
      const gap = list[i]!.start - list[i - 1]!.finish;
      (list[i]!.url.includes('/complete') ? beforeComplete : gaps).push(gap);
    }
  }
  const ms = (value: number): string => value.toFixed(1);
  const window = Math.max(...seen.map((r) => r.finish)) - t0;
  process.stdout.write(
    `${name.padEnd(5)} ${sample.mbPerSecond.toFixed(1)} MB/s, window ${ms(window)} ms; first chunks ${ms(Math.min(...firsts))}–${ms(Math.max(...firsts))} ms; ` +
      `completes ${ms(Math.min(...completes))}–${ms(Math.max(...completes))} ms; gap per chunk median ${ms(median(gaps))} ms; ` +
      `before complete median ${ms(median(beforeComplete))} ms; ${byConnection.size} connections\n`,
  );
}
