import type { DatabaseSync } from 'node:sqlite';

/** Accounts, jobs, acknowledged parts, the job event log and settings. */
export function migration001(db: DatabaseSync): void {
  db.exec(`
    CREATE TABLE accounts (
      id          INTEGER PRIMARY KEY AUTOINCREMENT,
      name        TEXT NOT NULL UNIQUE,
      provider    TEXT NOT NULL,
      base_url    TEXT,
      settings    TEXT NOT NULL DEFAULT '{}',
      concurrency INTEGER NOT NULL DEFAULT 2,
      paused      INTEGER NOT NULL DEFAULT 0,
      created_at  INTEGER NOT NULL
    );

    CREATE TABLE jobs (
      id                  INTEGER PRIMARY KEY AUTOINCREMENT,
      account_id          INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      source_kind         TEXT NOT NULL CHECK (source_kind IN ('file', 'url')),
      source              TEXT NOT NULL,
      name                TEXT NOT NULL,
      mime                TEXT NOT NULL,
      size                INTEGER,
      mtime_ms            INTEGER,
      edge_hash           TEXT,
      options             TEXT NOT NULL DEFAULT '{}',
      state               TEXT NOT NULL,
      position            REAL NOT NULL,
      session             TEXT,
      session_started_at  INTEGER,
      bytes_confirmed     INTEGER NOT NULL DEFAULT 0,
      attempts            INTEGER NOT NULL DEFAULT 0,
      retry_streak        INTEGER NOT NULL DEFAULT 0,
      next_attempt_at     INTEGER,
      error_kind          TEXT,
      error_message       TEXT,
      finalize_started_at INTEGER,
      finalized_at        INTEGER,
      result              TEXT,
      created_at          INTEGER NOT NULL,
      updated_at          INTEGER NOT NULL,
      finished_at         INTEGER
    );
    CREATE INDEX jobs_state_position ON jobs(state, position);
    CREATE INDEX jobs_account ON jobs(account_id);

    CREATE TABLE job_parts (
      job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
      part_index  INTEGER NOT NULL,
      start_byte  INTEGER NOT NULL,
      end_byte    INTEGER NOT NULL,
      acked_at    INTEGER NOT NULL,
      PRIMARY KEY (job_id, part_index)
    ) WITHOUT ROWID;

    CREATE TABLE job_events (
      id         INTEGER PRIMARY KEY AUTOINCREMENT,
      job_id     INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
      at         INTEGER NOT NULL,
      type       TEXT NOT NULL,
      state      TEXT,
      attempt    INTEGER,
      error_kind TEXT,
      message    TEXT NOT NULL
    );
    CREATE INDEX job_events_job ON job_events(job_id, id);

    CREATE TABLE settings (
      key   TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );
  `);
}
