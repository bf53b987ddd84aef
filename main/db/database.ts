/**
 * The SQLite connection (node:sqlite, built into Node 24 and Electron's main process, so there is no
 * native module to rebuild). WAL lets the UI read while the runner writes; synchronous=FULL makes a
 * recorded part acknowledgement survive a power loss, which is what "never re-send an acknowledged
 * chunk" needs.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { FerryError } from '../core/errors.ts';
import { isSqliteBusy } from '../core/sqliteErrors.ts';
import { MIGRATIONS } from './migrations/index.ts';

export type Db = DatabaseSync;

/**
 * Makes the data folder and its missing parents one level at a time. Not `mkdirSync(…, {recursive:
 * true})`: on Node 24 that never returns for a path under a folder that refuses new entries with
 * ENOENT (e.g. `/proc/nope`), so `ferry --data-dir /proc/nope list` hung; one level at a time, the
 * refusal surfaces as an error naming the folder.
 */
export function makeDataDir(dataDir: string): void {
  const missing: string[] = [];
  for (let dir = dataDir; !existsSync(dir); dir = dirname(dir)) {
    missing.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new FerryError(
        'invalid',
        `Cannot create the data folder ${dataDir}: ${dir} could not be made (${reason}); choose another with --data-dir or FERRY_DATA_DIR`,
      );
    }
  }
}

export function openDatabase(dataDir: string): Db {
  makeDataDir(dataDir);
  const db = new DatabaseSync(join(dataDir, 'ferry.db'), { timeout: 5_000 });
  try {
    // A new database starts in rollback-journal mode: a process switching it to WAL while another one
    // migrates it can deadlock on the file locks, and SQLite then answers "database is locked" at once
    // instead of waiting. Both are idempotent, so they are tried again after a short pause.
    for (let attempt = 1; ; attempt += 1) {
      try {
        db.exec('PRAGMA journal_mode = WAL');
        db.exec('PRAGMA synchronous = FULL');
        db.exec('PRAGMA foreign_keys = ON');
        migrate(db);
        return db;
      } catch (error) {
        if (!isSqliteBusy(error) || attempt >= OPEN_ATTEMPTS) throw error;
        Atomics.wait(PAUSE, 0, 0, 20 * attempt);
      }
    }
  } catch (error) {
    db.close();
    throw error;
  }
}

const OPEN_ATTEMPTS = 10;
/** Something to wait on synchronously (opening is synchronous; ~1 s in all at worst). */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

export function migrate(db: Db): void {
  // The version is read inside each migration's write transaction: two processes opening a new data
  // folder at once would otherwise both read "version 0" and the second would apply migration 1 again
  // over the first one's tables.
  for (;;) {
    const done = transaction(db, () => {
      const current = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
      if (current > MIGRATIONS.length) {
        throw new Error(
          `This data folder was written by a newer Ferry (schema ${current}, this one knows ${MIGRATIONS.length}); update Ferry to open it.`,
        );
      }
      if (current === MIGRATIONS.length) return true;
      MIGRATIONS[current]!(db);
      db.exec(`PRAGMA user_version = ${current + 1}`);
      return false;
    });
    if (done) return;
  }
}

const CACHE_LIMIT = 256;
const statements = new WeakMap<Db, Map<string, StatementSync>>();

/**
 * The compiled statement for `sql`, kept per connection: compiling is the costly half of a small
 * query that the upload loop runs several times per part, and a dropped statement holds its native
 * memory until a garbage collection finalizes it. Not for `iterate`: two iterations of one cached
 * statement would share its cursor.
 */
export function prepared(db: Db, sql: string): StatementSync {
  // A closed connection finalizes its statements: let `prepare` say "database is not open".
  if (!db.isOpen) return db.prepare(sql);
  let cache = statements.get(db);
  if (!cache) {
    cache = new Map();
    statements.set(db, cache);
  }
  let statement = cache.get(sql);
  if (!statement) {
    // SQL built from optional columns has a bounded number of shapes; the cap only guards mistakes.
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    statement = db.prepare(sql);
    cache.set(sql, statement);
  }
  return statement;
}

