#!/usr/bin/env node
// The `ferry` command. It runs the JavaScript that `npm run build:main` compiled into dist/main
// (`npm ci` builds it through the `prepare` script) when that build is newer than every source file;
// otherwise Node 24 runs the TypeScript sources as they are (type stripping), so an edited checkout
// never runs stale code and there is still no required build step. Why prefer the build: stripping
// types loads a WebAssembly compiler that stays in memory, ~30 MB of the command's RSS.
// FERRY_FROM_SOURCE=1 forces the sources.
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// A lean heap: the young generation stays at its initial size and the old one grows by 20 % per
// collection instead of V8's default factor. Without it V8 ran one full collection in a 4 × 1 GiB
// upload and kept the garbage of ~500 requests, so peak RSS grew with file size (150 → 190 MB from
// 4 × 256 MiB to 4 × 1 GiB); with it those runs stay at ~137–142 MB. Measured A/B in test/bench
// against V8's defaults and against --optimize-for-size (which also slows the JIT: +12 % CPU on small
// parts); these two flags cost the least. v8.setFlagsFromString applies them to a running isolate
// (checked: RSS and heap sizes follow; --max-semi-space-size, by contrast, has no effect this way).
// Set before the command line loads; the desktop main process does the same (main/index.ts).
// `ferry providers` (below) prints a few lines and skips it. FERRY_LEAN_HEAP=0 keeps V8's defaults.
async function leanHeap() {
  if (process.env.FERRY_LEAN_HEAP === '0') return;
  const { setFlagsFromString } = await import('node:v8');
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString('--heap-growing-percent=20');
}

const root = fileURLToPath(new URL('..', import.meta.url));

/** Newest modification time of the .ts files under `dir` (a few hundred stats, ~1 ms). */
function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function builtIsFresh() {
  if (process.env.FERRY_FROM_SOURCE === '1') return false;
  try {
    return statSync(`${root}dist/main/cli/main.js`).mtimeMs >= newestSource(`${root}main`);
  } catch {
    return false;
  }
}

const args = process.argv.slice(2);
const built = builtIsFresh();
if (args[0] === 'providers' && (args.length === 1 || (args.length === 2 && args[1] === '--json'))) {
  // `ferry providers [--json]` as typed: printed before commander and the rest of the command line
  // load, which are two thirds of its start-up (main/cli/fastPath.ts). Any other spelling goes through
  // main.ts, which prints with the same function.
  const { printProviders, stopQuietlyOnClosedStdout } = built
    ? await import('../dist/main/cli/fastPath.js')
    : await import('../main/cli/fastPath.ts');
  stopQuietlyOnClosedStdout();
  printProviders(process.stdout, args.length === 2);
} else {
  await leanHeap();
  const { main, installProcessGuards } = built
    ? await import('../dist/main/cli/main.js')
    : await import('../main/cli/main.ts');
  installProcessGuards();
  process.exitCode = await main(args);
}
