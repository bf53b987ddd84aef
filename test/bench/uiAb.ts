/**
 * A/B of two renderer builds in the UI-scale scenario (suites/uiScale.ts), alternating in one run so
 * that both see the same machine load: one `ferry serve` over 100,000 queued jobs, and each page load
 * gets its static files from build A or build B (Playwright routes them; the API is the same server).
 *
 *   node test/bench/uiAb.ts --a /tmp/base-renderer --b dist/renderer [--reps 3] [--jobs 100000] [--profile]
 *     [--screenshots DIR]   (each build's queue after its first scroll, as DIR/ui-ab-A.png and -B.png)
 *     [--load-profile]      (CPU profile from navigation to the first row: the functions with most self time)
 *     [--mutations]         (nodes added to and removed from the list during the scroll, by parent element)
 *
 *   node test/bench/uiAb.ts --checkouts --a /work/wt/base --b . [...]
 *     (A and B are checkouts: each build is served by that checkout's own `ferry serve` from its
 *     dist/renderer, on its own copy of the same jobs, so the page's files come over real HTTP instead
 *     of Playwright's routing, which adds a round trip to the test process per file)
 *     [--first-only]        (first rows only: no scroll, so more loads fit in a short run)
 *   [--warm]                (also the window opened again: each rep loads the page and reloads it twice in
 *                           one browser context, and reports the third load's first rows; implies --first-only)
 *   [--cpu]                 (trace each cold load: the renderer main thread's CPU time until the first row,
 *                           which a loaded machine disturbs far less than wall time, and first contentful paint)
 *   [--selector-wait AB]    (for the builds named, A, B or AB: wait for the first row with Playwright's
 *                           waitForSelector, as before 2026-12-04's fourth pass, whose selector engine then runs
 *                           in the page during the load; to compare the two ways of waiting)
 *
 * Build a directory with `npx vite build --outDir DIR` (add `--minify false` for readable profiles).
 * It prints, per build, the first-rows time, the frame times and Chromium's Performance metrics over the
 * scroll (main-thread time in tasks, script, layout, style: less disturbed by a busy machine than frame
 * times); `--profile` adds the page's load timeline and the functions with the most self time (CDP
 * Profiler). Not a test; prints only.
 */
