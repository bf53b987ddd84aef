/**
 * From stable files to jobs: a batch is processed one file at a time per rule (at most
 * `hashConcurrency` at once): each file is checked against the sync index, checked against the
 * provider's limits, hashed (streamed), deduplicated by (account, SHA-256), and the new ones are
 * queued through Queue.enqueue, one call per rule and batch. Every outcome is recorded in the sync
 * index (db/syncRepository.ts) and told as a `file` event; a duplicate of content already uploaded
 * goes on to the after-upload action at once.
 */
import { basename } from 'node:path';
import mime from 'mime-types';
import type { Account } from '../db/accountsRepository.ts';
import { transaction } from '../db/database.ts';
import type { Job } from '../db/jobsRepository.ts';
import type { SyncFile, SyncRepository } from '../db/syncRepository.ts';
import { UploadError } from '../core/errors.ts';
import { openFileSource } from '../engine/fileSource.ts';
import type { AfterUpload } from './afterUpload.ts';
import type { Candidate, IntakeBatcher } from './intakeBatcher.ts';
import { keyOf, type SyncContext, type SyncFileEvent } from './syncContext.ts';
import type { ActiveRule, SyncWatchers } from './syncWatchers.ts';
import { sameSnapshot, snapshotOf, type FileSnapshot } from './stabilityTracker.ts';

/** A job, or why there is none (null: the file vanished). */
interface EnqueueOutcome {
  job: Job | null;
  reason: string | null;
}

type Verdict =
  | { kind: 'skip' }
  | { kind: 'refused'; candidate: Candidate; reason: string }
  | { kind: 'hashed'; candidate: Candidate; sha256: string; known: SyncFile | undefined };

const LATENCY_SAMPLES = 10_000;

export class SyncIndexer {
  readonly #context: SyncContext;
  readonly #watchers: SyncWatchers;
  readonly #batcher: IntakeBatcher;
  readonly #afterUpload: AfterUpload;
  /** Files checked and hashed at once. */
  readonly #hashConcurrency: number;

  constructor(
    context: SyncContext,
    parts: { watchers: SyncWatchers; batcher: IntakeBatcher; afterUpload: AfterUpload },
    hashConcurrency: number,
  ) {
    this.#context = context;
    this.#watchers = parts.watchers;
    this.#batcher = parts.batcher;
    this.#afterUpload = parts.afterUpload;
    this.#hashConcurrency = hashConcurrency;
  }