/** Runs `work` in one IMMEDIATE transaction (taking the write lock up front avoids busy upgrades). */
export function transaction<T>(db: Db, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    // SQLite rolls back by itself on some errors (disk full, I/O error, busy during commit): a second
    // ROLLBACK would throw "no transaction is active" and hide the error that says what happened.
    if (db.isOpen && db.isTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/**
 * Runs `work` in one transaction whose commit does not wait for the disk, and returns with its result
 * a promise that settles once the commit is durable: an fdatasync of the write-ahead log on libuv's
 * thread pool instead of SQLite's fsync on the event loop (which was the largest single cost of a
 * 204,800-byte part on the client, ~17 % of the transfer). Commits are still in order: a later FULL
 * commit syncs the same log, and a caller that records a sequence awaits the previous `durable`
 * before its next commit, so at most the latest record can be lost to a power cut, which is the same
 * window as between a server's reply and any commit. A crash of Ferry alone loses nothing (WAL).
 */
export function transactionSyncedLater<T>(db: Db, work: () => T): { result: T; durable: Promise<void> } {
  db.exec('PRAGMA synchronous = NORMAL');
  let result: T;
  try {
    result = transaction(db, work);
  } finally {
    db.exec('PRAGMA synchronous = FULL');
  }
  return { result, durable: syncLog(db) };
}

interface LogSync {
  running: Promise<void> | null;
  queued: Promise<void> | null;
  /** The log, kept open between syncs and closed after a quiet second. */
  handle: Promise<FileHandle | null> | null;
  idle: NodeJS.Timeout | null;
}
const logSyncs = new WeakMap<Db, LogSync>();
const LOG_IDLE_CLOSE_MS = 1_000;

/**
 * Makes everything committed so far durable. Requests made while a sync runs share one follow-up sync
 * (the running one may have started before their commit).
 */
function syncLog(db: Db): Promise<void> {
  const path = db.location();
  if (path === null) return Promise.resolve(); // in memory
  let state = logSyncs.get(db);
  if (!state) {
    state = { running: null, queued: null, handle: null, idle: null };
    logSyncs.set(db, state);
  }
  const current = state;
  const start = (): Promise<void> => {
    const run = datasync(current, `${path}-wal`);
    current.running = run;
    const settle = (): void => {
      if (current.running === run) current.running = null;
    };
    run.then(settle, settle);
    return run;
  };
  if (current.queued) return current.queued;
  if (current.running) {
    const queued = current.running
      .catch(() => undefined)
      .then(() => {
        current.queued = null;
        return start();
      });
    current.queued = queued;
    return queued;
  }
  return start();
}

async function datasync(state: LogSync, path: string): Promise<void> {
  // Writable: Windows flushes only through a handle that may write.
  state.handle ??= open(path, 'r+').catch((error: unknown) => {
    // No log: it was checkpointed into the database (synced) and removed as the last connection closed.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  });
  const pending = state.handle;
  let handle: FileHandle | null;
  try {
    handle = await pending;
    await handle?.datasync();
  } catch (error) {
    if (state.handle === pending) state.handle = null;
    await pending
      .then(
        (opened) => opened?.close(),
        () => undefined,
      )
      .catch(() => undefined);
    throw error;
  }
  if (handle === null) {
    // Opened again (once there is a log) by the next sync.
    if (state.handle === pending) state.handle = null;
    return;
  }
  if (state.idle) state.idle.refresh();
  else {
    state.idle = setTimeout(() => {
      state.idle = null;
      const open = state.handle;
      state.handle = null;
      void open
        ?.then(
          (handle) => handle?.close(),
          () => undefined,
        )
        .catch(() => undefined);
    }, LOG_IDLE_CLOSE_MS).unref();
  }
}
