/**
 * The SQLite connection (node:sqlite, built into Node 24 and Electron's main process, so there is no
 * native module to rebuild). WAL lets the UI read while the runner writes; synchronous=FULL makes a
 * recorded part acknowledgement survive a power loss, which is what "never re-send an acknowledged
 * chunk" needs.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { MIGRATIONS } from './migrations/index.ts';

export type Db = DatabaseSync;

export function openDatabase(dataDir: string): Db {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = new DatabaseSync(join(dataDir, 'ferry.db'), { timeout: 5_000 });
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(process.env.FERRY_SYNC_HACK ? 'PRAGMA synchronous = NORMAL' : 'PRAGMA synchronous = FULL');
  db.exec('PRAGMA foreign_keys = ON');
  migrate(db);
  return db;
}

export function migrate(db: Db): void {
  const row = db.prepare('PRAGMA user_version').get() as { user_version: number };
  const current = row.user_version;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `This data folder was written by a newer Ferry (schema ${current}, this one knows ${MIGRATIONS.length}); update Ferry to open it.`,
    );
  }
  for (let version = current; version < MIGRATIONS.length; version += 1) {
    transaction(db, () => {
      MIGRATIONS[version]!(db);
      db.exec(`PRAGMA user_version = ${version + 1}`);
    });
  }
}

const CACHE_LIMIT = 256;
const statements = new WeakMap<Db, Map<string, StatementSync>>();

/**
 * The compiled statement for `sql`, kept per connection. Preparing is the costly half of a small
 * query, and a statement that is dropped keeps its native memory (outside V8's heap, so invisible to
 * the collector's pressure) until a garbage collection finalizes it: preparing on every call made
 * the upload loop's RSS climb by ~100 MB over a thousand chunks. Not for `iterate`: two iterations of
 * one cached statement would share its cursor.
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
    db.exec('ROLLBACK');
    throw error;
  }
}
