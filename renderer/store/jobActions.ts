/**
 * What the user does to jobs: one at a time from a row, or to the selection. Bulk answers carry
 * per-id refusals; those are shown in one toast rather than one per job.
 */
import type { BulkResult, JobView, RemoveResult } from '../../main/api/contract.ts';
import { t } from '../i18n.ts';
import { call } from './api.ts';
import { closeDetails } from './details.ts';
import { jobIdAt, queueQuery, scheduleRefresh } from './lists.ts';
import { withJobs } from './slices.ts';
import { ferryStore } from './store.ts';
import { scheduleSummary } from './summary.ts';
import { pushToast, toastError } from './toasts.ts';

type BulkCommand = 'jobs.pause' | 'jobs.resume' | 'jobs.cancel' | 'jobs.retry';

/** The bulk-result toast of each command (keys under bulk.*). */
const PAST: Record<BulkCommand | 'jobs.remove', string> = {
  'jobs.pause': 'bulk.paused',
  'jobs.resume': 'bulk.resumed',
  'jobs.cancel': 'bulk.canceled',
  'jobs.retry': 'bulk.retrying',
  'jobs.remove': 'bulk.removed',
};

function mergeJobs(jobs: JobView[]): void {
  if (jobs.length === 0) return;
  ferryStore.setState((s) => {
    return { jobs: withJobs(s.jobs, jobs) };
  });
}

function reportErrors(verb: string, done: number, errors: BulkResult['errors']): void {
  if (errors.length === 0) return;
  const first = errors[0]!.message;
  const more = errors.length > 1 ? ` ${t('bulk.more', { n: errors.length - 1 })}` : '';
  pushToast(done > 0 ? 'warning' : 'error', `${t(verb, { done, failed: errors.length })}: ${first}${more}`);
}

export async function runBulk(command: BulkCommand, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  try {
    const result = await call(command, { ids });
    mergeJobs(result.jobs);
    reportErrors(PAST[command], result.jobs.length, result.errors);
  } catch (error) {
    toastError(error);
  }
  scheduleRefresh('queue', 100);
  scheduleSummary(200);
}

export const pauseJobs = (ids: number[]): Promise<void> => runBulk('jobs.pause', ids);
export const resumeJobs = (ids: number[]): Promise<void> => runBulk('jobs.resume', ids);
export const cancelJobs = (ids: number[]): Promise<void> => runBulk('jobs.cancel', ids);
export const retryJobs = (ids: number[]): Promise<void> => runBulk('jobs.retry', ids);

export async function removeJobs(ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  let result: RemoveResult;
  try {
    result = await call('jobs.remove', { ids });
  } catch (error) {
    toastError(error);
    return;
  }
  forgetJobs(result.removed);
  reportErrors(PAST['jobs.remove'], result.removed.length, result.errors);
  scheduleRefresh('queue', 50);
  scheduleRefresh('history', 50);
  scheduleSummary(200);
}

/** Drops rows that no longer exist from the cache, the selection and the details panel. */
export function forgetJobs(ids: number[]): void {
  if (ids.length === 0) return;
  const gone = new Set(ids);
  const { detailsId } = ferryStore.getState();
  ferryStore.setState((s) => {
    const jobs = new Map(s.jobs);
    const progress = { ...s.progress };
    const selection = { ...s.selection };
    for (const id of ids) {
      jobs.delete(id);
      delete progress[id];
      delete selection[id];
    }
    return { jobs, progress, selection };
  });
  if (detailsId !== null && gone.has(detailsId)) closeDetails();
}

export async function pauseAll(): Promise<void> {
  try {
    const result = await call('jobs.pauseAll');
    mergeJobs(result.jobs);
    reportErrors('Paused', result.jobs.length, result.errors);
  } catch (error) {
    toastError(error);
  }
  scheduleRefresh('queue', 100);
  scheduleSummary(200);
}

export async function resumeAll(): Promise<void> {
  try {
    const result = await call('jobs.resumeAll');
    mergeJobs(result.jobs);
    reportErrors('Resumed', result.jobs.length, result.errors);
  } catch (error) {
    toastError(error);
  }
  scheduleRefresh('queue', 100);
  scheduleSummary(200);
}

// Selection -----------------------------------------------------------------------------------------

export function toggleSelected(id: number, additive: boolean): void {
  ferryStore.setState((s) => {
    if (!additive)
      return {
        selection: s.selection[id] && Object.keys(s.selection).length === 1 ? {} : { [id]: true as const },
        selectAll: false,
      };
    const selection = { ...s.selection };
    if (selection[id]) delete selection[id];
    else selection[id] = true;
    return { selection, selectAll: false };
  });
}

/** Shift-click: selects the rows between the last selected one and `index`. */
export function selectRange(anchorIndex: number, index: number): void {
  const state = ferryStore.getState();
  const selection = { ...state.selection };
  const [from, to] = anchorIndex <= index ? [anchorIndex, index] : [index, anchorIndex];
  for (let i = from; i <= to; i += 1) {
    const id = jobIdAt(state.queue, i);
    if (id !== undefined) selection[id] = true;
  }
  ferryStore.setState({ selection, selectAll: false });
}

export function selectAllJobs(): void {
  ferryStore.setState({ selectAll: true, selection: {} });
}

export function clearSelection(): void {
  ferryStore.setState({ selectAll: false, selection: {} });
}

export function selectedCount(): number {
  const s = ferryStore.getState();
  return s.selectAll ? s.queue.total : Object.keys(s.selection).length;
}

/**
 * The ids of the selection. "Select all" covers every row of the current filter, so its ids are read
 * from the server page by page (the loaded window holds only the rows near the screen).
 */
export async function selectedIds(): Promise<number[]> {
  const s = ferryStore.getState();
  if (!s.selectAll) return Object.keys(s.selection).map(Number);
  const ids: number[] = [];
  const query = queueQuery(s.queueFilter);
  for (let offset = 0; ; offset += 1000) {
    const page = await call('jobs.list', { ...query, limit: 1000, offset });
    ids.push(...page.items.map((job) => job.id));
    if (page.items.length < 1000 || ids.length >= page.total) break;
  }
  return ids;
}

/** Space: pauses the selection when any of it runs, else resumes it. */
export async function togglePauseSelection(): Promise<void> {
  const ids = await selectedIds();
  if (ids.length === 0) return;
  const { jobs } = ferryStore.getState();
  const anyRunning = ids.some((id) => {
    const job = jobs.get(id);
    return job ? job.actions.includes('pause') : false;
  });
  await (anyRunning ? pauseJobs(ids) : resumeJobs(ids));
}

export async function removeSelection(): Promise<void> {
  const ids = await selectedIds();
  await removeJobs(ids);
  clearSelection();
}
