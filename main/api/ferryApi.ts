/**
 * The transport-agnostic API: the command table, a dispatcher that never throws, and the event hub
 * every transport subscribes to. Electron's ipcMain and `ferry serve`'s WebSocket both do exactly
 * this: `call(name, input)` → envelope, `subscribe(listener)` → events.
 *
 * Guarantees, whatever the input: a well-formed `{ok, value | error}` envelope; input validated with
 * zod before any handler runs; no secret value in any response or event (views leave them out and
 * a redactor scrubs every string as well); progress coalesced per subscriber.
 */
import type { Db } from '../db/database.ts';
import type { Job } from '../db/jobsRepository.ts';
import type { ProgressUpdate } from '../engine/engine.ts';
import type { Queue } from '../engine/queue.ts';
import { findDescription } from '../providers/catalog.ts';
import type { ProviderAdapter } from '../providers/types.ts';
import { oneLine, toErrorPayload } from './apiError.ts';
import { createCommandTable, neededStagedSources, type CommandTable } from './commands.ts';
import type { ProbeAccount } from './connectionTest.ts';
import {
  COMMAND_NAMES,
  type ApiEvent,
  type ApiEvents,
  type ApiResult,
  type AppStatus,
  type CommandInput,
  type CommandName,
  type CommandOutput,
  type ConnectionTestResult,
  type EventName,
  type Notice,
  type OfflineHostInfo,
  type Settings,
} from './contract.ts';
import { plainAnswer } from './plainData.ts';
import { ProgressCoalescer } from './progressCoalescer.ts';
import { SecretRedactor } from './secretRedactor.ts';
import { SettingsStore } from './settingsStore.ts';
import type { SystemProxy } from '../engine/proxy.ts';
import { StagingArea } from './staging.ts';
import { syncRuleInfos, type SyncHost } from './syncViews.ts';
import { accountInfo, jobView } from './views.ts';

/** The part of the Engine the API listens to (a fake in tests). */
export interface ProgressSource {
  on(event: 'progress', listener: (updates: ProgressUpdate[]) => void): unknown;
  off(event: 'progress', listener: (updates: ProgressUpdate[]) => void): unknown;
}

/** The engine's view of the network, as the API follows it (the Engine, or a fake). */
export interface NetworkSource {
  offlineHosts(): Array<{ host: string; code: string; since: number }>;
  on(
    event: 'network',
    listener: (change: { host: string; state: 'offline' | 'online'; code?: string }) => void,
  ): unknown;
  off(
    event: 'network',
    listener: (change: { host: string; state: 'offline' | 'online'; code?: string }) => void,
  ): unknown;
}

/** The watched-folder service of this process, as the API follows it (a SyncService, or a fake). */
export interface SyncSource extends SyncHost {
  on(event: 'file' | 'activity', listener: () => void): unknown;
  off(event: 'file' | 'activity', listener: () => void): unknown;
}

export interface FerryApiOptions {
  queue: Queue;
  /** The queue's database, handed in by the composition root: the settings, sync rules and trash live in it. */
  db: Db;
  dataDir: string;
  /** Progress events of the engine running in this process, if any. */
  progress?: ProgressSource | null;
  /** Whether this process runs the engine, and why not. */
  engine?: { running: boolean; note: string | null };
  version?: string;
  /** Where unexpected errors go, with their stack. Never the client. */
  log?: (message: string, error?: unknown) => void;
  /** Per-subscriber progress interval (default 100 ms: ~10 messages a second). */
  progressIntervalMs?: number;
  /** Window in which job changes are gathered into one `jobs.changed` (default 50 ms). */
  jobsChangedDelayMs?: number;
  /** The watched folders of this process, if it runs them (see `setSyncSource`). */
  sync?: SyncSource | null;
  /** Window in which watched-folder changes are gathered into one `sync.changed` (default 200 ms). */
  syncChangedDelayMs?: number;
  testConnection?: (adapter: ProviderAdapter, account: ProbeAccount) => Promise<ConnectionTestResult>;
  /** What the `system` proxy setting means here (the desktop app's resolver); default: the environment. */
  systemProxy?: SystemProxy;
}

/**
 * A subscriber's listener. Returning false for a progress event means "cannot take it now" (e.g. a
 * WebSocket whose send buffer is full): the coalescer keeps it and merges it into the next message.
 */
export type EventListener = (event: ApiEvent) => boolean | void;

interface Subscriber {
  listener: EventListener;
  coalescer: ProgressCoalescer;
}

export type SettingsListener = (settings: Settings, previous: Settings) => void;

