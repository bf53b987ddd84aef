/**
 * Drives one job through its adapter: check the source, create or reload the session, send the parts
 * the server has not acknowledged (serially or in parallel), finalize at most once, and poll
 * server-side processing. Acknowledgements are committed one per part, or in small batches where the
 * server is the authority on what it holds (ProviderCapabilities.ackBatch).
 * Failures are thrown as UploadErrors and handled by the engine's retry policy, in one place.
 */
import { transaction, transactionSyncedLater, type Db } from '../db/database.ts';
import { JobsRepository, type Job } from '../db/jobsRepository.ts';
import type { AccountContext, CallContext, JobContext, PartSpec, ProviderAdapter } from '../providers/types.ts';
import type { ByteBudget } from './byteBudget.ts';
import { UploadError } from '../core/errors.ts';
import { confirmSentParts, fingerprintFile, openFileSource, statFile } from './fileSource.ts';
import type { Queue } from './queue.ts';
import type { JobThrottle } from './bandwidth.ts';
import type { Clock } from './tokenBucket.ts';

export interface RunnerDeps {
  queue: Queue;
  /** The queue's database: the runner writes the job's session and parts on it. */
  db: Db;
  adapter: ProviderAdapter;
  account: AccountContext;
  budget: ByteBudget;
  clock: Clock;
  /** A request sending its body with no byte moving for this long is aborted as a stall and retried. */
  stallTimeoutMs: number;
  /** How long each step may wait for the server's answer once its request body was sent. */
  replyDeadlines: ReplyDeadlines;
  /** Delays between processing polls: starts at `initialMs`, doubles up to `maxMs`. */
  pollDelays: { initialMs: number; maxMs: number; maxPolls: number };
  /** Bytes of the job known to be sent (acknowledged + in flight), for progress events. */
  progress: (jobId: number, bytesDone: number) => void;
  /**
   * Called once the job's completion is committed and only its sync to disk is awaited: the job needs
   * neither the network nor its file any more, so the engine may start the next one meanwhile.
   */
  finishing?: () => void;
  /** The job's bandwidth limit (its account's and the global one); absent = none. */
  throttle?: JobThrottle;
}

/** How many server re-synchronisations in a row without progress before giving up. */
const MAX_RESYNCS_WITHOUT_PROGRESS = 3;

export async function runJob(initial: Job, deps: RunnerDeps, signal: AbortSignal): Promise<void> {
  // Waiting for the bandwidth limit is not a stall: the watchdogs of this job hold while a body waits.
  const held = { waits: 0 };
  const throttle = deps.throttle ? heldWhileWaiting(deps.throttle, held) : undefined;
  const context = await jobContext(initial, deps.queue, throttle, signal);
  try {
    await runJobWith(initial, context, { ...deps, held: () => held.waits > 0 }, signal);
  } finally {
    // The file's one descriptor, shared by every part of this run (closed once its reads are over).
    await context.file?.close();
  }
}

