/**
 * One page load of the queue view (100,000 jobs, `ferry serve` of a checkout) with a Chromium trace:
 * prints the renderer main thread's tasks from navigation to the first row (what each task did:
 * parsing, compiling, evaluating, style, layout), the socket's handshake as the browser saw it, and
 * optionally the slowest selectors of the first style recalculation (`--selectors`).
 *
 *   node test/bench/uiTrace.ts [--checkout DIR] [--jobs 100000] [--loads 1] [--warm] [--persistent]
 *     [--selectors] [--v8] [--out trace.json] [--env NAME=VALUE ...]
 *
 * `--warm`: the traced load is the third in one browser context, each in a page of its own (the window
 * opened again: the HTTP cache has the files; a new page is a new renderer process, so nothing of the
 * last load's compiled code is in memory). `--persistent`: a profile on disk, as a user's browser has
 * (off-the-record contexts keep no code cache on disk). `--env`: for the `ferry serve` process (e.g.
 * NODE_OPTIONS=--import=hook.mjs to log its requests). Not a test; prints only.
 */
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startSelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { startFerryServe } from '../e2e/support/ferryServe.ts';
import { BenchFiles } from './lib/files.ts';
import { startPageTrace } from './lib/pageTrace.ts';
import { chromium, type BrowserContext, type Page } from '@playwright/test';
import { BROWSER_ARGS, NOTE_FIRST_ROW, launch, newPage, untilFirstRow } from './suites/uiScale.ts';
import { seedQueue } from '../support/seedQueue.ts';

