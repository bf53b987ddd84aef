/**
 * The contract of Ferry's API: command names with their input and output types, event payloads and
 * the result envelope. It is the one file the preload and the renderer import (type-only, or for the
 * name lists and `formatCopiedLink`), so it must stay free of Node and Electron imports: the renderer's tsconfig has no
 * Node types. The zod schemas that enforce these inputs live in `schemas.ts`, which is checked
 * against this file at compile time.
 */
import type { ErrorKind } from '../core/errors.ts';
import type { JobAction, JobState } from '../core/jobState.ts';

export type { ErrorKind, JobAction, JobState };

// Envelope ------------------------------------------------------------------------------------------

/**
 * Why a command failed. INVALID_INPUT: the request was wrong (malformed input, a file the provider
 * cannot take); NOT_FOUND: no such account, job or command; CONFLICT: the request is fine but the
 * current state forbids it (a job that is finalizing cannot be paused); INTERNAL: a bug or an
 * environment failure — the message never carries a stack trace or a secret, the log has details.
 */
export type ApiErrorCode = 'INVALID_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'INTERNAL';

export interface ApiErrorPayload {
  code: ApiErrorCode;
  /** One line, readable by a person, says what was being done and what they can do. */
  message: string;
}

/**
 * Every command answers with this envelope on every transport. Errors are values, not exceptions,
 * because Electron's ipcMain.handle() keeps only the message of a thrown error.
 */
export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiErrorPayload };

// Shared shapes -------------------------------------------------------------------------------------

/** The input of commands that take none: nothing, or an empty object. */
export type NoInput = Record<string, never> | undefined;

export interface ProviderField {
  key: string;
  label: string;
  kind: 'secret' | 'setting';
  required: boolean;
  default: string | null;
  hint: string | null;
  /** When set, the value must be one of these. */
  choices: string[] | null;
}

export interface ProviderInfo {
  id: string;
  name: string;
  fields: ProviderField[];
  capabilities: {
    /** Local files, or public http(s) URLs that the provider pulls itself. */
    sources: 'file' | 'url';
    baseUrlRequired: boolean;
    defaultBaseUrl: string | null;
    /** Said with a job when resuming is coarser than a part (e.g. "resumes by re-sending the file"). */
    resumeNote: string | null;
    /**
     * The types and sizes the provider takes, so that a UI can refuse a file before queueing it (the
     * engine checks again when it is queued). `type` is a MIME type, a `major/*` pattern, or `*\/*`;
     * `maxBytes` is null when the provider states no limit. Every provider refuses empty files.
     */
    accepts: Array<{ type: string; maxBytes: number | null }>;
  };
}

export interface AccountInfo {
  id: number;
  name: string;
  provider: string;
  providerName: string;
  /** The account's own API origin, or null for the provider default. */
  baseUrl: string | null;
  settings: Record<string, string>;
  /** Which secrets are stored. The values never leave the main process. */
  secrets: Record<string, 'set' | 'not set'>;
  concurrency: number;
  paused: boolean;
  createdAt: number;
}

export interface UploadResultView {
  remoteId: string | null;
  url: string | null;
  details: Record<string, unknown>;
}

