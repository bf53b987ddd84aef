/**
 * The persistent queue: accounts and jobs in SQLite, every job state change checked against the
 * transition table inside one transaction, and the control commands (enqueue, pause, resume, cancel,
 * retry, remove, move to top). It runs nothing itself; the Engine does. Every way in (the window,
 * `ferry serve`, the `ferry` command) reaches it through the API's command table (main/api/commands.ts);
 * those commands take no run lock, so they work whether or not another process is uploading.
 */
import type MimeTypes from 'mime-types';
import { EventEmitter } from 'node:events';
import { readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { transaction, transactionSyncedLater, type Db } from '../db/database.ts';
import { JobsRepository, type Job, type JobPatch, type JobReader, type NewJob } from '../db/jobsRepository.ts';
import type { ProviderAdapter, UploadSource } from '../providers/types.ts';
import type { SecretStore } from '../secrets/secretStore.ts';
import { FerryError, UploadError, type ErrorKind } from '../core/errors.ts';
import { AccountService } from './accounts.ts';
import {
  WORKER_MIN_FILES,
  fingerprintMany,
  fingerprintStatted,
  statMany,
  statPath,
  workerError,
  type WorkerStat,
} from './enqueueFiles.ts';
import { fingerprintFile } from './fileSource.ts';
import { ACTIVE_STATES, TERMINAL_STATES, assertTransition, type JobState } from '../core/jobState.ts';

/**
 * mime-types reads its table of every media type when it loads (~27 ms here): only an enqueue needs
 * it, so `ferry list`, `pause` and the other queue commands do not pay for it.
 */
let mimeTypes: typeof MimeTypes | undefined;
async function loadMimeTypes(): Promise<void> {
  mimeTypes ??= (await import('mime-types')).default;
}
/** The media type of a file name (loadMimeTypes has run: the enqueue awaits it first). */
function mimeOf(name: string): string {
  return mimeTypes!.lookup(name) || 'application/octet-stream';
}

/** A command-level failure: the request was wrong, nothing was changed. */
/** The event message of a retry asked for by the user (the engine counts new sessions from it). */
export const RETRY_REQUESTED = 'Retry requested';

export interface QueueOptions {
  db: Db;
  secrets: SecretStore;
  /**
   * The adapter of each provider, handed in by the composition root (main/providers/registry.ts's
   * `getAdapter`): the engine never imports an adapter. Asked for only when a source is queued (and by
   * the accounts service and the engine): the `ferry` commands that only list or change job states
   * hand in one that throws, and do not load the adapters at all (main/cli/main.ts).
   */
  adapterFor: (provider: string) => ProviderAdapter;
}

/** A source found by expanding an input; a file keeps the mtime its stat saw. */
interface Expanded {
  source: UploadSource;
  mtimeMs: number | null;
}

/**
 * How many files enqueueing stats and fingerprints at once: one at a time, a batch of 1,000 small
 * files spent most of its time waiting for each file operation in turn (~240 µs per file); a few in
 * flight keep libuv's threads busy. Kept below the buffer pool's size (core/bufferPool.ts).
 */
const FILE_CONCURRENCY = 8;

/**
 * `work` over every item with at most FILE_CONCURRENCY running, results in the items' order. After a
 * failure no new item starts; once the running ones settle, the failure of the earliest item is
 * thrown, the same one a walk in order would have met first.
 */
async function inOrder<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const failures: Array<{ index: number; error: unknown }> = [];
  const worker = async (): Promise<void> => {
    while (failures.length === 0 && next < items.length) {
      const index = next;
      next += 1;
      try {
        results[index] = await work(items[index]!);
      } catch (error) {
        failures.push({ index, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(FILE_CONCURRENCY, items.length) }, () => worker()));
  if (failures.length > 0) throw failures.reduce((a, b) => (b.index < a.index ? b : a)).error;
  return results;
}

function isUrl(input: string): boolean {
  return /^https?:\/\//i.test(input);
}

/** Names that are never uploaded when a folder is expanded. */
const JUNK = /^(\..*|Thumbs\.db|desktop\.ini|~\$.*)$/i;

export interface QueueEvents {
  job: [Job];
  accounts: [];
}

export class Queue extends EventEmitter<QueueEvents> {
  readonly #db: Db;
  /** The accounts (engine/accounts.ts): their rows, their checks and their secrets, behind methods. */
  readonly accounts: AccountService;
  /**
   * The jobs table, private so that every write goes through the methods below (which check the state
   * transition and record the event). Callers read through `jobs`.
   */
  readonly #jobs: JobsRepository;
  readonly adapterFor: (provider: string) => ProviderAdapter;

  constructor(options: QueueOptions) {
    super();
    this.#db = options.db;
    this.accounts = new AccountService({
      db: options.db,
      secrets: options.secrets,
      adapterFor: options.adapterFor,
      changed: () => this.emit('accounts'),
    });
    this.#jobs = new JobsRepository(options.db);
    this.adapterFor = options.adapterFor;
  }

  /** Forgets a job's acknowledged parts (the engine starts a new upload session for it). */
  clearParts(id: number): void {
    this.#jobs.clearParts(id);
  }

  /** The jobs, read-only: writing one goes through the Queue's methods. */
  get jobs(): JobReader {
    return this.#jobs;
  }

  // Jobs --------------------------------------------------------------------------------------------

  /**
   * Validates every source first and queues all of them or none: a bad path, a file the provider
   * cannot take or an unknown account changes nothing.
   */
  async enqueue(accountName: string, inputs: readonly string[], options: Record<string, string> = {}): Promise<Job[]> {
    const account = this.accounts.require(accountName);
    const adapter = this.adapterFor(account.provider);
    if (inputs.length === 0)
      throw new FerryError('invalid', 'Nothing to upload: give at least one file, folder or URL');
    await loadMimeTypes();
    const sources = await this.#expandAll(inputs, adapter);
    if (sources.length === 0)
      throw new FerryError('invalid', `Nothing to upload in ${inputs.join(', ')} (empty folder?)`);
    // Every source is checked before any file is read: a refused one stops the batch at once.
    for (const { source } of sources) {
      try {
        adapter.validateSource(source, options);
      } catch (error) {
        if (error instanceof UploadError) throw new FerryError('invalid', error.message);
        throw error;
      }
    }
    // A large batch is fingerprinted in the file worker, in one round trip (see enqueueFiles.ts).
    const files = sources.flatMap(({ source, mtimeMs }) =>
      source.kind === 'file' && mtimeMs !== null ? [{ path: source.path, size: source.size ?? 0, mtimeMs }] : [],
    );
    const printed = new Map<string, Awaited<ReturnType<typeof fingerprintMany>>[number]>();
    if (files.length >= WORKER_MIN_FILES) {
      const prints = await fingerprintMany(files);
      files.forEach((file, index) => printed.set(file.path, prints[index]!));
    }
    const rows = await inOrder(sources, async ({ source, mtimeMs }): Promise<NewJob> => {
      if (source.kind === 'file') {
        const known = printed.get(source.path);
        if (known && 'error' in known) throw workerError(known);
        const print =
          known ??
          (mtimeMs === null
            ? await fingerprintFile(source.path)
            : await fingerprintStatted(source.path, { size: source.size ?? 0, mtimeMs }));
        return {
          accountId: account.id,
          sourceKind: 'file' as const,
          source: source.path,
          name: source.name,
          mime: source.mime,
          size: print.size,
          mtimeMs: print.mtimeMs,
          edgeHash: print.edgeHash,
          options,
        };
      }
      return {
        accountId: account.id,
        sourceKind: 'url' as const,
        source: source.url,
        name: source.name,
        mime: source.mime,
        size: source.size,
        mtimeMs: null,
        edgeHash: null,
        options,
      };
    });
    const jobs = transaction(this.#db, () => {
      const inserted = this.#jobs.insert(rows);
      for (const job of inserted) {
        this.#jobs.addEvent({
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

  /**
   * The sources of several inputs, in order; the failure of the earliest bad input is the one thrown.
   * Many local paths at once (a large folder, a long list of files) are stat'ed in the file worker in
   * one round trip (see enqueueFiles.ts); the checks and their messages are #expand's.
   */
  async #expandAll(inputs: readonly string[], adapter: ProviderAdapter): Promise<Expanded[]> {
    const stats = new Map<string, WorkerStat>();
    if (adapter.capabilities.sources !== 'url') {
      const local = inputs.filter((input) => !isUrl(input));
      if (local.length >= WORKER_MIN_FILES) {
        const results = await statMany(local.map((input) => resolve(input)));
        local.forEach((input, index) => stats.set(input, results[index]!));
      }
    }
    return (
      await inOrder(inputs, async (input) => {
        const known = stats.get(input);
        // A folder is expanded by #expand (which reads it); a file's stat is already known.
        if (!known || (!('error' in known) && known.isDirectory)) return this.#expand(input, adapter);
        return this.#statted(input, resolve(input), known);
      })
    ).flat();
  }

  /** The sources an input names, each file with the mtime of the stat that found it. */
  async #expand(input: string, adapter: ProviderAdapter): Promise<Expanded[]> {
    if (isUrl(input)) {
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
      const source: UploadSource = {
        kind: 'url',
        url: url.href,
        name,
        size: null,
        mime: mimeOf(name),
      };
      return [{ source, mtimeMs: null }];
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
      info = await statPath(path);
    } catch {
      throw new FerryError('invalid', `Cannot upload ${input}: no such file or folder`);
    }
    if (info.isDirectory()) {
      const entries = await readdir(path, { withFileTypes: true });
      entries.sort((a, b) => a.name.localeCompare(b.name));
      const kept = entries.filter((entry) => !JUNK.test(entry.name) && (entry.isDirectory() || entry.isFile()));
      return this.#expandAll(
        kept.map((entry) => join(path, entry.name)),
        adapter,
      );
    }
    return this.#statted(input, path, {
      size: info.size,
      mtimeMs: info.mtimeMs,
      isFile: info.isFile(),
      isDirectory: info.isDirectory(),
    });
  }

  /** The source of a file found by a stat (made here or in the file worker), with the same checks. */
  #statted(input: string, path: string, info: WorkerStat): Expanded[] {
    if ('error' in info) throw new FerryError('invalid', `Cannot upload ${input}: no such file or folder`);
    // The stat is the file's check (statFile's own words): no second stat per file.
    if (!info.isFile) throw new FerryError('invalid', `Cannot upload ${path}: it is not a regular file (a folder?)`);
    const name = basename(path);
    return [
      {
        source: { kind: 'file', path, name, size: info.size, mime: mimeOf(name) },
        mtimeMs: Math.trunc(info.mtimeMs),
      },
    ];
  }

  requireJob(id: number): Job {
    const job = this.#jobs.get(id);
    if (!job) throw new FerryError('not-found', `No job ${id}`);
    return job;
  }

  /**
   * Changes a job's state after checking the transition table against the state stored right now
   * (another process may have changed it), together with `patch`, and logs the change.
   */
  transition(id: number, to: JobState, patch: JobPatch = {}, message?: string, errorKind?: ErrorKind): Job {
    return this.#transition(id, to, patch, message, errorKind, (work) => transaction(this.#db, work));
  }

  /**
   * `transition` for a change that may be forgotten by a power cut without harm (a run starting: the
   * restart puts the job back in the queue anyway): committed without waiting for the disk, which
   * the next acknowledgement or state change syncs (see transactionSyncedLater).
   */
  transitionSyncedLater(id: number, to: JobState, patch: JobPatch = {}, message?: string): Job {
    return this.#transition(id, to, patch, message, undefined, (work) => {
      const { result, durable } = transactionSyncedLater(this.#db, work);
      durable.catch(() => undefined); // a failing disk also fails the next FULL commit, which says so
      return result;
    });
  }

  /**
   * `transition` made durable by an fdatasync of the log on the thread pool instead of SQLite's fsync
   * on the event loop, which held up every other upload of the process for the disk's flush (twice per
   * file: finalizing, completed). Resolves, and tells the listeners, once the change is on disk; the
   * change is visible to readers of the database from the commit on. Rejects when the disk fails the
   * sync; the change is then committed but may not survive a power cut.
   */
  async transitionDurably(
    id: number,
    to: JobState,
    patch: JobPatch = {},
    message?: string,
    alsoInCommit?: () => void,
  ): Promise<Job> {
    let durable: Promise<void> = Promise.resolve();
    const job = this.#transition(
      id,
      to,
      patch,
      message,
      undefined,
      (work) => {
        // `alsoInCommit`: writes that belong in the same commit (and sync) as the change.
        const committed = transactionSyncedLater(this.#db, () => {
          alsoInCommit?.();
          return work();
        });
        durable = committed.durable;
        return committed.result;
      },
      false,
    );
    try {
      await durable;
    } finally {
      this.emit('job', job);
    }
    return job;
  }

  #transition(
    id: number,
    to: JobState,
    patch: JobPatch,
    message: string | undefined,
    errorKind: ErrorKind | undefined,
    commit: (work: () => Job) => Job,
    emit = true,
  ): Job {
    const job = commit(() => {
      const current = this.requireJob(id);
      assertTransition(current.state, to);
      this.#jobs.update(id, { ...patch, state: to });
      this.#jobs.addEvent({
        jobId: id,
        type: errorKind ? 'error' : 'state',
        state: to,
        attempt: patch.attempts ?? current.attempts,
        errorKind: errorKind ?? null,
        message: message ?? describeState(to),
      });
      return this.#jobs.get(id)!;
    });
    if (emit) this.emit('job', job);
    return job;
  }

  /** Records an event without a state change (e.g. "started a new upload session"). */
  note(id: number, message: string): void {
    this.#jobs.addEvent({ jobId: id, type: 'info', state: null, attempt: null, errorKind: null, message });
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
          this.#jobs.clearParts(id);
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
        this.#jobs.clearParts(id);
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
    this.#jobs.remove(id);
  }

  /** Puts a job before every other one (the engine picks it next among runnable jobs). */
  moveToTop(id: number): Job {
    this.requireJob(id);
    this.#jobs.moveToTop(id);
    const job = this.#jobs.get(id)!;
    this.emit('job', job);
    return job;
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
