/**
 * What the end of a job means for the sync index: a completed job marks its paths (and their
 * duplicates) uploaded and sends them on to the after-upload action, a failed or canceled one marks
 * them failed. The index and the jobs live in one database but change in separate steps, so after a
 * stop in the middle of something `reconcile` brings them in line again (at start and at every
 * rescan).
 */
import { transaction } from '../db/database.ts';
import type { Job } from '../db/jobsRepository.ts';
import type { SyncFile } from '../db/syncRepository.ts';
import type { AfterUpload } from './afterUpload.ts';
import type { IntakeBatcher } from './intakeBatcher.ts';
import { keyOf, type SyncContext, type SyncFileEvent } from './syncContext.ts';
import type { SyncWatchers } from './syncWatchers.ts';

const TERMINAL = new Set(['completed', 'failed', 'canceled']);

export class JobOutcomes {
  readonly #context: SyncContext;
  readonly #batcher: IntakeBatcher;
  readonly #watchers: SyncWatchers;
  readonly #afterUpload: AfterUpload;

  constructor(
    context: SyncContext,
    parts: { batcher: IntakeBatcher; watchers: SyncWatchers; afterUpload: AfterUpload },
  ) {
    this.#context = context;
    this.#batcher = parts.batcher;
    this.#watchers = parts.watchers;
    this.#afterUpload = parts.afterUpload;
  }

  /** Records a job's outcome for the paths that queued it (nothing until the job is terminal). */
  jobChanged(job: Job): void {
    if (!TERMINAL.has(job.state)) return;
    const files = this.#context.repo.filesOfJob(job.id);
    if (files.length === 0) return;
    const now = Date.now();
    const events: SyncFileEvent[] = [];
    // What the job really sent (null: not confirmed, e.g. a job from an older Ferry): a content the
    // index hashed but the job did not send may go again, and the sent one counts as uploaded.
    const sent = job.state === 'completed' ? this.#context.queue.jobs.sentSha256(job.id) : null;
    const lookAgain: SyncFile[] = [];
    transaction(this.#context.db, () => {
      for (const upload of this.#context.repo.uploadsOfJob(job.id)) {
        const reached = job.state === 'completed' && (sent === null || sent === upload.sha256);
        this.#context.repo.putUpload(upload.accountId, upload.sha256, job.id, reached ? 'uploaded' : 'failed');
      }
      if (sent !== null && files[0] && !this.#context.repo.upload(files[0].accountId, sent)) {
        this.#context.repo.putUpload(files[0].accountId, sent, job.id, 'uploaded');
      }
      for (const file of files) {
        if (job.state === 'completed' && sent !== null && file.sha256 !== null && file.sha256 !== sent) {
          // The job sent other bytes than the ones hashed for this path (the file changed in
          // between): forget the path's record so that it is looked at, hashed and judged again.
          this.#context.repo.removeFile(file.ruleId, file.path);
          lookAgain.push(file);
          continue;
        }
        if (job.state === 'completed') {
          const state = file.state === 'duplicate' ? 'duplicate' : 'uploaded';
          this.#context.repo.setFileState(file.ruleId, file.path, state, {
            uploadedAt: now,
            reason: file.state === 'duplicate' ? file.reason : null,
          });
          events.push({ ruleId: file.ruleId, path: file.path, state, jobId: job.id, reason: null });
        } else {
          const reason =
            job.state === 'canceled' ? 'The upload was canceled' : (job.error?.message ?? 'The upload failed');
          this.#context.repo.setFileState(file.ruleId, file.path, 'failed', { reason });
          events.push({ ruleId: file.ruleId, path: file.path, state: 'failed', jobId: job.id, reason });
        }
      }
    });
    for (const event of events) this.#context.emitFile(event);
    for (const file of lookAgain) {
      if (this.#watchers.isActive(file.ruleId)) this.#batcher.observe(keyOf(file.ruleId, file.path), file.path);
    }
    if (job.state === 'completed') {
      for (const file of files) if (!lookAgain.includes(file)) this.#afterUpload.schedule({ ...file, uploadedAt: now });
    }
    // Files kept because this job still read them may go now.
    if (TERMINAL.has(job.state) && job.sourceKind === 'file') {
      for (const other of this.#context.repo.filesAtPath(job.source)) {
        if (other.jobId !== job.id && this.#afterUpload.isWaiting(other.ruleId, other.path))
          this.#afterUpload.schedule(other);
      }
    }
  }

  /**
   * Brings the index in line with the jobs after a stop in the middle of something: a pending path
   * adopts the job created for it, a path whose job ended while nobody listened gets its outcome
   * (and its after-upload action), a failed path whose job was retried is queued again, and a path
   * whose job was removed is forgotten (so that it is looked at again).
   */
  reconcile(): void {
    const ended: Job[] = [];
    transaction(this.#context.db, () => {
      for (const file of this.#context.repo.files({ states: ['pending', 'queued', 'failed'] })) {
        if (file.state === 'pending') {
          const orphan = this.#context.repo.orphanJobFor(file);
          if (!orphan) {
            this.#context.repo.removeFile(file.ruleId, file.path);
            continue;
          }
          this.#context.repo.setFileState(file.ruleId, file.path, 'queued', { jobId: orphan.id });
          if (file.sha256) this.#context.repo.putUpload(file.accountId, file.sha256, orphan.id, 'queued');
          file.jobId = orphan.id;
          file.state = 'queued';
        }
        const job = file.jobId === null ? undefined : this.#context.queue.jobs.get(file.jobId);
        if (!job) {
          if (file.state === 'queued') this.#context.repo.removeFile(file.ruleId, file.path);
          continue;
        }
        if (job.state === 'completed' || (file.state === 'queued' && TERMINAL.has(job.state))) ended.push(job);
        else if (file.state === 'failed' && !TERMINAL.has(job.state)) {
          // Retried by someone ("ferry retry"): it counts again.
          this.#context.repo.setFileState(file.ruleId, file.path, 'queued', { reason: null });
          if (file.sha256) this.#context.repo.putUpload(file.accountId, file.sha256, job.id, 'queued');
        }
      }
    });
    const seen = new Set<number>();
    for (const job of ended) {
      if (seen.has(job.id)) continue;
      seen.add(job.id);
      this.jobChanged(job);
    }
    // Uploaded files whose move or delete did not happen (the process stopped right after the upload).
    for (const rule of this.#context.repo.rules()) {
      if (rule.afterUpload === 'keep') continue;
      for (const file of this.#context.repo.files({ ruleId: rule.id, states: ['uploaded', 'duplicate'] })) {
        if (file.disposition === null && file.restoredAt === null && file.uploadedAt !== null)
          this.#afterUpload.schedule(file);
      }
    }
  }
}
