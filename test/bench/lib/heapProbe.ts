/**
 * Preloaded into the endurance suite's `ferry run` (`node --import ./test/bench/lib/heapProbe.ts …`):
 * every 200 ms it appends `epochMs rss heapUsed heapTotal external arrayBuffers` (bytes) to the file
 * named by FERRY_BENCH_HEAP, so that the suite sees the V8 heap beside the RSS it reads from /proc.
 * The timer is unref'd: it never keeps the process alive.
 */
import { appendFileSync } from 'node:fs';

const target = process.env.FERRY_BENCH_HEAP;
if (target) {
  setInterval(() => {
    const usage = process.memoryUsage();
    appendFileSync(
      target,
      `${Date.now()} ${usage.rss} ${usage.heapUsed} ${usage.heapTotal} ${usage.external} ${usage.arrayBuffers}\n`,
    );
  }, 200).unref();
}
