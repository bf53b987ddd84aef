/**
 * The queue's first load without DevTools attached: Playwright (and any CDP client) changes what the
 * page does (its selector engine, V8 re-parsing modules for source positions), so here Chromium is
 * started on its own, headless, with startup tracing, on a fresh profile per load (on a small page that
 * moves on to the queue's address 1.5 s later, after the browser's own start-up), and the figures
 * come from the trace: the end of the task that inserts the rows (React's first render with rows, the
 * longest script task after the bundle's evaluation) and the first contentful paint, both from
 * navigation start. A/B of two checkouts, alternating, each served by its own `ferry serve`.
 *
 *   node test/bench/uiNoDevtools.ts --a /work/main --b . [--reps 5] [--jobs 100000]
 *
 * Not a test; prints only.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cp, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startSelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { startFerryServe, type ServeProcess } from '../e2e/support/ferryServe.ts';
import { BenchFiles } from './lib/files.ts';
import { median } from './lib/measure.ts';
import type { TraceEvent } from './lib/pageTrace.ts';
import { seedQueue } from './suites/uiScale.ts';

const { values: flags } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    reps: { type: 'string', default: '5' },
    jobs: { type: 'string', default: '100000' },
  },
});
if (!flags.a || !flags.b) throw new Error('uiNoDevtools needs --a DIR and --b DIR (two checkouts)');
const files = await BenchFiles.create();
const sandbox = await startSelfCommunitySandbox();
const seeded = await files.dir('no-devtools/data');
await seedQueue(seeded, Number(flags.jobs), sandbox.url);
const serves: Record<string, ServeProcess> = {};
for (const [name, root] of [
  ['A', flags.a],
  ['B', flags.b],
] as const) {
  const dir = await files.dir(`no-devtools/data-${name}`);
  await cp(seeded, dir, { recursive: true });
  serves[name] = await startFerryServe(dir, {}, join(resolve(root), 'bin', 'ferry.js'));
}

// The browser starts on a page that goes on to the queue 1.5 s later: browser start-up (a new profile,
// its processes) would otherwise overlap the page's load.
const door = createServer((request, response) => {
  const to = new URL(request.url ?? '/', 'http://door.invalid').searchParams.get('to') ?? '';
  response
    .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    .end(
      `<!doctype html><meta http-equiv="refresh" content="1.5;url=${to.replace(/"/g, '&quot;')}"><title>door</title>`,
    );
});
await new Promise<void>((done) => door.listen(0, '127.0.0.1', done));
const doorUrl = (to: string): string =>
  `http://127.0.0.1:${(door.address() as AddressInfo).port}/?to=${encodeURIComponent(to)}`;

interface Load {
  /** End of the longest script task after the bundle's evaluation: React's first render with the rows. */
  rows: number;
  fcp: number;
  /** That task's CPU time and the evaluation's, ms. */
  renderCpu: number;
  evaluateCpu: number;
}

async function load(url: string, index: number): Promise<Load> {
  const profile = await files.dir(`no-devtools/profile-${index}`);
  const trace = join(profile, 'trace.json');
  // Started on the page's address and left to run: no DevTools client ever connects. The trace file is
  // written when the startup tracing's duration is over; then the browser is stopped.
  const browser = spawn(
    '/usr/bin/chromium',
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      '--window-size=1440,900',
      '--trace-startup=devtools.timeline,blink.user_timing,loading,v8.execute',
      `--trace-startup-file=${trace}`,
      '--trace-startup-format=json',
      '--trace-startup-duration=5',
      doorUrl(url),
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((done) => browser.once('exit', () => done()));
  try {
    for (let waited = 0; waited < 30_000; waited += 250) {
      await new Promise((done) => setTimeout(done, 250));
      if (existsSync(trace)) {
        // The file is complete once it parses.
        try {
          JSON.parse(await readFile(trace, 'utf8'));
          break;
        } catch {
          continue;
        }
      }
    }
  } finally {
    browser.kill('SIGTERM');
    await exited;
  }
  const { traceEvents } = JSON.parse(await readFile(trace, 'utf8')) as { traceEvents: TraceEvent[] };
  const nav = traceEvents
    .filter((e) => e.name === 'navigationStart' && String(e.args?.data?.documentLoaderURL ?? '').includes('token='))
    .pop();
  if (!nav) throw new Error('no navigation of the page in the trace');
  const main = traceEvents.find(
    (e) => e.pid === nav.pid && e.name === 'thread_name' && e.args?.name === 'CrRendererMain',
  )!.tid;
  const onMain = traceEvents.filter((e) => e.pid === nav.pid && e.tid === main && e.ph === 'X' && e.ts > nav.ts);
  const evaluate = onMain.filter((e) => e.name === 'v8.evaluateModule').sort((x, y) => (y.dur ?? 0) - (x.dur ?? 0))[0]!;
  const render = onMain
    .filter((e) => e.name === 'FunctionCall' && e.ts > evaluate.ts)
    .sort((x, y) => (y.dur ?? 0) - (x.dur ?? 0))[0]!;
  const fcp = traceEvents.find((e) => e.name === 'firstContentfulPaint' && e.ts > nav.ts);
  return {
    rows: (render.ts + (render.dur ?? 0) - nav.ts) / 1000,
    fcp: fcp ? (fcp.ts - nav.ts) / 1000 : NaN,
    renderCpu: (render.tdur ?? 0) / 1000,
    evaluateCpu: (evaluate.tdur ?? 0) / 1000,
  };
}

const results: Record<string, Load[]> = { A: [], B: [] };
try {
  let index = 0;
  for (let rep = 0; rep < Number(flags.reps); rep += 1)
    for (const name of rep % 2 === 0 ? ['A', 'B'] : ['B', 'A']) {
      const result = await load(serves[name]!.url, (index += 1));
      results[name]!.push(result);
      console.log(
        `${name} rep ${rep + 1}: rows in ${result.rows.toFixed(0)} ms (render task ${result.renderCpu.toFixed(0)} ms CPU, evaluation ${result.evaluateCpu.toFixed(0)} ms CPU), first contentful paint ${result.fcp.toFixed(0)} ms`,
      );
    }
} finally {
  for (const served of Object.values(serves)) await served.close();
  door.close();
  await sandbox.close();
  await files.cleanup();
}
const m = (name: string, key: keyof Load): number => median(results[name]!.map((r) => r[key]));
for (const name of ['A', 'B'])
  console.log(
    `${name} medians: rows ${m(name, 'rows').toFixed(0)} ms, first contentful paint ${m(name, 'fcp').toFixed(0)} ms, render ${m(name, 'renderCpu').toFixed(1)} ms CPU, evaluation ${m(name, 'evaluateCpu').toFixed(1)} ms CPU`,
  );
console.log(
  `B/A: rows ${(m('B', 'rows') / m('A', 'rows')).toFixed(2)}, first contentful paint ${(m('B', 'fcp') / m('A', 'fcp')).toFixed(2)}`,
);
