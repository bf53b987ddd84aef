/**
 * Preloaded into every benchmarked child process (`node --import ./test/bench/lib/probe.mjs …`): when
 * the process exits it writes its own resource usage to the file named by FERRY_BENCH_PROBE. The child
 * measures itself, so the figures cover exactly one client process and nothing of the emulators.
 *
 * Plain JavaScript on purpose: a TypeScript preload makes Node load its type-stripping compiler (a
 * WebAssembly module) into every measured process, which the built `ferry` command never loads. As
 * probe.ts it added ~60 ms of CPU and ~15 MB of RSS to each child (`ferry list --json` on an empty
 * data folder: 0.20 s of CPU and 87 MB against 0.14 s and 72 MB without it).
 */
import { readFileSync, writeFileSync } from 'node:fs';

/**
 * Peak RSS of this process's own address space (VmHWM). getrusage's maxRSS is not used: on Linux it
 * keeps the high-water mark of the parent that forked this process (the benchmark runner, which holds
 * the emulators' data), so it would report the parent's size, not the client's.
 */
/** @returns {number | null} */
function peakRssBytes() {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) * 1024 : null;
}

const target = process.env.FERRY_BENCH_PROBE;
if (target) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(
      target,
      JSON.stringify({
        // resourceUsage reports CPU times in microseconds.
        maxRssBytes: peakRssBytes(),
        userCpuSeconds: usage.userCPUTime / 1e6,
        systemCpuSeconds: usage.systemCPUTime / 1e6,
      }),
    );
  });
}
