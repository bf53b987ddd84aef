import type { DatabaseSync } from 'node:sqlite';

/**
 * Watched folders. `sync_rules` maps a folder to an account. The sync index has two halves:
 * `sync_files` says what Ferry knows about each path of a rule (its size and mtime when last looked
 * at, its content hash, the job that carries it and the outcome), and `sync_uploads` says, per account
 * and content hash, which job uploaded (or is uploading) that content. The second half is what makes
 * "the same content never goes twice to the same account" hold across renames, touches, restarts, a
 * file edited and then reverted, and a rule removed and added again: it is keyed by content, not by
 * path, so overwriting a path's row never forgets a content that was uploaded.
 */
export function migration002(db: DatabaseSync): void {
  db.exec(`
    CREATE TABLE sync_rules (
      id            INTEGER PRIMARY KEY AUTOINCREMENT,
      account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      dir           TEXT NOT NULL,
      include_globs TEXT NOT NULL DEFAULT '[]',
      exclude_globs TEXT NOT NULL DEFAULT '[]',
      recursive     INTEGER NOT NULL DEFAULT 1,
      after_upload  TEXT NOT NULL DEFAULT 'keep' CHECK (after_upload IN ('keep', 'move', 'delete')),
      move_to       TEXT NOT NULL DEFAULT 'uploaded',
      paused        INTEGER NOT NULL DEFAULT 0,
      created_at    INTEGER NOT NULL,
      UNIQUE (account_id, dir)
    );

    CREATE TABLE sync_files (
      rule_id     INTEGER NOT NULL REFERENCES sync_rules(id) ON DELETE CASCADE,
      path        TEXT NOT NULL,
      account_id  INTEGER NOT NULL,
      size        INTEGER NOT NULL,
      mtime_ms    INTEGER NOT NULL,
      sha256      TEXT,
      job_id      INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
      state       TEXT NOT NULL CHECK (state IN ('pending', 'queued', 'uploaded', 'duplicate', 'refused', 'failed')),
      reason      TEXT,
      disposition TEXT CHECK (disposition IN ('moved', 'deleted')),
      moved_to    TEXT,
      seen_at     INTEGER NOT NULL,
      uploaded_at INTEGER,
      PRIMARY KEY (rule_id, path)
    );
    CREATE INDEX sync_files_content ON sync_files(account_id, sha256);
    CREATE INDEX sync_files_job ON sync_files(job_id);
    CREATE INDEX sync_files_state ON sync_files(state);

    CREATE TABLE sync_uploads (
      account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      sha256      TEXT NOT NULL,
      job_id      INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
      state       TEXT NOT NULL CHECK (state IN ('queued', 'uploaded', 'failed')),
      created_at  INTEGER NOT NULL,
      uploaded_at INTEGER,
      PRIMARY KEY (account_id, sha256)
    ) WITHOUT ROWID;
    CREATE INDEX sync_uploads_job ON sync_uploads(job_id);
  `);
}
