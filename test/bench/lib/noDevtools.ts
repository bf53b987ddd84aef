/**
 * One load of the queue in a Chromium with no DevTools client attached (Playwright's CDP changes what the
 * page does: its selector engine, V8 re-parsing the bundle for source positions): Chromium is started
 * on its own, headless, on a fresh profile, with startup tracing, and the figures come from the trace.
 * Used by test/bench/uiNoDevtools.ts (A/B) and the ui suite.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { BenchFiles } from './files.ts';
import type { TraceEvent } from './pageTrace.ts';

export interface NoDevtoolsLoad {
  /** End of the longest script task after the bundle's evaluation: React's first render with the rows. */
  rows: number;
  fcp: number;
  /** That task's CPU time and the evaluation's, ms. */
  renderCpu: number;
  evaluateCpu: number;
}

/**
 * Loads `url` `count` times, each in a new browser on a new profile that starts on a small page (the
 * door) which moves on to `url` 1.5 s later (browser start-up would otherwise overlap the page's load).
 */
export async function loadsWithoutDevtools(files: BenchFiles, url: string, count: number): Promise<NoDevtoolsLoad[]> {
  const door: Server = createServer((request, response) => {
    const to = new URL(request.url ?? '/', 'http://door.invalid').searchParams.get('to') ?? '';
    response
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(
        `<!doctype html><meta http-equiv="refresh" content="1.5;url=${to.replace(/"/g, '&quot;')}"><title>door</title>`,
      );
  });
  await new Promise<void>((done) => door.listen(0, '127.0.0.1', done));
  // The door is on another site (localhost, the page 127.0.0.1), so the page gets a renderer process of
  // its own, started for it, as a newly opened window does; from a door on the same site the page reused
  // the door's running process and its rows came ~200 ms sooner.
  const entry = `http://localhost:${(door.address() as AddressInfo).port}/?to=${encodeURIComponent(url)}`;
  try {
    const out: NoDevtoolsLoad[] = [];
    for (let i = 0; i < count; i += 1)
      out.push(await load(await files.dir(`no-devtools/profile-${Date.now()}-${i}`), entry));
    return out;
  } finally {
    door.close();
  }
}

async function load(profile: string, entry: string): Promise<NoDevtoolsLoad> {
  const trace = join(profile, 'trace.json');
  // Started on the door page and left to run: no DevTools client ever connects. The trace file is
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
      entry,
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
