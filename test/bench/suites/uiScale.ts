/**
 * UI scale (issue 7, part 7): the built renderer in Debian's Chromium (headless, as the e2e tests run
 * it) against `ferry serve` on a temporary data folder.
 *
 * - First render of the queue with N jobs: the rows are written straight into SQLite through the
 *   jobs repository (Queue.enqueue would stat and fingerprint 100,000 real files, which the queue
 *   suite already measures); their account is paused so that nothing starts.
 * - Frame times while scrolling that queue: requestAnimationFrame deltas in the page while the list
 *   scrolls a screenful per frame, with a few long jumps (which make the list read new pages).
 * - 50 active uploads against a SelfCommunity emulator that answers every request 500 ms late:
 *   progress messages received per second over the WebSocket, and the renderer's long tasks
 *   (PerformanceObserver 'longtask', tasks over 50 ms).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from '@playwright/test';
import { startSelfCommunitySandbox } from '../../sandbox/selfcommunity.ts';
import { startFerryServe, type ServeProcess } from '../../e2e/support/ferryServe.ts';
import type { BenchFiles } from '../lib/files.ts';
import { REPO_ROOT, median } from '../lib/measure.ts';
import { loadsWithoutDevtools } from '../lib/noDevtools.ts';
import { openDatabase } from '../../../main/db/database.ts';
import { Queue } from '../../../main/engine/queue.ts';
import { getAdapter } from '../../../main/providers/registry.ts';
import { FileSecretStore } from '../../../main/secrets/fileSecretStore.ts';
import { seedQueue } from '../../support/seedQueue.ts';

export interface UiRenderResult {
  jobs: number;
  /**
   * From navigation start to the first job row in the DOM (median of the loads), as the page saw it:
   * a MutationObserver installed before the page's own scripts notes the moment.
   */
  firstRowsMs: number;
  /** The same loads as the test process heard of them (the page's console message about the first row). */
  noticedMs: number[];
  /** From navigation start to the queue's total showing every job. */
  totalShownMs: number;
  loads: number[];
  /** The window opened again: first rows of the third load in one browser context (median, and each). */
  warmFirstRowsMs: number;
  warmLoads: number[];
  /**
   * The same first load in a Chromium with no DevTools attached (lib/noDevtools.ts: startup trace, end
   * of React's first render with the rows), and its first contentful paint: Playwright's CDP makes the
   * page re-parse its bundle for source positions (~55 ms of CPU), which a user's page does not.
   */
  noDevtoolsRowsMs: number;
  noDevtoolsFcpMs: number;
  noDevtoolsLoads: number[];
}

export interface UiScrollResult {
  jobs: number;
  frames: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** Frames over 50 ms. */
  slowFrames: number;
  /** Frames the frame clock skipped: the main thread was not done in time (see SCROLL_LOOP). */
  skippedFrames: number;
  /**
   * The frame clock's intervals (the rAF callbacks' own timestamps): p95 and the longest. A frame the
   * main thread missed is an interval of two periods (33.4 ms at 60 Hz); unlike the deltas above they
   * do not move with how long the list's scroll handler ran before the bench's callback in a frame.
   */
  clockP95Ms: number;
  clockMaxMs: number;
  /** The median interval: the display's frame period (16.7 ms at 60 Hz, timestamps coarsened to 0.1 ms). */
  clockPeriodMs: number;
  /** Rows shown after the last jump, to check the list kept up. */
  rowsAfterJump: number;
}

export interface UiActiveResult {
  activeJobs: number;
  windowSeconds: number;
  progressMessagesPerSecond: number;
  /** Distinct jobs named in those messages. */
  jobsInProgressMessages: number;
  progressItemsPerMessage: number;
  longTasks: number;
  longTaskMsTotal: number;
  longestTaskMs: number;
}

export const BROWSER_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Builds the renderer (dist/renderer) so that the benchmark measures the current sources. */
export function buildRenderer(): void {
  execFileSync(
    process.execPath,
    [join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'error'],
    { cwd: REPO_ROOT, stdio: 'inherit' },
  );
  if (!existsSync(join(REPO_ROOT, 'dist', 'renderer', 'index.html')))
    throw new Error('the renderer build wrote no dist/renderer/index.html');
}