import { cp } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from '@playwright/test';
import { startSelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { startFerryServe, type ServeProcess } from '../e2e/support/ferryServe.ts';
import { BenchFiles } from './lib/files.ts';
import { median } from './lib/measure.ts';
import { mainThreadCpu, startPageTrace } from './lib/pageTrace.ts';
import { routeTo } from './lib/servedBuild.ts';
import { NOTE_FIRST_ROW, launch, newPage, scrollFrames, untilFirstRow } from './suites/uiScale.ts';
import { seedQueue } from '../support/seedQueue.ts';

const { values: flags } = parseArgs({
  options: {
    a: { type: 'string' },
    b: { type: 'string' },
    reps: { type: 'string', default: '3' },
    jobs: { type: 'string', default: '100000' },
    profile: { type: 'boolean', default: false },
    'load-profile': { type: 'boolean', default: false },
    mutations: { type: 'boolean', default: false },
    screenshots: { type: 'string' },
    checkouts: { type: 'boolean', default: false },
    'first-only': { type: 'boolean', default: false },
    warm: { type: 'boolean', default: false },
    'selector-wait': { type: 'string', default: '' },
    cpu: { type: 'boolean', default: false },
  },
});
if (!flags.a || !flags.b) throw new Error('uiAb needs --a DIR and --b DIR (two renderer builds)');
const builds = { A: resolve(flags.a), B: resolve(flags.b) };
const reps = Number(flags.reps);
const jobs = Number(flags.jobs);

interface Metrics {
  [name: string]: number;
}

async function metrics(page: Page): Promise<{ read: () => Promise<Metrics> }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const read = async (): Promise<Metrics> => {
    const { metrics: list } = await cdp.send('Performance.getMetrics');
    return Object.fromEntries(list.map((m) => [m.name, m.value]));
  };
  return { read };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const files = await BenchFiles.create();
const sandbox = await startSelfCommunitySandbox();
const dataDir = await files.dir('ui-ab/data');
await seedQueue(dataDir, jobs, sandbox.url);
const serves: Record<string, ServeProcess> = {};
if (flags.checkouts) {
  for (const [name, root] of Object.entries(builds)) {
    const dir = await files.dir(`ui-ab/data-${name}`);
    await cp(dataDir, dir, { recursive: true });
    serves[name] = await startFerryServe(dir, {}, join(root, 'bin', 'ferry.js'));
  }
}
const serve = await startFerryServe(dataDir);
const origin = new URL(serve.url).origin;
// A routed (fulfilled) page counts as a public origin to Chromium, which would then refuse its
// WebSocket to 127.0.0.1.
const browser = await launch(['--disable-features=LocalNetworkAccessChecks']);
const results: Record<string, { first: number[]; warm: number[]; p50: number[]; p95: number[]; max: number[] }> = {};
/** Per build, each cold load's main-thread CPU until the first row, its parts, and its first contentful paint (--cpu). */
const cpu: Record<string, { tasks: number[]; style: number[]; layout: number[]; evaluate: number[]; fcp: number[] }> =
  {};
const selfTimes: Record<string, Map<string, number>> = {};
const loadSelfTimes: Record<string, Map<string, number>> = {};

/** Adds a CDP profile's self time per function (ms) to `table`. */
function addSelfTimes(
  table: Map<string, number>,
  profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] },
): void {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!.callFrame;
    const key = `${frame.functionName || '(anon)'} ${frame.url.split('/').pop()}:${frame.lineNumber + 1}`;
    table.set(key, (table.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
}
const metricSums: Record<string, Metrics> = {};
try {
  for (let rep = 0; rep < reps; rep += 1) {
    for (const [name, dir] of rep % 2 === 0 ? Object.entries(builds) : Object.entries(builds).reverse()) {
      const page = await newPage(browser);
      const served = serves[name];
      if (!served) await routeTo(page, origin, dir);
      page.on('console', (message) => {
        if (message.type() === 'error') process.stderr.write(`${name} console: ${message.text()}\n`);
      });
      // The WebSocket's frames by wall clock, to place the API round trips on the page's timeline.
      const frames: Array<{ at: number; dir: string; text: string }> = [];
      page.on('websocket', (ws) => {
        frames.push({ at: Date.now(), dir: 'open', text: '' });
        ws.on('framesent', ({ payload }) => frames.push({ at: Date.now(), dir: '→', text: String(payload) }));
        ws.on('framereceived', ({ payload }) => frames.push({ at: Date.now(), dir: '←', text: String(payload) }));
      });
      // The first job row as the page itself sees it (a Playwright poll adds its own round trips).
      await page.addInitScript(NOTE_FIRST_ROW);
      // The page's own clock for the socket (open, each command sent, each answer received) and its
      // long tasks, so the timeline does not depend on when Playwright reports them.
      if (flags.profile)
        await page.addInitScript(`(() => {
          const log = (window.__pageLog = []);
          const note = (what) => log.push(what + ' ' + Math.round(performance.now()));
          const Native = window.WebSocket;
          window.WebSocket = class extends Native {
            constructor(...args) {
              super(...args);
              note('ws:new');
              this.addEventListener('open', () => note('ws:open'));
              this.addEventListener('message', (m) => note('ws<' + (/"id":(-?\\d+)/.exec(String(m.data))?.[1] ?? /"event":"([^"]+)"/.exec(String(m.data))?.[1])));
            }
            send(data) {
              note('ws>' + /"command":"([^"]+)"/.exec(String(data))?.[1]);
              return super.send(data);
            }
          };
          new PerformanceObserver((list) => {
            for (const e of list.getEntries()) log.push('long ' + Math.round(e.startTime) + '+' + Math.round(e.duration));
          }).observe({ type: 'longtask', buffered: true });
        })()`);
      const loadCdp = flags['load-profile'] ? await page.context().newCDPSession(page) : null;
      if (loadCdp) {
        await loadCdp.send('Profiler.enable');
        await loadCdp.send('Profiler.setSamplingInterval', { interval: 100 });
        await loadCdp.send('Profiler.start');
      }
      const url = (served ?? serve).url;
      const selectorWait = flags['selector-wait'].includes(name);
      const stopTrace = flags.cpu ? await startPageTrace(page) : null;
      const first = await untilFirstRow(page, () => page.goto(url, { waitUntil: 'commit' }), selectorWait);
      if (stopTrace) {
        await page.waitForTimeout(300);
        const used = mainThreadCpu(await stopTrace(), first);
        const fcp = await page.evaluate<number>(
          `performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN`,
        );
        const entry = (cpu[name] ??= { tasks: [], style: [], layout: [], evaluate: [], fcp: [] });
        entry.tasks.push(used.tasks);
        entry.style.push(used.style);
        entry.layout.push(used.layout);
        entry.evaluate.push(used.evaluate);
        entry.fcp.push(fcp);
        console.log(
          `${name} rep ${rep + 1}: main-thread CPU until the first row ${used.tasks.toFixed(0)} ms (evaluate ${used.evaluate.toFixed(0)}, style ${used.style.toFixed(0)}, layout ${used.layout.toFixed(0)}), first contentful paint ${fcp.toFixed(0)} ms`,
        );
      }
      let warm: number | null = null;
      if (flags.warm) {
        // The window opened again: two reloads in the same context, the third load measured.
        for (let reload = 0; reload < 2; reload += 1) {
          await page.waitForLoadState('load');
          await page.waitForTimeout(500);
          if (flags.profile) frames.length = 0;
          warm = await untilFirstRow(page, () => page.reload({ waitUntil: 'commit' }), selectorWait);
        }
      }
      if (loadCdp) {
        const { profile } = (await loadCdp.send('Profiler.stop')) as unknown as {
          profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
        };
        addSelfTimes((loadSelfTimes[name] ??= new Map()), profile);
        await loadCdp.detach();
      }
      if (flags.profile) {
        const timeline = await page.evaluate<Record<string, number>>(`(() => {
          const nav = performance.getEntriesByType('navigation')[0];
          const out = { responseEnd: nav.responseEnd, domInteractive: nav.domInteractive, dcl: nav.domContentLoadedEventEnd, timeOrigin: performance.timeOrigin };
          for (const r of performance.getEntriesByType('resource')) { const n = r.name.split('/').pop().split('?')[0]; out[n + ' start'] = r.startTime; out[n + ' firstByte'] = r.responseStart; out[n] = r.responseEnd; }
          for (const p of performance.getEntriesByType('paint')) out[p.name] = p.startTime;
          for (const m of performance.getEntriesByType('mark')) out['mark:' + m.name] = m.startTime;
          return out;
        })()`);
        const origin0 = timeline.timeOrigin!;
        delete timeline.timeOrigin;
        const line = Object.entries(timeline).map(([k, v]) => `${k} ${Math.round(v)}`);
        for (const f of frames)
          line.push(
            `ws${f.dir}${/"(?:command|event)":"([^"]+)"/.exec(f.text)?.[1] ?? (f.text ? f.text.slice(0, 20) : '')} ${Math.round(f.at - origin0)}`,
          );
        console.log(`${name} first load timeline (ms): ${line.join(', ')}`);
        console.log(
          `${name} in the page (ms): ${(await page.evaluate<string[]>('window.__pageLog')).join(', ')}, first row ${Math.round(warm ?? first)}`,
        );
      }
      if (flags['first-only'] || flags.warm) {
        const entry = (results[name] ??= { first: [], warm: [], p50: [], p95: [], max: [] });
        entry.first.push(first);
        if (warm !== null) entry.warm.push(warm);
        console.log(
          `${name} rep ${rep + 1}: first rows ${first.toFixed(0)} ms${warm === null ? '' : `, opened again ${warm.toFixed(0)} ms`}`,
        );
        await page.context().close();
        continue;
      }
      await page.waitForTimeout(1_000);
      const perf = await metrics(page);
      const before = await perf.read();
      const cdp = flags.profile ? await page.context().newCDPSession(page) : null;
      if (cdp) {
        await cdp.send('Profiler.enable');
        await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
        await cdp.send('Profiler.start');
      }
      if (flags.mutations)
        await page.evaluate(`(() => {
          const counts = (window.__mutations = {});
          const where = (node) => node.nodeType === 1 ? node.tagName.toLowerCase() + '.' + String(node.className?.baseVal ?? node.className).split(' ')[0] : '#text';
          new MutationObserver((records) => {
            for (const record of records) {
              if (record.type !== 'childList') continue;
              for (const node of record.addedNodes) { const key = '+' + where(node) + ' in ' + where(record.target); counts[key] = (counts[key] ?? 0) + 1; }
              for (const node of record.removedNodes) { const key = '-' + where(node) + ' in ' + where(record.target); counts[key] = (counts[key] ?? 0) + 1; }
            }
          }).observe(document.querySelector('.list'), { childList: true, subtree: true });
        })()`);
      const scroll = await scrollFrames(page, jobs);
      if (flags.mutations) {
        const counts = await page.evaluate<Record<string, number>>('window.__mutations');
        const top = Object.entries(counts)
          .sort((x, y) => y[1] - x[1])
          .slice(0, 12);
        console.log(`${name} DOM mutations over the scroll: ${top.map(([k, v]) => `${k} ${v}`).join(', ')}`);
      }
      if (cdp) {
        const { profile } = (await cdp.send('Profiler.stop')) as unknown as {
          profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
        };
        addSelfTimes((selfTimes[name] ??= new Map()), profile);
      }
      {
        const after = await perf.read();
        const sum = (metricSums[name] ??= {});
        for (const key of [
          'TaskDuration',
          'ScriptDuration',
          'LayoutDuration',
          'RecalcStyleDuration',
          'LayoutCount',
          'RecalcStyleCount',
          'Nodes',
        ])
          sum[key] = (sum[key] ?? 0) + (key === 'Nodes' ? after[key]! : after[key]! - before[key]!) / reps;
      }
      if (flags.screenshots && rep === 0) await page.screenshot({ path: join(flags.screenshots, `ui-ab-${name}.png`) });
      const entry = (results[name] ??= { first: [], warm: [], p50: [], p95: [], max: [] });
      entry.first.push(first);
      entry.p50.push(scroll.p50Ms);
      entry.p95.push(scroll.p95Ms);
      entry.max.push(scroll.maxMs);
      console.log(
        `${name} rep ${rep + 1}: first rows ${first.toFixed(0)} ms, frames p50 ${scroll.p50Ms.toFixed(1)} p95 ${scroll.p95Ms.toFixed(1)} max ${scroll.maxMs.toFixed(1)} ms, ${scroll.slowFrames} > 50 ms, ${scroll.rowsAfterJump} rows after the last jump`,
      );
      await page.context().close();
    }
  }
} finally {
  await browser.close();
  await serve.close();
  for (const served of Object.values(serves)) await served.close();
  await sandbox.close();
  await files.cleanup();
}
for (const [name, r] of Object.entries(results)) {
  console.log(
    `${name} medians: first rows ${median(r.first).toFixed(0)} ms${r.warm.length ? ` (opened again ${median(r.warm).toFixed(0)} ms)` : ''}, frame p50 ${median(r.p50).toFixed(1)} ms, p95 ${median(r.p95).toFixed(1)} ms, max ${median(r.max).toFixed(1)} ms`,
  );
}
for (const [name, c] of Object.entries(cpu))
  console.log(
    `${name} medians: main-thread CPU until the first row ${median(c.tasks).toFixed(1)} ms (evaluate ${median(c.evaluate).toFixed(1)}, style ${median(c.style).toFixed(1)}, layout ${median(c.layout).toFixed(1)}), first contentful paint ${median(c.fcp).toFixed(0)} ms`,
  );
if (cpu.A && cpu.B)
  console.log(
    `B/A: main-thread CPU until the first row ${(median(cpu.B.tasks) / median(cpu.A.tasks)).toFixed(2)}, first contentful paint ${(median(cpu.B.fcp) / median(cpu.A.fcp)).toFixed(2)}`,
  );
const a = results.A!;
const b = results.B!;
console.log(
  `B/A: first rows ${(median(b.first) / median(a.first)).toFixed(2)}${a.warm.length ? `, opened again ${(median(b.warm) / median(a.warm)).toFixed(2)}` : ''}, frame p95 ${(median(b.p95) / median(a.p95)).toFixed(2)}, p50 ${(median(b.p50) / median(a.p50)).toFixed(2)}`,
);
for (const [name, sum] of Object.entries(metricSums)) {
  console.log(
    `${name} per scroll (240 frames): ${Object.entries(sum)
      .map(
        ([key, value]) => `${key} ${key.endsWith('Duration') ? `${(value * 1000).toFixed(0)} ms` : value.toFixed(0)}`,
      )
      .join(', ')}`,
  );
}
for (const [name, table] of Object.entries(loadSelfTimes)) {
  console.log(`${name}: most self time from navigation to the first row (all reps, ms)`);
  for (const [key, ms] of [...table.entries()].sort((x, y) => y[1] - x[1]).slice(0, 30))
    console.log(`  ${ms.toFixed(1).padStart(8)}  ${key}`);
}
for (const [name, table] of Object.entries(selfTimes)) {
  console.log(`${name}: most self time while scrolling (all reps, ms)`);
  for (const [key, ms] of [...table.entries()].sort((x, y) => y[1] - x[1]).slice(0, 25))
    console.log(`  ${ms.toFixed(1).padStart(8)}  ${key}`);
}
