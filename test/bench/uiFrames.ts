/**
 * Probe for the queue's scroll (not a test; prints only): the UI-scale scroll (240 frames, a screenful
 * a frame, a jump every 60) over 100,000 jobs for several renderer builds, alternating per load, with
 * the frame times and Chromium's Performance metrics of each load, and how many frames the frame clock
 * skipped (the frame times also vary with when in its frame the script's callback runs; see
 * SCROLL_LOOP). `--trace` adds a Chromium trace of the scroll summed per thread and event as *CPU* time
 * (the events' thread duration), which a machine shared with other work disturbs much less than
 * wall-clock times: the renderer's main thread split into React (the scroll event), forced layout,
 * style, layout, pre-paint, paint and layerize.
 *
 *   node test/bench/uiFrames.ts --build A=/tmp/base --build B=dist/renderer [--reps 3] [--trace]
 *     --build 'C=/tmp/base|.list-body .cell-actions{display:none}'   (a build with extra CSS: what-ifs)
 *     [--data DIR]   (the seeded data folder, reused between runs; default <tmp>/ferry-ui-frames)
 *     [--hover]      (the mouse rests over the list while it scrolls)
 *   FULL=1 prints the 60 costliest events; QUANT=1 the frame-time quantiles of each load; SLOW=1 the frames
 *   over 20 ms (frame:ms), SLOW=16.7 those over 16.7 ms.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startSelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { startFerryServe } from '../e2e/support/ferryServe.ts';
import { median } from './lib/measure.ts';
import { routeTo } from './lib/servedBuild.ts';
import { FIRST_ROW, launch, newPage, SCROLL_LOOP, skippedFrames } from './suites/uiScale.ts';
import { seedQueue } from '../support/seedQueue.ts';

const { values: flags } = parseArgs({
  options: {
    build: { type: 'string', multiple: true },
    reps: { type: 'string', default: '3' },
    jobs: { type: 'string', default: '100000' },
    trace: { type: 'boolean', default: false },
    data: { type: 'string', default: join(tmpdir(), 'ferry-ui-frames') },
    hover: { type: 'boolean', default: false },
  },
});
const builds = (flags.build ?? []).map((spec) => {
  const [name, rest] = spec.split(/=(.*)/s);
  const [dir, css] = rest!.split('|');
  return { name: name!, dir: resolve(dir!), css };
});
const reps = Number(flags.reps);
const jobs = Number(flags.jobs);

const sandbox = await startSelfCommunitySandbox();
if (!existsSync(join(flags.data, 'seeded'))) {
  mkdirSync(flags.data, { recursive: true });
  await seedQueue(flags.data, jobs, sandbox.url);
  mkdirSync(join(flags.data, 'seeded'));
}
const serve = await startFerryServe(flags.data);
const origin = new URL(serve.url).origin;
const browser = await launch(['--disable-features=LocalNetworkAccessChecks']);

interface TraceEvent {
  name: string;
  ph: string;
  dur?: number;
  tdur?: number;
  tid: number;
  pid: number;
  args?: { name?: string };
}

const stats: Record<
  string,
  { deltas: number[][]; trace: Map<string, number>[]; metrics: Record<string, number>[]; skipped: number[] }
> = {};
try {
  for (let rep = 0; rep < reps; rep += 1) {
    const order = rep % 2 === 0 ? builds : [...builds].reverse();
    for (const { name, dir, css } of order) {
      const page = await newPage(browser);
      await routeTo(page, origin, dir);
      await page.goto(serve.url, { waitUntil: 'commit' });
      await page.waitForSelector(FIRST_ROW, { timeout: 60_000 });
      if (css) await page.addStyleTag({ content: css });
      await page.waitForTimeout(1_000);
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Performance.enable');
      const read = async () =>
        Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
      const before = await read();
      if (flags.hover) await page.mouse.move(700, 500);
      if (flags.trace)
        await browser.startTracing(page, {
          categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink', 'cc', 'v8'],
        });
      const { deltas, stamps } = await page.evaluate<{ deltas: number[]; stamps: number[] }>(
        `(async () => {${SCROLL_LOOP} return { deltas, stamps }; })()`,
      );
      const skipped = skippedFrames(stamps);
      const after = await read();
      const entry = (stats[name] ??= { deltas: [], trace: [], metrics: [], skipped: [] });
      entry.deltas.push(deltas);
      entry.skipped.push(skipped);
      entry.metrics.push(
        Object.fromEntries(
          ['TaskDuration', 'ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration'].map((k) => [
            k,
            (after[k]! - before[k]!) * 1000,
          ]),
        ),
      );
      if (flags.trace) {
        const buffer = await browser.stopTracing();
        const events = (JSON.parse(buffer.toString()) as { traceEvents: TraceEvent[] }).traceEvents;
        const threads = new Map<string, string>();
        for (const event of events)
          if (event.name === 'thread_name') threads.set(`${event.pid}:${event.tid}`, event.args?.name ?? '?');
        const table = new Map<string, number>();
        for (const event of events) {
          if (event.ph !== 'X' || !event.dur) continue;
          const thread = threads.get(`${event.pid}:${event.tid}`) ?? '?';
          if (!/CrRendererMain|Compositor|Raster|VizCompositor/.test(thread)) continue;
          const key = `${thread.replace(/ThreadMain|Thread/, '')} ${event.name}`;
          table.set(key, (table.get(key) ?? 0) + (event.tdur ?? 0) / 1000);
        }
        entry.trace.push(table);
      }
      const sorted = [...deltas].sort((a, b) => a - b);
      if (process.env.QUANT)
        console.log(
          `${name} quantiles: ${[0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.99].map((q) => `${q}:${sorted[Math.floor(q * 240)]!.toFixed(2)}`).join(' ')}`,
        );
      const over = Number(process.env.SLOW) > 1 ? Number(process.env.SLOW) : 20;
      const slow = deltas.map((d, i) => (d > over ? `${i}:${d.toFixed(0)}` : '')).filter(Boolean);
      console.log(
        `${name} rep ${rep + 1}: p50 ${sorted[120]!.toFixed(1)} p95 ${sorted[228]!.toFixed(1)} max ${sorted[239]!.toFixed(1)}; ${Object.entries(
          entry.metrics.at(-1)!,
        )
          .map(([k, v]) => `${k.replace('Duration', '')} ${v.toFixed(0)}`)
          .join(
            ' ',
          )}; frames skipped ${skipped}; > ${over} ms: ${slow.length}${process.env.SLOW ? ` (${slow.join(' ')})` : ''}`,
      );
      await page.context().close();
    }
  }
} finally {
  await browser.close();
  await serve.close();
  await sandbox.close();
}
for (const [name, entry] of Object.entries(stats)) {
  const p = (q: number) => median(entry.deltas.map((d) => [...d].sort((a, b) => a - b)[Math.floor(q * 240)]!));
  const m = (k: string) => median(entry.metrics.map((x) => x[k]!)).toFixed(0);
  console.log(
    `${name}: median p50 ${p(0.5).toFixed(1)} p95 ${p(0.95).toFixed(1)}; frames skipped ${median(entry.skipped)}; task ${m('TaskDuration')} script ${m('ScriptDuration')} layout ${m('LayoutDuration')} style ${m('RecalcStyleDuration')} ms`,
  );
  if (!entry.trace.length) continue;
  const sum = new Map<string, number>();
  for (const table of entry.trace)
    for (const [key, ms] of table) sum.set(key, (sum.get(key) ?? 0) + ms / entry.trace.length);
  const pick = (key: string) => (sum.get(key) ?? 0).toFixed(0);
  const other = [...sum.entries()]
    .filter(([k]) =>
      /^(Compositor|VizCompositor|Compositor\w*|CompositorTileWorker\w*) (RunTask|ThreadControllerImpl::RunTask)$/.test(
        k,
      ),
    )
    .map(([k, v]) => `${k} ${v.toFixed(0)}`)
    .join(', ');
  console.log(
    `  main CPU ${pick('CrRendererMain RunTask')} = react ${pick('CrRendererMain EventDispatch')} + rAF ${pick('CrRendererMain FireAnimationFrame')} (forced layout ${pick('CrRendererMain Document::UpdateStyleAndLayout')}) + lifecycle ${pick('CrRendererMain WebFrameWidgetImpl::UpdateLifecycle')}; layout ${pick('CrRendererMain Layout')} style ${pick('CrRendererMain UpdateLayoutTree')} prepaint ${pick('CrRendererMain PrePaint')} paint ${pick('CrRendererMain Paint')} layerize ${pick('CrRendererMain Layerize')} inputs ${pick('CrRendererMain LocalFrameView::RunCompositingInputsLifecyclePhase')} GC ${pick('CrRendererMain V8.GC_SCAVENGER')}/${pick('CrRendererMain MajorGC')}; ${other}`,
  );
  if (process.env.FULL)
    for (const [key, ms] of [...sum.entries()].sort((x, y) => y[1] - x[1]).slice(0, 60))
      console.log(`  ${ms.toFixed(1).padStart(8)}  ${key}`);
}
