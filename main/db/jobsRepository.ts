/**
 * Jobs, their acknowledged parts and their event log. Rows are parsed on the way out: a corrupt JSON
 * column becomes a neutral value (no session, no options) instead of crashing the queue.
 */
import { z } from 'zod';
import type { ErrorKind } from '../core/errors.ts';
import { isJobState, type JobState } from '../core/jobState.ts';
import type { UploadResult } from '../core/results.ts';
import { parseJsonColumn } from './accountsRepository.ts';
import type { StatementSync } from 'node:sqlite';
import { prepared, type Db } from './database.ts';

export interface Job {
  id: number;
  accountId: number;
  sourceKind: 'file' | 'url';
  /** Absolute path or URL. */
  source: string;
  name: string;
  mime: string;
  size: number | null;
  mtimeMs: number | null;
  edgeHash: string | null;
  options: Record<string, string>;
  state: JobState;
  position: number;
  session: unknown;
  sessionStartedAt: number | null;
  bytesConfirmed: number;
  /** Every attempt ever made (shown to people). */
  attempts: number;
  /** Failures in a row without progress (fed to the retry policy; reset when a part is acknowledged). */
  retryStreak: number;
  nextAttemptAt: number | null;
  error: { kind: ErrorKind; message: string } | null;
  /** Set before finalize is called: from then on a new attempt must reconcile, not finalize again. */
  finalizeStartedAt: number | null;
  /** Set once finalize succeeded (the job may still be processing on the server). */
  finalizedAt: number | null;
  result: UploadResult | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

export interface NewJob {
  accountId: number;
  sourceKind: 'file' | 'url';
  source: string;
  name: string;
  mime: string;
  size: number | null;
  mtimeMs: number | null;
  edgeHash: string | null;
  options: Record<string, string>;
}

export interface AckedPart {
  index: number;
  start: number;
  end: number;
}

/** An acknowledged part with the SHA-256 of the bytes its request body read (null: not recorded). */
export interface SentPart extends AckedPart {
  sha256: string | null;
}

export interface JobEvent {
  id: number;
  jobId: number;
  at: number;
  type: 'state' | 'attempt' | 'error' | 'info';
  state: JobState | null;
  attempt: number | null;
  errorKind: ErrorKind | null;
  message: string;
}

/**
 * The columns a job is read from, in the order `toJob` takes them. Rows come back as arrays
 * (`readJobRows`), not objects: node:sqlite builds each object row with its column names as
 * properties, which cost more to make and to read than the query itself (100,000 rows: ~290 against
 * ~180 ms to read, docs/performance.md "Round two: the command, second pass").
 */
const JOB_COLUMNS = [
  'id',
  'account_id',
  'source_kind',
  'source',
  'name',
  'mime',
  'size',
  'mtime_ms',
  'edge_hash',
  'options',
  'state',
  'position',
  'session',
  'session_started_at',
  'bytes_confirmed',
  'attempts',
  'retry_streak',
  'next_attempt_at',
  'error_kind',
  'error_message',
  'finalize_started_at',
  'finalized_at',
  'result',
  'created_at',
  'updated_at',
  'finished_at',
] as const;
const JOB_SELECT = `SELECT ${JOB_COLUMNS.join(', ')} FROM jobs`;

/** One row of JOB_SELECT, as SQLite returns it (see toJob for which is which). */
type JobRow = Array<string | number | null>;

/** How many filters' counts `count` remembers. */
const COUNTS_KEPT = 16;

/** `statement`, set to return its rows as arrays. */
function arrayRows(statement: StatementSync): StatementSync {
  statement.setReturnArrays(true);
  return statement;
}

/** The cached statement for `sql` (a JOB_SELECT), returning arrays. */
function readJobRows(db: Db, sql: string): StatementSync {
  // Set at each use: `prepared` caches statements by their SQL and knows nothing of this mode.
  return arrayRows(prepared(db, sql));
}

const optionsSchema = z.record(z.string(), z.string());
const resultSchema = z.object({
  remoteId: z.string().nullable(),
  url: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});
// Built once: a schema made per row (z.unknown(), .nullable()) cost more than the row's query.
const sessionSchema = z.unknown();
const nullableResultSchema = resultSchema.nullable();

/** The finished states, in the words of the history index's WHERE (migration 005). */
const FINISHED_STATES: ReadonlySet<string> = new Set(['completed', 'failed', 'canceled']);
const FINISHED_TERM = "state IN ('completed', 'failed', 'canceled')";

/** Whether a query's states are finished ones only (so the history index holds every match). */
function onlyFinished(states: readonly JobState[] | undefined): boolean {
  return states !== undefined && states.length > 0 && states.every((state) => FINISHED_STATES.has(state));
}

function toJob(row: JobRow): Job {
  // Indexes follow JOB_COLUMNS; the casts say what the schema stores in each column.
  const options = row[9] as string;
  const state = row[10] as string;
  const errorKind = row[18] as string | null;
  return {
    id: row[0] as number,
    accountId: row[1] as number,
    sourceKind: row[2] as 'file' | 'url',
    source: row[3] as string,
    name: row[4] as string,
    mime: row[5] as string,
    size: row[6] as number | null,
    mtimeMs: row[7] as number | null,
    edgeHash: row[8] as string | null,
    // Most jobs have no options: '{}' needs no parse (a page of 1,000 jobs parsed 1,000 of them).
    options: options === '{}' ? {} : parseJsonColumn(options, optionsSchema, {}),
    // An unknown state (written by a newer build?) is treated as paused: nothing runs it by surprise.
    state: isJobState(state) ? state : 'paused',
    position: row[11] as number,
    session: parseJsonColumn(row[12] as string | null, sessionSchema, null),
    sessionStartedAt: row[13] as number | null,
    bytesConfirmed: row[14] as number,
    attempts: row[15] as number,
    retryStreak: row[16] as number,
    nextAttemptAt: row[17] as number | null,
    error: errorKind !== null ? { kind: errorKind as ErrorKind, message: (row[19] as string | null) ?? '' } : null,
    finalizeStartedAt: row[20] as number | null,
    finalizedAt: row[21] as number | null,
    result: parseJsonColumn(row[22] as string | null, nullableResultSchema, null),
    createdAt: row[23] as number,
    updatedAt: row[24] as number,
    finishedAt: row[25] as number | null,
  };
}

/** Columns the engine may change, in domain terms. */
export interface JobPatch {
  state?: JobState;
  position?: number;
  session?: unknown;
  sessionStartedAt?: number | null;
  bytesConfirmed?: number;
  attempts?: number;
  retryStreak?: number;
  nextAttemptAt?: number | null;
  error?: { kind: ErrorKind; message: string } | null;
  finalizeStartedAt?: number | null;
  finalizedAt?: number | null;
  result?: UploadResult | null;
  finishedAt?: number | null;
  size?: number | null;
  mtimeMs?: number | null;
  edgeHash?: string | null;
}

export interface JobQuery {
  states?: readonly JobState[];
  accountId?: number;
  search?: string;
  limit?: number;
  offset?: number;
  /** Queue order (default), or most recently finished first (history). */
  order?: 'position' | 'finished';
  /**
   * Only jobs after this one in queue order (the position and id of the previous page's last job):
   * keyset paging, in (position, id) order. Not with order 'finished'.
   */
  after?: { position: number; id: number };
}

/**
 * The read-only face of the jobs table: what the Queue hands to callers outside the engine, so that a
 * write from there (insert, update, parts, events) is a type error and goes through the Queue's checked
 * transitions instead.
 */
export type JobReader = Pick<
  JobsRepository,
  | 'get'
  | 'list'
  | 'count'
  | 'changedSince'
  | 'runnable'
  | 'hasJobIn'
  | 'nextWakeAt'
  | 'countByState'
  | 'tallyByState'
  | 'ackedParts'
  | 'sentParts'
  | 'sentSha256'
  | 'completedWithSentContent'
  | 'unfinishedReading'
  | 'fromWatchedFolder'
  | 'events'
>;

export class JobsRepository {
  readonly #db: Db;
  /** Counts by filter, valid while the database is at `#countsAt` (see `count`). */
  readonly #counts = new Map<string, number>();
  #countsAt = '';