const { values: flags } = parseArgs({
  options: {
    checkout: { type: 'string', default: '.' },
    jobs: { type: 'string', default: '100000' },
    loads: { type: 'string', default: '1' },
    warm: { type: 'boolean', default: false },
    selectors: { type: 'boolean', default: false },
    v8: { type: 'boolean', default: false },
    persistent: { type: 'boolean', default: false },
    out: { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
  },
});

const files = await BenchFiles.create();
const sandbox = await startSelfCommunitySandbox();
const dataDir = await files.dir('ui-trace/data');
await seedQueue(dataDir, Number(flags.jobs), sandbox.url);
const env = Object.fromEntries(flags.env.map((pair) => pair.split(/=(.*)/s).slice(0, 2) as [string, string]));
const serve = await startFerryServe(dataDir, env, join(resolve(flags.checkout), 'bin', 'ferry.js'));
const browser = await launch();
const categories = [
  'devtools.timeline',
  'disabled-by-default-devtools.timeline',
  'v8.execute',
  'blink.user_timing',
  'loading',
  'toplevel',
  ...(flags.selectors ? ['disabled-by-default-blink.debug'] : []),
  // Compilation and garbage collection inside the tasks (`--v8`).
  ...(flags.v8 ? ['v8', 'disabled-by-default-v8.compile', 'disabled-by-default-v8.gc'] : []),
];
try {
  for (let load = 0; load < Number(flags.loads); load += 1) {
    let page: Page;
    let persistent: BrowserContext | null = null;
    if (flags.persistent) {
      // A profile on disk, like a user's browser: off-the-record contexts (newContext) keep no code cache.
      persistent = await chromium.launchPersistentContext(await files.dir(`ui-trace/profile-${load}`), {
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: BROWSER_ARGS,
        viewport: { width: 1440, height: 900 },
        deviceScaleFactor: 1,
        colorScheme: 'light',
        bypassCSP: true,
      });
      page = persistent.pages()[0] ?? (await persistent.newPage());
    } else page = await newPage(browser);
    await page.context().addInitScript(NOTE_FIRST_ROW);
    if (flags.warm) {
      // Two loads in pages of their own in the same context (the window opened and closed twice).
      for (let i = 0; i < 2; i += 1) {
        const opened = page;
        await untilFirstRow(opened, () => opened.goto(serve.url, { waitUntil: 'commit' }));
        await opened.waitForLoadState('load');
        await opened.waitForTimeout(Number(process.env.REOPEN_WAIT ?? 500));
        page = await opened.context().newPage();
        await opened.close();
      }
    }
    const stopTrace = await startPageTrace(page, categories);
    const traced = page;
    const first = await untilFirstRow(traced, () => traced.goto(serve.url, { waitUntil: 'commit' }));
    await page.waitForTimeout(200);
    const traceEvents = await stopTrace();
    if (flags.out) await writeFile(flags.out, JSON.stringify({ traceEvents }));

    const navStarts = traceEvents.filter((e) => e.name === 'navigationStart' && e.cat.includes('blink.user_timing'));
    const nav = navStarts[navStarts.length - 1]!;
    const pid = nav.pid;
    const main = traceEvents.find(
      (e) => e.pid === pid && e.name === 'thread_name' && e.args?.name === 'CrRendererMain',
    )!.tid;
    const t0 = nav.ts;
    const at = (ts: number): string => ((ts - t0) / 1000).toFixed(1);
    const end = t0 + first * 1000 + 1000;
    console.log(`load ${load + 1}: first row ${first.toFixed(0)} ms`);
    const onMain = traceEvents
      .filter((e) => e.pid === pid && e.tid === main && e.ph === 'X' && e.ts >= t0 - 5000 && e.ts <= end)
      .sort((x, y) => x.ts - y.ts);
    const tasks = onMain.filter((e) => e.name === 'RunTask' || e.name === 'ThreadControllerImpl::RunTask');
    const totals = new Map<string, number>();
    for (const task of tasks) {
      if ((task.dur ?? 0) < 2000) continue;
      const inside = onMain.filter(
        (e) =>
          e !== task && e.ts >= task.ts && e.ts + (e.dur ?? 0) <= task.ts + (task.dur ?? 0) && (e.dur ?? 0) >= 1000,
      );
      const what = new Map<string, number>();
      for (const e of inside) {
        const key =
          e.name === 'EvaluateScript' || e.name === 'v8.compileModule' || e.name === 'v8.evaluateModule'
            ? `${e.name}(${String(e.args?.data?.url ?? e.args?.fileName ?? '')
                .split('/')
                .pop()})`
            : e.name;
        what.set(key, (what.get(key) ?? 0) + (e.dur ?? 0) / 1000);
      }
      for (const [key, ms] of what) totals.set(key, (totals.get(key) ?? 0) + ms);
      const list = [...what.entries()]
        .sort((x, y) => y[1] - x[1])
        .slice(0, 9)
        .map(([k, v]) => `${k} ${v.toFixed(1)}`);
      console.log(`  task ${at(task.ts)} +${((task.dur ?? 0) / 1000).toFixed(1)}: ${list.join(', ')}`);
    }
    for (const e of traceEvents.filter(
      (e) =>
        e.pid === pid &&
        /^WebSocket(Create|SendHandshakeRequest|ReceiveHandshakeResponse)$|^ResourceSendRequest$|^ResourceReceiveResponse$|^ParseAuthorStyleSheet$|^MarkDOMContent$|^firstPaint$|^firstContentfulPaint$/.test(
          e.name,
        ) &&
        e.ts >= t0,
    ))
      console.log(
        `  ${at(e.ts)} ${e.name} ${
          String(e.args?.data?.url ?? e.args?.data?.styleSheetUrl ?? '')
            .split('/')
            .pop()
            ?.split('?')[0]
        } ${e.dur ? `+${(e.dur / 1000).toFixed(1)}` : ''}`,
      );
    if (flags.selectors) {
      const stats = traceEvents.filter((e) => e.name === 'SelectorStats' && e.ts >= t0 && e.pid === pid);
      const bySelector = new Map<string, { elapsed: number; attempts: number; matches: number }>();
      for (const s of stats) {
        const list = (s.args?.selector_stats as { selector_timings?: Array<Record<string, unknown>> })
          ?.selector_timings;
        for (const row of list ?? []) {
          const key = String(row.selector);
          const cur = bySelector.get(key) ?? { elapsed: 0, attempts: 0, matches: 0 };
          cur.elapsed += Number(row['elapsed (us)'] ?? 0);
          cur.attempts += Number(row.match_attempts ?? 0);
          cur.matches += Number(row.match_count ?? 0);
          bySelector.set(key, cur);
        }
      }
      console.log(`  selector stats (${stats.length} recalcs):`);
      for (const [k, v] of [...bySelector.entries()].sort((x, y) => y[1].elapsed - x[1].elapsed).slice(0, 25))
        console.log(`    ${(v.elapsed / 1000).toFixed(2)} ms  ${v.attempts} tried ${v.matches} matched  ${k}`);
    }
    console.log(
      '  top-level totals: ' +
        [...totals.entries()]
          .sort((x, y) => y[1] - x[1])
          .slice(0, 20)
          .map(([k, v]) => `${k} ${v.toFixed(1)}`)
          .join(', '),
    );
    await page.context().close();
    await persistent?.close();
  }
} finally {
  await browser.close();
  await serve.close();
  await sandbox.close();
  await files.cleanup();
}
