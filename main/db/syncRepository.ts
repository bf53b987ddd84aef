/**
 * Watched-folder rules and the sync index (migration 002). Rows are parsed on the way out: a corrupt
 * glob list becomes an empty one rather than crashing the watcher.
 */
import { z } from 'zod';
import { parseJsonColumn } from './accountsRepository.ts';
import { prepared, type Db } from './database.ts';

import { AFTER_UPLOAD_ACTIONS, type AfterUpload } from '../core/afterUpload.ts';

export { AFTER_UPLOAD_ACTIONS, type AfterUpload };

export interface SyncRule {
  id: number;
  accountId: number;
  /** Absolute, canonical path of the watched folder. */
  dir: string;
  /** Globs relative to `dir`; empty means every file. A glob without a slash matches the base name. */
  include: string[];
  exclude: string[];
  recursive: boolean;
  afterUpload: AfterUpload;
  /** The subfolder of `dir` that `move` puts uploaded files in (itself never watched). */
  moveTo: string;
  paused: boolean;
  createdAt: number;
}

export interface NewSyncRule {
  accountId: number;
  dir: string;
  include: string[];
  exclude: string[];
  recursive: boolean;
  afterUpload: AfterUpload;
  moveTo: string;
}

/**
 * What Ferry knows about one path of a rule:
 * - `pending`: about to be queued (a crash between queueing and recording the job is reconciled on
 *   the next start by adopting the job that was created, if any);
 * - `queued`: its job is queued or uploading; `uploaded`: its job completed;
 * - `duplicate`: the same content was already queued or uploaded for this account through another
 *   path (job_id points at that job);
 * - `refused`: the provider cannot take it (type, size); not retried until the file changes;
 * - `failed`: its job failed or was canceled; not retried until the file changes or the job is retried.
 */
export const SYNC_FILE_STATES = ['pending', 'queued', 'uploaded', 'duplicate', 'refused', 'failed'] as const;
export type SyncFileState = (typeof SYNC_FILE_STATES)[number];

export interface SyncFile {
  ruleId: number;
  path: string;
  accountId: number;
  size: number;
  mtimeMs: number;
  sha256: string | null;
  jobId: number | null;
  state: SyncFileState;
  reason: string | null;
  /** What the after-upload action did, once it ran. */
  disposition: 'moved' | 'deleted' | null;
  movedTo: string | null;
  seenAt: number;
  uploadedAt: number | null;
  /** Restored from Ferry's trash at this time: not deleted or moved again until it changes. */
  restoredAt: number | null;
}

/** A file a "delete" rule put in Ferry's trash folder (migration 003). */
export interface TrashEntry {
  id: number;
  ruleId: number | null;
  accountId: number | null;
  originalPath: string;
  trashPath: string;
  size: number;
  mtimeMs: number;
  sha256: string;
  jobId: number | null;
  trashedAt: number;
  restoredAt: number | null;
  purgedAt: number | null;
}

/** One content per account: the job that carries it. */
export interface SyncUpload {
  accountId: number;
  sha256: string;
  jobId: number | null;
  state: 'queued' | 'uploaded' | 'failed';
  createdAt: number;
  uploadedAt: number | null;
}

interface RuleRow {
  id: number;
  account_id: number;
  dir: string;
  include_globs: string;
  exclude_globs: string;
  recursive: number;
  after_upload: string;
  move_to: string;
  paused: number;
  created_at: number;
}

interface FileRow {
  rule_id: number;
  path: string;
  account_id: number;
  size: number;
  mtime_ms: number;
  sha256: string | null;
  job_id: number | null;
  state: string;
  reason: string | null;
  disposition: string | null;
  moved_to: string | null;
  seen_at: number;
  uploaded_at: number | null;
  restored_at: number | null;
}

interface TrashRow {
  id: number;
  rule_id: number | null;
  account_id: number | null;
  original_path: string;
  trash_path: string;
  size: number;
  mtime_ms: number;
  sha256: string;
  job_id: number | null;
  trashed_at: number;
  restored_at: number | null;
  purged_at: number | null;
}

function toTrash(row: TrashRow): TrashEntry {
  return {
    id: row.id,
    ruleId: row.rule_id,
    accountId: row.account_id,
    originalPath: row.original_path,
    trashPath: row.trash_path,
    size: row.size,
    mtimeMs: row.mtime_ms,
    sha256: row.sha256,
    jobId: row.job_id,
    trashedAt: row.trashed_at,
    restoredAt: row.restored_at,
    purgedAt: row.purged_at,
  };
}

