/**
 * App settings in the `settings` key/value table (one row per setting, the value as JSON). Reading is
 * forgiving: a missing, corrupt or out-of-range stored value falls back to its default on its own,
 * so one bad row never resets the others. Writing goes through the command's zod schema first.
 */
import type { Db } from '../db/database.ts';
import { transaction } from '../db/database.ts';
import { recentRead } from '../db/recentRead.ts';
import type { Settings } from './contract.ts';
import { SETTINGS_FIELDS } from './schemas.ts';
import { formatRate } from '../core/bwlimit.ts';

const KEYS = Object.keys(SETTINGS_FIELDS) as Array<keyof Settings>;
/** Rows are namespaced so that other features can keep their own keys in the same table. */
const PREFIX = 'app.';

export class SettingsStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
    this.#recent = recentRead(db, () => this.get(), { tables: ['settings'] });
  }

  readonly #recent: () => Settings;

  /**
   * The settings as of a moment ago, for readers on every request (the proxy): the same as `get()`
   * once the settings table was written through this connection, and within a second of another
   * process's write.
   */
  recent(): Settings {
    return this.#recent();
  }

  get(): Settings {
    const rows = this.#db.prepare('SELECT key, value FROM settings WHERE key LIKE ?').all(`${PREFIX}%`) as Array<{
      key: string;
      value: string;
    }>;
    const stored = new Map(rows.map((row) => [row.key.slice(PREFIX.length), row.value]));
    const read = (name: keyof Settings | 'bandwidthCapKbps'): unknown => {
      const text = stored.get(name);
      if (text === undefined) return undefined;
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return undefined;
      }
    };
    return {
      globalConcurrency: SETTINGS_FIELDS.globalConcurrency.parse(read('globalConcurrency')),
      closeToTray: SETTINGS_FIELDS.closeToTray.parse(read('closeToTray')),
      startAtLogin: SETTINGS_FIELDS.startAtLogin.parse(read('startAtLogin')),
      notifications: SETTINGS_FIELDS.notifications.parse(read('notifications')),
      theme: SETTINGS_FIELDS.theme.parse(read('theme')),
      syncQuietSeconds: SETTINGS_FIELDS.syncQuietSeconds.parse(read('syncQuietSeconds')),
      syncTrashDays: SETTINGS_FIELDS.syncTrashDays.parse(read('syncTrashDays')),
      bwlimit: SETTINGS_FIELDS.bwlimit.parse(read('bwlimit') ?? migratedCap(read('bandwidthCapKbps'))),
      proxy: SETTINGS_FIELDS.proxy.parse(read('proxy')),
      autoCopyLink: SETTINGS_FIELDS.autoCopyLink.parse(read('autoCopyLink')),
      language: SETTINGS_FIELDS.language.parse(read('language')),
      clipboardHotkey: SETTINGS_FIELDS.clipboardHotkey.parse(read('clipboardHotkey')),
      autoUpdate: SETTINGS_FIELDS.autoUpdate.parse(read('autoUpdate')),
      updateUrl: SETTINGS_FIELDS.updateUrl.parse(read('updateUrl')),
    };
  }

  /** Stores the given (already validated) settings in one transaction and returns all of them. */
  set(patch: Partial<Settings>): Settings {
    transaction(this.#db, () => {
      const statement = this.#db.prepare(
        'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      );
      for (const name of KEYS) {
        const value = patch[name];
        if (value !== undefined) statement.run(`${PREFIX}${name}`, JSON.stringify(value));
      }
    });
    return this.get();
  }
}

/**
 * The bandwidth cap of earlier versions (`app.bandwidthCapKbps`, kilobits per second, 0 = none) as a
 * bwlimit, for as long as no bwlimit was saved: kbps × 1000 / 8 bytes per second in rclone syntax
 * (`B` suffix, exact). It was never enforced, but it says what the person wanted.
 */
function migratedCap(kbps: unknown): string | undefined {
  if (typeof kbps !== 'number' || !Number.isInteger(kbps) || kbps <= 0) return undefined;
  return formatRate(Math.round((kbps * 1000) / 8));
}