async function runJobWith(
  initial: Job,
  context: JobContext,
  deps: RunnerDeps & { held: () => boolean },
  signal: AbortSignal,
): Promise<void> {
  const { queue, db, adapter, account } = deps;
  // The runner writes the job's session and parts itself (they are not state changes), on the same
  // database as the queue.
  const repo = new JobsRepository(db);
  const id = initial.id;
  const job = (): Job => queue.requireJob(id);

  const phase = initial.finalizedAt !== null ? 'processing' : 'uploading';
  queue.transitionSyncedLater(
    id,
    phase,
    { nextAttemptAt: null, attempts: initial.attempts + 1 },
    `Attempt ${initial.attempts + 1}`,
  );

  const call = <T>(
    step: keyof ReplyDeadlines,
    doing: string,
    work: (call: CallContext) => Promise<T>,
    onBytes?: (bytes: number) => void,
  ): Promise<T> =>
    withWatchdog(
      doing,
      signal,
      { stallMs: deps.stallTimeoutMs, replyMs: deps.replyDeadlines[step], held: deps.held },
      work,
      onBytes,
    );

  // Session -------------------------------------------------------------------------------------------
  let session = adapter.parseSession(initial.session);
  if (session !== null && initial.finalizeStartedAt === null && !adapter.sessionUsable(session, deps.clock.now())) {
    queue.note(id, 'The upload session expired: starting a new one');
    session = null;
  }
  if (session === null) {
    if (initial.finalizeStartedAt !== null) {
      // Finalize may have happened with a session we can no longer read: starting over could create a
      // duplicate, so stop and say so.
      throw new UploadError(
        'invalid',
        `Finalizing ${initial.name} was interrupted and its upload session could not be read back; check the ${adapter.displayName} account before retrying, to avoid a duplicate`,
      );
    }
    const created = await call('request', `Starting the ${adapter.displayName} upload of ${initial.name}`, (c) =>
      adapter.createSession(account, context, c),
    );
    session = created;
    // A power cut that forgets this record only means a new session next time (as a crash between
    // the server's reply and the commit would): nothing was acknowledged in it yet.
    transactionSyncedLater(db, () => {
      repo.clearParts(id);
      repo.update(id, {
        session: created,
        sessionStartedAt: deps.clock.now(),
        bytesConfirmed: 0,
        finalizeStartedAt: null,
      });
    }).durable.catch(() => undefined);
  }

  // Parts ---------------------------------------------------------------------------------------------
  if (initial.finalizedAt === null) {
    // The last round's acknowledgements, when they go in the finalize marker's commit (see below).
    let lastAcks: {
      parts: Array<{ part: PartSpec; sentSha256: string | null }>;
      bytesConfirmed: number;
      previous: Promise<void>;
    } | null = null;
    let resyncs = 0;
    for (;;) {
      signal.throwIfAborted();
      const plan = adapter.planParts(session, context);
      const acked = new Map(repo.ackedParts(id).map((part) => [part.index, part]));
      const missing = plan.filter((part) => {
        const done = acked.get(part.index);
        return !done || done.start !== part.start || done.end !== part.end;
      });
      if (missing.length === 0) break;
      const before = job().bytesConfirmed;
      const ackedSizes = new Map([...acked.values()].map((part) => [part.index, part.end - part.start]));
      // Bytes acknowledged so far, kept here rather than read back from the database: progress is
      // reported on every write to the socket (thousands of times per second on a fast link).
      let confirmed = ackedBytes([...acked.values()]);
      const inFlight = new Map<number, number>();
      const report = (): void => {
        let sending = 0;
        for (const bytes of inFlight.values()) sending += bytes;
        deps.progress(id, confirmed + sending);
      };
      const width =
        adapter.capabilities.partOrder === 'serial' ? 1 : Math.max(1, adapter.capabilities.maxParallelParts);
      let next = 0;
      let previousAck: Promise<void> = Promise.resolve();
      let resynced = false;
      let failure: unknown;
      // Acknowledged parts not committed yet: one commit per part, or per batch for a protocol whose
      // server is the authority on what it holds (ProviderCapabilities.ackBatch), where a kill that
      // forgets a batch costs only that batch again. A run that ends in any other way commits them.
      const batch = adapter.capabilities.ackBatch;
      const batchParts = batch ? Math.max(1, batch.parts) : 1;
      let pending: Array<{ part: PartSpec; sentSha256: string | null }> = [];
      let pendingTimer: NodeJS.Timeout | null = null;
      let committedInRound = false;
      const flush = async (): Promise<void> => {
        if (pendingTimer) clearTimeout(pendingTimer);
        pendingTimer = null;
        // The previous commit reaches the disk before this one is made, and this one while the next
        // parts go out (see transactionSyncedLater).
        await previousAck.catch((error: unknown) => {
          throw progressNotRecorded(initial.name, error);
        });
        // Taken after the wait: parts acknowledged meanwhile go in the same commit.
        const parts = pending;
        if (parts.length === 0) return;
        pending = [];
        committedInRound = true;
        const current = session;
        const bytesConfirmed = confirmed;
        const { durable } = transactionSyncedLater(db, () => {
          for (const acked of parts) repo.ackPart(id, acked.part, undefined, acked.sentSha256);
          repo.update(id, { session: current, bytesConfirmed, retryStreak: 0 });
        });
        previousAck = durable;
        // Awaited by the next commit; a run that ends first leaves it to the next FULL commit (its end
        // state), so its failure must not surface as an unhandled rejection.
        durable.catch(() => undefined);
      };
      const flushLater = (): void => {
        flush().catch((error: unknown) => {
          failure ??= error;
        });
      };
      const worker = async (): Promise<void> => {
        while (!resynced && failure === undefined && next < missing.length) {
          const part = missing[next++]!;
          const release = await deps.budget.acquire(part.end - part.start, signal);
          try {
            const outcome = await call(
              'part',
              `Sending part ${part.index + 1} of ${plan.length} of ${initial.name}`,
              (c) => adapter.uploadPart(account, context, session, part, c),
              (bytes) => {
                inFlight.set(part.index, bytes);
                report();
              },
            );
            session = outcome.session;
            const current = outcome.session;
            if (outcome.kind === 'acked') {
              // The sum of every acknowledged part, kept in memory (reading all parts back on each
              // acknowledgement made a file of n parts cost n² row reads); `part` replaces any
              // recorded part of the same index.
              confirmed += part.end - part.start - (ackedSizes.get(part.index) ?? 0);
              ackedSizes.set(part.index, part.end - part.start);
              // What this part's body really read, for jobs that must know (see confirmSentParts).
              const sentSha256 = context.file?.measuresSent
                ? (context.file.sentSha256?.(part.start, part.end) ?? null)
                : null;
              pending.push({ part, sentSha256 });
              // The round's first acknowledgement is committed at once: it may carry what identifies
              // the upload on the server (SelfCommunity's upload_id comes with the first chunk's reply),
              // without which a resume could not ask the server what it holds.
              if (pending.length >= batchParts || !committedInRound) await flush();
              else if (pendingTimer === null && batch) pendingTimer = setTimeout(flushLater, batch.ms);
            } else {
              resynced = true;
              // The server's offset decides which parts it holds: the resync records them all.
              if (pendingTimer) clearTimeout(pendingTimer);
              pendingTimer = null;
              pending = [];
              resync(id, plan, outcome.serverOffset, current);
              confirmed = job().bytesConfirmed;
              queue.note(
                id,
                `${adapter.displayName} holds ${outcome.serverOffset} bytes of ${initial.name}: continuing from there`,
              );
            }
          } catch (error) {
            failure ??= error;
          } finally {
            inFlight.delete(part.index);
            release();
          }
        }
      };
      // A worker that throws (a stop while it waits for the byte budget) ends like one that fails: the
      // others finish their current part, and what was acknowledged is committed below.
      await Promise.all(
        Array.from({ length: Math.min(width, missing.length) }, () =>
          worker().catch((error: unknown) => {
            failure ??= error;
          }),
        ),
      );
      if (failure === undefined && !resynced && pending.length > 0 && !context.file?.measuresSent) {
        // Every part is acknowledged: the last ones are committed with the finalize marker, in one
        // commit and one sync instead of two in a row before finalize (still after the previous
        // batch's sync, so a power cut forgets at most this one batch, and finalize goes out only once
        // both are on disk). Jobs that measure what they sent read their parts back first.
        if (pendingTimer) clearTimeout(pendingTimer);
        pendingTimer = null;
        lastAcks = { parts: pending, bytesConfirmed: confirmed, previous: previousAck };
        pending = [];
        report();
        break;
      }
      // Whatever ended the round (all sent, a failure, a stop), the parts acknowledged so far are kept.
      await flush().catch((error: unknown) => {
        failure ??= error;
      });
      report();
      if (failure !== undefined) throw failure;
      if (resynced) {
        resyncs = job().bytesConfirmed > before ? 0 : resyncs + 1;
        if (resyncs > MAX_RESYNCS_WITHOUT_PROGRESS) {
          throw new UploadError(
            'conflict',
            `${adapter.displayName} keeps reporting an offset that does not move forward for ${initial.name}; will retry`,
          );
        }
      }
    }

    // What was sent ------------------------------------------------------------------------------------
    // Before finalize rather than after it: the file is read once more here, and doing that between
    // finalize's answer and recording it would widen the window in which a crash loses the answer.
    // Finalize sends no file bytes for any file adapter (every byte goes in a part), so the parts are
    // the whole of what the provider received.
    // A protocol whose finalize sends the last bytes (TwentyThree's last chunk) gets its whole-file hash
    // once finalize's body is known to have read exactly the tail that was hashed here.
    let pendingTail: { sha256: string; tail: { start: number; end: number; sha256: string } } | null = null;
    const unconfirmed = (reason: string): void =>
      queue.note(
        id,
        `Ferry could not confirm which bytes of ${initial.name} were sent (${reason}); a watched folder will keep this file rather than move or delete it`,
      );
    if (context.file?.measuresSent) {
      const check = await confirmSentParts(context.file.path, context.file.size, repo.sentParts(id), { tail: true });
      repo.setSentSha256(id, check.kind === 'confirmed' ? check.sha256 : null);
      if (check.kind === 'unconfirmed') unconfirmed(check.reason);
      if (check.kind === 'needs-tail') pendingTail = check;
    }
    const confirmTail = (): void => {
      if (!pendingTail || !context.file) return;
      const { tail, sha256 } = pendingTail;
      if (context.file.sentSha256?.(tail.start, tail.end) === tail.sha256) repo.setSentSha256(id, sha256);
      else
        unconfirmed(
          `the bytes ${tail.start}-${tail.end} that finalize sent were not measured or are not the ones on disk`,
        );
    };

    // Finalize, at most once ---------------------------------------------------------------------------
    const resumed = job().finalizeStartedAt !== null;
    // On disk before finalize goes out (a kill or power cut after it must resume as `resumed`), synced
    // on the thread pool so that the other uploads of the process go on meanwhile.
    const carried = lastAcks;
    const marker = {
      session,
      ...(resumed ? {} : { finalizeStartedAt: deps.clock.now() }),
      ...(carried ? { bytesConfirmed: carried.bytesConfirmed, retryStreak: 0 } : {}),
    };
    const ackCarried = carried
      ? (): void => {
          for (const acked of carried.parts) repo.ackPart(id, acked.part, undefined, acked.sentSha256);
        }
      : undefined;
    const keepCarried = (): void => {
      if (!ackCarried) return;
      try {
        transactionSyncedLater(db, () => {
          ackCarried();
          repo.update(id, { session, bytesConfirmed: marker.bytesConfirmed, retryStreak: 0 });
        }).durable.catch(() => undefined);
      } catch {
        // The database refuses writes: the error that ends the run says why.
      }
    };
    if (carried) {
      await carried.previous.catch((error: unknown) => {
        throw progressNotRecorded(initial.name, error);
      });
      // Stopped meanwhile: the parts are kept and the run ends as it would have before finalizing.
      if (signal.aborted) {
        keepCarried();
        signal.throwIfAborted();
      }
    }
    try {
      await queue.transitionDurably(
        id,
        'finalizing',
        marker,
        resumed ? 'Finalizing again after an interruption: reconciling with the server' : 'Finalizing',
        ackCarried,
      );
    } catch (error) {
      // The change was refused (another process stopped the job) or its sync failed: the acknowledged
      // parts are kept all the same (a commit that already made them does not mind them again).
      keepCarried();
      throw error;
    }
    const sessionAtFinalize = session;
    const outcome = await call(
      'finalize',
      `Finalizing ${initial.name} on ${adapter.displayName}`,
      (c) => adapter.finalize(account, context, sessionAtFinalize, { ...c, resumed }),
      (bytes) => deps.progress(id, job().bytesConfirmed + bytes),
    );
    const size = initial.size ?? job().bytesConfirmed;
    // Recorded before the outcome, so that whoever reacts to it (a watched folder) sees it.
    confirmTail();
    if (outcome.kind === 'completed') {
      await complete(outcome.result, size);
      return;
    }
    session = outcome.session;
    await queue.transitionDurably(
      id,
      'processing',
      { session: outcome.session, finalizedAt: deps.clock.now(), result: outcome.result ?? null, bytesConfirmed: size },
      `${adapter.displayName} is processing the file`,
    );
  }

  // Processing ----------------------------------------------------------------------------------------
  const poll = adapter.poll?.bind(adapter);
  if (!poll) throw new UploadError('invalid', `${adapter.displayName} reported processing but cannot be polled`);
  let delay = deps.pollDelays.initialMs;
  for (let polls = 0; polls < deps.pollDelays.maxPolls; polls += 1) {
    await deps.clock.sleep(delay, signal);
    delay = Math.min(deps.pollDelays.maxMs, delay * 2);
    const current = session;
    const outcome = await call('request', `Checking on ${initial.name} at ${adapter.displayName}`, (c) =>
      poll(account, context, current, c),
    );
    if (outcome.kind === 'completed') {
      await complete(outcome.result, job().size ?? job().bytesConfirmed);
      return;
    }
    session = outcome.session;
    // A pulled URL's size is known only once the server has looked at it.
    const learnedSize = job().size === null && outcome.progress ? outcome.progress.total : undefined;
    repo.update(id, { session: outcome.session, retryStreak: 0, ...(learnedSize ? { size: learnedSize } : {}) });
    if (outcome.progress) deps.progress(id, outcome.progress.done);
  }
  throw new UploadError(
    'timeout',
    `${adapter.displayName} was still processing ${initial.name} after ${deps.pollDelays.maxPolls} checks; retry later to keep checking`,
  );

  /** Recorded durably (see Queue.transitionDurably) before the run ends and anyone is told. */
  async function complete(result: NonNullable<Job['result']>, size: number): Promise<void> {
    // Committed when transitionDurably returns; the event and this run's end wait for the disk.
    const durable = queue.transitionDurably(id, 'completed', {
      result,
      finalizedAt: job().finalizedAt ?? deps.clock.now(),
      finishedAt: deps.clock.now(),
      bytesConfirmed: size,
      error: null,
      nextAttemptAt: null,
    });
    deps.finishing?.();
    await durable;
    deps.progress(id, size);
  }

  /** The server holds exactly [0, offset): every planned part inside it is acknowledged, none after. */
  function resync(jobId: number, plan: PartSpec[], offset: number, current: unknown): void {
    transaction(db, () => {
      repo.keepPartsUpTo(jobId, offset);
      // A part the server holds was sent by a body of this run, or its bytes are unknown (null).
      for (const part of plan) {
        if (part.end <= offset)
          repo.ackPart(
            jobId,
            part,
            undefined,
            context.file?.measuresSent ? (context.file.sentSha256?.(part.start, part.end) ?? null) : null,
          );
      }
      repo.update(jobId, { session: current, bytesConfirmed: ackedBytes(repo.ackedParts(jobId)) });
    });
  }
}

