import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, prepared, transaction, transactionSyncedLater, type Db } from '../../main/db/database.ts';
import { fdsOn } from '../support/fds.ts';

let dir: string;
let db: Db;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-db-'));
  db = openDatabase(dir);
  db.exec('CREATE TABLE marks (n INTEGER NOT NULL)');
});

afterEach(async () => {
  if (db.isOpen) db.close();
  await rm(dir, { recursive: true, force: true });
});

const count = (connection: DatabaseSync): number => (connection.prepare('SELECT COUNT(*) AS n FROM marks').get() as { n: number }).n;

describe('transactionSyncedLater', () => {
  it('commits at once (another connection sees it) and settles once the log is synced, then FULL again', async () => {
    const { result, durable } = transactionSyncedLater(db, () => {
      prepared(db, 'INSERT INTO marks (n) VALUES (?)').run(1);
      return 'done';
    });
    expect(result).toBe('done');
    const reader = new DatabaseSync(join(dir, 'ferry.db'), { readOnly: true });
    try {
      expect(count(reader)).toBe(1);
    } finally {
      reader.close();
    }
    await expect(durable).resolves.toBeUndefined();
    // Every other commit keeps waiting for the disk.
    expect((db.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous).toBe(2);
  });

  it('serves many commits in a row with syncs that all settle, keeping the log open only while busy', async () => {
    const syncs: Array<Promise<void>> = [];
    for (let n = 0; n < 50; n += 1) {
      syncs.push(transactionSyncedLater(db, () => prepared(db, 'INSERT INTO marks (n) VALUES (?)').run(n)).durable);
    }
    await Promise.all(syncs);
    expect(count(db)).toBe(50);
    const log = join(dir, 'ferry.db-wal');
    expect(fdsOn(log)).toBeGreaterThanOrEqual(1);
    // Closed after a quiet second (bounded wait).
    const until = Date.now() + 5_000;
    // SQLite keeps its own descriptor on the log; only ours goes away.
    const sqliteOwn = fdsOn(log) - 1;
    while (fdsOn(log) > sqliteOwn && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fdsOn(log)).toBe(sqliteOwn);
  });

  it('rolls back and restores FULL when the work throws', () => {
    expect(() =>
      transactionSyncedLater(db, () => {
        prepared(db, 'INSERT INTO marks (n) VALUES (?)').run(1);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(count(db)).toBe(0);
    expect((db.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous).toBe(2);
  });

  it('settles for an in-memory database, which has no log', async () => {
    const memory = new DatabaseSync(':memory:');
    memory.exec('CREATE TABLE marks (n INTEGER)');
    const { durable } = transactionSyncedLater(memory, () => memory.prepare('INSERT INTO marks VALUES (1)').run());
    await expect(durable).resolves.toBeUndefined();
    memory.close();
  });
});

describe('prepared', () => {
  it('gives the same compiled statement for the same SQL, per connection', () => {
    const first = prepared(db, 'SELECT COUNT(*) AS n FROM marks');
    expect(prepared(db, 'SELECT COUNT(*) AS n FROM marks')).toBe(first);
    const other = openDatabase(dir);
    try {
      expect(prepared(other, 'SELECT COUNT(*) AS n FROM marks')).not.toBe(first);
    } finally {
      other.close();
    }
  });

  it('says the database is not open once it was closed (not "statement finalized")', () => {
    prepared(db, 'SELECT COUNT(*) AS n FROM marks');
    db.close();
    expect(() => prepared(db, 'SELECT COUNT(*) AS n FROM marks')).toThrow(/not open/);
  });

  it('works inside transactions like a fresh statement', () => {
    transaction(db, () => {
      for (let n = 0; n < 3; n += 1) prepared(db, 'INSERT INTO marks (n) VALUES (?)').run(n);
    });
    expect(count(db)).toBe(3);
  });
});