export async function launch(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [...BROWSER_ARGS, ...extraArgs],
  });
}

export async function newPage(browser: Browser): Promise<Page> {
  // bypassCSP: the app's Content-Security-Policy forbids string evaluation, which Playwright's
  // waitForFunction and the measuring scripts below need; the app itself runs unchanged.
  const context = await browser.newContext({
    viewport: { width: 1440, height: 900 },
    deviceScaleFactor: 1,
    colorScheme: 'light',
    bypassCSP: true,
  });
  const page = await context.newPage();
  page.on('pageerror', (error) => process.stderr.write(`ui bench page error: ${error.message}\n`));
  return page;
}

export const FIRST_ROW = '.list .row[data-job-id]';

/** Milliseconds since navigation start, read in the page. */
const pageNow = (page: Page): Promise<number> => page.evaluate('performance.now()');

/** What NOTE_FIRST_ROW writes on the page's console when the first job row is there. */
const FIRST_ROW_SIGNAL = 'ferry-bench:first-row';

/**
 * Run in the page before its own scripts: notes when the first job row enters the DOM (the observer's
 * callback runs right after the mutation, before the frame is painted), and says so on the console.
 */
export const NOTE_FIRST_ROW = `(() => {
  const observer = new MutationObserver(() => {
    if (document.querySelector(${JSON.stringify(FIRST_ROW)})) {
      window.__ferryFirstRowAt = performance.now();
      observer.disconnect();
      console.debug(${JSON.stringify(FIRST_ROW_SIGNAL)});
    }
  });
  observer.observe(document, { childList: true, subtree: true });
})();`;

/**
 * Starts a navigation (`navigate`: a goto or a reload, waiting only for the commit) and waits for its
 * first job row without touching the page meanwhile; returns the row's time in the page's clock. The
 * page must have NOTE_FIRST_ROW as an init script. Not `waitForSelector`: right after the commit it
 * sends the page Playwright's selector engine (a 330 kB script), which the page's main thread then
 * evaluates for 90–115 ms in the middle of the load (a Chromium trace shows it as a DevTools message
 * before the page's own files are handled); a user's page has no such task. With `selectorWait` it
 * waits the old way anyway (to compare the two).
 */
export async function untilFirstRow(
  page: Page,
  navigate: () => Promise<unknown>,
  selectorWait = false,
): Promise<number> {
  const signal = page.waitForEvent('console', {
    predicate: (message) => message.text() === FIRST_ROW_SIGNAL,
    timeout: 60_000,
  });
  await navigate();
  if (selectorWait) await page.waitForSelector(FIRST_ROW, { timeout: 60_000 });
  await signal;
  return page.evaluate<number>('window.__ferryFirstRowAt');
}

export async function uiRender(
  files: BenchFiles,
  jobs: number,
  loads: number,
): Promise<{ render: UiRenderResult; scroll: UiScrollResult }> {
  const sandbox = await startSelfCommunitySandbox();
  const dataDir = await files.dir(`ui-${jobs}/data`);
  await seedQueue(dataDir, jobs, sandbox.url);
  const serve = await startFerryServe(dataDir);
  const browser = await launch();
  try {
    const firstRows: number[] = [];
    const noticed: number[] = [];
    const totals: number[] = [];
    let page: Page | null = null;
    const shown = jobs.toLocaleString('en-US');
    for (let load = 0; load < loads; load += 1) {
      await page?.context().close();
      page = await newPage(browser);
      await page.addInitScript(NOTE_FIRST_ROW);
      const opened = page;
      firstRows.push(await untilFirstRow(opened, () => opened.goto(serve.url, { waitUntil: 'commit' })));
      noticed.push(await pageNow(page));
      // The header's totals ("100,000 uploads" or similar): the first text that names every job.
      await page.waitForFunction(`document.body.innerText.includes(${JSON.stringify(shown)})`, undefined, {
        timeout: 60_000,
      });
      totals.push(await pageNow(page));
    }
    const scroll = await scrollFrames(page!, jobs);
    await page!.context().close();
    const warm = await warmFirstRows(browser, serve.url, loads);
    const bare = await loadsWithoutDevtools(files, serve.url, loads);
    return {
      render: {
        jobs,
        firstRowsMs: median(firstRows),
        noticedMs: noticed,
        totalShownMs: median(totals),
        loads: firstRows,
        warmFirstRowsMs: median(warm),
        warmLoads: warm,
        noDevtoolsRowsMs: median(bare.map((load) => load.rows)),
        noDevtoolsFcpMs: median(bare.map((load) => load.fcp)),
        noDevtoolsLoads: bare.map((load) => load.rows),
      },
      scroll,
    };
  } finally {
    await browser.close();
    await serve.close();
    await sandbox.close();
  }
}