function ackedBytes(parts: ReadonlyArray<{ start: number; end: number }>): number {
  let total = 0;
  for (const part of parts) total += part.end - part.start;
  return total;
}

/** Builds the adapter's view of the job, checking first that a file source is still what was queued. */
async function jobContext(
  job: Job,
  queue: Queue,
  throttle: JobThrottle | undefined,
  signal: AbortSignal,
): Promise<JobContext> {
  if (job.sourceKind === 'url') {
    return {
      jobId: job.id,
      source: { kind: 'url', url: job.source, name: job.name, size: job.size, mime: job.mime },
      options: job.options,
      file: null,
    };
  }
  const info = await statFile(job.source, `Uploading ${job.name}: cannot read`);
  const changed = (): UploadError =>
    new UploadError(
      'local-file',
      `${job.source} changed since it was queued; Ferry will not upload a mix of old and new bytes. Retry the job to upload the new content from the start.`,
    );
  if (info.size !== job.size || info.mtimeMs !== job.mtimeMs) throw changed();
  // The edge hash guards against mixing: it matters once some bytes were acknowledged. A job that has
  // sent nothing yet uploads the file as it is now (size and mtime unchanged), which saves reading and
  // hashing 2 MiB per file at every start (~5 % of a 4.5 MB SelfCommunity upload).
  const sentSomething = job.bytesConfirmed > 0 || job.finalizeStartedAt !== null || job.finalizedAt !== null;
  if (sentSomething && (await fingerprintFile(job.source)).edgeHash !== job.edgeHash) throw changed();
  return {
    jobId: job.id,
    source: { kind: 'file', path: job.source, name: job.name, size: info.size, mime: job.mime },
    options: job.options,
    // Only jobs from watched folders hash what they send (a file they may later move or delete).
    file: openFileSource(job.source, info.size, info.mtimeMs, {
      measureSent: queue.jobs.fromWatchedFolder(job),
      ...(throttle ? { throttle, signal } : {}),
    }),
  };
}