/** A job as the UI sees it (no adapter session: it may hold upload tokens or signed forms). */
export interface JobView {
  id: number;
  accountId: number;
  /** Null only when the account vanished between two reads. */
  accountName: string | null;
  provider: string | null;
  sourceKind: 'file' | 'url';
  /** Absolute path or URL. */
  source: string;
  name: string;
  mime: string;
  size: number | null;
  state: JobState;
  /** What the queue accepts for this job now (from the state table): the window offers only these. */
  actions: JobAction[];
  position: number;
  bytesConfirmed: number;
  attempts: number;
  nextAttemptAt: number | null;
  error: { kind: ErrorKind; message: string } | null;
  result: UploadResultView | null;
  options: Record<string, string>;
  /** The source is a copy in the staging folder (uploaded through the browser); removed once done. */
  staged: boolean;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

export interface JobTimelineEntry {
  id: number;
  at: number;
  type: 'state' | 'attempt' | 'error' | 'info';
  state: JobState | null;
  attempt: number | null;
  errorKind: ErrorKind | null;
  message: string;
}

export interface JobDetail {
  job: JobView;
  /** Every state change, attempt, error and note, oldest first. */
  timeline: JobTimelineEntry[];
  /** Parts the server acknowledged for the current session. */
  partsAcknowledged: number;
  /** Provider note on resume granularity (e.g. Xvid re-sends the whole file). */
  resumeNote: string | null;
}

export interface Page<T> {
  items: T[];
  /** Rows matching the filter, whatever limit and offset say. */
  total: number;
}

/** Per-id outcome of a bulk job command: what changed, and why the others did not. */
export interface BulkResult {
  jobs: JobView[];
  errors: Array<{ id: number; code: ApiErrorCode; message: string }>;
}

export interface RemoveResult {
  removed: number[];
  errors: Array<{ id: number; code: ApiErrorCode; message: string }>;
}

export interface ConnectionTestResult {
  ok: boolean;
  /** What was checked, in words ("OFAuth accepted the API key and connection id: ..."). */
  checked: string;
  /** Why it failed; null when ok. */
  message: string | null;
}

export type Theme = 'system' | 'light' | 'dark';

export interface Settings {
  /** Uploads at once across every account (the engine's jobs-in-flight limit). */
  globalConcurrency: number;
  closeToTray: boolean;
  startAtLogin: boolean;
  notifications: boolean;
  theme: Theme;
  /**
   * Watched folders: seconds a file must go without any change (its mtime and ctime) before a rule
   * moves or deletes it after its upload, checked again right before the action. Uploading does not
   * wait for it; only the move or delete does.
   */
  syncQuietSeconds: number;
  /** Days a file deleted by a watched folder stays in Ferry's trash (restorable) before it is purged. */
  syncTrashDays: number;
  /**
   * Upload bandwidth limit in rclone's syntax: `off`, a rate (`512K`, `2M`, bytes per second) or a
   * timetable (`"08:00,512K 19:00,4M 23:00,off"`, also `Mon-08:00,512K`). An account's own limit is
   * its setting `bwlimit`. Enforced by the engine; a stored `bandwidthCapKbps` of earlier versions is
   * read as its bwlimit until one is saved.
   */
  bwlimit: string;
  /**
   * Proxy for provider requests: `system` (the desktop app's system proxy; the `HTTPS_PROXY`,
   * `HTTP_PROXY` and `NO_PROXY` variables for `ferry` and `ferry serve`), `direct` (none), or a proxy
   * URL such as `http://user:pass@proxy:3128`. An account's own proxy is its setting `proxy`.
   */
  proxy: string;
  /** What is copied to the clipboard when an upload completes. */
  autoCopyLink: AutoCopyLink;
  /** The window's and the tray's language: the system's, or a fixed one. */
  language: Language;
  /** A global shortcut (Electron accelerator, e.g. `CommandOrControl+Shift+U`) that uploads the clipboard; `""` is off. */
  clipboardHotkey: string;
  /** Check for updates on start and daily. */
  autoUpdate: boolean;
  /** The generic update feed (electron-updater's `generic` provider URL); `""` when none is set up. */
  updateUrl: string;
}

export const AUTO_COPY_LINKS = ['off', 'url', 'markdown', 'html'] as const;
export type AutoCopyLink = (typeof AUTO_COPY_LINKS)[number];
/**
 * The text copied for a finished upload in the chosen style, or null when there is nothing to copy
 * (style `off`, or a result without a URL). Shared by the desktop app (Electron's clipboard, the
 * notification's click) and the renderer (the browser's clipboard under `ferry serve`).
 * Markdown shows images inline; HTML escapes what it quotes.
 */
export function formatCopiedLink(
  style: AutoCopyLink,
  link: { url: string | null; name: string; mime?: string | null },
): string | null {
  if (style === 'off' || !link.url) return null;
  const image = link.mime ? link.mime.startsWith('image/') : /\.(png|jpe?g|gif|webp|avif|bmp|svg)$/i.test(link.name);
  if (style === 'url') return link.url;
  if (style === 'markdown') {
    const label = link.name.replace(/([\\[\]])/g, '\\$1');
    // Brackets and spaces would end a Markdown link target early: percent-encode them.
    const target = link.url.replace(
      /[()\s]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
    );
    return image ? `![${label}](${target})` : `[${label}](${target})`;
  }
  const escape = (text: string): string =>
    text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
  return image
    ? `<img src="${escape(link.url)}" alt="${escape(link.name)}">`
    : `<a href="${escape(link.url)}">${escape(link.name)}</a>`;
}

export const LANGUAGES = ['system', 'en', 'de'] as const;
export type Language = (typeof LANGUAGES)[number];

/** Jobs and bytes of one state (or of all of them): bytes of jobs whose size is known. */
export interface JobTally {
  count: number;
  /** Sum of the known sizes. */
  bytesTotal: number;
  /** Bytes the servers acknowledged, never more than a job's size. */
  bytesConfirmed: number;
  /** Jobs whose size is not known yet (URL imports before the provider fetched them). */
  sizeUnknown: number;
}

/** Exact totals of the whole queue, read in one aggregate query. */
export interface JobsSummary {
  states: Record<JobState, JobTally>;
  all: JobTally;
}

export type AfterUploadAction = 'keep' | 'move' | 'delete';

/**
 * What a watched folder is doing in this process:
 * - `watching`: its watcher runs; `starting`: added or resumed, the watcher is being set up;
 * - `paused`: the rule is paused; `error`: the folder cannot be watched (message says why, retried);
 * - `elsewhere`: this process does not run the uploads; the one that holds the queue watches it.
 */
export type SyncRuleState = 'watching' | 'starting' | 'paused' | 'error' | 'elsewhere';

export interface SyncRuleCounts {
  /** Files uploaded through this folder. */
  uploaded: number;
  /** Files whose upload is queued or running. */
  queued: number;
  /** Files waiting to be complete (still being written) or about to be queued. */
  pending: number;
  /** Files the provider cannot take (type, size); looked at again when they change. */
  refused: number;
  /** Files whose upload failed or was canceled. */
  failed: number;
  /** Files skipped because the same content was already uploaded or queued for this account. */
  duplicate: number;
}

export interface SyncRuleInfo {
  id: number;
  accountId: number;
  /** Null only when the account vanished between two reads. */
  accountName: string | null;
  provider: string | null;
  /** Absolute path of the watched folder. */
  dir: string;
  /** Globs relative to the folder; empty means every file. */
  include: string[];
  exclude: string[];
  recursive: boolean;
  afterUpload: AfterUploadAction;
  /** The subfolder uploaded files move to (only with afterUpload "move"). */
  moveTo: string | null;
  paused: boolean;
  status: SyncRuleState;
  /** Why the folder is in error, or what `elsewhere` means; null otherwise. */
  statusMessage: string | null;
  counts: SyncRuleCounts;
  /**
   * The latest refused and failed files with the reason (at most 20), then uploaded files that a
   * move or delete rule kept and why (`kept`: e.g. no completed upload sent exactly that content).
   */
  problems: Array<{ path: string; state: 'refused' | 'failed' | 'kept'; reason: string | null }>;
  createdAt: number;
}

export interface AppStatus {
  /** False when another Ferry process holds the data folder's engine lock: commands still work. */
  engineRunning: boolean;
  /** Why the engine is not running, or null. */
  engineNote: string | null;
  version: string;
  /**
   * Hosts the engine of this process cannot reach right now: their jobs wait for the network
   * ("Waiting for network") without using up their retries. Absent when every host is reachable.
   */
  offlineHosts?: OfflineHostInfo[];
}

/** A host the engine cannot reach (see AppStatus.offlineHosts). */
export interface OfflineHostInfo {
  /** `host:port` as the user reads it. */
  host: string;
  /** Why the last probe failed: ECONNREFUSED, ENOTFOUND, ENETUNREACH... */
  code: string;
  /** Since when (ms since the epoch). */
  since: number;
}

/** A host became unreachable or reachable again (event `network.changed`). */
export interface NetworkChanged {
  host: string;
  state: 'offline' | 'online';
  /** Why it cannot be reached (offline only), else null. */
  code: string | null;
  /** Every host that cannot be reached after this change (empty: all reachable again). */
  offlineHosts: OfflineHostInfo[];
}

// Inputs --------------------------------------------------------------------------------------------

export interface AccountAddInput {
  provider: string;
  name: string;
  baseUrl?: string | null;
  settings?: Record<string, string>;
  secrets?: Record<string, string>;
  concurrency?: number;
}

export interface AccountUpdateInput {
  /** The account's current name. */
  account: string;
  /** A new name. */
  name?: string;
  /** A new API origin; null or "" returns to the provider default. */
  baseUrl?: string | null;
  /** Settings to change; "" clears an optional setting. Settings not named keep their value. */
  settings?: Record<string, string>;
  /** Secrets to replace; a secret left out or given as "" keeps its stored value. */
  secrets?: Record<string, string>;
  concurrency?: number;
}

export interface AccountRefInput {
  account: string;
}

export interface AccountConcurrencyInput {
  account: string;
  concurrency: number;
}

export interface JobsEnqueueInput {
  account: string;
  /** Files, folders (expanded) or http(s) URLs (pull providers). */
  paths: string[];
  /** Per-upload options, e.g. title. */
  options?: Record<string, string>;
}

export interface JobsListInput {
  states?: JobState[];
  accountId?: number;
  /** Matches name or source, case-insensitively, as a plain substring. */
  search?: string;
  limit?: number;
  offset?: number;
  /**
   * Only jobs after this one in queue order: the `position` and `id` of the previous page's last job.
   * Paging this way costs the same on the thousandth page as on the first; a large offset does not.
   */
  after?: { position: number; id: number };
}

export interface JobIdInput {
  id: number;
}

export interface JobIdsInput {
  ids: number[];
}

export type FinishedState = 'completed' | 'failed' | 'canceled';

export interface HistoryListInput {
  states?: FinishedState[];
  accountId?: number;
  search?: string;
  limit?: number;
  offset?: number;
}

export interface HistoryExportInput {
  format: 'csv' | 'json';
  states?: FinishedState[];
  accountId?: number;
  search?: string;
}

export interface SyncAddInput {
  account: string;
  /** Absolute path of an existing folder (on the computer Ferry runs on). */
  dir: string;
  include?: string[];
  exclude?: string[];
  /** Default true: files in subfolders too. */
  recursive?: boolean;
  /** Default "keep". */
  afterUpload?: AfterUploadAction;
  /** Subfolder for afterUpload "move" (default "uploaded"). */
  moveTo?: string;
}

export interface SyncRuleRefInput {
  id: number;
}

/** A file a watched folder's "delete" put in Ferry's trash (restorable until `expiresAt`). */
export interface SyncTrashEntry {
  id: number;
  /** Where it was, and where a restore puts it back. */
  path: string;
  /** Where it is now, inside the data folder's `trash/`. */
  trashPath: string;
  size: number;
  sha256: string;
  ruleId: number | null;
  jobId: number | null;
  trashedAt: number;
  /** When it will be purged (the `syncTrashDays` setting). */
  expiresAt: number;
  /** False when its file is missing from the trash folder (then it cannot be restored). */
  present: boolean;
  /** Set once restored. */
  restoredAt: number | null;
}

export interface SyncTrashRefInput {
  id: number;
}

// The table -----------------------------------------------------------------------------------------

export interface ApiCommands {
  'app.status': { input: NoInput; output: AppStatus };
  'providers.list': { input: NoInput; output: ProviderInfo[] };
  'accounts.list': { input: NoInput; output: AccountInfo[] };
  'accounts.add': { input: AccountAddInput; output: AccountInfo };
  'accounts.update': { input: AccountUpdateInput; output: AccountInfo };
  'accounts.remove': { input: AccountRefInput; output: { removed: string } };
  'accounts.test': { input: AccountRefInput; output: ConnectionTestResult };
  /**
   * Pauses the account's lane: no new upload of this account starts until it is resumed. Uploads
   * already running finish their current run (the engine does not abort them); pause the jobs
   * themselves to stop them at once.
   */
  'accounts.pause': { input: AccountRefInput; output: AccountInfo };
  'accounts.resume': { input: AccountRefInput; output: AccountInfo };
  'accounts.setConcurrency': { input: AccountConcurrencyInput; output: AccountInfo };
  'jobs.enqueue': { input: JobsEnqueueInput; output: JobView[] };
  'jobs.list': { input: JobsListInput; output: Page<JobView> };
  'jobs.get': { input: JobIdInput; output: JobDetail };
  'jobs.pause': { input: JobIdsInput; output: BulkResult };
  'jobs.resume': { input: JobIdsInput; output: BulkResult };
  'jobs.cancel': { input: JobIdsInput; output: BulkResult };
  'jobs.retry': { input: JobIdsInput; output: BulkResult };
  'jobs.remove': { input: JobIdsInput; output: RemoveResult };
  'jobs.pauseAll': { input: NoInput; output: BulkResult };
  'jobs.resumeAll': { input: NoInput; output: BulkResult };
  /** Puts the jobs before every other one, keeping their order among themselves. */
  'jobs.moveToTop': { input: JobIdsInput; output: BulkResult };
  /** Exact counts and bytes per state and overall (one aggregate query, whatever the queue size). */
  'jobs.summary': { input: NoInput; output: JobsSummary };
  'history.list': { input: HistoryListInput; output: Page<JobView> };
  /** The export file's text: CSV (RFC 4180, CRLF) or JSON. */
  'history.export': { input: HistoryExportInput; output: string };
  'settings.get': { input: NoInput; output: Settings };
  /** Changes the settings named; returns all of them. */
  'settings.set': { input: Partial<Settings>; output: Settings };
  /** Watched folders with their status and what happened to their files. */
  'sync.list': { input: NoInput; output: SyncRuleInfo[] };
  /** Watches a folder for an account: CONFLICT when it is already watched for that account. */
  'sync.add': { input: SyncAddInput; output: SyncRuleInfo };
  /** Stops watching; files already uploaded are still never sent again. */
  'sync.remove': { input: SyncRuleRefInput; output: { removed: number } };
  'sync.pause': { input: SyncRuleRefInput; output: SyncRuleInfo };
  'sync.resume': { input: SyncRuleRefInput; output: SyncRuleInfo };
  'sync.pauseAll': { input: NoInput; output: SyncRuleInfo[] };
  'sync.resumeAll': { input: NoInput; output: SyncRuleInfo[] };
  /** Files in Ferry's trash (put there by "delete" rules), newest first. */
  'sync.trashList': { input: NoInput; output: SyncTrashEntry[] };
  /** Puts a trashed file back where it was: CONFLICT when a file is there now (never overwritten). */
  'sync.trashRestore': { input: SyncTrashRefInput; output: SyncTrashEntry };
}

export type CommandName = keyof ApiCommands;
export type CommandInput<K extends CommandName> = ApiCommands[K]['input'];
export type CommandOutput<K extends CommandName> = ApiCommands[K]['output'];

export const COMMAND_NAMES = [
  'app.status',
  'providers.list',
  'accounts.list',
  'accounts.add',
  'accounts.update',
  'accounts.remove',
  'accounts.test',
  'accounts.pause',
  'accounts.resume',
  'accounts.setConcurrency',
  'jobs.enqueue',
  'jobs.list',
  'jobs.get',
  'jobs.pause',
  'jobs.resume',
  'jobs.cancel',
  'jobs.retry',
  'jobs.remove',
  'jobs.pauseAll',
  'jobs.resumeAll',
  'jobs.moveToTop',
  'jobs.summary',
  'history.list',
  'history.export',
  'settings.get',
  'settings.set',
  'sync.list',
  'sync.add',
  'sync.remove',
  'sync.pause',
  'sync.resume',
  'sync.pauseAll',
  'sync.resumeAll',
  'sync.trashList',
  'sync.trashRestore',
] as const satisfies readonly CommandName[];

// Events --------------------------------------------------------------------------------------------

export interface ProgressItem {
  jobId: number;
  bytesDone: number;
  total: number | null;
  bytesPerSecond: number;
}

export interface JobsChanged {
  /** The rows as they are now. */
  jobs: JobView[];
  /** Ids of jobs that no longer exist. */
  removed: number[];
}

export interface Notice {
  level: 'info' | 'warning' | 'error';
  message: string;
  at: number;
}

export interface ApiEvents {
  'jobs.changed': JobsChanged;
  /** At most ~10 messages a second per subscriber, merged by job id, whatever the number of jobs. */
  progress: ProgressItem[];
  'accounts.changed': AccountInfo[];
  'settings.changed': Settings;
  /**
   * Every watched folder as it is now, sent when a rule, its status or its counts changed (gathered
   * like jobs.changed: a burst of files costs a few messages, not one per file).
   */
  'sync.changed': SyncRuleInfo[];
  notice: Notice;
  /** A host of an account became unreachable (its jobs wait for the network) or reachable again. */
  'network.changed': NetworkChanged;
}

export type EventName = keyof ApiEvents;

export const EVENT_NAMES = [
  'jobs.changed',
  'progress',
  'accounts.changed',
  'settings.changed',
  'sync.changed',
  'notice',
  'network.changed',
] as const satisfies readonly EventName[];

/** One event as it is delivered to a subscriber (and sent over WebSocket as is). */
export type ApiEvent = { [E in EventName]: { event: E; payload: ApiEvents[E] } }[EventName];

// Transports ----------------------------------------------------------------------------------------

/** What the preload exposes as `window.ferry` and what the WebSocket client implements. */
export interface FerryBridge {
  call<K extends CommandName>(command: K, input: CommandInput<K>): Promise<ApiResult<CommandOutput<K>>>;
  /** Returns the function that unsubscribes. */
  on<E extends EventName>(event: E, listener: (payload: ApiEvents[E]) => void): () => void;
}

/** WebSocket frames of `ferry serve`. */
export interface WsRequest {
  id: string | number;
  command: string;
  input?: unknown;
}

export type WsResponse = { id: string | number | null } & (
  { ok: true; value: unknown } | { ok: false; error: ApiErrorPayload }
);
