/**
 * The persistent queue: accounts and jobs in SQLite, every job state change checked against the
 * transition table inside one transaction, and the control commands (enqueue, pause, resume, cancel,
 * retry, remove, move to top). It runs nothing itself; the Engine does. The CLI uses it directly for
 * commands that only change the queue, so they work whether or not another process is uploading.
 */
import { EventEmitter } from 'node:events';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import mime from 'mime-types';
import { AccountsRepository, type Account } from '../db/accountsRepository.ts';
import { transaction, transactionSyncedLater, type Db } from '../db/database.ts';
import { JobsRepository, type Job, type JobPatch, type NewJob } from '../db/jobsRepository.ts';
import type { ProviderAdapter, UploadSource } from '../providers/types.ts';
import type { SecretStore } from '../secrets/secretStore.ts';
import { FerryError, UploadError, type ErrorKind } from '../core/errors.ts';
import { fingerprintFile, statFile } from './fileSource.ts';
import { proxySettingProblem } from './proxySetting.ts';
import { ACTIVE_STATES, TERMINAL_STATES, assertTransition, type JobState } from '../core/jobState.ts';

/** A command-level failure: the request was wrong, nothing was changed. */
/** The event message of a retry asked for by the user (the engine counts new sessions from it). */
export const RETRY_REQUESTED = 'Retry requested';

export interface AccountView extends Account {
  /** Which secrets are stored; values never leave the SecretStore through here. */
  secretsSet: Record<string, boolean>;
}

export interface NewAccountInput {
  provider: string;
  name: string;
  baseUrl?: string | null;
  settings?: Record<string, string>;
  secrets?: Record<string, string>;
  concurrency?: number;
}

export interface QueueOptions {
  db: Db;
  secrets: SecretStore;
  /**
   * The adapter of each provider, handed in by the composition root (main/providers/registry.ts's
   * `getAdapter`): the engine never imports an adapter.
   */
  adapterFor: (provider: string) => ProviderAdapter;
}

/** Names that are never uploaded when a folder is expanded. */
const JUNK = /^(\..*|Thumbs\.db|desktop\.ini|~\$.*)$/i;

export interface QueueEvents {
  job: [Job];
  accounts: [];
}

export class Queue extends EventEmitter<QueueEvents> {
  readonly db: Db;
  readonly accounts: AccountsRepository;
  readonly jobs: JobsRepository;
  readonly secrets: SecretStore;
  readonly adapterFor: (provider: string) => ProviderAdapter;

  constructor(options: QueueOptions) {
    super();
    this.db = options.db;
    this.accounts = new AccountsRepository(options.db);
    this.jobs = new JobsRepository(options.db);
    this.secrets = options.secrets;
    this.adapterFor = options.adapterFor;
  }

  // Accounts ----------------------------------------------------------------------------------------

