/**
 * db/recentRead.ts: a value read for every request is read again at once after this connection
 * wrote to one of its tables, not after writes elsewhere (each batch of acknowledged parts), and within
 * `maxAgeMs` after another process's write.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SettingsStore } from '../../main/api/settingsStore.ts';
import { openDatabase, type Db } from '../../main/db/database.ts';
import { recentRead } from '../../main/db/recentRead.ts';

let dir: string;
const opened: Db[] = [];

function open(): Db {
  const db = openDatabase(dir);
  opened.push(db);
  return db;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-recent-'));
});

afterEach(async () => {
  vi.useRealTimers();
  for (const db of opened.splice(0)) db.close();
  await rm(dir, { recursive: true, force: true });
});

describe('recentRead', () => {
  it('reads again after a write of this connection to its tables, and not after writes to other tables', () => {
    const db = open();
    db.exec('CREATE TABLE scratch (x INTEGER)');
    let reads = 0;
    const proxy = recentRead(
      db,
      () => {
        reads += 1;
        const row = db.prepare("SELECT value FROM settings WHERE key = 'app.proxy'").get() as
          { value: string } | undefined;
        return row?.value ?? null;
      },
      { tables: ['settings'], maxAgeMs: 60_000 },
    );
    expect(proxy()).toBeNull();
    expect(proxy()).toBeNull();
    expect(reads).toBe(1);

    // Writes elsewhere (as every batch of acknowledged parts is) do not read the settings again.
    for (let i = 0; i < 5; i += 1) db.prepare('INSERT INTO scratch (x) VALUES (?)').run(i);
    db.exec('UPDATE scratch SET x = x + 1');
    expect(proxy()).toBeNull();
    expect(reads).toBe(1);

    // Any insert, update or delete of the settings table through this connection applies at once.
    db.prepare("INSERT INTO settings (key, value) VALUES ('app.proxy', '\"direct\"')").run();
    expect(proxy()).toBe('"direct"');
    db.prepare("UPDATE settings SET value = '\"system\"' WHERE key = 'app.proxy'").run();
    expect(proxy()).toBe('"system"');
    db.prepare("DELETE FROM settings WHERE key = 'app.proxy'").run();
    expect(proxy()).toBeNull();
    expect(reads).toBe(4);
  });

  it("sees another connection's write once maxAgeMs has passed", () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const db = open();
    const other = open();
    const settings = new SettingsStore(db);
    expect(settings.recent().proxy).toBe('system');
    new SettingsStore(other).set({ proxy: 'direct' });
    // The trigger is this connection's own: the other process's write shows only with age.
    expect(settings.recent().proxy).toBe('system');
    vi.setSystemTime(Date.now() + 1_000);
    expect(settings.recent().proxy).toBe('direct');
  });

  it("applies this connection's settings change to the next read (SettingsStore.set)", () => {
    const db = open();
    const settings = new SettingsStore(db);
    expect(settings.recent().proxy).toBe('system');
    settings.set({ proxy: 'http://127.0.0.1:9' });
    expect(settings.recent().proxy).toBe('http://127.0.0.1:9');
  });

  it('refuses a table name that is not a plain identifier', () => {
    const db = open();
    expect(() => recentRead(db, () => 1, { tables: ['settings; DROP TABLE jobs'] })).toThrow(/plain table name/);
  });
});
