/**
 * main/sync/syncSettings.ts reads the watched folders' two settings straight from the table (so that
 * sync/ does not import api/): it must read what the API's settings store writes, with the same
 * defaults and bounds as the API's schema (`SETTINGS_FIELDS`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SETTINGS_FIELDS } from '../../main/api/schemas.ts';
import { SettingsStore } from '../../main/api/settingsStore.ts';
import { openDatabase } from '../../main/db/database.ts';
import { SYNC_SETTINGS, readSyncSetting, type SyncSettingName } from '../../main/sync/syncSettings.ts';
import { Fixtures } from '../support/ferryHarness.ts';

const fixtures = new Fixtures();
afterEach(async () => {
  await fixtures.cleanup();
});

const NAMES = Object.keys(SYNC_SETTINGS) as SyncSettingName[];

describe('sync settings', () => {
  it('has the defaults and bounds of the API schema', () => {
    for (const name of NAMES) {
      const { fallback, min, max } = SYNC_SETTINGS[name];
      const field = SETTINGS_FIELDS[name];
      expect(field.parse(undefined), name).toBe(fallback);
      expect(field.parse(min), name).toBe(min);
      expect(field.parse(max), name).toBe(max);
      // Out of range on either side: the schema falls back to its default, like readSyncSetting.
      expect(field.parse(min - 1), name).toBe(fallback);
      expect(field.parse(max + 1), name).toBe(fallback);
    }
  });

  it('reads what the settings store wrote, and the default for a missing, corrupt or out-of-range row', async () => {
    const db = openDatabase(await fixtures.tempDir('ferry-sync-settings-'));
    try {
      const store = new SettingsStore(db);
      for (const name of NAMES) expect(readSyncSetting(db, name)).toBe(store.get()[name]);
      store.set({ syncQuietSeconds: 5, syncTrashDays: 2 });
      expect(readSyncSetting(db, 'syncQuietSeconds')).toBe(5);
      expect(readSyncSetting(db, 'syncTrashDays')).toBe(2);
      const write = db.prepare('UPDATE settings SET value = ? WHERE key = ?');
      for (const bad of ['not json', '0', '1.5', '"7"', '99999999']) {
        for (const name of NAMES) {
          write.run(bad, SYNC_SETTINGS[name].key);
          expect(readSyncSetting(db, name), `${name} = ${bad}`).toBe(store.get()[name]);
          expect(readSyncSetting(db, name), `${name} = ${bad}`).toBe(SYNC_SETTINGS[name].fallback);
        }
      }
    } finally {
      db.close();
    }
  });
});