  async addAccount(input: NewAccountInput): Promise<AccountView> {
    const adapter = this.adapterFor(input.provider);
    const name = input.name.trim();
    // Messages name fields, not command-line flags: the window, `ferry serve` and the `ferry` command all
    // show them.
    if (!name) throw new FerryError('invalid', 'An account needs a name');
    if (this.accounts.byName(name)) {
      throw new FerryError(
        'conflict',
        `An account named "${name}" already exists; choose another name or remove it first`,
      );
    }
    const settings = { ...input.settings };
    const secrets = { ...input.secrets };
    for (const field of adapter.fields) {
      const bag = field.kind === 'secret' ? secrets : settings;
      const value = bag[field.key];
      if (value === undefined && field.default !== undefined && field.kind === 'setting')
        bag[field.key] = field.default;
      if ((bag[field.key] ?? '') === '' && field.required) {
        throw new FerryError(
          'invalid',
          `${adapter.displayName} needs ${field.label} (the ${field.kind} "${field.key}")`,
        );
      }
      if (value !== undefined && field.choices && !field.choices.includes(value)) {
        throw new FerryError('invalid', `${field.label} must be one of ${field.choices.join(', ')} (got "${value}")`);
      }
    }
    const known = new Set(adapter.fields.map((field) => `${field.kind}:${field.key}`));
    for (const key of Object.keys(settings)) {
      if (key === 'proxy') {
        // Every provider's: the account's own proxy (proxySetting.ts).
        const problem = proxySettingProblem(settings.proxy ?? '', 'account');
        if (problem !== null) throw new FerryError('invalid', `The account's proxy ${problem}`);
        continue;
      }
      if (!known.has(`setting:${key}`)) {
        const hint = known.has(`secret:${key}`) ? ' (it is a secret, not a setting)' : '';
        throw new FerryError('invalid', `${adapter.displayName} has no setting "${key}"${hint}`);
      }
    }
    for (const key of Object.keys(secrets)) {
      if (!known.has(`secret:${key}`)) {
        const hint = known.has(`setting:${key}`) ? ' (it is a setting, not a secret)' : '';
        throw new FerryError('invalid', `${adapter.displayName} has no secret "${key}"${hint}`);
      }
    }
    const baseUrl = normalizeBaseUrl(input.baseUrl ?? null);
    if (baseUrl === null && adapter.capabilities.defaultBaseUrl === null) {
      throw new FerryError(
        'invalid',
        `${adapter.displayName} accounts need the site's address as their base URL (https://...)`,
      );
    }
    const account = this.accounts.insert({
      name,
      provider: adapter.id,
      baseUrl,
      settings,
      ...(input.concurrency !== undefined ? { concurrency: input.concurrency } : {}),
    });
    try {
      await this.secrets.set(account.id, secrets);
    } catch (error) {
      this.accounts.remove(account.id);
      throw error;
    }
    this.emit('accounts');
    return this.viewAccount(account);
  }

  async listAccounts(): Promise<AccountView[]> {
    return Promise.all(this.accounts.list().map((account) => this.viewAccount(account)));
  }

  async viewAccount(account: Account): Promise<AccountView> {
    const stored = await this.secrets.get(account.id);
    const adapter = this.adapterFor(account.provider);
    const secretsSet: Record<string, boolean> = {};
    for (const field of adapter.fields) if (field.kind === 'secret') secretsSet[field.key] = Boolean(stored[field.key]);
    return { ...account, secretsSet };
  }

  requireAccount(name: string): Account {
    const account = this.accounts.byName(name);
    if (!account) {
      const names = this.accounts.list().map((a) => a.name);
      const known = names.length ? `known accounts: ${names.join(', ')}` : 'add one with "ferry accounts add"';
      throw new FerryError('not-found', `No account named "${name}" (${known})`);
    }
    return account;
  }

  async removeAccount(name: string): Promise<void> {
    const account = this.requireAccount(name);
    const active = this.jobs.list({ accountId: account.id, states: [...ACTIVE_STATES] });
    if (active.length > 0) {
      throw new FerryError(
        'conflict',
        `Account "${name}" has ${active.length} upload(s) in progress; pause or cancel them first`,
      );
    }
    this.accounts.remove(account.id);
    await this.secrets.delete(account.id);
    this.emit('accounts');
  }

  /**
   * Changes an account's stored fields and, when given, replaces its secrets. The caller validates
   * the values against the provider's fields; this checks only that a new name is free.
   */
  async updateAccount(
    name: string,
    patch: Partial<Pick<Account, 'name' | 'baseUrl' | 'settings' | 'concurrency' | 'paused'>>,
    secrets?: Record<string, string>,
  ): Promise<AccountView> {
    const account = this.requireAccount(name);
    if (patch.name !== undefined && patch.name !== account.name && this.accounts.byName(patch.name)) {
      throw new FerryError('conflict', `An account named "${patch.name}" already exists; choose another name`);
    }
    this.accounts.update(account.id, patch);
    if (secrets) await this.secrets.set(account.id, secrets);
    this.emit('accounts');
    return this.viewAccount(this.accounts.get(account.id)!);
  }

