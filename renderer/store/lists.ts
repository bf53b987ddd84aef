/**
 * The queue and history lists are windows onto server-side lists that may hold 100,000 rows: pages
 * of PAGE_SIZE rows are read as the user scrolls near them, pages far from the screen are dropped,
 * and the job cache only keeps rows that some loaded page (or the details panel) still shows.
 */
import type { HistoryListInput, JobsListInput, JobView, Page } from '../../main/api/contract.ts';
import { call } from './api.ts';
import { ferryStore } from './store.ts';
import {
  PAGE_SIZE,
  QUEUE_FILTER_STATES,
  type FerryState,
  type HistoryFilter,
  type ListWindow,
  type QueueFilter,
  withJobs,
} from './slices.ts';
import { toastError } from './toasts.ts';

export type ListKind = 'queue' | 'history';

/** Pages kept on each side of the visible ones. */
const KEEP_PAGES = 3;
/** The job cache is pruned once it holds more rows than this. */
const CACHE_LIMIT = 4 * PAGE_SIZE * (2 * KEEP_PAGES + 2);

export function jobIdAt(window: ListWindow, index: number): number | undefined {
  return window.pages[Math.floor(index / PAGE_SIZE)]?.[index % PAGE_SIZE];
}

export function queueQuery(filter: QueueFilter): JobsListInput {
  const states = QUEUE_FILTER_STATES[filter.state];
  return {
    ...(states ? { states } : {}),
    ...(filter.accountId !== null ? { accountId: filter.accountId } : {}),
    ...(filter.search.trim() ? { search: filter.search.trim() } : {}),
  };
}

export function historyQuery(filter: HistoryFilter): HistoryListInput {
  return {
    ...(filter.state !== 'all' ? { states: [filter.state] } : {}),
    ...(filter.accountId !== null ? { accountId: filter.accountId } : {}),
    ...(filter.search.trim() ? { search: filter.search.trim() } : {}),
  };
}

function readPage(kind: ListKind, state: FerryState, page: number): Promise<Page<JobView>> {
  const window = { limit: PAGE_SIZE, offset: page * PAGE_SIZE };
  return kind === 'queue'
    ? call('jobs.list', { ...queueQuery(state.queueFilter), ...window })
    : call('history.list', { ...historyQuery(state.historyFilter), ...window });
}

function wantedPages(window: ListWindow): { first: number; last: number } {
  const first = Math.floor(window.range.start / PAGE_SIZE);
  const last = Math.floor(Math.max(window.range.end, window.range.start) / PAGE_SIZE);
  return { first, last };
}

function lastPageOf(total: number): number {
  return Math.max(0, Math.ceil(total / PAGE_SIZE) - 1);
}

/** Ids the job cache must keep: every loaded page of both lists, and the open details. */
function pruneJobs(state: FerryState, jobs: Map<number, JobView>): Map<number, JobView> {
  if (jobs.size <= CACHE_LIMIT) return jobs;
  const keep = new Map<number, JobView>();
  const hold = (id: number): void => {
    const job = jobs.get(id);
    if (job) keep.set(id, job);
  };
  for (const ids of Object.values(state.queue.pages)) ids.forEach(hold);
  for (const ids of Object.values(state.history.pages)) ids.forEach(hold);
  if (state.detailsId !== null) hold(state.detailsId);
  return keep;
}

const inflight = new Set<string>();

/**
 * Reads pages into the window. `replace` re-reads pages that are loaded already (after changes);
 * pages outside the kept band are dropped in the same update.
 */