/**
 * The window opened again, as users do far more often than the first time: in each of `times` fresh
 * browser contexts the page is loaded, then reloaded twice, and the third load's first rows are
 * returned (by then the HTTP cache has the files and Chromium's code cache has the bundle's code,
 * which it writes on the second run of a script and uses from the third on).
 */
export async function warmFirstRows(browser: Browser, url: string, times: number): Promise<number[]> {
  const out: number[] = [];
  for (let time = 0; time < times; time += 1) {
    const page = await newPage(browser);
    try {
      await page.addInitScript(NOTE_FIRST_ROW);
      let first = await untilFirstRow(page, () => page.goto(url, { waitUntil: 'commit' }));
      for (let reload = 0; reload < 2; reload += 1) {
        // Let the load finish its own work (the views' chunks are read after the first rows) first.
        await page.waitForLoadState('load');
        await page.waitForTimeout(500);
        first = await untilFirstRow(page, () => page.reload({ waitUntil: 'commit' }));
      }
      out.push(first);
    } finally {
      await page.context().close();
    }
  }
  return out;
}

/**
 * The scroll, run in the page (the suite and test/bench/uiFrames.ts): 240 frames, a screenful a frame
 * and a jump to a seeded random place every 60; leaves each frame's time in `deltas`: from one
 * requestAnimationFrame callback's start to the next, so it includes how much later in its frame the
 * callback ran (the list's scroll handler runs before it). `stamps` has the frames' own times (the
 * callbacks' argument, from the frame clock), 241 with the one before the first scroll: a frame the
 * main thread missed shows there as two frame intervals.
 */
export const SCROLL_LOOP = `
    const list = document.querySelector('.list-scroll');
    if (!list) throw new Error('no .list-scroll');
    const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
    const stamps = [await frame()];
    const deltas = [];
    let last = performance.now();
    let seed = 7;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    for (let i = 0; i < 240; i += 1) {
      if (i > 0 && i % 60 === 0) list.scrollTop = Math.floor(random() * (list.scrollHeight - list.clientHeight));
      else list.scrollTop += list.clientHeight;
      const stamp = await frame();
      const now = performance.now();
      deltas.push(now - last);
      stamps.push(stamp);
      last = now;
    }
`;

/**
 * How many frames the frame clock skipped over a run of rAF timestamps: each interval of n frame periods
 * (the median interval) counts n - 1.
 */
export function skippedFrames(stamps: readonly number[]): number {
  const intervals = stamps.slice(1).map((stamp, i) => stamp - stamps[i]!);
  const period = [...intervals].sort((a, b) => a - b)[Math.floor(intervals.length / 2)]!;
  return intervals.reduce((skipped, interval) => skipped + Math.max(0, Math.round(interval / period) - 1), 0);
}

/**
 * Scrolls the queue one screenful per frame for 240 frames, jumping to a random place every 60,
 * and returns the requestAnimationFrame deltas. Written as page source: the test project has no DOM
 * types.
 */
export async function scrollFrames(page: Page, jobs: number): Promise<UiScrollResult> {
  const result = await page.evaluate<{ deltas: number[]; stamps: number[]; rowsAfterJump: number }>(`(async () => {
    ${SCROLL_LOOP}
    // Let the pages of the last position arrive, then count the rows that show a job.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const rowsAfterJump = document.querySelectorAll('.list .row[data-job-id]').length;
    return { deltas, stamps, rowsAfterJump };
  })()`);
  const sorted = [...result.deltas].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const clock = result.stamps
    .slice(1)
    .map((stamp, i) => stamp - result.stamps[i]!)
    .sort((a, b) => a - b);
  return {
    jobs,
    frames: sorted.length,
    p50Ms: at(0.5),
    p95Ms: at(0.95),
    maxMs: sorted[sorted.length - 1]!,
    slowFrames: sorted.filter((delta) => delta > 50).length,
    skippedFrames: skippedFrames(result.stamps),
    clockP95Ms: clock[Math.min(clock.length - 1, Math.floor(0.95 * clock.length))]!,
    clockMaxMs: clock[clock.length - 1]!,
    clockPeriodMs: clock[Math.floor(clock.length / 2)]!,
    rowsAfterJump: result.rowsAfterJump,
  };
}

