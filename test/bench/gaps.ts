/**
 * `node test/bench/gaps.ts [FILES]` — where a small-chunk upload's time goes, seen from the emulator:
 * one SelfCommunity lane (account concurrency 1, floor with one file at a time), alternating floor and
 * Ferry twice. For each it prints the median and mean "hold" of a chunk request (headers parsed →
 * reply finished: the body arriving plus the emulator's work) and "gap" between requests (reply
 * finished → next request's headers: the client's own work between parts). Not a benchmark.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BenchFiles } from './lib/files.ts';
import { median } from './lib/measure.ts';
import { startTarget } from './suites/providers.ts';
import { ferryAccount, runFerry, runFloor, type Sample } from './suites/transfer.ts';

const FILE_SIZE = 4_500_000;
const count = Number(process.argv[2] ?? 10);
const files = await BenchFiles.create();
const target = await startTarget('selfcommunity');
try {
  const src = await files.dir('src');
  const sources = await Promise.all(
    Array.from({ length: count }, (_, i) => files.random(src, `g-${i}.png`, FILE_SIZE)),
  );
  const setup = await ferryAccount(target, await files.dir('data'), { concurrency: 1 });
  const bytes = count * FILE_SIZE;
  const runs: Array<[string, () => Promise<Sample>]> = [
    ['floor', () => runFloor(target, sources, 1, bytes)],
    ['ferry', () => runFerry(target, setup, sources, bytes)],
    ['floor', () => runFloor(target, sources, 1, bytes)],
    ['ferry', () => runFerry(target, setup, sources, bytes)],
  ];
  for (const [name, run] of runs) {
    const requests: Array<{ start: number; finish: number; url: string }> = [];
    const open = new Map<ServerResponse, { start: number; url: string }>();
    const onStart = (message: unknown): void => {
      const { request, response } = message as { request: IncomingMessage; response: ServerResponse };
      open.set(response, { start: performance.now(), url: request.url ?? '' });
    };
    const onFinish = (message: unknown): void => {
      const { response } = message as { response: ServerResponse };
      const begun = open.get(response);
      if (begun) requests.push({ ...begun, finish: performance.now() });
    };
    subscribe('http.server.request.start', onStart);
    subscribe('http.server.response.finish', onFinish);
    const sample = await run();
    unsubscribe('http.server.request.start', onStart);
    unsubscribe('http.server.response.finish', onFinish);
    requests.sort((a, b) => a.start - b.start);
    const hold = requests.filter((r) => r.url.includes('/chunk')).map((r) => r.finish - r.start);
    const gaps = requests.slice(1).map((r, i) => r.start - requests[i]!.finish);
    // Between files: from a complete's reply to the next request (the next file's first chunk).
    const fileGaps = requests
      .slice(1)
      .filter((_, i) => requests[i]!.url.includes('/complete'))
      .map((r) => r.start - requests[requests.indexOf(r) - 1]!.finish);
    const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
    process.stdout.write(
      `${name}: ${sample.mbPerSecond.toFixed(1)} MB/s, ${requests.length} requests, chunk hold median ${median(hold).toFixed(2)} / mean ${mean(hold).toFixed(2)} ms, ` +
        `gap median ${median(gaps).toFixed(2)} / mean ${mean(gaps).toFixed(2)} ms (between files ${median(fileGaps).toFixed(2)} ms), client CPU ${sample.cpuSecondsPerGiB?.toFixed(1)} s/GiB\n`,
    );
  }
} finally {
  await target.close();
  await files.cleanup();
}