async function loadPages(kind: ListKind, pages: number[], replace: boolean): Promise<void> {
  const before = ferryStore.getState();
  const generation = before[kind].generation;
  const todo = pages.filter((page) => {
    const key = `${kind}:${generation}:${page}:${replace ? 'r' : 'l'}`;
    if (inflight.has(key) || (!replace && before[kind].pages[page])) return false;
    inflight.add(key);
    return true;
  });
  await Promise.all(
    todo.map(async (page) => {
      const key = `${kind}:${generation}:${page}:${replace ? 'r' : 'l'}`;
      try {
        const result = await readPage(kind, ferryStore.getState(), page);
        ferryStore.setState((s) => {
          const window = s[kind];
          if (window.generation !== generation) return {};
          const jobs = withJobs(s.jobs, result.items);
          const { first, last } = wantedPages(window);
          const lastPage = Math.max(0, Math.ceil(result.total / PAGE_SIZE) - 1);
          const kept: Record<number, number[]> = {};
          for (const [index, ids] of Object.entries(window.pages)) {
            const n = Number(index);
            if (n >= first - KEEP_PAGES && n <= last + KEEP_PAGES && n <= lastPage) kept[n] = ids;
          }
          kept[page] = result.items.map((job) => job.id);
          const next: ListWindow = { ...window, total: result.total, pages: kept, ready: true };
          const draft = { ...s, [kind]: next } as FerryState;
          return { [kind]: next, jobs: pruneJobs(draft, jobs) };
        });
      } catch (error) {
        toastError(error);
      } finally {
        inflight.delete(key);
      }
    }),
  );
}

/**
 * Rows read ahead of the screen in the direction it moves: the next page is asked for while the rows
 * before it are still on screen, so rows scrolled into view mostly have their job already instead of
 * showing a placeholder and rendering a second time when the page arrives.
 */
const READ_AHEAD = PAGE_SIZE / 2;

/** The view says which rows are on screen; the pages they need are read if missing. */
export function showRange(kind: ListKind, start: number, end: number): Promise<void> {
  const window = ferryStore.getState()[kind];
  if (window.range.start !== start || window.range.end !== end) {
    ferryStore.setState((s) => ({ [kind]: { ...s[kind], range: { start, end } } }));
  }
  let { first, last } = wantedPages(ferryStore.getState()[kind]);
  if (start > window.range.start && window.ready) {
    last = Math.min(Math.floor((Math.max(end, start) + READ_AHEAD) / PAGE_SIZE), lastPageOf(window.total));
  } else if (start < window.range.start) {
    first = Math.floor(Math.max(0, start - READ_AHEAD) / PAGE_SIZE);
  }
  const pages: number[] = [];
  for (let page = first; page <= last; page += 1) pages.push(page);
  return loadPages(kind, pages, false);
}

/** Re-reads the visible pages and the total (after jobs were added, removed or changed state). */
export function refreshList(kind: ListKind): Promise<void> {
  const { first, last } = wantedPages(ferryStore.getState()[kind]);
  const pages: number[] = [];
  for (let page = first; page <= last; page += 1) pages.push(page);
  return loadPages(kind, pages, true);
}

const refreshTimers: Partial<Record<ListKind, ReturnType<typeof setTimeout>>> = {};

/** Coalesces refreshes: a burst of changes costs one re-read, at most ~3 per second. */
export function scheduleRefresh(kind: ListKind, delayMs = 300): void {
  if (refreshTimers[kind] !== undefined) return;
  refreshTimers[kind] = setTimeout(() => {
    refreshTimers[kind] = undefined;
    void refreshList(kind);
  }, delayMs);
}

/** A new filter starts a new generation: the list is read again from its first page. */
function restart(kind: ListKind): Promise<void> {
  ferryStore.setState((s) => ({
    [kind]: {
      ...s[kind],
      generation: s[kind].generation + 1,
      pages: {},
      ready: false,
      range: { start: 0, end: s[kind].range.end - s[kind].range.start },
    },
  }));
  return showRange(kind, 0, ferryStore.getState()[kind].range.end);
}

export function setQueueFilter(patch: Partial<QueueFilter>): Promise<void> {
  ferryStore.setState((s) => ({ queueFilter: { ...s.queueFilter, ...patch }, selection: {}, selectAll: false }));
  return restart('queue');
}

export function setHistoryFilter(patch: Partial<HistoryFilter>): Promise<void> {
  ferryStore.setState((s) => ({ historyFilter: { ...s.historyFilter, ...patch } }));
  return restart('history');
}

/** Reads the list from the top (first show of a view, or after reconnecting). */
export function reloadList(kind: ListKind): Promise<void> {
  return restart(kind);
}
