/**
 * When another process holds the run lock and uploads, this one still shows the queue: it learns of
 * job changes by reading the rows changed since its last look, every `intervalMs`.
 */
import type { Job } from '../db/jobsRepository.ts';
import type { Queue } from '../engine/queue.ts';

export function followQueueChanges(
  queue: Queue,
  onJobs: (jobs: Job[]) => void,
  log: (message: string, error?: unknown) => void,
  intervalMs = 1_000,
): () => void {
  let since = Date.now();
  // updated_at has millisecond resolution: rows seen at the boundary are not announced twice.
  const seen = new Map<number, number>();
  const timer = setInterval(() => {
    try {
      const rows = queue.jobs.changedSince(since);
      const fresh = rows.filter((job) => seen.get(job.id) !== job.updatedAt);
      for (const job of rows) {
        seen.set(job.id, job.updatedAt);
        since = Math.max(since, job.updatedAt);
      }
      if (seen.size > 10_000) seen.clear();
      if (fresh.length > 0) onJobs(fresh);
    } catch (error) {
      log('Could not read job changes', error);
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
