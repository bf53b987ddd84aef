/**
 * The SQLite connection (node:sqlite, built into Node 24 and Electron's main process, so there is no
 * native module to rebuild). WAL lets the UI read while the runner writes; synchronous=FULL makes a
 * recorded part acknowledgement survive a power loss, which is what "never re-send an acknowledged
 * chunk" needs.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { MIGRATIONS } from './migrations/index.ts';

export type Db = DatabaseSync;

export function openDatabase(dataDir: string): Db {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = new DatabaseSync(join(dataDir, 'ferry.db'), { timeout: 5_000 });
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
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
