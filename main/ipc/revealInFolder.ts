/**
 * "Show in folder" for a job: the desktop window asks by job id, never by path, so a page can only
 * reveal files that are already in the queue, and only local files the person chose. URL imports
 * have no file, and staged copies (files uploaded through `ferry serve`'s page into the data folder)
 * are Ferry's own, not the person's, so both are refused.
 */
import type { ApiResult } from '../api/contract.ts';

/** What revealing needs (Electron's `shell.showItemInFolder`, the queue, the file system; fakes in tests). */
export interface RevealDeps {
  findJob(id: number): { sourceKind: 'file' | 'url'; source: string; name: string } | undefined;
  /** The path is a copy in the staging folder. */
  isStaged(path: string): boolean;
  exists(path: string): boolean;
  /** Opens the file manager with the file selected. */
  showItemInFolder(path: string): void;
}

/** Reveals the source file of job `jobId`; every refusal is an envelope the window can show. */
export function revealJobInFolder(deps: RevealDeps, jobId: unknown): ApiResult<null> {
  if (typeof jobId !== 'number' || !Number.isInteger(jobId) || jobId <= 0) {
    return {
      ok: false,
      error: { code: 'INVALID_INPUT', message: 'Show in folder needs a job id (a positive whole number)' },
    };
  }
  const job = deps.findJob(jobId);
  if (!job) return { ok: false, error: { code: 'NOT_FOUND', message: `No job ${jobId}: it may have been removed` } };
  if (job.sourceKind !== 'file') {
    return {
      ok: false,
      error: {
        code: 'INVALID_INPUT',
        message: `${job.name} is a link the provider fetches itself: there is no file to show`,
      },
    };
  }
  if (deps.isStaged(job.source)) {
    return {
      ok: false,
      error: {
        code: 'INVALID_INPUT',
        message: `${job.name} was added through the browser: Ferry keeps only a temporary copy of it`,
      },
    };
  }
  if (!deps.exists(job.source)) {
    return {
      ok: false,
      error: { code: 'NOT_FOUND', message: `${job.name} is no longer at ${job.source} (moved or deleted?)` },
    };
  }
  deps.showItemInFolder(job.source);
  return { ok: true, value: null };
}