  // Jobs --------------------------------------------------------------------------------------------

  /**
   * Validates every source first and queues all of them or none: a bad path, a file the provider
   * cannot take or an unknown account changes nothing.
   */
  async enqueue(accountName: string, inputs: readonly string[], options: Record<string, string> = {}): Promise<Job[]> {
    const account = this.requireAccount(accountName);
    const adapter = this.adapterFor(account.provider);
    if (inputs.length === 0)
      throw new FerryError('invalid', 'Nothing to upload: give at least one file, folder or URL');
    const sources: UploadSource[] = [];
    for (const input of inputs) sources.push(...(await this.#expand(input, adapter)));
    if (sources.length === 0)
      throw new FerryError('invalid', `Nothing to upload in ${inputs.join(', ')} (empty folder?)`);
    const rows: NewJob[] = [];
    for (const source of sources) {
      try {
        adapter.validateSource(source, options);
      } catch (error) {
        if (error instanceof UploadError) throw new FerryError('invalid', error.message);
        throw error;
      }
      if (source.kind === 'file') {
        const print = await fingerprintFile(source.path);
        rows.push({
          accountId: account.id,
          sourceKind: 'file' as const,
          source: source.path,
          name: source.name,
          mime: source.mime,
          size: print.size,
          mtimeMs: print.mtimeMs,
          edgeHash: print.edgeHash,
          options,
        });
      } else {
        rows.push({
          accountId: account.id,
          sourceKind: 'url' as const,
          source: source.url,
          name: source.name,
          mime: source.mime,
          size: source.size,
          mtimeMs: null,
          edgeHash: null,
          options,
        });
      }
    }
    const jobs = transaction(this.db, () => {
      const inserted = this.jobs.insert(rows);
      for (const job of inserted) {
        this.jobs.addEvent({
          jobId: job.id,
          type: 'state',
          state: 'queued',
          attempt: null,
          errorKind: null,
          message: `Queued for ${account.name}`,
        });
      }
      return inserted;
    });
    for (const job of jobs) this.emit('job', job);
    return jobs;
  }

  async #expand(input: string, adapter: ProviderAdapter): Promise<UploadSource[]> {
    if (/^https?:\/\//i.test(input)) {
      if (adapter.capabilities.sources !== 'url') {
        throw new FerryError('invalid', `${adapter.displayName} uploads local files, not URLs (${input})`);
      }
      let url: URL;
      try {
        url = new URL(input);
      } catch {
        throw new FerryError('invalid', `Not a valid URL: ${input}`);
      }
      const name = decodeURIComponent(basename(url.pathname)) || url.hostname;
      return [{ kind: 'url', url: url.href, name, size: null, mime: mime.lookup(name) || 'application/octet-stream' }];
    }
    if (adapter.capabilities.sources === 'url') {
      throw new FerryError(
        'invalid',
        `${adapter.displayName} imports files from a public http(s) URL; it cannot take the local path ${input}. Publish the file and give its URL.`,
      );
    }
    const path = resolve(input);
    let info;
    try {
      info = await stat(path);
    } catch {
      throw new FerryError('invalid', `Cannot upload ${input}: no such file or folder`);
    }
    if (info.isDirectory()) {
      const found: UploadSource[] = [];
      const entries = await readdir(path, { withFileTypes: true });
      entries.sort((a, b) => a.name.localeCompare(b.name));
      for (const entry of entries) {
        if (JUNK.test(entry.name)) continue;
        if (entry.isDirectory() || entry.isFile()) found.push(...(await this.#expand(join(path, entry.name), adapter)));
      }
      return found;
    }
    try {
      const { size } = await statFile(path, 'Cannot upload');
      const name = basename(path);
      return [{ kind: 'file', path, name, size, mime: mime.lookup(name) || 'application/octet-stream' }];
    } catch (error) {
      if (error instanceof UploadError) throw new FerryError('invalid', error.message);
      throw error;
    }
  }

  requireJob(id: number): Job {
    const job = this.jobs.get(id);
    if (!job) throw new FerryError('not-found', `No job ${id}`);
    return job;
  }

  /**
   * Changes a job's state after checking the transition table against the state stored right now
   * (another process may have changed it), together with `patch`, and logs the change.
   */
  transition(id: number, to: JobState, patch: JobPatch = {}, message?: string, errorKind?: ErrorKind): Job {
    return this.#transition(id, to, patch, message, errorKind, (work) => transaction(this.db, work));
  }

  /**
   * `transition` for a change that may be forgotten by a power cut without harm (a run starting: the
   * restart puts the job back in the queue anyway): committed without waiting for the disk, which
   * the next acknowledgement or state change syncs (see transactionSyncedLater).
   */
  transitionSyncedLater(id: number, to: JobState, patch: JobPatch = {}, message?: string): Job {
    return this.#transition(id, to, patch, message, undefined, (work) => {
      const { result, durable } = transactionSyncedLater(this.db, work);
      durable.catch(() => undefined); // a failing disk also fails the next FULL commit, which says so
      return result;
    });
  }

  #transition(
    id: number,
    to: JobState,
    patch: JobPatch,
    message: string | undefined,
    errorKind: ErrorKind | undefined,
    commit: (work: () => Job) => Job,
  ): Job {
    const job = commit(() => {
      const current = this.requireJob(id);
      assertTransition(current.state, to);
      this.jobs.update(id, { ...patch, state: to });
      this.jobs.addEvent({
        jobId: id,
        type: errorKind ? 'error' : 'state',
        state: to,
        attempt: patch.attempts ?? current.attempts,
        errorKind: errorKind ?? null,
        message: message ?? describeState(to),
      });
      return this.jobs.get(id)!;
    });
    this.emit('job', job);
    return job;
  }

