import type { JobState } from '../../main/api/contract.ts';
import { call } from './api.ts';
import { ferryStore } from './store.ts';
import { QUEUE_FILTER_STATES } from './slices.ts';

const UNFINISHED: JobState[] = [...(QUEUE_FILTER_STATES.active ?? []), 'paused'];
/** The most unfinished rows read to add up bytes; beyond it the header says "at least". */
const BYTES_SAMPLE = 1000;

/** Counts per state group: each is a one-row list read for its total, cheap at any queue size. */
export async function refreshCounts(): Promise<void> {
  const count = async (states: JobState[]): Promise<number> => (await call('jobs.list', { states, limit: 1 })).total;
  const [unfinished, paused, failed, completed, canceled] = await Promise.all([
    count(UNFINISHED),
    count(['paused']),
    count(['failed']),
    count(['completed']),
    count(['canceled']),
  ]);
  ferryStore.setState((s) => ({
    summary: {
      ...s.summary,
      counts: { all: unfinished + failed + completed + canceled, active: unfinished - paused, paused, failed, completed, canceled },
    },
  }));
}

/** Bytes of the unfinished jobs (read in one page of up to BYTES_SAMPLE rows, so less often). */
export async function refreshBytes(): Promise<void> {
  const unfinished = await call('jobs.list', { states: UNFINISHED, limit: BYTES_SAMPLE });
  let bytesTotal = 0;
  let bytesDone = 0;
  for (const job of unfinished.items) {
    bytesTotal += job.size ?? 0;
    bytesDone += Math.min(job.bytesConfirmed, job.size ?? job.bytesConfirmed);
  }
  ferryStore.setState((s) => ({ summary: { ...s.summary, bytesTotal, bytesDone, bytesPartial: unfinished.total > unfinished.items.length } }));
}

export async function refreshSummary(): Promise<void> {
  await Promise.all([refreshCounts(), refreshBytes()]);
}

/**
 * A throttle for a refresh: the first call in a quiet period runs after `delayMs` (gathering the
 * rest of a burst), later ones wait until `intervalMs` after the previous run.
 */
function throttled(run: () => Promise<void>, intervalMs: number): (delayMs?: number) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastAt = 0;
  return (delayMs = 80) => {
    if (timer !== undefined) return;
    const wait = Math.max(delayMs, lastAt + intervalMs - Date.now());
    timer = setTimeout(() => {
      timer = undefined;
      lastAt = Date.now();
      run().catch(() => undefined);
    }, wait);
  };
}

const scheduleCounts = throttled(refreshCounts, 250);
const scheduleBytes = throttled(refreshBytes, 800);

/** Refreshes the header totals soon; the counts follow within a quarter second, bytes more slowly. */
export function scheduleSummary(delayMs?: number): void {
  scheduleCounts(delayMs);
  scheduleBytes(delayMs);
}
