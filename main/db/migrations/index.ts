import type { DatabaseSync } from 'node:sqlite';
import { migration001 } from './001_initial.ts';
import { migration002 } from './002_sync.ts';
import { migration003 } from './003_sent_bytes_and_trash.ts';
import { migration004 } from './004_queue_indexes.ts';
import { migration005 } from './005_job_tallies.ts';

/** Numbered migrations; the database's `user_version` is the number of the last one applied. */
export const MIGRATIONS: ReadonlyArray<(db: DatabaseSync) => void> = [
  migration001,
  migration002,
  migration003,
  migration004,
  migration005,
];
