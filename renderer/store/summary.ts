import type { JobState, JobsSummary } from '../../main/api/contract.ts';
import { call } from './api.ts';
import { ferryStore } from './store.ts';
import type { QueueSummary } from './slices.ts';

const UNFINISHED: JobState[] = ['queued', 'uploading', 'waiting', 'finalizing', 'processing', 'paused'];
const ACTIVE: JobState[] = ['queued', 'uploading', 'waiting', 'finalizing', 'processing'];

/** The header's totals from the server's exact summary (one aggregate query, whatever the queue size). */
export function queueSummaryOf(summary: JobsSummary): QueueSummary {
  const sum = (states: JobState[], key: 'count' | 'bytesTotal' | 'bytesConfirmed' | 'sizeUnknown'): number =>
    states.reduce((total, state) => total + summary.states[state][key], 0);
  return {
    counts: {
      all: summary.all.count,
      active: sum(ACTIVE, 'count'),
      paused: summary.states.paused.count,
      failed: summary.states.failed.count,
      completed: summary.states.completed.count,
      canceled: summary.states.canceled.count,
    },
    bytesTotal: sum(UNFINISHED, 'bytesTotal'),
    bytesDone: sum(UNFINISHED, 'bytesConfirmed'),
    sizeUnknown: sum(UNFINISHED, 'sizeUnknown'),
  };
}

export async function refreshSummary(): Promise<void> {
  const summary = await call('jobs.summary');
  ferryStore.setState({ summary: queueSummaryOf(summary) });
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

/** Refreshes the header totals soon: a burst of changes costs one read, at most four a second. */
export const scheduleSummary = throttled(refreshSummary, 250);