  /** Records an event without a state change (e.g. "started a new upload session"). */
  note(id: number, message: string): void {
    this.jobs.addEvent({ jobId: id, type: 'info', state: null, attempt: null, errorKind: null, message });
  }

  pause(id: number): Job {
    const job = this.requireJob(id);
    if (job.state === 'paused') return job;
    if (job.state === 'finalizing') {
      throw new FerryError(
        'conflict',
        `Job ${id} (${job.name}) is finalizing and cannot be paused; it will finish in a moment`,
      );
    }
    this.#require(job, 'paused', 'paused');
    return this.transition(id, 'paused', { nextAttemptAt: null }, 'Paused');
  }

  resume(id: number): Job {
    const job = this.requireJob(id);
    if (job.state !== 'paused') return job;
    return this.transition(id, 'queued', { retryStreak: 0 }, 'Resumed');
  }

  cancel(id: number): Job {
    const job = this.requireJob(id);
    if (job.state === 'canceled') return job;
    if (job.state === 'finalizing') {
      throw new FerryError('conflict', `Job ${id} (${job.name}) is finalizing and cannot be canceled any more`);
    }
    this.#require(job, 'canceled', 'canceled');
    return this.transition(id, 'canceled', { finishedAt: Date.now(), nextAttemptAt: null }, 'Canceled');
  }

