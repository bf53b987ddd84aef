/**
 * The account the person last uploaded to from the window: files given to Ferry from outside (a
 * second launch, the app icon, "Open with") go there. Kept in the settings table under its own key,
 * beside the app settings, so that it survives a restart.
 */
import type { Db } from '../db/database.ts';

const KEY = 'desktop.lastAccount';

export class LastAccountStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  get(): string | null {
    const row = this.#db.prepare('SELECT value FROM settings WHERE key = ?').get(KEY) as { value: string } | undefined;
    if (!row) return null;
    try {
      const value = JSON.parse(row.value) as unknown;
      return typeof value === 'string' && value !== '' ? value : null;
    } catch {
      return null;
    }
  }

  set(name: string): void {
    this.#db
      .prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
      .run(KEY, JSON.stringify(name));
  }
}