  /** Checks, hashes, deduplicates and queues one batch of stable files (one batch at a time). */
  async process(batch: Candidate[]): Promise<void> {
    if (!this.#context.started()) return;
    this.#context.stats.batches += 1;
    const byRule = new Map<number, Candidate[]>();
    for (const candidate of batch) {
      const list = byRule.get(candidate.ruleId) ?? [];
      list.push(candidate);
      byRule.set(candidate.ruleId, list);
    }
    for (const [ruleId, candidates] of byRule) {
      const active = this.#watchers.active(ruleId);
      const account = active && this.#context.queue.accounts.get(active.rule.accountId);
      if (!active || !account) continue;
      const verdicts = await mapLimit(candidates, this.#hashConcurrency, (candidate) =>
        this.#judge(active, account, candidate),
      );
      await this.#settle(active, account, verdicts);
    }
  }

  /** Decides what one stable file is: known already, refused by the provider, or hashed content. */
  async #judge(active: ActiveRule, account: Account, candidate: Candidate): Promise<Verdict> {
    const { rule } = active;
    const key = keyOf(rule.id, candidate.path);
    const now = await snapshotOf(candidate.path);
    if (!now) return { kind: 'skip' };
    if (!sameSnapshot(now, candidate.snapshot)) {
      // It changed again after it looked stable: start over.
      this.#batcher.restart(key, candidate.path, now);
      return { kind: 'skip' };
    }
    const known = this.#context.repo.file(rule.id, candidate.path);
    if (isUnchanged(known, now)) {
      this.#context.stats.unchanged += 1;
      return { kind: 'skip' };
    }
    const name = basename(candidate.path);
    try {
      // The provider's own limits (type, size) first: a file it cannot take is not even hashed.
      this.#context.queue.adapterFor(account.provider).validateSource(
        {
          kind: 'file',
          path: candidate.path,
          name,
          size: now.size,
          mime: mime.lookup(name) || 'application/octet-stream',
        },
        {},
      );
    } catch (error) {
      if (error instanceof UploadError) return { kind: 'refused', candidate, reason: error.message };
      throw error;
    }
    let sha256: string;
    try {
      sha256 = await openFileSource(candidate.path, now.size).digest('sha256');
    } catch {
      // Gone or unreadable while hashing: the watcher or the next rescan brings it back if it returns.
      return { kind: 'skip' };
    }
    const after = await snapshotOf(candidate.path);
    if (!after || !sameSnapshot(after, now)) {
      if (after) this.#batcher.restart(key, candidate.path, after);
      return { kind: 'skip' };
    }
    return { kind: 'hashed', candidate, sha256, known };
  }

  /** Records the verdicts and queues the new contents. Synchronous up to the enqueue call. */
  async #settle(active: ActiveRule, account: Account, verdicts: Verdict[]): Promise<void> {
    const { rule } = active;
    const fresh: Array<{ candidate: Candidate; sha256: string }> = [];
    /** Files of this batch with the same content as a file queued in this batch. */
    const twins = new Map<string, Candidate[]>();
    const events: SyncFileEvent[] = [];
    const uploadedDuplicates: SyncFile[] = [];

    transaction(this.#context.db, () => {
      for (const verdict of verdicts) {
        if (verdict.kind === 'skip') continue;
        const { candidate } = verdict;
        const facts = { size: candidate.snapshot.size, mtimeMs: candidate.snapshot.mtimeMs };
        if (verdict.kind === 'refused') {
          this.#context.stats.refused += 1;
          this.#context.repo.upsertFile(rule.id, account.id, candidate.path, {
            ...facts,
            state: 'refused',
            reason: verdict.reason,
          });
          events.push({ ruleId: rule.id, path: candidate.path, state: 'refused', jobId: null, reason: verdict.reason });
          continue;
        }
        const { sha256, known } = verdict;
        const upload = this.#context.repo.upload(account.id, sha256);
        const live = this.#liveJob(upload);
        if (
          live !== false &&
          known &&
          known.sha256 === sha256 &&
          known.disposition === null &&
          ['queued', 'uploaded', 'duplicate'].includes(known.state)
        ) {
          // Touched, or written again with the same bytes: only the observed facts change.
          this.#context.stats.unchanged += 1;
          this.#context.repo.upsertFile(rule.id, account.id, candidate.path, {
            ...facts,
            sha256,
            state: known.state,
            jobId: known.jobId,
            uploadedAt: known.uploadedAt,
          });
          continue;
        }
        if (live !== false) {
          this.#context.stats.duplicates += 1;
          const uploaded = upload?.state === 'uploaded' || live === 'completed';
          this.#context.repo.upsertFile(rule.id, account.id, candidate.path, {
            ...facts,
            sha256,
            state: 'duplicate',
            jobId: upload?.jobId ?? null,
            reason: 'Same content as a file already uploaded or queued for this account',
            uploadedAt: uploaded ? (upload?.uploadedAt ?? Date.now()) : null,
          });
          events.push({
            ruleId: rule.id,
            path: candidate.path,
            state: 'duplicate',
            jobId: upload?.jobId ?? null,
            reason: null,
          });
          if (uploaded) uploadedDuplicates.push(this.#context.repo.file(rule.id, candidate.path)!);
          continue;
        }
        const twin = twins.get(sha256);
        if (twin) {
          twin.push(candidate);
          continue;
        }
        twins.set(sha256, []);
        fresh.push({ candidate, sha256 });
        // Recorded before the job exists: if the process stops between the two, the next start
        // adopts the job that was created (or finds none and looks at the file again).
        this.#context.repo.upsertFile(rule.id, account.id, candidate.path, { ...facts, sha256, state: 'pending' });
      }
    });
    for (const event of events.splice(0)) this.#context.emitFile(event);
    for (const file of uploadedDuplicates) this.#afterUpload.schedule(file);
    if (fresh.length === 0) return;

    const jobs = await this.#enqueue(
      account,
      fresh.map((item) => item.candidate.path),
    );
    const queuedAt = Date.now();
    transaction(this.#context.db, () => {
      fresh.forEach(({ candidate, sha256 }, index) => {
        const outcome = jobs[index]!;
        const facts = { size: candidate.snapshot.size, mtimeMs: candidate.snapshot.mtimeMs, sha256 };
        if (outcome.job) {
          const jobId = outcome.job.id;
          this.#context.stats.queued += 1;
          this.#recordLatency(queuedAt - candidate.snapshot.mtimeMs);
          this.#context.repo.upsertFile(rule.id, account.id, candidate.path, { ...facts, state: 'queued', jobId });
          this.#context.repo.putUpload(account.id, sha256, jobId, 'queued');
          events.push({ ruleId: rule.id, path: candidate.path, state: 'queued', jobId, reason: null });
          for (const twin of twins.get(sha256) ?? []) {
            this.#context.stats.duplicates += 1;
            this.#context.repo.upsertFile(rule.id, account.id, twin.path, {
              size: twin.snapshot.size,
              mtimeMs: twin.snapshot.mtimeMs,
              sha256,
              state: 'duplicate',
              jobId,
              reason: 'Same content as a file already uploaded or queued for this account',
            });
            events.push({ ruleId: rule.id, path: twin.path, state: 'duplicate', jobId, reason: null });
          }
        } else if (outcome.reason === null) {
          // The file vanished before it could be queued; its twins are looked at again next time.
          this.#context.repo.removeFile(rule.id, candidate.path);
        } else {
          this.#context.stats.refused += 1;
          this.#context.repo.upsertFile(rule.id, account.id, candidate.path, {
            ...facts,
            state: 'refused',
            reason: outcome.reason,
          });
          events.push({ ruleId: rule.id, path: candidate.path, state: 'refused', jobId: null, reason: outcome.reason });
        }
      });
    });
    for (const event of events) this.#context.emitFile(event);
  }

  /**
   * Queues the paths in one call (all or nothing); when that fails (one file vanished or changed
   * type in the meantime), file by file, so that one bad file never holds the others back.
   */
  async #enqueue(account: Account, paths: string[]): Promise<EnqueueOutcome[]> {
    this.#context.stats.enqueueCalls += 1;
    try {
      const jobs = await this.#context.queue.enqueue(account.name, paths);
      // Each path is a file, so each gives exactly one job, in order.
      if (jobs.length === paths.length) return jobs.map((job) => ({ job, reason: null }));
      throw new Error(`Queueing ${paths.length} files gave ${jobs.length} jobs`);
    } catch (error) {
      if (paths.length === 1) return [await this.#whyNot(paths[0]!, error)];
    }
    const outcomes: EnqueueOutcome[] = [];
    for (const path of paths) {
      this.#context.stats.enqueueCalls += 1;
      try {
        const [job] = await this.#context.queue.enqueue(account.name, [path]);
        outcomes.push({ job: job ?? null, reason: null });
      } catch (error) {
        outcomes.push(await this.#whyNot(path, error));
      }
    }
    return outcomes;
  }

  /** A path that could not be queued: vanished (reason null) or refused (the queue's message). */
  async #whyNot(path: string, error: unknown): Promise<EnqueueOutcome> {
    if (!(await snapshotOf(path))) return { job: null, reason: null };
    return { job: null, reason: error instanceof Error ? error.message : String(error) };
  }

  /**
   * Whether a content's job still counts: false when there is none, or it failed or was canceled (a
   * changed or copied file with that content may then go again); otherwise the job's state.
   */
  #liveJob(upload: ReturnType<SyncRepository['upload']>): false | string {
    if (!upload) return false;
    if (upload.state === 'uploaded') return 'completed';
    if (upload.jobId === null) return false;
    const job = this.#context.queue.jobs.get(upload.jobId);
    if (!job || job.state === 'failed' || job.state === 'canceled') return false;
    // Completed, but it sent other bytes than this content (see JobOutcomes.jobChanged): the content
    // never went.
    if (upload.state === 'failed' && job.state === 'completed') return false;
    return job.state;
  }

  #recordLatency(ms: number): void {
    const samples = this.#context.stats.queueLatencyMs;
    samples.push(Math.max(0, ms));
    if (samples.length > LATENCY_SAMPLES) samples.splice(0, samples.length - LATENCY_SAMPLES);
  }
}

/** The index already holds this file as it is now (and nothing moved it away since). */
export function isUnchanged(known: SyncFile | undefined, now: FileSnapshot): boolean {
  return (
    known !== undefined &&
    known.state !== 'pending' &&
    known.disposition === null &&
    known.size === now.size &&
    known.mtimeMs === now.mtimeMs
  );
}

/** Runs `work` over `items` with at most `limit` at once, keeping the order of results. */
async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, () => worker()));
  return results;
}
