/**
 * The engine: schedules queued jobs onto one lane per account within the global limits, runs them,
 * funnels every failure through the retry policy, coalesces progress, and recovers after a crash.
 * The queue (SQLite) is the single source of truth: the engine keeps only what is in flight in memory,
 * and checks the database periodically so that a command given by another process (e.g. `ferry pause`
 * while `ferry run` works) takes effect.
 */
import { EventEmitter } from 'node:events';
import { dirname } from 'node:path';
import type { Got } from 'got';
import type { Account } from '../db/accountsRepository.ts';
import type { Db } from '../db/database.ts';
import type { Job } from '../db/jobsRepository.ts';
import type { AccountContext } from '../providers/types.ts';
import { redactSecrets } from '../secrets/redaction.ts';
import { createAccountHttp } from './accountHttp.ts';
import { BandwidthControl } from './bandwidth.ts';
import { chooseProxy, lastGood, type ProxySettings } from './proxy.ts';
import { ByteBudget } from './byteBudget.ts';
import { UploadError, toUploadError } from '../core/errors.ts';
import { machineFaultOf, type MachineFault } from './machineFault.ts';
import { NetworkMonitor, networkFailureOf, type NetworkChange, type OfflineHost } from './networkMonitor.ts';
import { ACTIVE_STATES, TransitionError, type JobState } from '../core/jobState.ts';
import { RETRY_REQUESTED, type Queue } from './queue.ts';
import { DEFAULT_RETRY_OPTIONS, decideRetry, type RetryOptions } from './retryPolicy.ts';
import { DEFAULT_REPLY_DEADLINES, outsideWatchdog, runJob, type ReplyDeadlines } from './runner.ts';
import { TokenBucket, systemClock, type Clock } from './tokenBucket.ts';

export interface EngineOptions {
  queue: Queue;
  /** The database the queue is on: the runner writes sessions and parts on it, beside the queue. */
  db: Db;
  /** Jobs uploading at once across every account. */
  maxJobsInFlight?: number;
  /** Part bytes in flight at once across every account (the memory budget of request bodies). */
  maxBytesInFlight?: number;
  /** A request sending its body with no byte accepted for this long is aborted as stalled. */
  stallTimeoutMs?: number;
  /** How long each step waits for the server's answer once its body was sent (see ReplyDeadlines). */
  replyDeadlines?: Partial<ReplyDeadlines>;
  pollDelays?: { initialMs: number; maxMs: number; maxPolls: number };
  retry?: Partial<RetryOptions>;
  /** How often progress events are emitted at most (per subscriber, whatever the number of jobs). */
  progressIntervalMs?: number;
  /** How often the database is checked for commands given by other processes. */
  controlPollMs?: number;
  /** Waits after a fault of the machine (disk full…): the first, doubling up to the longest. */
  machineFaultDelays?: { firstMs: number; maxMs: number };
  random?: () => number;
  clock?: Clock;
  /** The global upload bandwidth limit in rclone syntax (`off`, `2M`, a timetable); see setBandwidthLimit. */
  bwlimit?: string;
  /**
   * The global proxy setting and what `system` means (proxy.ts); each account's own `proxy` setting
   * is read here. Default: `system`, from the environment's proxy variables.
   */
  proxy?: Omit<ProxySettings, 'account'>;
  /** Watches hosts that cannot be reached (default: its own, probing over TCP). */
  network?: NetworkMonitor;
}

export interface ProgressUpdate {
  jobId: number;
  bytesDone: number;
  total: number | null;
  /** Average over the last few seconds. */
  bytesPerSecond: number;
}

export interface EngineEvents {
  progress: [ProgressUpdate[]];
  /** A job ended a run with an error that will be retried or that failed it (already persisted). */
  retry: [Job];
  /**
   * The machine got in the way (disk full, disk failing, database locked too long): `jobId`'s job (or
   * the scheduling, when null) was put aside and is tried again after `retryInMs`. Nothing was lost.
   */
  fault: [{ jobId: number | null; message: string; retryInMs: number }];
  /** A host became unreachable (its jobs wait without using retries) or reachable again. */
  network: [NetworkChange];
  idle: [];
}

interface Lane {
  accountId: number;
  bucket: TokenBucket;
  http: Got;
}