interface UploadRow {
  account_id: number;
  sha256: string;
  job_id: number | null;
  state: string;
  created_at: number;
  uploaded_at: number | null;
}

const globsSchema = z.array(z.string());

function toRule(row: RuleRow): SyncRule {
  return {
    id: row.id,
    accountId: row.account_id,
    dir: row.dir,
    include: parseJsonColumn(row.include_globs, globsSchema, []),
    exclude: parseJsonColumn(row.exclude_globs, globsSchema, []),
    recursive: row.recursive === 1,
    afterUpload: (AFTER_UPLOAD_ACTIONS as readonly string[]).includes(row.after_upload)
      ? (row.after_upload as AfterUpload)
      : 'keep',
    moveTo: row.move_to,
    paused: row.paused === 1,
    createdAt: row.created_at,
  };
}

function toFile(row: FileRow): SyncFile {
  return {
    ruleId: row.rule_id,
    path: row.path,
    accountId: row.account_id,
    size: row.size,
    mtimeMs: row.mtime_ms,
    sha256: row.sha256,
    jobId: row.job_id,
    // The CHECK constraint keeps unknown states out; the cast only narrows the column type.
    state: row.state as SyncFileState,
    reason: row.reason,
    disposition: row.disposition === 'moved' || row.disposition === 'deleted' ? row.disposition : null,
    movedTo: row.moved_to,
    seenAt: row.seen_at,
    uploadedAt: row.uploaded_at,
    restoredAt: row.restored_at ?? null,
  };
}

function toUpload(row: UploadRow): SyncUpload {
  return {
    accountId: row.account_id,
    sha256: row.sha256,
    jobId: row.job_id,
    state: row.state as SyncUpload['state'],
    createdAt: row.created_at,
    uploadedAt: row.uploaded_at,
  };
}

/** A path's new facts; columns not given keep their value (or their default for a new row). */
export interface SyncFilePatch {
  size: number;
  mtimeMs: number;
  sha256?: string | null;
  jobId?: number | null;
  state: SyncFileState;
  reason?: string | null;
  uploadedAt?: number | null;
}

export class SyncRepository {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  // Rules -------------------------------------------------------------------------------------------

