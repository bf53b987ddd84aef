import type { DatabaseSync } from 'node:sqlite';
import { migration001 } from './001_initial.ts';
import { migration002 } from './002_sync.ts';

/** Numbered migrations; the database's `user_version` is the number of the last one applied. */
export const MIGRATIONS: ReadonlyArray<(db: DatabaseSync) => void> = [migration001, migration002];