  constructor(db: Db) {
    this.#db = db;
  }

  insert(jobs: readonly NewJob[], now = Date.now()): Job[] {
    const top = prepared(this.#db, 'SELECT COALESCE(MAX(position), 0) AS p FROM jobs').get() as { p: number };
    const statement = prepared(
      this.#db,
      `INSERT INTO jobs (account_id, source_kind, source, name, mime, size, mtime_ms, edge_hash, options, state,
                         position, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)`,
    );
    // The new rows are known without reading them back: a read and a parse of each row's JSON columns
    // cost more than the insert itself (a test checks that they equal what `get` reads).
    return jobs.map((job, index) => {
      const position = top.p + index + 1;
      const id = Number(
        statement.run(
          job.accountId,
          job.sourceKind,
          job.source,
          job.name,
          job.mime,
          job.size,
          job.mtimeMs,
          job.edgeHash,
          JSON.stringify(job.options),
          position,
          now,
          now,
        ).lastInsertRowid,
      );
      return {
        ...job,
        id,
        options: { ...job.options },
        state: 'queued',
        position,
        session: null,
        sessionStartedAt: null,
        bytesConfirmed: 0,
        attempts: 0,
        retryStreak: 0,
        nextAttemptAt: null,
        error: null,
        finalizeStartedAt: null,
        finalizedAt: null,
        result: null,
        createdAt: now,
        updatedAt: now,
        finishedAt: null,
      };
    });
  }

  get(id: number): Job | undefined {
    const row = readJobRows(this.#db, `${JOB_SELECT} WHERE id = ?`).get(id) as JobRow | undefined;
    return row && toJob(row);
  }

  list(query: JobQuery = {}): Job[] {
    const { where, params } = this.#filter(query);
    if (query.after) {
      // Keyset paging: the next page starts right after the last job of the previous one, read from
      // the position index, so page 1,000 costs what page 1 does (an OFFSET walks every skipped row).
      where.push('(position, id) > (?, ?)');
      params.push(query.after.position, query.after.id);
    }
    const order =
      query.order === 'finished'
        ? 'COALESCE(finished_at, updated_at) DESC, id DESC'
        : query.after
          ? 'position, id'
          : 'position';
    const history = query.order === 'finished' && onlyFinished(query.states);
    // The history is read from its index (migration 005) in order: a sort of every finished job took
    // ~580 ms a page at 800,000. The index holds finished jobs only, so the query must say so in the
    // index's own words, and SQLite is told to use it (it prefers the state index and a sort).
    if (history) where.push(FINISHED_TERM);
    const sql = `${JOB_SELECT} ${history ? 'INDEXED BY jobs_history ' : ''}${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY ${order} LIMIT ? OFFSET ?`;
    params.push(query.limit ?? -1, query.offset ?? 0);
    return (readJobRows(this.#db, sql).all(...params) as unknown as JobRow[]).map(toJob);
  }

  /**
   * How many jobs match the filter of `query` (its limit, offset, order and `after` are ignored).
   *
   * Without a search, the running totals of migration 005 answer. A search counts its matches, and
   * the count is remembered until the database changes: every page of a list carries its total, and
   * a search walks every job (a million: ~70 ms), so paging through its results would pay it a page.
   * The database is unchanged while `PRAGMA data_version` (commits of other connections) and
   * `total_changes()` (this connection's writes) are, so a remembered count is never stale.
   */
  count(query: JobQuery = {}): number {
    if (!query.search) return this.#tallied(query.states, query.accountId);
    const { where, params } = this.#filter(query);
    const sql = `SELECT COUNT(*) AS n FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
    const version = this.#dataVersion();
    if (version !== this.#countsAt) {
      this.#counts.clear();
      this.#countsAt = version;
    }
    const key = `${sql}\n${JSON.stringify(params)}`;
    let count = this.#counts.get(key);
    if (count === undefined) {
      count = (prepared(this.#db, sql).get(...params) as { n: number }).n;
      // A few filters at a time (a list and its status tabs); a search per keystroke must not pile up.
      if (this.#counts.size >= COUNTS_KEPT) this.#counts.delete(this.#counts.keys().next().value!);
      this.#counts.set(key, count);
    }
    return count;
  }

  /** Changes whenever the database may have: another connection committed, or this one wrote. */
  #dataVersion(): string {
    const version = prepared(this.#db, 'PRAGMA data_version').get() as { data_version: number };
    const changes = prepared(this.#db, 'SELECT total_changes() AS n').get() as { n: number };
    return `${version.data_version}:${changes.n}`;
  }

  #filter(query: JobQuery): { where: string[]; params: Array<string | number> } {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (query.states && query.states.length > 0) {
      where.push(`state IN (${query.states.map(() => '?').join(', ')})`);
      params.push(...query.states);
    }
    if (query.accountId !== undefined) {
      where.push('account_id = ?');
      params.push(query.accountId);
    }
    if (query.search) {
      where.push("(name LIKE ? ESCAPE '\\' OR source LIKE ? ESCAPE '\\')");
      const pattern = `%${query.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      params.push(pattern, pattern);
    }
    return { where, params };
  }

  /** Jobs changed at or after `since` (ms), oldest change first: lets a UI follow another process. */
  changedSince(since: number, limit = 1000): Job[] {
    const rows = readJobRows(this.#db, `${JOB_SELECT} WHERE updated_at >= ? ORDER BY updated_at, id LIMIT ?`).all(
      since,
      limit,
    ) as unknown as JobRow[];
    return rows.map(toJob);
  }

  /**
   * Jobs the scheduler may start now, in queue order, optionally only those of `accountIds`. Rows are
   * read and parsed one at a time as the caller iterates, so a scheduler that stops after a few jobs
   * does not pay for a queue of 100,000.
   *
   * One ordered index walk per account and state (queued, and waiting ones that are due), merged here
   * by position: a single query over both states and several accounts would have to sort every
   * matching job before returning the first one (~90 ms with a million queued).
   */
  *runnable(now: number, accountIds?: readonly number[]): Generator<Job> {
    if (accountIds !== undefined && accountIds.length === 0) return;
    const accounts =
      accountIds ??
      (prepared(this.#db, 'SELECT id FROM accounts ORDER BY id').all() as Array<{ id: number }>).map((row) => row.id);
    const streams: Array<{ rows: Iterator<JobRow>; head: JobRow }> = [];
    const open = (rows: Iterator<JobRow>): void => {
      const first = rows.next();
      if (!first.done) streams.push({ rows, head: first.value });
    };
    try {
      for (const accountId of accounts) {
        open(
          arrayRows(
            this.#db.prepare(`${JOB_SELECT} WHERE account_id = ? AND state = 'queued' ORDER BY position, id`),
          ).iterate(accountId) as unknown as Iterator<JobRow>,
        );
        open(
          arrayRows(
            this.#db.prepare(
              `${JOB_SELECT} WHERE account_id = ? AND state = 'waiting' AND COALESCE(next_attempt_at, 0) <= ?
               ORDER BY position, id`,
            ),
          ).iterate(accountId, now) as unknown as Iterator<JobRow>,
        );
      }
      while (streams.length > 0) {
        let best = 0;
        for (let i = 1; i < streams.length; i += 1) {
          const a = streams[i]!.head;
          const b = streams[best]!.head;
          // [11] is the position, [0] the id (JOB_COLUMNS).
          if (a[11]! < b[11]! || (a[11] === b[11] && a[0]! < b[0]!)) best = i;
        }
        const stream = streams[best]!;
        yield toJob(stream.head);
        const next = stream.rows.next();
        if (next.done) streams.splice(best, 1);
        else stream.head = next.value;
      }
    } finally {
      // A caller that stops early leaves the other cursors open: close them now.
      for (const stream of streams) stream.rows.return?.();
    }
  }

  /** Whether the account has a job in one of `states` (one index probe, whatever the queue size). */
  hasJobIn(accountId: number, states: readonly JobState[]): boolean {
    if (states.length === 0) return false;
    return (
      prepared(
        this.#db,
        `SELECT 1 AS found FROM jobs WHERE account_id = ? AND state IN (${states.map(() => '?').join(', ')}) LIMIT 1`,
      ).get(accountId, ...states) !== undefined
    );
  }

  /** When the earliest waiting job becomes due, or null. */
  nextWakeAt(): number | null {
    const row = prepared(this.#db, "SELECT MIN(next_attempt_at) AS t FROM jobs WHERE state = 'waiting'").get() as {
      t: number | null;
    };
    return row.t;
  }

  countByState(): Partial<Record<JobState, number>> {
    const counts: Partial<Record<JobState, number>> = {};
    for (const [state, tally] of Object.entries(this.tallyByState())) counts[state as JobState] = tally.count;
    return counts;
  }

  /**
   * Jobs and bytes per state: known sizes summed, confirmed bytes capped at each job's size, and how
   * many jobs do not know their size yet. Read from the running totals that triggers keep in the same
   * transactions as the jobs (migration 005): a few rows, whatever the size of the queue. Only states
   * that have jobs are listed.
   */
  tallyByState(): Partial<
    Record<JobState, { count: number; bytesTotal: number; bytesConfirmed: number; sizeUnknown: number }>
  > {
    const rows = prepared(
      this.#db,
      `SELECT state, SUM(jobs) AS n, SUM(bytes_total) AS total, SUM(bytes_confirmed) AS confirmed,
              SUM(size_unknown) AS unknown
         FROM job_tallies GROUP BY state HAVING SUM(jobs) > 0`,
    ).all() as Array<{ state: string; n: number; total: number; confirmed: number; unknown: number }>;
    const tallies: Partial<
      Record<JobState, { count: number; bytesTotal: number; bytesConfirmed: number; sizeUnknown: number }>
    > = {};
    for (const row of rows) {
      if (isJobState(row.state))
        tallies[row.state] = {
          count: row.n,
          bytesTotal: row.total,
          bytesConfirmed: row.confirmed,
          sizeUnknown: row.unknown,
        };
    }
    return tallies;
  }

  /** How many jobs are in `states` (all when none given), of one account or all: from the totals. */
  #tallied(states: readonly JobState[] | undefined, accountId: number | undefined): number {
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (states && states.length > 0) {
      where.push(`state IN (${states.map(() => '?').join(', ')})`);
      params.push(...states);
    }
    if (accountId !== undefined) {
      where.push('account_id = ?');
      params.push(accountId);
    }
    const sql = `SELECT COALESCE(SUM(jobs), 0) AS n FROM job_tallies ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`;
    return (prepared(this.#db, sql).get(...params) as { n: number }).n;
  }

  update(id: number, patch: JobPatch, now = Date.now()): void {
    const columns: string[] = ['updated_at = ?'];
    const values: Array<string | number | null> = [now];
    const set = (column: string, value: string | number | null): void => {
      columns.push(`${column} = ?`);
      values.push(value);
    };
    if (patch.state !== undefined) set('state', patch.state);
    if (patch.position !== undefined) set('position', patch.position);
    if (patch.session !== undefined) set('session', patch.session === null ? null : JSON.stringify(patch.session));
    if (patch.sessionStartedAt !== undefined) set('session_started_at', patch.sessionStartedAt);
    if (patch.bytesConfirmed !== undefined) set('bytes_confirmed', patch.bytesConfirmed);
    if (patch.attempts !== undefined) set('attempts', patch.attempts);
    if (patch.retryStreak !== undefined) set('retry_streak', patch.retryStreak);
    if (patch.nextAttemptAt !== undefined) set('next_attempt_at', patch.nextAttemptAt);
    if (patch.error !== undefined) {
      set('error_kind', patch.error?.kind ?? null);
      set('error_message', patch.error?.message ?? null);
    }
    if (patch.finalizeStartedAt !== undefined) set('finalize_started_at', patch.finalizeStartedAt);
    if (patch.finalizedAt !== undefined) set('finalized_at', patch.finalizedAt);
    if (patch.result !== undefined) set('result', patch.result === null ? null : JSON.stringify(patch.result));
    if (patch.finishedAt !== undefined) set('finished_at', patch.finishedAt);
    if (patch.size !== undefined) set('size', patch.size);
    if (patch.mtimeMs !== undefined) set('mtime_ms', patch.mtimeMs);
    if (patch.edgeHash !== undefined) set('edge_hash', patch.edgeHash);
    values.push(id);
    prepared(this.#db, `UPDATE jobs SET ${columns.join(', ')} WHERE id = ?`).run(...values);
  }

  remove(id: number): void {
    prepared(this.#db, 'DELETE FROM jobs WHERE id = ?').run(id);
  }

  /** Puts a job before every other one. */
  moveToTop(id: number): void {
    const row = prepared(this.#db, 'SELECT COALESCE(MIN(position), 0) AS p FROM jobs').get() as { p: number };
    this.update(id, { position: row.p - 1 });
  }

  // Parts -------------------------------------------------------------------------------------------

  ackedParts(jobId: number): AckedPart[] {
    return (
      prepared(
        this.#db,
        'SELECT part_index, start_byte, end_byte FROM job_parts WHERE job_id = ? ORDER BY part_index',
      ).all(jobId) as Array<{ part_index: number; start_byte: number; end_byte: number }>
    ).map((row) => ({ index: row.part_index, start: row.start_byte, end: row.end_byte }));
  }

  /**
   * Records an acknowledged part, with the SHA-256 of the bytes its body read when it was measured
   * (watched-folder jobs). A part recorded again replaces the earlier record, hash included.
   */
  ackPart(jobId: number, part: AckedPart, now = Date.now(), sha256: string | null = null): void {
    prepared(
      this.#db,
      'INSERT OR REPLACE INTO job_parts (job_id, part_index, start_byte, end_byte, acked_at, sha256) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(jobId, part.index, part.start, part.end, now, sha256);
  }

  /** The acknowledged parts with the hash of what each one sent, in index order. */
  sentParts(jobId: number): SentPart[] {
    return (
      prepared(
        this.#db,
        'SELECT part_index, start_byte, end_byte, sha256 FROM job_parts WHERE job_id = ? ORDER BY part_index',
      ).all(jobId) as Array<{ part_index: number; start_byte: number; end_byte: number; sha256: string | null }>
    ).map((row) => ({ index: row.part_index, start: row.start_byte, end: row.end_byte, sha256: row.sha256 }));
  }

  /** Forgets every part, and with them any claim about what the job sent. */
  clearParts(jobId: number): void {
    prepared(this.#db, 'DELETE FROM job_parts WHERE job_id = ?').run(jobId);
    this.setSentSha256(jobId, null);
  }

  /** Forgets parts that end after `offset` (the server said it holds only bytes before it). */
  keepPartsUpTo(jobId: number, offset: number): void {
    prepared(this.#db, 'DELETE FROM job_parts WHERE job_id = ? AND end_byte > ?').run(jobId, offset);
    this.setSentSha256(jobId, null);
  }

  // What was sent -----------------------------------------------------------------------------------

  /**
   * The SHA-256 of the whole file as every acknowledged part sent it (see migration 003), or null
   * when it was not (or could not be) confirmed.
   */
  sentSha256(jobId: number): string | null {
    const row = prepared(this.#db, 'SELECT sent_sha256 FROM jobs WHERE id = ?').get(jobId) as
      { sent_sha256: string | null } | undefined;
    return row?.sent_sha256 ?? null;
  }

  setSentSha256(jobId: number, sha256: string | null): void {
    prepared(this.#db, 'UPDATE jobs SET sent_sha256 = ? WHERE id = ?').run(sha256, jobId);
  }

  /** A completed job of the account whose confirmed sent bytes hash to `sha256`, if any. */
  completedWithSentContent(accountId: number, sha256: string): { id: number } | undefined {
    return prepared(
      this.#db,
      `SELECT id FROM jobs WHERE account_id = ? AND sent_sha256 = ? AND state = 'completed' ORDER BY id DESC LIMIT 1`,
    ).get(accountId, sha256) as { id: number } | undefined;
  }

  /** Jobs of any account that are not finished and read the file at `path`. */
  unfinishedReading(path: string): Array<{ id: number; state: string }> {
    return prepared(
      this.#db,
      `SELECT id, state FROM jobs WHERE source_kind = 'file' AND source = ? AND state NOT IN ('completed', 'failed', 'canceled') ORDER BY id`,
    ).all(path) as Array<{ id: number; state: string }>;
  }

  /**
   * Whether the job carries a file of a watched folder (the sync index records its path for the
   * account before the job is queued). Only those jobs pay for hashing what they send.
   */
  fromWatchedFolder(job: { accountId: number; sourceKind: 'file' | 'url'; source: string }): boolean {
    if (job.sourceKind !== 'file') return false;
    return (
      prepared(this.#db, 'SELECT 1 AS found FROM sync_files WHERE path = ? AND account_id = ? LIMIT 1').get(
        job.source,
        job.accountId,
      ) !== undefined
    );
  }

  // Events ------------------------------------------------------------------------------------------

  addEvent(event: Omit<JobEvent, 'id' | 'at'> & { at?: number }): void {
    prepared(
      this.#db,
      'INSERT INTO job_events (job_id, at, type, state, attempt, error_kind, message) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(event.jobId, event.at ?? Date.now(), event.type, event.state, event.attempt, event.errorKind, event.message);
  }

  events(jobId: number): JobEvent[] {
    return (
      prepared(this.#db, 'SELECT * FROM job_events WHERE job_id = ? ORDER BY id').all(jobId) as Array<{
        id: number;
        job_id: number;
        at: number;
        type: JobEvent['type'];
        state: string | null;
        attempt: number | null;
        error_kind: string | null;
        message: string;
      }>
    ).map((row) => ({
      id: row.id,
      jobId: row.job_id,
      at: row.at,
      type: row.type,
      state: row.state !== null && isJobState(row.state) ? row.state : null,
      attempt: row.attempt,
      errorKind: row.error_kind as ErrorKind | null,
      message: row.message,
    }));
  }
}
