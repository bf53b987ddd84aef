/**
 * The two settings the watched folders follow, read straight from the `settings` table: the quiet
 * period before a move or delete (`syncQuietSeconds`) and the days Ferry's trash keeps a file
 * (`syncTrashDays`). The API's settings store (main/api/settingsStore.ts) writes them, validated by its
 * schema; they are read here so that sync/ does not depend on api/ (which calls sync/ for its `sync.*`
 * commands). Defaults and bounds are the API's (`SETTINGS_FIELDS`); test/unit/syncSettings.test.ts keeps
 * the two equal.
 */
import type { Db } from '../db/database.ts';

/** Each setting: its stored key (the store's `app.` prefix), its default and its bounds. */
export const SYNC_SETTINGS = {
  syncQuietSeconds: { key: 'app.syncQuietSeconds', fallback: 60, min: 1, max: 86_400 },
  syncTrashDays: { key: 'app.syncTrashDays', fallback: 30, min: 1, max: 3_650 },
} as const;

export type SyncSettingName = keyof typeof SYNC_SETTINGS;

/** A stored value, or its default when the row is missing, unreadable or out of range (as the store reads it). */
export function readSyncSetting(db: Db, name: SyncSettingName): number {
  const { key, fallback, min, max } = SYNC_SETTINGS[name];
  const row = db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
  if (row === undefined) return fallback;
  let value: unknown;
  try {
    value = JSON.parse(row.value) as unknown;
  } catch {
    return fallback;
  }
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : fallback;
}