interface Running {
  job: Job;
  accountId: number;
  controller: AbortController;
  done: Promise<void>;
  /**
   * Completed and committed, waiting only for the sync to disk (RunnerDeps.finishing): it no longer
   * takes a lane, so the next job starts while it syncs. It still counts for idleness and shutdown.
   */
  finishing: boolean;
}

const SPEED_WINDOW_MS = 5_000;
/** New upload sessions one job may need before Ferry stops starting over (see #newSessionsSinceRetry). */
const MAX_NEW_SESSIONS_PER_JOB = 6;

const SAMPLE_SPACING_MS = 100;

export class Engine extends EventEmitter<EngineEvents> {
  readonly queue: Queue;
  readonly #db: Db;
  readonly #options: Required<
    Omit<EngineOptions, 'queue' | 'db' | 'retry' | 'replyDeadlines' | 'bwlimit' | 'proxy' | 'network'>
  > & {
    retry: RetryOptions;
    replyDeadlines: ReplyDeadlines;
  };
  readonly #budget: ByteBudget;
  readonly #bandwidth: BandwidthControl;
  readonly #lanes = new Map<number, Lane>();
  readonly #proxy: Omit<ProxySettings, 'account'>;
  readonly #running = new Map<number, Running>();
  readonly #progress = new Map<number, { bytesDone: number; total: number | null; samples: Array<[number, number]> }>();
  readonly #dirty = new Set<number>();
  #started = false;
  #stopping = false;
  #wakeTimer: NodeJS.Timeout | undefined;
  #controlTimer: NodeJS.Timeout | undefined;
  #progressTimer: NodeJS.Timeout | undefined;
  #idleWaiters: Array<() => void> = [];
  /** Jobs put aside for a fault of the machine whose new state could not be recorded yet. */
  readonly #asideUnrecorded = new Map<number, { job: Job; fault: MachineFault }>();
  /** Faults of the machine in a row (resets once a state is recorded again): the wait grows with it. */
  #machineFaults = 0;
  #faultTimer: NodeJS.Timeout | undefined;
  readonly #onJob = (job: Job): void => this.#jobChanged(job);
  /** Hosts that cannot be reached: their jobs wait for the network instead of using up retries. */
  readonly network: NetworkMonitor;
  /** Origins each account was seen failing on offline, besides its base URL (e.g. a storage host). */
  readonly #accountOrigins = new Map<number, Set<string>>();
  readonly #onNetwork = (change: NetworkChange): void => {
    this.emit('network', change);
    // Jobs held for this host resume at once.
    if (change.state === 'online') setImmediate(() => this.#schedule());
  };