function progressNotRecorded(name: string, error: unknown): UploadError {
  return new UploadError(
    'invalid',
    `Recording the progress of ${name} in Ferry's database failed (${error instanceof Error ? error.message : String(error)}); check the disk that holds Ferry's data folder`,
    { cause: error },
  );
}

/** Counts the job's bodies waiting on the limiter, so that its watchdogs hold meanwhile. */
function heldWhileWaiting(throttle: JobThrottle, held: { waits: number }): JobThrottle {
  return {
    get active() {
      return throttle.active;
    },
    pieceSize: (requested) => throttle.pieceSize(requested),
    async take(bytes, signal) {
      held.waits += 1;
      try {
        await throttle.take(bytes, signal);
      } finally {
        held.waits -= 1;
      }
    },
  };
}

/**
 * Watchdogs by the signal of the call they guard, so that the account lane can suspend one while a
 * request waits for its turn under the rate limit: waiting for a token is not a stall.
 */
const watchdogs = new WeakMap<AbortSignal, { suspend(): void; resume(): void }>();

/** Runs `wait` (e.g. the lane's pacing) without it counting against the stall watchdog of `signal`. */
export async function outsideWatchdog<T>(signal: AbortSignal | undefined, wait: () => Promise<T>): Promise<T> {
  const watchdog = signal ? watchdogs.get(signal) : undefined;
  watchdog?.suspend();
  try {
    return await wait();
  } finally {
    watchdog?.resume();
  }
}