export class FerryApi {
  readonly queue: Queue;
  readonly #db: Db;
  readonly settings: SettingsStore;
  readonly staging: StagingArea;
  readonly commands: CommandTable;
  readonly #redactor = new SecretRedactor();
  readonly #subscribers = new Set<Subscriber>();
  readonly #settingsListeners = new Set<SettingsListener>();
  readonly #log: (message: string, error?: unknown) => void;
  readonly #progressIntervalMs: number;
  readonly #jobsChangedDelayMs: number;
  readonly #syncChangedDelayMs: number;
  readonly #version: string;
  #engine: { running: boolean; note: string | null };
  #progress: ProgressSource | null = null;
  #pendingJobs = new Map<number, Job>();
  #pendingRemoved = new Set<number>();
  #jobsTimer: NodeJS.Timeout | undefined;
  #sync: SyncSource | null = null;
  #syncTimer: NodeJS.Timeout | undefined;
  /** The last `sync.changed` payload sent, as JSON: an unchanged list is not sent again. */
  #lastSync = '';
  #closed = false;

  readonly #onSyncActivity = (): void => this.#armSyncChanged();

  readonly #onJob = (job: Job): void => {
    this.#pendingRemoved.delete(job.id);
    this.#pendingJobs.set(job.id, job);
    this.#armJobsChanged();
    if (job.state === 'completed' && this.staging.isStaged(job.source)) {
      // Completed jobs cannot be retried: their staged copy has done its work.
      this.staging
        .release(job.source)
        .catch((error: unknown) => this.#log(`Could not delete the staged copy ${job.source}`, error));
    }
  };

