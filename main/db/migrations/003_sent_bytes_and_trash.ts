import type { DatabaseSync } from 'node:sqlite';

/**
 * What was really sent, and a way back from "delete".
 *
 * - `job_parts.sha256`: the SHA-256 of the bytes an acknowledged part's request body read (recorded
 *   with the acknowledgement, for jobs from watched folders only; NULL otherwise or when unknown).
 * - `jobs.sent_sha256`: the SHA-256 of the whole file, stored only once every acknowledged part's
 *   range of the file as it is now hashes to what was sent for that part. A watched folder moves or
 *   deletes a file only when its current content hash is the `sent_sha256` of a completed job of the
 *   account, so a job that sent other bytes than the ones the sync index hashed never counts.
 * - `sync_files.restored_at`: the path was restored from Ferry's trash; it is not deleted again until
 *   it changes.
 * - `sync_trash`: files a "delete" rule moved into the trash folder of the data folder, restorable
 *   until they expire. No foreign keys: an entry outlives its rule and its job.
 */
export function migration003(db: DatabaseSync): void {
  db.exec(`
    ALTER TABLE job_parts ADD COLUMN sha256 TEXT;
    ALTER TABLE jobs ADD COLUMN sent_sha256 TEXT;
    CREATE INDEX jobs_sent_content ON jobs(account_id, sent_sha256) WHERE sent_sha256 IS NOT NULL;
    CREATE INDEX jobs_source ON jobs(source);

    ALTER TABLE sync_files ADD COLUMN restored_at INTEGER;
    CREATE INDEX sync_files_path ON sync_files(path);

    CREATE TABLE sync_trash (
      id            INTEGER PRIMARY KEY AUTOINCREMENT,
      rule_id       INTEGER,
      account_id    INTEGER,
      original_path TEXT NOT NULL,
      trash_path    TEXT NOT NULL,
      size          INTEGER NOT NULL,
      mtime_ms      INTEGER NOT NULL,
      sha256        TEXT NOT NULL,
      job_id        INTEGER,
      trashed_at    INTEGER NOT NULL,
      restored_at   INTEGER,
      purged_at     INTEGER
    );
    CREATE INDEX sync_trash_live ON sync_trash(trashed_at) WHERE restored_at IS NULL AND purged_at IS NULL;
  `);
}