/** How long a call may go without progress: while it sends, and once it only waits for the answer. */
export interface WatchdogLimits {
  /** Sending a body: aborted as stalled when no byte is accepted for this long. */
  stallMs: number;
  /**
   * The whole body was sent and the server has not answered yet: aborted after this long. Much longer
   * than `stallMs`, because a server may only answer once it has done its work (a last chunk
   * assembled into a large video, a finalize while the platform ingests); aborting it early loses the
   * answer, and with it possibly the only word of the remote id.
   */
  replyMs: number;
  /** True while the call is held back on purpose (a body waiting for the bandwidth limit): not a stall. */
  held?: () => boolean;
}

/** The reply deadlines of each step of a job (see WatchdogLimits.replyMs). */
export interface ReplyDeadlines {
  /** Creating a session, polling processing: answers that need no work on the server's side. */
  request: number;
  /** One part: the completing chunk of some protocols assembles the whole file before it answers. */
  part: number;
  /** Finalize: the platform may ingest the file before it answers. */
  finalize: number;
}

export const DEFAULT_REPLY_DEADLINES: ReplyDeadlines = { request: 120_000, part: 15 * 60_000, finalize: 15 * 60_000 };

/**
 * Runs one call with a watchdog of two phases. While a request body is being sent, no byte moving for
 * `stallMs` aborts the call as stalled. Once the adapter's request has sent its whole body
 * (`CallContext.bodySent`, called by main/providers/http.ts), the call waits up to `replyMs` for the
 * answer; a byte sent after that (the call's next request) starts a sending phase again. Either abort
 * carries a `timeout` UploadError as the abort reason (the adapter's transport mapping passes it on).
 */