  readonly #onAccounts = (): void => {
    void this.#refreshSecrets().then(() => this.#emitAccounts());
    // Watched folders show their account's name.
    this.#armSyncChanged();
  };

  #lastFault: { message: string; at: number } | null = null;

  readonly #onProgress = (updates: ProgressUpdate[]): void => {
    const items = updates.map((update) => ({
      jobId: update.jobId,
      bytesDone: update.bytesDone,
      total: update.total,
      bytesPerSecond: update.bytesPerSecond,
    }));
    for (const subscriber of this.#subscribers) subscriber.coalescer.push(items);
  };

  constructor(options: FerryApiOptions) {
    this.queue = options.queue;
    this.#db = options.db;
    this.settings = new SettingsStore(options.db);
    this.staging = new StagingArea(options.dataDir);
    this.#log = options.log ?? ((message, error) => console.error(`ferry: ${message}`, error ?? ''));
    this.#progressIntervalMs = options.progressIntervalMs ?? 100;
    this.#jobsChangedDelayMs = options.jobsChangedDelayMs ?? 50;
    this.#syncChangedDelayMs = options.syncChangedDelayMs ?? 200;
    this.#version = options.version ?? 'unknown';
    this.#engine = options.engine ?? { running: options.progress != null, note: null };
    this.commands = createCommandTable({
      queue: this.queue,
      db: options.db,
      settings: this.settings,
      staging: this.staging,
      status: (): AppStatus => ({
        engineRunning: this.#engine.running,
        engineNote: this.#engine.note,
        version: this.#version,
        ...this.#offlineHostsField(),
      }),
      testConnection:
        options.testConnection ??
        // Loaded with the first test: it brings the HTTP client and the proxy agents, which a command
        // that only reads the queue (`ferry list`) does not need.
        (async (adapter, account) =>
          (await import('./connectionTest.ts')).testConnection(adapter, account, undefined, {
            global: () => this.settings.get().proxy,
            ...(options.systemProxy ? { system: options.systemProxy } : {}),
          })),
      accountsChanged: async (secrets) => {
        if (secrets) this.#redactor.remember(secrets);
        await this.#refreshSecrets();
      },
      jobsRemoved: (ids) => {
        for (const id of ids) {
          this.#pendingJobs.delete(id);
          this.#pendingRemoved.add(id);
        }
        if (ids.length > 0) this.#armJobsChanged();
      },
      settingsChanged: (settings, previous) => {
        this.#emit('settings.changed', settings);
        for (const listener of this.#settingsListeners) {
          try {
            listener(settings, previous);
          } catch (error) {
            this.#log('A settings listener failed', error);
          }
        }
      },
      sync: () => this.#sync,
      syncRulesChanged: async () => {
        this.#armSyncChanged();
        const sync = this.#sync;
        if (!sync) return;
        // Not awaited: activating a rule scans its folder, which may take a while for a big one.
        // The answer says "starting"; sync.changed follows once the watcher runs.
        sync
          .refresh()
          .catch((error: unknown) => this.#log('Could not apply the changed sync rules', error))
          .finally(() => this.#armSyncChanged());
      },
      log: (message, error) => this.#log(message, error),
    });
    this.queue.on('job', this.#onJob);
    this.queue.on('accounts', this.#onAccounts);
    this.setProgressSource(options.progress ?? null);
    this.setSyncSource(options.sync ?? null);
  }

  /** Loads the secret values to scrub and deletes staged copies no job needs. Call once at start. */
  async start(): Promise<void> {
    await this.#refreshSecrets();
    try {
      await this.staging.sweep(neededStagedSources(this.queue, this.staging));
    } catch (error) {
      this.#log('Could not clean the staging folder', error);
    }
  }

  /** Switches the engine whose progress is forwarded (an engine restarted with new limits). */
  setProgressSource(source: ProgressSource | null): void {
    this.#progress?.off('progress', this.#onProgress);
    this.#progress = source;
    source?.on('progress', this.#onProgress);
  }

  /** Follows the network state of the engine running in this process (null: none runs here). */
  setNetworkSource(source: NetworkSource | null): void {
    this.#network?.off('network', this.#onNetwork);
    this.#network = source;
    source?.on('network', this.#onNetwork);
  }

  #network: NetworkSource | null = null;
  readonly #onNetwork = (change: { host: string; state: 'offline' | 'online'; code?: string }): void => {
    this.#emit('network.changed', {
      host: change.host,
      state: change.state,
      code: change.code ?? null,
      offlineHosts: this.#offlineHosts(),
    });
  };

  #offlineHosts(): OfflineHostInfo[] {
    // The monitor's clock is the engine's; `since` is reported as wall time for the user.
    return (this.#network?.offlineHosts() ?? []).map(({ host, code, since }) => ({ host, code, since }));
  }

  #offlineHostsField(): { offlineHosts?: OfflineHostInfo[] } {
    const hosts = this.#offlineHosts();
    return hosts.length > 0 ? { offlineHosts: hosts } : {};
  }

  /** The watched folders this API follows, or null. */
  get syncSource(): SyncSource | null {
    return this.#sync;
  }

  /** Follows the watched folders of this process (null: another process runs them). */
  setSyncSource(source: SyncSource | null): void {
    this.#sync?.off('file', this.#onSyncActivity);
    this.#sync?.off('activity', this.#onSyncActivity);
    this.#sync = source;
    source?.on('file', this.#onSyncActivity);
    source?.on('activity', this.#onSyncActivity);
    this.#armSyncChanged();
  }

  setEngineStatus(running: boolean, note: string | null): void {
    this.#engine = { running, note };
  }

  /** Runs when `settings.set` changed something (the composition root applies what it can). */
  onSettingsChanged(listener: SettingsListener): () => void {
    this.#settingsListeners.add(listener);
    return () => this.#settingsListeners.delete(listener);
  }

  /**
   * Runs a command. Never throws and never rejects: unknown commands, malformed input and handler
   * failures all come back as `{ok: false, error}`.
   */
  async call(command: string, input: unknown): Promise<ApiResult<unknown>> {
    try {
      if (typeof command !== 'string' || !(COMMAND_NAMES as readonly string[]).includes(command)) {
        const shown = typeof command === 'string' ? JSON.stringify(command.slice(0, 60)) : typeof command;
        return { ok: false, error: { code: 'NOT_FOUND', message: `Ferry has no command ${shown}` } };
      }
      const name = command as CommandName;
      const spec = this.commands[name] as unknown as {
        input: {
          safeParse(
            value: unknown,
            params: { reportInput: boolean },
          ): { success: true; data: unknown } | { success: false; error: unknown };
        };
        handler: (value: unknown) => unknown;
        fresh?: boolean;
      };
      const parsed = spec.input.safeParse(input, { reportInput: true });
      if (!parsed.success)
        return { ok: false, error: this.#redactor.redact(toErrorPayload(name, parsed.error, this.#log)) };
      const value = await spec.handler(parsed.data);
      // What leaves is plain data on every transport (through JSON once, or checked where the handler
      // builds it afresh: plainData.ts), and the redactor sees it all.
      return { ok: true, value: this.#redactor.redact(plainAnswer(value, spec.fresh === true)) };
    } catch (error) {
      return { ok: false, error: this.#redactor.redact(toErrorPayload(String(command), error, this.#log)) };
    }
  }

  /** The typed form of `call`, for in-process callers (the CLI, tests). */
  invoke<K extends CommandName>(command: K, input: CommandInput<K>): Promise<ApiResult<CommandOutput<K>>> {
    return this.call(command, input) as Promise<ApiResult<CommandOutput<K>>>;
  }

  /** Subscribes to every event; returns the function that unsubscribes. */
  subscribe(listener: EventListener): () => void {
    const subscriber: Subscriber = {
      listener,
      coalescer: new ProgressCoalescer({
        intervalMs: this.#progressIntervalMs,
        deliver: (items) => this.#deliver(subscriber, { event: 'progress', payload: items }),
      }),
    };
    this.#subscribers.add(subscriber);
    if (!this.#engine.running && this.#engine.note) {
      // Sticky: whoever connects later must learn too that this process does not upload.
      const notice: ApiEvent = {
        event: 'notice',
        payload: { level: 'warning', message: this.#engine.note, at: Date.now() },
      };
      setImmediate(() => {
        if (this.#subscribers.has(subscriber)) this.#deliver(subscriber, this.#redactor.redact(notice));
      });
    }
    return () => {
      subscriber.coalescer.close();
      this.#subscribers.delete(subscriber);
    };
  }

  /** Tells every subscriber something worth showing (engine not running, a cleanup that failed...). */
  notice(level: Notice['level'], message: string): void {
    this.#emit('notice', { level, message: oneLine(message), at: Date.now() });
  }

  /**
   * Says that the machine got in the way of the uploads (disk full, database locked): once, and again
   * only when the message changes or a minute has passed, since the engine retries every few seconds.
   */
  machineFault(message: string): void {
    const now = Date.now();
    if (this.#lastFault && this.#lastFault.message === message && now - this.#lastFault.at < 60_000) return;
    this.#lastFault = { message, at: now };
    this.notice('error', message);
  }

  /** Re-sends rows changed by another process (`ferry serve` follows a queue it does not run). */
  announceJobs(jobs: readonly Job[]): void {
    for (const job of jobs) this.#onJob(job);
    // The other process also watches the folders: their counts follow its jobs.
    if (jobs.length > 0 && this.#sync === null) this.#armSyncChanged();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.queue.off('job', this.#onJob);
    this.queue.off('accounts', this.#onAccounts);
    this.setProgressSource(null);
    this.setSyncSource(null);
    clearTimeout(this.#jobsTimer);
    clearTimeout(this.#syncTimer);
    for (const subscriber of this.#subscribers) subscriber.coalescer.close();
    this.#subscribers.clear();
    this.#settingsListeners.clear();
  }

  // Internals ---------------------------------------------------------------------------------------

  async #refreshSecrets(): Promise<void> {
    try {
      await this.#redactor.refresh(
        { get: (id) => this.queue.accounts.secretsOf(id) },
        this.queue.accounts.list().map((account) => account.id),
      );
    } catch (error) {
      this.#log('Could not read the stored secrets', error);
    }
  }

  #emit<E extends EventName>(event: E, payload: ApiEvents[E]): void {
    if (this.#closed) return;
    const message = this.#redactor.redact({ event, payload }) as ApiEvent;
    for (const subscriber of this.#subscribers) this.#deliver(subscriber, message);
  }

  #deliver(subscriber: Subscriber, message: ApiEvent): boolean {
    try {
      return subscriber.listener(message) !== false;
    } catch (error) {
      this.#log(`A subscriber failed to take a ${message.event} event`, error);
      return true;
    }
  }

  #armJobsChanged(): void {
    if (this.#jobsTimer !== undefined || this.#closed) return;
    this.#jobsTimer = setTimeout(() => this.#flushJobsChanged(), this.#jobsChangedDelayMs);
  }

  #flushJobsChanged(): void {
    this.#jobsTimer = undefined;
    const jobs = [...this.#pendingJobs.values()];
    const removed = [...this.#pendingRemoved];
    this.#pendingJobs = new Map();
    this.#pendingRemoved = new Set();
    if (jobs.length === 0 && removed.length === 0) return;
    try {
      const accounts = new Map(this.queue.accounts.list().map((account) => [account.id, account]));
      const views = jobs.map((job) => jobView(job, accounts.get(job.accountId), this.staging.isStaged(job.source)));
      this.#emit('jobs.changed', { jobs: views, removed });
    } catch (error) {
      this.#log('Could not send job changes', error);
    }
  }

  #armSyncChanged(): void {
    if (this.#syncTimer !== undefined || this.#closed) return;
    this.#syncTimer = setTimeout(() => this.#flushSyncChanged(), this.#syncChangedDelayMs);
  }

  #flushSyncChanged(): void {
    this.#syncTimer = undefined;
    if (this.#closed || this.#subscribers.size === 0) {
      // Whoever subscribes later reads the list first (sync.list); the next change is sent in full.
      this.#lastSync = '';
      return;
    }
    try {
      const rules = syncRuleInfos({ db: this.#db, queue: this.queue }, this.#sync);
      const text = JSON.stringify(rules);
      if (text === this.#lastSync) return;
      this.#lastSync = text;
      this.#emit('sync.changed', rules);
    } catch (error) {
      this.#log('Could not send watched-folder changes', error);
    }
  }

  async #emitAccounts(): Promise<void> {
    try {
      const views = await Promise.all(
        this.queue.accounts
          .list()
          .map(async (account) =>
            accountInfo(
              await this.queue.accounts.view(account),
              findDescription(account.provider)?.displayName ?? account.provider,
            ),
          ),
      );
      this.#emit('accounts.changed', views);
    } catch (error) {
      this.#log('Could not send account changes', error);
    }
  }
}