  insertRule(rule: NewSyncRule, now = Date.now()): SyncRule {
    const result = prepared(
      this.#db,
      `INSERT INTO sync_rules (account_id, dir, include_globs, exclude_globs, recursive, after_upload, move_to, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      rule.accountId,
      rule.dir,
      JSON.stringify(rule.include),
      JSON.stringify(rule.exclude),
      rule.recursive ? 1 : 0,
      rule.afterUpload,
      rule.moveTo,
      now,
    );
    return this.rule(Number(result.lastInsertRowid))!;
  }

  rule(id: number): SyncRule | undefined {
    const row = prepared(this.#db, 'SELECT * FROM sync_rules WHERE id = ?').get(id) as RuleRow | undefined;
    return row && toRule(row);
  }

  rules(): SyncRule[] {
    return (prepared(this.#db, 'SELECT * FROM sync_rules ORDER BY id').all() as unknown as RuleRow[]).map(toRule);
  }

  ruleFor(accountId: number, dir: string): SyncRule | undefined {
    const row = prepared(this.#db, 'SELECT * FROM sync_rules WHERE account_id = ? AND dir = ?').get(accountId, dir) as
      RuleRow | undefined;
    return row && toRule(row);
  }

  setRulePaused(id: number, paused: boolean): void {
    prepared(this.#db, 'UPDATE sync_rules SET paused = ? WHERE id = ?').run(paused ? 1 : 0, id);
  }

  /** Removes the rule and its path rows; the per-account content index stays (it still dedups). */
  removeRule(id: number): void {
    prepared(this.#db, 'DELETE FROM sync_rules WHERE id = ?').run(id);
  }

  /** Path rows per state, for each rule. */
  countsByRule(): Map<number, Partial<Record<SyncFileState, number>>> {
    const rows = prepared(
      this.#db,
      'SELECT rule_id, state, COUNT(*) AS n FROM sync_files GROUP BY rule_id, state',
    ).all() as Array<{
      rule_id: number;
      state: string;
      n: number;
    }>;
    const counts = new Map<number, Partial<Record<SyncFileState, number>>>();
    for (const row of rows) {
      const entry = counts.get(row.rule_id) ?? {};
      entry[row.state as SyncFileState] = row.n;
      counts.set(row.rule_id, entry);
    }
    return counts;
  }

  // Files -------------------------------------------------------------------------------------------

  file(ruleId: number, path: string): SyncFile | undefined {
    const row = prepared(this.#db, 'SELECT * FROM sync_files WHERE rule_id = ? AND path = ?').get(ruleId, path) as
      FileRow | undefined;
    return row && toFile(row);
  }

  files(query: { ruleId?: number; states?: readonly SyncFileState[]; limit?: number } = {}): SyncFile[] {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (query.ruleId !== undefined) {
      where.push('rule_id = ?');
      params.push(query.ruleId);
    }
    if (query.states && query.states.length > 0) {
      where.push(`state IN (${query.states.map(() => '?').join(', ')})`);
      params.push(...query.states);
    }
    params.push(query.limit ?? -1);
    const sql = `SELECT * FROM sync_files ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seen_at, path LIMIT ?`;
    return (prepared(this.#db, sql).all(...params) as unknown as FileRow[]).map(toFile);
  }

  filesOfJob(jobId: number): SyncFile[] {
    return (prepared(this.#db, 'SELECT * FROM sync_files WHERE job_id = ?').all(jobId) as unknown as FileRow[]).map(
      toFile,
    );
  }

  /**
   * Records a path's facts. A new version of the file (any upsert) clears what the after-upload
   * action did to the previous one.
   */
  upsertFile(ruleId: number, accountId: number, path: string, patch: SyncFilePatch, now = Date.now()): void {
    prepared(
      this.#db,
      `INSERT INTO sync_files (rule_id, path, account_id, size, mtime_ms, sha256, job_id, state, reason, seen_at, uploaded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (rule_id, path) DO UPDATE SET
           size = excluded.size, mtime_ms = excluded.mtime_ms, sha256 = excluded.sha256, job_id = excluded.job_id,
           state = excluded.state, reason = excluded.reason, seen_at = excluded.seen_at,
           uploaded_at = excluded.uploaded_at, disposition = NULL, moved_to = NULL, restored_at = NULL`,
    ).run(
      ruleId,
      path,
      accountId,
      patch.size,
      patch.mtimeMs,
      patch.sha256 ?? null,
      patch.jobId ?? null,
      patch.state,
      patch.reason ?? null,
      now,
      patch.uploadedAt ?? null,
    );
  }

  /** Changes the outcome of a path without touching what was observed of it. */
  setFileState(
    ruleId: number,
    path: string,
    state: SyncFileState,
    extra: { jobId?: number | null; reason?: string | null; uploadedAt?: number | null } = {},
  ): void {
    const columns = ['state = ?'];
    const values: Array<string | number | null> = [state];
    if (extra.jobId !== undefined) {
      columns.push('job_id = ?');
      values.push(extra.jobId);
    }
    if (extra.reason !== undefined) {
      columns.push('reason = ?');
      values.push(extra.reason);
    }
    if (extra.uploadedAt !== undefined) {
      columns.push('uploaded_at = ?');
      values.push(extra.uploadedAt);
    }
    values.push(ruleId, path);
    prepared(this.#db, `UPDATE sync_files SET ${columns.join(', ')} WHERE rule_id = ? AND path = ?`).run(...values);
  }

  setDisposition(ruleId: number, path: string, disposition: 'moved' | 'deleted', movedTo: string | null): void {
    prepared(this.#db, 'UPDATE sync_files SET disposition = ?, moved_to = ? WHERE rule_id = ? AND path = ?').run(
      disposition,
      movedTo,
      ruleId,
      path,
    );
  }

  /** The path is back from the trash as it was: it counts as uploaded and is left alone. */
  markRestored(ruleId: number, path: string, size: number, mtimeMs: number, now = Date.now()): void {
    prepared(
      this.#db,
      'UPDATE sync_files SET disposition = NULL, moved_to = NULL, restored_at = ?, size = ?, mtime_ms = ? WHERE rule_id = ? AND path = ?',
    ).run(now, size, mtimeMs, ruleId, path);
  }

  /**
   * Uploaded paths whose move or delete Ferry decided against (their reason starts with "Kept"), the
   * latest first. Waits that resolve by themselves (the quiet period, a file in use) are not listed.
   */
  keptFiles(ruleId: number, limit: number): SyncFile[] {
    return (
      prepared(
        this.#db,
        `SELECT * FROM sync_files WHERE rule_id = ? AND disposition IS NULL AND state IN ('uploaded', 'duplicate') AND reason LIKE 'Kept%'
         ORDER BY seen_at DESC LIMIT ?`,
      ).all(ruleId, limit) as unknown as FileRow[]
    ).map(toFile);
  }

  /** Rows of every rule for this exact path (overlapping rules of older versions, several accounts). */
  filesAtPath(path: string): SyncFile[] {
    return (prepared(this.#db, 'SELECT * FROM sync_files WHERE path = ?').all(path) as unknown as FileRow[]).map(
      toFile,
    );
  }

  removeFile(ruleId: number, path: string): void {
    prepared(this.#db, 'DELETE FROM sync_files WHERE rule_id = ? AND path = ?').run(ruleId, path);
  }

  /**
   * The job created for a pending path by a process that stopped before recording it: same account,
   * same source path, size and mtime, created no earlier than the path was seen.
   */
  orphanJobFor(file: SyncFile): { id: number; state: string } | undefined {
    return prepared(
      this.#db,
      `SELECT id, state FROM jobs WHERE account_id = ? AND source_kind = 'file' AND source = ? AND size = ? AND mtime_ms = ?
           AND created_at >= ? ORDER BY id DESC LIMIT 1`,
    ).get(file.accountId, file.path, file.size, file.mtimeMs, file.seenAt) as { id: number; state: string } | undefined;
  }

  // Contents ----------------------------------------------------------------------------------------

  upload(accountId: number, sha256: string): SyncUpload | undefined {
    const row = prepared(this.#db, 'SELECT * FROM sync_uploads WHERE account_id = ? AND sha256 = ?').get(
      accountId,
      sha256,
    ) as UploadRow | undefined;
    return row && toUpload(row);
  }

  uploadsOfJob(jobId: number): SyncUpload[] {
    return (prepared(this.#db, 'SELECT * FROM sync_uploads WHERE job_id = ?').all(jobId) as unknown as UploadRow[]).map(
      toUpload,
    );
  }

  putUpload(
    accountId: number,
    sha256: string,
    jobId: number | null,
    state: SyncUpload['state'],
    now = Date.now(),
  ): void {
    prepared(
      this.#db,
      `INSERT INTO sync_uploads (account_id, sha256, job_id, state, created_at, uploaded_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (account_id, sha256) DO UPDATE SET job_id = excluded.job_id, state = excluded.state,
           uploaded_at = excluded.uploaded_at`,
    ).run(accountId, sha256, jobId, state, now, state === 'uploaded' ? now : null);
  }

  // Trash -------------------------------------------------------------------------------------------

  insertTrash(entry: Omit<TrashEntry, 'id' | 'restoredAt' | 'purgedAt'>): TrashEntry {
    const result = prepared(
      this.#db,
      `INSERT INTO sync_trash (rule_id, account_id, original_path, trash_path, size, mtime_ms, sha256, job_id, trashed_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      entry.ruleId,
      entry.accountId,
      entry.originalPath,
      entry.trashPath,
      entry.size,
      entry.mtimeMs,
      entry.sha256,
      entry.jobId,
      entry.trashedAt,
    );
    return this.trashEntry(Number(result.lastInsertRowid))!;
  }

  trashEntry(id: number): TrashEntry | undefined {
    const row = prepared(this.#db, 'SELECT * FROM sync_trash WHERE id = ?').get(id) as TrashRow | undefined;
    return row && toTrash(row);
  }

  /** Entries still in the trash (neither restored nor purged), newest first. */
  trashEntries(): TrashEntry[] {
    return (
      prepared(
        this.#db,
        'SELECT * FROM sync_trash WHERE restored_at IS NULL AND purged_at IS NULL ORDER BY trashed_at DESC, id DESC',
      ).all() as unknown as TrashRow[]
    ).map(toTrash);
  }

  setTrashPath(id: number, trashPath: string): void {
    prepared(this.#db, 'UPDATE sync_trash SET trash_path = ? WHERE id = ?').run(trashPath, id);
  }

  /** Forgets an entry whose file never reached the trash. */
  removeTrash(id: number): void {
    prepared(this.#db, 'DELETE FROM sync_trash WHERE id = ?').run(id);
  }

  markTrashRestored(id: number, now = Date.now()): void {
    prepared(this.#db, 'UPDATE sync_trash SET restored_at = ? WHERE id = ?').run(now, id);
  }

  markTrashPurged(id: number, now = Date.now()): void {
    prepared(this.#db, 'UPDATE sync_trash SET purged_at = ? WHERE id = ?').run(now, id);
  }
}