export async function withWatchdog<T>(
  doing: string,
  parent: AbortSignal,
  limits: WatchdogLimits,
  work: (call: CallContext) => Promise<T>,
  onBytes?: (bytes: number) => void,
): Promise<T> {
  parent.throwIfAborted();
  const controller = new AbortController();
  const forward = (): void => controller.abort(parent.reason);
  parent.addEventListener('abort', forward, { once: true });
  let lastMoved = Date.now();
  let awaitingReply = false;
  let suspended = 0;
  watchdogs.set(controller.signal, {
    suspend: () => {
      suspended += 1;
    },
    resume: () => {
      suspended -= 1;
      lastMoved = Date.now();
    },
  });
  const seconds = (ms: number): string =>
    ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
  const stopWatching = watchEvery(
    Math.max(50, Math.min(1_000, Math.floor(Math.min(limits.stallMs, limits.replyMs) / 4))),
    () => {
      if (suspended !== 0) return;
      if (limits.held?.()) {
        lastMoved = Date.now();
        return;
      }
      const quiet = Date.now() - lastMoved;
      if (!awaitingReply && quiet >= limits.stallMs) {
        controller.abort(
          new UploadError('timeout', `${doing}: nothing moved for ${seconds(limits.stallMs)} (stalled); will retry`),
        );
      } else if (awaitingReply && quiet >= limits.replyMs) {
        controller.abort(
          new UploadError(
            'timeout',
            `${doing}: everything was sent, but the server did not answer within ${seconds(limits.replyMs)} (stalled); will retry`,
          ),
        );
      }
    },
  );
  try {
    return await work({
      signal: controller.signal,
      onBytes(bytes) {
        // Every request starts by reporting 0 bytes: a call's next request is sending again. A later
        // report of the finished body (after bodySent) is not a new request.
        if (bytes === 0) awaitingReply = false;
        lastMoved = Date.now();
        onBytes?.(bytes);
      },
      bodySent() {
        awaitingReply = true;
        lastMoved = Date.now();
      },
    });
  } catch (error) {
    // An adapter that lets the raw abort through still reports the watchdog's reason.
    if (controller.signal.aborted && !parent.aborted && controller.signal.reason instanceof UploadError) {
      throw controller.signal.reason;
    }
    throw error;
  } finally {
    stopWatching();
    parent.removeEventListener('abort', forward);
  }
}

/**
 * One interval timer per check period, shared by every running call's watchdog: starting and clearing
 * an interval for each call (every 204,800-byte part) cost more than the checks. The timer holds the
 * process open only while a call is watched, and goes away at its first tick with nothing to check.
 */
const tickers = new Map<number, { timer: NodeJS.Timeout; checks: Set<() => void> }>();

function watchEvery(periodMs: number, check: () => void): () => void {
  let ticker = tickers.get(periodMs);
  if (!ticker) {
    const checks = new Set<() => void>();
    const timer = setInterval(() => {
      if (checks.size === 0) {
        clearInterval(timer);
        if (tickers.get(periodMs)?.timer === timer) tickers.delete(periodMs);
        return;
      }
      for (const each of checks) each();
    }, periodMs);
    ticker = { timer, checks };
    tickers.set(periodMs, ticker);
  } else if (ticker.checks.size === 0) {
    ticker.timer.ref();
  }
  const { timer, checks } = ticker;
  checks.add(check);
  return () => {
    if (checks.delete(check) && checks.size === 0) timer.unref();
  };
}
