/**
 * A Chromium trace of one page load over CDP (works for any context, persistent ones too), and the
 * renderer main thread's CPU time in it. On a machine shared with other work, the page's wall-clock
 * times stretch with the load (tasks wait for a core); the thread time of its tasks (`tdur`) does not,
 * so it compares two builds under load where wall time cannot.
 */
import type { Page } from '@playwright/test';

export interface TraceEvent {
  name: string;
  cat: string;
  ph: string;
  ts: number;
  dur?: number;
  /** Thread (CPU) time of a complete event, µs. */
  tdur?: number;
  pid: number;
  tid: number;
  args?: Record<string, unknown> & { data?: Record<string, unknown>; name?: string };
}

export const TIMELINE = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink.user_timing', 'loading'];

/** Starts tracing the page's browser; the returned function stops it and returns the events. */
export async function startPageTrace(page: Page, categories = TIMELINE): Promise<() => Promise<TraceEvent[]>> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Tracing.start', { traceConfig: { includedCategories: categories }, transferMode: 'ReturnAsStream' });
  return async () => {
    const done = new Promise<string>((resolve) =>
      cdp.once('Tracing.tracingComplete', (event) => resolve(event.stream!)),
    );
    await cdp.send('Tracing.end');
    const stream = await done;
    const parts: string[] = [];
    for (;;) {
      const chunk = await cdp.send('IO.read', { handle: stream, size: 1 << 20 });
      parts.push(chunk.base64Encoded ? Buffer.from(chunk.data, 'base64').toString('utf8') : chunk.data);
      if (chunk.eof) break;
    }
    await cdp.send('IO.close', { handle: stream });
    await cdp.detach();
    return (JSON.parse(parts.join('')) as { traceEvents: TraceEvent[] }).traceEvents;
  };
}

export interface MainThread {
  pid: number;
  tid: number;
  /** The last navigation's start, in trace µs. */
  navigationStart: number;
}

/** The renderer main thread of the last navigation in the trace. */
export function mainThread(events: TraceEvent[]): MainThread {
  const starts = events.filter((e) => e.name === 'navigationStart' && e.cat.includes('blink.user_timing'));
  const nav = starts[starts.length - 1];
  if (!nav) throw new Error('the trace has no navigationStart');
  const thread = events.find((e) => e.pid === nav.pid && e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  if (!thread) throw new Error('the trace names no renderer main thread');
  return { pid: nav.pid, tid: thread.tid, navigationStart: nav.ts };
}

/**
 * CPU time (ms) of the main thread's top-level tasks from navigation start to `untilMs` after it, and
 * of the style recalculations and layouts and script evaluations among them.
 */
export function mainThreadCpu(
  events: TraceEvent[],
  untilMs: number,
): { tasks: number; style: number; layout: number; evaluate: number } {
  const { pid, tid, navigationStart } = mainThread(events);
  const end = navigationStart + untilMs * 1000;
  const within = events.filter(
    (e) => e.pid === pid && e.tid === tid && e.ph === 'X' && e.ts >= navigationStart && e.ts <= end,
  );
  const sum = (name: string | RegExp): number =>
    within
      .filter((e) => (typeof name === 'string' ? e.name === name : name.test(e.name)))
      .reduce((total, e) => total + (e.tdur ?? 0) / 1000, 0);
  return {
    tasks: sum('RunTask'),
    style: sum('UpdateLayoutTree'),
    layout: sum('Layout'),
    evaluate: sum(/^(v8\.evaluateModule|EvaluateScript)$/),
  };
}