  constructor(options: EngineOptions) {
    super();
    this.queue = options.queue;
    this.#db = options.db;
    this.#options = {
      maxJobsInFlight: options.maxJobsInFlight ?? 4,
      maxBytesInFlight: options.maxBytesInFlight ?? 64 * 1024 * 1024,
      stallTimeoutMs: options.stallTimeoutMs ?? 60_000,
      replyDeadlines: { ...DEFAULT_REPLY_DEADLINES, ...options.replyDeadlines },
      pollDelays: options.pollDelays ?? { initialMs: 2_000, maxMs: 30_000, maxPolls: 720 },
      retry: { ...DEFAULT_RETRY_OPTIONS, ...options.retry },
      progressIntervalMs: options.progressIntervalMs ?? 100,
      controlPollMs: options.controlPollMs ?? 1_000,
      machineFaultDelays: options.machineFaultDelays ?? { firstMs: 5_000, maxMs: 5 * 60_000 },
      random: options.random ?? Math.random,
      clock: options.clock ?? systemClock,
    };
    this.#budget = new ByteBudget(this.#options.maxBytesInFlight);
    this.#bandwidth = new BandwidthControl(this.#options.clock);
    this.#bandwidth.setGlobal(options.bwlimit ?? 'off');
    this.#proxy = options.proxy ?? {};
    this.network = options.network ?? new NetworkMonitor();
  }

  /**
   * Changes the global upload bandwidth limit (rclone syntax; throws with the one-line reason when
   * malformed, changing nothing). Uploads in flight follow it from their next piece (well within a second).
   */
  setBandwidthLimit(text: string): void {
    this.#bandwidth.setGlobal(text);
  }

  /** Changes an account's own limit ('' = none); both it and the global limit apply to its jobs. */
  setAccountBandwidthLimit(accountId: number, text: string | undefined): void {
    this.#bandwidth.setAccount(accountId, text);
  }

  /** The limiters, for the benchmark and tests (bytes granted, current rates). */
  get bandwidth(): BandwidthControl {
    return this.#bandwidth;
  }

  /** Hosts that cannot be reached right now. */
  offlineHosts(): OfflineHost[] {
    return this.network.offlineHosts();
  }

  /** Probes the offline hosts now (woken from sleep, the network changed) instead of after the backoff. */
  probeNow(): Promise<void> {
    return this.network.probeNow();
  }

  /** How many jobs may upload at once across every account. */
  get maxJobsInFlight(): number {
    return this.#options.maxJobsInFlight;
  }

  /**
   * Changes how many jobs may upload at once. Jobs in flight carry on; a higher limit starts more at
   * once, a lower one lets the surplus finish before anything new starts.
   */
  setMaxJobsInFlight(limit: number): void {
    this.#options.maxJobsInFlight = Math.max(1, Math.trunc(limit));
    this.#schedule();
  }

  /** Jobs the engine is running right now. */
  get activeJobIds(): number[] {
    return [...this.#running.keys()];
  }

  /**
   * Starts scheduling. Jobs left in an active state by a process that stopped (crash, kill, power
   * loss) go back to the queue first; they resume from their last acknowledged part.
   */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#stopping = false;
    for (const job of this.queue.jobs.list({ states: [...ACTIVE_STATES] })) {
      this.queue.transition(job.id, 'queued', {}, 'Resuming after Ferry stopped while this job was in progress');
    }
    this.queue.on('job', this.#onJob);
    this.#bandwidth.start();
    this.network.on('changed', this.#onNetwork);
    this.#controlTimer = setInterval(() => this.#control(), this.#options.controlPollMs);
    this.#progressTimer = setInterval(() => this.#flushProgress(), this.#options.progressIntervalMs);
    this.#schedule();
  }

  /** Stops every request in flight; their jobs return to the queue and resume on the next start. */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#stopping = true;
    clearTimeout(this.#wakeTimer);
    clearTimeout(this.#faultTimer);
    clearInterval(this.#controlTimer);
    clearInterval(this.#progressTimer);
    this.#bandwidth.stop();
    this.queue.off('job', this.#onJob);
    this.network.off('changed', this.#onNetwork);
    this.network.stop();
    const running = [...this.#running.values()];
    for (const run of running) run.controller.abort(new UploadError('aborted', 'Ferry is shutting down'));
    await Promise.allSettled(running.map((run) => run.done));
    this.#flushProgress();
    for (const lane of this.#lanes.values()) destroyAgents(lane.http);
    this.#lanes.clear();
    this.#started = false;
    this.#releaseIdleWaiters();
  }

  /**
   * Resolves when nothing is left that could run without a person acting: no job running, queued or
   * waiting to retry (jobs of paused accounts and paused jobs do not count).
   */
  whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Progress of a job as last reported (in memory). */
  progressOf(jobId: number): ProgressUpdate | undefined {
    const entry = this.#progress.get(jobId);
    if (!entry) return undefined;
    return { jobId, bytesDone: entry.bytesDone, total: entry.total, bytesPerSecond: speed(entry.samples) };
  }

  // Scheduling --------------------------------------------------------------------------------------

  #schedule(): void {
    try {
      this.#scheduleNow();
    } catch (error) {
      this.#machineTrouble(null, error);
    }
  }

  #scheduleNow(): void {
    if (!this.#started || this.#stopping) return;
    clearTimeout(this.#wakeTimer);
    const now = this.#options.clock.now();
    const perAccount = new Map<number, number>();
    let active = 0;
    for (const run of this.#running.values()) {
      if (run.finishing) continue;
      active += 1;
      perAccount.set(run.accountId, (perAccount.get(run.accountId) ?? 0) + 1);
    }
    let wakeAt = this.queue.jobs.nextWakeAt();
    // Only accounts that can take a job now are asked for jobs, and the walk through the queue stops
    // as soon as none can: a pass costs what it launches, not the length of the queue.
    const open = new Map<number, Account>();
    let heldOffline = false;
    for (const account of this.queue.accounts.list()) {
      if (account.paused || (perAccount.get(account.id) ?? 0) >= Math.max(1, account.concurrency)) continue;
      if (this.#offlineOriginOf(account) !== null) {
        // No attempt while a host of the account cannot be reached: it would only fail again.
        heldOffline = true;
        continue;
      }
      const held = this.#lanes.get(account.id)?.bucket.heldUntil ?? 0;
      if (held > now) {
        wakeAt = Math.min(wakeAt ?? held, held);
        continue;
      }
      open.set(account.id, account);
    }
    const launches: Array<[Job, Account]> = [];
    if (active < this.#options.maxJobsInFlight) {
      for (const job of this.queue.jobs.runnable(now, [...open.keys()])) {
        if (active + launches.length >= this.#options.maxJobsInFlight || open.size === 0) break;
        if (this.#running.has(job.id)) continue;
        const account = open.get(job.accountId);
        if (!account) continue;
        const lanes = (perAccount.get(account.id) ?? 0) + 1;
        perAccount.set(account.id, lanes);
        if (lanes >= Math.max(1, account.concurrency)) open.delete(account.id);
        launches.push([job, account]);
      }
    }
    for (const [job, account] of launches) this.#launch(job, account);
    // A due retry of an account held for the network waits for the host to come back (which
    // schedules at once), not for a timer firing every few milliseconds meanwhile.
    if (heldOffline && wakeAt !== null && wakeAt <= now) wakeAt = now + 1_000;
    if (wakeAt !== null) {
      this.#wakeTimer = setTimeout(() => this.#schedule(), Math.max(0, wakeAt - now) + 5);
    }
    if (this.#isIdle()) this.#releaseIdleWaiters();
  }

  #launch(job: Job, account: Account): void {
    const controller = new AbortController();
    const run: Running = { job, accountId: account.id, controller, done: Promise.resolve(), finishing: false };
    this.#running.set(job.id, run);
    this.#progress.set(job.id, {
      bytesDone: job.bytesConfirmed,
      total: job.size,
      samples: [[this.#options.clock.now(), job.bytesConfirmed]],
    });
    // The account's secret values, to keep them out of what is recorded about a failure.
    let secrets: readonly string[] = [];
    run.done = (async () => {
      try {
        const context = await this.#accountContext(account);
        secrets = Object.values(context.secrets);
        const adapter = this.queue.adapterFor(account.provider);
        await runJob(
          job,
          {
            queue: this.queue,
            db: this.#db,
            adapter,
            account: context,
            budget: this.#budget,
            clock: this.#options.clock,
            stallTimeoutMs: this.#options.stallTimeoutMs,
            replyDeadlines: this.#options.replyDeadlines,
            pollDelays: this.#options.pollDelays,
            progress: (jobId, bytesDone) => this.#reportProgress(jobId, bytesDone),
            throttle: this.#bandwidth.forAccount(account.id),
            finishing: () => {
              run.finishing = true;
              setImmediate(() => this.#schedule());
            },
          },
          controller.signal,
        );
      } catch (error) {
        const offline = await this.#networkGone(job, account, error, controller.signal).catch(() => null);
        try {
          if (offline) this.#waitForNetwork(job, offline);
          else this.#failed(job, error, controller.signal, secrets);
        } catch (recording) {
          // Recording the failure failed too (the disk or the database): the job is put aside in
          // memory and recorded once the machine lets us; the run must not end in an unhandled rejection.
          this.#putAside(job, machineFaultOf(recording, this.#dataDir()) ?? unexpected(recording));
        }
      } finally {
        this.#running.delete(job.id);
        this.#dirty.add(job.id);
        // Let the current event-loop turn finish (state events) before scheduling more work.
        setImmediate(() => this.#schedule());
      }
    })();
  }

  async #accountContext(account: Account): Promise<AccountContext> {
    const adapter = this.queue.adapterFor(account.provider);
    const baseUrl = account.baseUrl ?? adapter.capabilities.defaultBaseUrl;
    if (!baseUrl) {
      throw new UploadError(
        'invalid',
        `Account "${account.name}" has no base URL; edit the account and set the site's address`,
      );
    }
    // The account's own limit as saved now (a change while it runs comes through setAccountBandwidthLimit).
    try {
      this.#bandwidth.setAccount(account.id, account.settings['bwlimit']);
    } catch (error) {
      throw new UploadError(
        'invalid',
        `Account "${account.name}": ${error instanceof Error ? error.message : String(error)}; edit the account's bandwidth limit`,
      );
    }
    let lane = this.#lanes.get(account.id);
    if (!lane) {
      const limit = adapter.capabilities.rateLimit;
      const bucket = new TokenBucket(limit?.perMinute ?? null, limit?.burst ?? 1, this.#options.clock);
      lane = {
        accountId: account.id,
        bucket,
        http: createAccountHttp({
          pace: (signal) => outsideWatchdog(signal, () => bucket.take(signal)),
          maxSockets: Math.max(4, adapter.capabilities.maxParallelParts * Math.max(1, account.concurrency)),
          // Read for each request (as of a moment ago), so that a changed setting applies without a restart.
          proxy: {
            ...this.#proxy,
            account: lastGood(() => this.queue.accounts.recentSettings(account.id)?.proxy, account.settings.proxy),
          },
        }),
      };
      this.#lanes.set(account.id, lane);
    }
    return {
      id: account.id,
      name: account.name,
      baseUrl,
      settings: account.settings,
      secrets: await this.queue.accounts.secretsOf(account.id),
      http: lane.http,
    };
  }

  /** The single place where a run's failure becomes a retry, a new session or a failed job. */
  #failed(job: Job, error: unknown, signal: AbortSignal, secrets: readonly string[] = []): void {
    if (error instanceof TransitionError) return; // The job was paused, canceled or removed meanwhile.
    const fault = this.#stopping ? null : machineFaultOf(error, this.#dataDir());
    if (fault) {
      this.#putAside(job, fault);
      return;
    }
    if (signal.aborted && !(signal.reason instanceof UploadError && signal.reason.kind === 'timeout')) {
      // A deliberate stop: pause and cancel already set the state; a shutdown puts the job back.
      if (this.#stopping) {
        const current = this.queue.jobs.get(job.id);
        if (current && ACTIVE_STATES.has(current.state)) {
          this.queue.transition(job.id, 'queued', {}, 'Stopped because Ferry was shutting down; will resume');
        }
      }
      return;
    }
    const current = this.queue.jobs.get(job.id);
    if (!current || !['queued', 'uploading', 'waiting', 'finalizing', 'processing'].includes(current.state)) return;
    const failure = withoutSecrets(toUploadError(error, `Uploading ${job.name}`), secrets);
    const now = this.#options.clock.now();
    const streak = current.retryStreak + 1;
    if (failure.kind === 'rate-limited') {
      const hold = failure.retryAfterMs ?? this.#options.retry.baseDelayMs * 2 ** Math.min(streak, 6);
      this.#lanes.get(job.accountId)?.bucket.holdUntil(now + Math.min(hold, this.#options.retry.maxRetryAfterMs));
    }
    let message = failure.message;
    let decision = decideRetry(
      { kind: failure.kind, streak, retryAfterMs: failure.retryAfterMs, random: this.#options.random() },
      this.#options.retry,
    );
    if (decision.action === 'new-session') {
      // The streak of errors resets whenever a part is acknowledged, so a session that always runs out
      // before the upload can finish (a slow link, a short-lived token) would start over for ever.
      const restarts = this.#newSessionsSinceRetry(job.id);
      if (restarts >= MAX_NEW_SESSIONS_PER_JOB) {
        decision = { action: 'fail' };
        message = `${withoutRetryAdvice(message)}; the upload had to start over ${restarts} times because the server's upload session ran out before it could finish, so Ferry stopped. Retry the job on a faster connection`;
      }
    }
    const recorded = { kind: failure.kind, message };
    try {
      if (decision.action === 'fail') {
        const tries = current.attempts > 1 ? ` (gave up after ${current.attempts} attempts)` : '';
        // Transport and status errors end in advice for the retry ("; will retry"); once the job has
        // failed that advice is wrong, so the stored message says only what happened and that it gave up.
        const final = `${withoutRetryAdvice(message)}${tries}`;
        this.queue.transition(
          job.id,
          'failed',
          { error: { kind: failure.kind, message: final }, retryStreak: streak, finishedAt: now, nextAttemptAt: null },
          final,
          failure.kind,
        );
      } else {
        const seconds = Math.round(decision.delayMs / 100) / 10;
        const patch =
          decision.action === 'new-session'
            ? { session: null, sessionStartedAt: null, bytesConfirmed: 0, finalizeStartedAt: null, finalizedAt: null }
            : {};
        if (decision.action === 'new-session') this.queue.clearParts(job.id);
        this.queue.transition(
          job.id,
          'waiting',
          { ...patch, error: recorded, retryStreak: streak, nextAttemptAt: now + decision.delayMs },
          `${message} (retry ${streak} in ${seconds} s${decision.action === 'new-session' ? ', new session' : ''})`,
          failure.kind,
        );
      }
    } catch (transitionError) {
      if (!(transitionError instanceof TransitionError)) throw transitionError;
      return;
    }
    const updated = this.queue.jobs.get(job.id);
    if (updated) this.emit('retry', updated);
  }

  /** The base URL's origin of an account, or null when it has none (or it does not parse). */
  #baseOrigin(account: Account): string | null {
    const base = account.baseUrl ?? this.queue.adapterFor(account.provider).capabilities.defaultBaseUrl;
    if (!base) return null;
    try {
      return new URL(base).origin;
    } catch {
      return null;
    }
  }

  /** An origin of the account known offline (its base URL's, or one it was seen failing on), or null. */
  #offlineOriginOf(account: Account): string | null {
    if (this.network.offlineHosts().length === 0) return null;
    const base = this.#baseOrigin(account);
    if (base !== null && this.network.isOffline(base)) return base;
    for (const origin of this.#accountOrigins.get(account.id) ?? []) if (this.network.isOffline(origin)) return origin;
    return null;
  }

  /**
   * Whether a run failed because the network is gone rather than because the server failed: a
   * transport error with no reply (refused, reset, no route, DNS) or a stall, AND the host of the
   * request cannot be reached by a probe. A host that can be reached answered the failure itself,
   * and it counts towards giving up as before.
   */
  async #networkGone(job: Job, account: Account, error: unknown, signal: AbortSignal): Promise<OfflineHost | null> {
    if (this.#stopping || !(error instanceof UploadError) || error.status !== undefined) return null;
    if (error.kind !== 'network' && error.kind !== 'timeout') return null;
    if (signal.aborted && !(signal.reason instanceof UploadError && signal.reason.kind === 'timeout')) return null;
    const { code, url } = networkFailureOf(error);
    // A network error that names none of the "no network" codes (a malformed reply...) is the server's.
    if (error.kind === 'network' && code === null) return null;
    let origin = this.#baseOrigin(account);
    try {
      if (url !== null) origin = new URL(url).origin;
    } catch {
      // Keep the base URL's origin.
    }
    // Through a proxy, the proxy is the host this process must reach: probe it, not the server behind
    // it (a direct connection to the server may be what the network forbids). A proxy that answers
    // while the server behind it is down replies with a status, which counts as the server's failure.
    if (origin !== null) {
      const route = await chooseProxy(origin, { ...this.#proxy, account: () => account.settings['proxy'] }).catch(
        () => null,
      );
      if (route?.proxy) origin = route.proxy.origin;
    }
    // Refused outright by a host never reached is likely a wrong address or port (see check): a
    // connection that broke mid-way, or progress the server acknowledged for this job, says it was.
    const stored = this.queue.jobs.get(job.id);
    const reachedBefore =
      code !== 'ECONNREFUSED' ||
      (stored !== undefined &&
        (stored.bytesConfirmed > 0 || stored.finalizeStartedAt !== null || stored.finalizedAt !== null));
    if (origin === null || !(await this.network.check(origin, reachedBefore))) return null;
    let origins = this.#accountOrigins.get(account.id);
    if (!origins) this.#accountOrigins.set(account.id, (origins = new Set()));
    origins.add(origin);
    return this.network.offlineHosts().find((host) => host.origin === origin) ?? null;
  }

  /**
   * A job whose host cannot be reached waits for the network: not charged a retry, no timer (the
   * monitor's probe releases it, see #onNetwork), and its acknowledged parts stay recorded.
   */
  #waitForNetwork(job: Job, offline: OfflineHost): void {
    const current = this.queue.jobs.get(job.id);
    if (!current || !ACTIVE_STATES.has(current.state)) return;
    const reason = `Waiting for network: ${offline.host} cannot be reached (${offline.code})`;
    try {
      this.queue.transition(
        job.id,
        'waiting',
        { error: { kind: 'network', message: reason }, nextAttemptAt: null },
        reason,
        'network',
      );
    } catch (error) {
      if (!(error instanceof TransitionError)) throw error;
    }
  }

  /** New sessions the engine started for this job since it was queued or last retried by the user. */
  #newSessionsSinceRetry(jobId: number): number {
    let count = 0;
    for (const event of this.queue.jobs.events(jobId)) {
      if (event.type === 'state' && event.message === RETRY_REQUESTED) count = 0;
      else if (event.type === 'error' && event.errorKind === 'session-gone' && event.state === 'waiting') count += 1;
    }
    return count;
  }

  #jobChanged(job: Job): void {
    const run = this.#running.get(job.id);
    if (run && (job.state === 'paused' || job.state === 'canceled')) {
      run.controller.abort(new UploadError('aborted', job.state === 'paused' ? 'Paused' : 'Canceled'));
    }
    if (job.state === 'queued' || job.state === 'waiting') setImmediate(() => this.#schedule());
  }

  /** Picks up commands given by other processes sharing the data folder. */
  #control(): void {
    try {
      this.#controlNow();
    } catch (error) {
      this.#machineTrouble(null, error);
    }
  }

  #controlNow(): void {
    for (const run of this.#running.values()) {
      const stored = this.queue.jobs.get(run.job.id);
      if (!stored || stored.state === 'paused' || stored.state === 'canceled') {
        run.controller.abort(new UploadError('aborted', stored ? `Job ${stored.state}` : 'Job removed'));
      }
    }
    this.#schedule();
  }

  // Faults of the machine ---------------------------------------------------------------------------

  #dataDir(): string | null {
    const location = this.#db.isOpen ? this.#db.location() : null;
    return location ? dirname(location) : null;
  }

  #faultDelay(): number {
    const { firstMs, maxMs } = this.#options.machineFaultDelays;
    return Math.min(maxMs, firstMs * 2 ** Math.min(this.#machineFaults, 10));
  }

  /**
   * Puts a job aside after a fault of the machine: `waiting` with the reason, tried again after a
   * delay that grows while the fault lasts. Its acknowledged parts stay recorded; the part whose
   * acknowledgement could not be recorded is sent again. When even that state cannot be recorded, the
   * job stays in memory and is recorded (and scheduled) once a write succeeds.
   */
  #putAside(job: Job, fault: MachineFault): void {
    const delay = this.#faultDelay();
    this.#machineFaults += 1;
    try {
      this.queue.transition(
        job.id,
        'waiting',
        { error: { kind: 'local-file', message: fault.message }, nextAttemptAt: this.#options.clock.now() + delay },
        `${fault.message} (retry in ${Math.round(delay / 1000)} s)`,
        'local-file',
      );
      this.#asideUnrecorded.delete(job.id);
      const updated = this.queue.jobs.get(job.id);
      if (updated) this.emit('retry', updated);
    } catch (error) {
      if (error instanceof TransitionError) {
        this.#asideUnrecorded.delete(job.id);
        return; // Paused, canceled or removed meanwhile: nothing to put aside.
      }
      this.#asideUnrecorded.set(job.id, { job, fault });
    }
    this.emit('fault', { jobId: job.id, message: fault.message, retryInMs: delay });
    this.#retryAfterFault(delay);
  }

  /** A fault outside any one job (scheduling, control): said once, and everything tried again later. */
  #machineTrouble(jobId: number | null, error: unknown): void {
    if (!this.#started || this.#stopping) return;
    const fault = machineFaultOf(error, this.#dataDir()) ?? unexpected(error);
    const delay = this.#faultDelay();
    this.#machineFaults += 1;
    this.emit('fault', { jobId, message: fault.message, retryInMs: delay });
    this.#retryAfterFault(delay);
  }

  #retryAfterFault(delay: number): void {
    if (this.#faultTimer || !this.#started || this.#stopping) return;
    this.#faultTimer = setTimeout(() => {
      this.#faultTimer = undefined;
      for (const { job, fault } of [...this.#asideUnrecorded.values()]) this.#putAside(job, fault);
      if (this.#asideUnrecorded.size === 0) this.#machineFaults = 0;
      this.#schedule();
    }, delay);
  }

  // Progress ----------------------------------------------------------------------------------------

  #reportProgress(jobId: number, bytesDone: number): void {
    const entry = this.#progress.get(jobId);
    if (!entry) return;
    entry.bytesDone = bytesDone;
    const now = this.#options.clock.now();
    const samples = entry.samples;
    const newest = samples[samples.length - 1];
    if (newest && samples.length >= 2 && now - samples[samples.length - 2]![0] < SAMPLE_SPACING_MS) {
      // Samples stay at least SAMPLE_SPACING_MS apart and the newest one moves forward: reports come
      // on every socket write, and a window of thousands of samples made each shift() below costly.
      newest[0] = now;
      newest[1] = bytesDone;
    } else {
      samples.push([now, bytesDone]);
    }
    while (entry.samples.length > 2 && now - entry.samples[0]![0] > SPEED_WINDOW_MS) entry.samples.shift();
    this.#dirty.add(jobId);
  }

  #flushProgress(): void {
    if (this.#dirty.size === 0) return;
    const updates: ProgressUpdate[] = [];
    for (const jobId of this.#dirty) {
      const entry = this.#progress.get(jobId);
      if (!entry) continue;
      updates.push({ jobId, bytesDone: entry.bytesDone, total: entry.total, bytesPerSecond: speed(entry.samples) });
      if (!this.#running.has(jobId)) this.#progress.delete(jobId);
    }
    this.#dirty.clear();
    if (updates.length > 0) this.emit('progress', updates);
  }

  // Idle --------------------------------------------------------------------------------------------

  #isIdle(): boolean {
    if (this.#running.size > 0) return false;
    // Jobs of paused accounts wait for a person, not for time. One indexed probe per account (there
    // are few) instead of loading every pending job: this runs on every scheduling pass.
    const pending: JobState[] = ['queued', 'waiting', 'uploading', 'finalizing', 'processing'];
    return this.queue.accounts
      .list()
      .every((account) => account.paused || !this.queue.jobs.hasJobIn(account.id, pending));
  }

  #releaseIdleWaiters(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
    if (waiters.length > 0) this.emit('idle');
  }
}

function speed(samples: ReadonlyArray<[number, number]>): number {
  if (samples.length < 2) return 0;
  const [t0, b0] = samples[0]!;
  const [t1, b1] = samples[samples.length - 1]!;
  return t1 > t0 ? Math.max(0, ((b1 - b0) * 1000) / (t1 - t0)) : 0;
}

function destroyAgents(http: Got): void {
  const agents = http.defaults.options.agent;
  if (agents.http) agents.http.destroy();
  if (agents.https) agents.https.destroy();
}

/**
 * A provider's error body can quote what it was sent (a refused API key, a client id, an access
 * token): the message is stored in the database, printed by `ferry list` / `--json` and shown in the
 * UI, so the account's secret values — and the secrets derived from them, such as OAuth tokens — are
 * replaced before it is recorded, in every form they travel in (base64 as in Basic auth, URL- and
 * form-encoded: secrets/redaction.ts, the same redaction as the API's and the logs').
 */
function withoutSecrets(error: UploadError, secrets: readonly string[]): UploadError {
  const message = redactSecrets(error.message, secrets);
  if (message === error.message) return error;
  return new UploadError(error.kind, message, {
    ...(error.status !== undefined ? { status: error.status } : {}),
    ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
  });
}

/** A failure that is not a known fault of the machine, outside any upload: said as it is. */
function unexpected(error: unknown): MachineFault {
  const text = error instanceof Error ? error.message : String(error);
  return {
    kind: 'disk-error',
    message: `Ferry could not record the state of its queue (${text}); it tries again later`,
  };
}

/** A failure message without its closing advice for the retry ("; will retry"), once none will come. */
function withoutRetryAdvice(message: string): string {
  return message.replace(/[;,]\s*(will retry|waiting before trying again)\.?$/i, '');
}