  /** Puts a failed or canceled job back in the queue; a file that changed since is uploaded anew. */
  async retry(id: number): Promise<Job> {
    const job = this.requireJob(id);
    this.#require(job, 'queued', 'retried');
    const patch: JobPatch = { retryStreak: 0, error: null, nextAttemptAt: null, finishedAt: null };
    if (job.sourceKind === 'file') {
      try {
        const print = await fingerprintFile(job.source);
        if (print.size !== job.size || print.mtimeMs !== job.mtimeMs || print.edgeHash !== job.edgeHash) {
          this.jobs.clearParts(id);
          Object.assign(patch, {
            size: print.size,
            mtimeMs: print.mtimeMs,
            edgeHash: print.edgeHash,
            session: null,
            sessionStartedAt: null,
            bytesConfirmed: 0,
            finalizeStartedAt: null,
            finalizedAt: null,
          });
          this.note(id, 'The file changed since it was queued: uploading the new content from the start');
        }
      } catch (error) {
        if (error instanceof UploadError) throw new FerryError('invalid', error.message);
        throw error;
      }
    }
    if (job.sourceKind === 'url') {
      if (job.finalizeStartedAt !== null && job.finalizedAt === null) {
        // The request that asks the server to pull may have been made with its answer lost: the
        // session is kept so that the adapter looks for the request this job made (and only that
        // one) instead of making a second import of the same file.
        this.note(
          id,
          'Checking first whether the earlier attempt reached the server, so that the file is not imported twice',
        );
      } else {
        // A pull provider's failed request stays failed: a retry asks the server for a new one.
        this.jobs.clearParts(id);
        Object.assign(patch, {
          session: null,
          sessionStartedAt: null,
          bytesConfirmed: 0,
          finalizeStartedAt: null,
          finalizedAt: null,
        });
      }
    }
    return this.transition(id, 'queued', patch, RETRY_REQUESTED);
  }

  remove(id: number): void {
    const job = this.requireJob(id);
    if (ACTIVE_STATES.has(job.state)) {
      throw new FerryError(
        'conflict',
        `Job ${id} (${job.name}) is ${job.state}; pause or cancel it before removing it`,
      );
    }
    this.jobs.remove(id);
  }

  /** Puts a job before every other one (the engine picks it next among runnable jobs). */
  moveToTop(id: number): Job {
    this.requireJob(id);
    this.jobs.moveToTop(id);
    const job = this.jobs.get(id)!;
    this.emit('job', job);
    return job;
  }

  /** Applies a control command to every job it applies to; returns the jobs changed. */
  async all(command: 'pause' | 'resume' | 'cancel' | 'retry'): Promise<Job[]> {
    const from: Record<typeof command, JobState[]> = {
      pause: ['queued', 'uploading', 'waiting', 'processing'],
      resume: ['paused'],
      cancel: ['queued', 'uploading', 'waiting', 'paused', 'processing', 'failed'],
      retry: ['failed', 'canceled'],
    };
    const changed: Job[] = [];
    for (const job of this.jobs.list({ states: from[command] })) {
      if (command === 'retry') changed.push(await this.retry(job.id));
      else changed.push(this[command](job.id));
    }
    return changed;
  }

  #require(job: Job, to: JobState, verb: string): void {
    try {
      assertTransition(job.state, to);
    } catch {
      throw new FerryError('conflict', `Job ${job.id} (${job.name}) is ${job.state} and cannot be ${verb}`);
    }
  }

  isTerminal(job: Job): boolean {
    return TERMINAL_STATES.has(job.state);
  }
}

export function normalizeBaseUrl(value: string | null): string | null {
  if (value === null || value.trim() === '') return null;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new FerryError('invalid', `The base URL "${value}" is not a valid address (expected https://host[/path])`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new FerryError('invalid', `The base URL "${value}" must start with https:// or http://`);
  }
  return url.href.replace(/\/+$/, '');
}

function describeState(state: JobState): string {
  switch (state) {
    case 'queued':
      return 'Queued';
    case 'uploading':
      return 'Uploading';
    case 'waiting':
      return 'Waiting to retry';
    case 'paused':
      return 'Paused';
    case 'finalizing':
      return 'Finalizing';
    case 'processing':
      return 'Processing on the server';
    case 'completed':
      return 'Completed';
    case 'failed':
      return 'Failed';
    case 'canceled':
      return 'Canceled';
    default: {
      const unreachable: never = state;
      return String(unreachable);
    }
  }
}
