import type { DatabaseSync } from 'node:sqlite';

/**
 * Indexes for a queue of a million jobs: every query the engine, the window and `ferry list` make on
 * start and while idle reads a few index entries instead of the whole jobs table.
 *
 * - `jobs_position`: the queue order. `ferry list`, the window's pages and the top/bottom position of
 *   a new batch or a "move to top" walk it instead of sorting every job (a page cost ~130 ms at 1M).
 * - `jobs_account_state_position` replaces `jobs_account` (its first column still serves the account
 *   foreign key): the scheduler's runnable jobs of one account in queue order, and "has this account
 *   anything pending?" (asked on every scheduling pass), without reading the account's other jobs.
 * - `jobs_state_position` gains the size and confirmed bytes: the header's summary (counts and bytes
 *   per state) is then read from the index alone, a third of the time of reading the table.
 * - `jobs_updated`: the rows changed since a moment, read every second by a window or `ferry serve`
 *   that follows another process's uploads.
 */
export function migration004(db: DatabaseSync): void {
  db.exec(`
    CREATE INDEX jobs_position ON jobs(position);
    DROP INDEX jobs_account;
    CREATE INDEX jobs_account_state_position ON jobs(account_id, state, position);
    DROP INDEX jobs_state_position;
    CREATE INDEX jobs_state_position_bytes ON jobs(state, position, size, bytes_confirmed);
    CREATE INDEX jobs_updated ON jobs(updated_at);
  `);
}
