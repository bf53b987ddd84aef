/**
 * Feeds the store from the API's events, outside React. Each handler touches only what changed:
 * a progress message replaces the progress entries of the jobs it names, so only their rows render.
 */
import type { JobsChanged, ProgressItem } from '../../main/api/contract.ts';
import type { Transport } from '../transport/types.ts';
import { autoCopyCompleted } from './autoCopy.ts';
import { loadCatalog } from './catalog.ts';
import { refreshDetails, scheduleDetailsRefresh } from './details.ts';
import { forgetJobs } from './jobActions.ts';
import { reloadList, scheduleRefresh } from './lists.ts';
import { applyNetworkChanged } from './network.ts';
import { ferryStore } from './store.ts';
import { refreshSummary, scheduleSummary } from './summary.ts';
import { applySyncRules, loadSyncRules } from './sync.ts';
import { pushToast } from './toasts.ts';
import { QUEUE_FILTER_STATES, withJobs } from './slices.ts';

const FINISHED = new Set(['completed', 'failed', 'canceled']);

export function applyProgress(items: ProgressItem[]): void {
  if (items.length === 0) return;
  ferryStore.setState((s) => {
    const progress = { ...s.progress };
    for (const item of items) progress[item.jobId] = item;
    return { progress };
  });
}

export function applyJobsChanged(change: JobsChanged): void {
  const before = ferryStore.getState();
  const queueIds = new Set<number>();
  for (const ids of Object.values(before.queue.pages)) for (const id of ids) queueIds.add(id);
  const historyIds = new Set<number>();
  for (const ids of Object.values(before.history.pages)) for (const id of ids) historyIds.add(id);

  let queueStale = change.removed.some((id) => queueIds.has(id)) || change.removed.length > 0;
  let historyStale = change.removed.some((id) => historyIds.has(id));
  const filtered =
    before.queueFilter.state !== 'all' ||
    before.queueFilter.search.trim() !== '' ||
    before.queueFilter.accountId !== null;
  const wanted = QUEUE_FILTER_STATES[before.queueFilter.state];

  ferryStore.setState((s) => {
    const cached = change.jobs.filter(
      (job) => s.jobs.has(job.id) || queueIds.has(job.id) || historyIds.has(job.id) || s.detailsId === job.id,
    );
    const jobs = cached.length > 0 ? withJobs(s.jobs, cached) : s.jobs;
    let progress = s.progress;
    for (const job of change.jobs) {
      if (!queueIds.has(job.id)) queueStale = true;
      else if (filtered && wanted && !wanted.includes(job.state)) queueStale = true;
      if (FINISHED.has(job.state) && !historyIds.has(job.id)) historyStale = true;
      // Speed and ETA belong to a running upload; a stopped one keeps only its confirmed bytes.
      if (job.state !== 'uploading' && progress[job.id]) {
        if (progress === s.progress) progress = { ...s.progress };
        delete progress[job.id];
      }
    }
    return { jobs, progress };
  });
  forgetJobs(change.removed);

  const after = ferryStore.getState();
  if (queueStale) scheduleRefresh('queue');
  if (historyStale && after.history.ready) scheduleRefresh('history');
  scheduleSummary();
  if (after.detailsId !== null && change.jobs.some((job) => job.id === after.detailsId)) scheduleDetailsRefresh();
}

/** Subscribes the store to the transport; returns the function that unsubscribes. */
export function connectEvents(transport: Transport): () => void {
  const { bridge } = transport;
  let wasOpen = false;
  const stops = [
    bridge.on('progress', applyProgress),
    bridge.on('jobs.changed', (change) => {
      if (transport.kind === 'serve') autoCopyCompleted(change);
      applyJobsChanged(change);
    }),
    bridge.on('accounts.changed', (accounts) => ferryStore.setState({ accounts })),
    bridge.on('settings.changed', (settings) => ferryStore.setState({ settings })),
    bridge.on('sync.changed', applySyncRules),
    bridge.on('notice', (notice) => pushToast(notice.level, notice.message)),
    bridge.on('network.changed', applyNetworkChanged),
    transport.onConnection((connection) => {
      ferryStore.setState({ connection, transportKind: transport.kind });
      if (connection !== 'open') return;
      // Events sent while the socket was down are lost: read everything again.
      if (wasOpen) {
        void loadCatalog().catch(() => undefined);
        void reloadList('queue');
        if (ferryStore.getState().history.ready) void reloadList('history');
        void refreshSummary().catch(() => undefined);
        if (ferryStore.getState().syncReady) void loadSyncRules();
        void refreshDetails();
      }
      wasOpen = true;
    }),
  ];
  return () => stops.forEach((stop) => stop());
}
