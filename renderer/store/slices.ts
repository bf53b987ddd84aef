/**
 * The state of the renderer, in typed slices (zustand's slices pattern). The store holds data only:
 * the functions that change it live in `actions/` and call `ferryStore.setState` from outside React,
 * which is also how the API's events get in (see `connectEvents.ts`).
 */
import type {
  AccountInfo,
  AppStatus,
  FinishedState,
  SyncRuleInfo,
  JobDetail,
  JobState,
  JobView,
  ProgressItem,
  ProviderInfo,
  Settings,
} from '../../main/api/contract.ts';
import type { ConnectionState } from '../transport/types.ts';

// Connection ----------------------------------------------------------------------------------------

export interface ConnectionSlice {
  connection: ConnectionState;
  transportKind: 'electron' | 'serve' | null;
  status: AppStatus | null;
  /** True once providers, accounts and settings have arrived. */
  booted: boolean;
}

export const initialConnection = (): ConnectionSlice => ({
  connection: 'connecting',
  transportKind: null,
  status: null,
  booted: false,
});

// Catalog: providers, accounts, settings ------------------------------------------------------------

export interface CatalogSlice {
  providers: ProviderInfo[];
  accounts: AccountInfo[];
  settings: Settings | null;
}

export const initialCatalog = (): CatalogSlice => ({ providers: [], accounts: [], settings: null });

// Jobs: the cache of rows and their live progress ---------------------------------------------------

export interface JobsSlice {
  /**
   * Rows of the loaded pages (and of the open details), by id. Pruned as pages are dropped. A Map, not
   * an object: every change copies the cache (the store's state is never changed in place), and an
   * object keyed by sparse job ids is a dictionary that V8 copies ~6× slower (2,800 jobs: 2.6 ms
   * against 0.4 ms) — on every page that arrives while scrolling and every job event.
   */
  jobs: ReadonlyMap<number, JobView>;
  /** Live progress of running jobs, by id. Replaced per job, so only changed rows re-render. */
  progress: Record<number, ProgressItem>;
}

export const initialJobs = (): JobsSlice => ({ jobs: new Map(), progress: {} });

/** The job cache with `jobs` put in, as a new Map (the old one is left as it was). */
export function withJobs(cache: ReadonlyMap<number, JobView>, jobs: Iterable<JobView>): Map<number, JobView> {
  const next = new Map(cache);
  for (const job of jobs) next.set(job.id, job);
  return next;
}

// Lists: the windowed queue and history -------------------------------------------------------------

/** How many rows one `jobs.list` / `history.list` request reads. */
export const PAGE_SIZE = 200;

/**
 * A window onto a long server-side list: its total, and the pages that are loaded (page index →
 * job ids). Rows outside the loaded pages are placeholders until the user scrolls there.
 */
export interface ListWindow {
  total: number;
  pages: Record<number, number[]>;
  /** Bumped whenever the filter changes; answers for an older generation are dropped. */
  generation: number;
  /** False until the first page of this generation arrived. */
  ready: boolean;
  /** The rows on screen, as the view last said. */
  range: { start: number; end: number };
}

export const emptyWindow = (): ListWindow => ({
  total: 0,
  pages: {},
  generation: 0,
  ready: false,
  range: { start: 0, end: 0 },
});

export type QueueStateFilter = 'all' | 'active' | 'paused' | 'failed' | 'completed' | 'canceled';

export const QUEUE_FILTER_STATES: Record<QueueStateFilter, JobState[] | undefined> = {
  all: undefined,
  active: ['queued', 'uploading', 'waiting', 'finalizing', 'processing'],
  paused: ['paused'],
  failed: ['failed'],
  completed: ['completed'],
  canceled: ['canceled'],
};

export interface QueueFilter {
  state: QueueStateFilter;
  accountId: number | null;
  search: string;
}

export interface HistoryFilter {
  state: FinishedState | 'all';
  accountId: number | null;
  search: string;
}

/** Header totals of the queue (every job, whatever the filter). */
export interface QueueSummary {
  counts: Record<'all' | QueueStateFilter, number>;
  /** Bytes of the unfinished jobs, and how many of them the server confirmed. */
  bytesTotal: number;
  bytesDone: number;
  /** Unfinished jobs whose size is not known yet (links the provider has not fetched): not in the bytes. */
  sizeUnknown: number;
}

export const emptySummary = (): QueueSummary => ({
  counts: { all: 0, active: 0, paused: 0, failed: 0, completed: 0, canceled: 0 },
  bytesTotal: 0,
  bytesDone: 0,
  sizeUnknown: 0,
});

export interface ListsSlice {
  queue: ListWindow;
  queueFilter: QueueFilter;
  summary: QueueSummary;
  history: ListWindow;
  historyFilter: HistoryFilter;
}

export const initialLists = (): ListsSlice => ({
  queue: emptyWindow(),
  queueFilter: { state: 'all', accountId: null, search: '' },
  summary: emptySummary(),
  history: emptyWindow(),
  historyFilter: { state: 'all', accountId: null, search: '' },
});

// Sync: watched folders ----------------------------------------------------------------------------

export interface SyncSlice {
  /** Every watched folder, as the last sync.list or sync.changed said. */
  syncRules: SyncRuleInfo[];
  /** False until the first list arrived. */
  syncReady: boolean;
}

export const initialSync = (): SyncSlice => ({ syncRules: [], syncReady: false });

// UI ------------------------------------------------------------------------------------------------

export type ViewName = 'queue' | 'history' | 'sync' | 'accounts' | 'settings';

export interface Toast {
  id: number;
  level: 'info' | 'success' | 'warning' | 'error';
  message: string;
}

/** One file or URL waiting in the drop picker. */
export interface PendingItem {
  key: string;
  name: string;
  /** Null for URLs (their size is known only once the provider asks). */
  size: number | null;
  type: string;
  kind: 'file' | 'url';
  file: File | null;
  url: string | null;
}

export interface PickerState {
  items: PendingItem[];
  /** Files skipped while reading dropped folders (system junk), for the picker to mention. */
  skipped: number;
  accountName: string | null;
  /** Set while the accepted items are being queued. */
  busy: boolean;
  error: string | null;
}

export interface UiSlice {
  view: ViewName;
  /** Selected job ids in the queue; `selectAll` means every row of the current filter. */
  selection: Record<number, true>;
  selectAll: boolean;
  /** The job whose details panel is open, and what was last read about it. */
  detailsId: number | null;
  detail: JobDetail | null;
  toasts: Toast[];
  picker: PickerState | null;
  /** Browser uploads to the staging endpoint in flight: bytes sent and total. */
  staging: { files: number; sent: number; total: number } | null;
  /** The theme in effect after resolving "system". */
  resolvedTheme: 'light' | 'dark';
}

export const initialUi = (): UiSlice => ({
  view: 'queue',
  selection: {},
  selectAll: false,
  detailsId: null,
  detail: null,
  toasts: [],
  picker: null,
  staging: null,
  resolvedTheme: 'light',
});

export type FerryState = ConnectionSlice & CatalogSlice & JobsSlice & ListsSlice & SyncSlice & UiSlice;

export const initialState = (): FerryState => ({
  ...initialConnection(),
  ...initialCatalog(),
  ...initialJobs(),
  ...initialLists(),
  ...initialSync(),
  ...initialUi(),
});