/** 50 uploads at once against an emulator that answers 500 ms late; measured over `windowMs`. */
export async function uiActive(files: BenchFiles, active: number, windowMs: number): Promise<UiActiveResult> {
  const sandbox = await startSelfCommunitySandbox();
  // Every reply 500 ms late: each 204,800-byte chunk takes half a second, so 20 chunks keep a file
  // active for about ten seconds.
  sandbox.fault({ times: Number.MAX_SAFE_INTEGER, action: { type: 'delay', ms: 500 } });
  const dataDir = await files.dir(`ui-active/data`);
  const src = await files.dir('ui-active/src');
  const paths = await Promise.all(
    Array.from({ length: active }, (_, i) => files.random(src, `live-${i}.png`, 20 * 204_800)),
  );
  const db = openDatabase(dataDir);
  const queue = new Queue({ adapterFor: getAdapter, db, secrets: new FileSecretStore(dataDir) });
  try {
    await queue.accounts.add({
      provider: 'selfcommunity',
      name: 'live',
      baseUrl: sandbox.url,
      secrets: { accessToken: sandbox.token },
      concurrency: active,
    });
    await queue.enqueue('live', paths);
  } finally {
    db.close();
  }
  let serve: ServeProcess | null = null;
  const browser = await launch();
  try {
    const page = await newPage(browser);
    await page.addInitScript(`(() => {
      window.__ferryLongTasks = [];
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) window.__ferryLongTasks.push({ start: entry.startTime, duration: entry.duration });
      }).observe({ type: 'longtask', buffered: true });
    })()`);
    const progress: Array<{ at: number; jobs: number[] }> = [];
    page.on('websocket', (ws) =>
      ws.on('framereceived', ({ payload }) => {
        const text = typeof payload === 'string' ? payload : payload.toString('utf8');
        if (!text.includes('"event":"progress"')) return;
        const frame = JSON.parse(text) as { payload: Array<{ jobId: number }> };
        progress.push({ at: Date.now(), jobs: frame.payload.map((item) => item.jobId) });
      }),
    );
    serve = await startFerryServe(dataDir, { FERRY_MAX_JOBS: String(active) });
    await page.goto(serve.url);
    await page.waitForSelector(FIRST_ROW, { timeout: 60_000 });
    // Let every job start, then measure.
    await page.waitForTimeout(1_500);
    const startAt = Date.now();
    const startPage = await pageNow(page);
    await page.waitForTimeout(windowMs);
    const endAt = Date.now();
    const endPage = await pageNow(page);
    const tasks = await page.evaluate<Array<{ start: number; duration: number }>>('window.__ferryLongTasks');
    const inWindow = tasks.filter((task) => task.start >= startPage && task.start <= endPage);
    const messages = progress.filter((message) => message.at >= startAt && message.at <= endAt);
    const jobsSeen = new Set(messages.flatMap((message) => message.jobs));
    const seconds = (endAt - startAt) / 1000;
    const items = messages.reduce((sum, message) => sum + message.jobs.length, 0);
    await page.context().close();
    return {
      activeJobs: active,
      windowSeconds: seconds,
      progressMessagesPerSecond: messages.length / seconds,
      jobsInProgressMessages: jobsSeen.size,
      progressItemsPerMessage: messages.length ? items / messages.length : 0,
      longTasks: inWindow.length,
      longTaskMsTotal: inWindow.reduce((sum, task) => sum + task.duration, 0),
      longestTaskMs: inWindow.reduce((max, task) => Math.max(max, task.duration), 0),
    };
  } finally {
    await browser.close();
    await serve?.close();
    await sandbox.close();
  }
}
