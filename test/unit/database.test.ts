import { spawn } from 'node:child_process';
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

const count = (connection: DatabaseSync): number =>
  (connection.prepare('SELECT COUNT(*) AS n FROM marks').get() as { n: number }).n;

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

describe('migrate', () => {
  it('opens a new data folder from several processes at once: each migration is applied exactly once', async () => {
    // Each child loads the module first, then waits for the same "go" so that they open together.
    const script = `
      import { openDatabase } from ${JSON.stringify(new URL('../../main/db/database.ts', import.meta.url).pathname)};
      process.stdout.write('ready\\n');
      process.stdin.once('data', () => {
        try { openDatabase(process.env.DATA_DIR).close(); process.stdout.write('opened\\n'); }
        catch (error) { process.stdout.write('failed: ' + error.message + '\\n'); }
        process.exit(0);
      });
    `;
    for (let round = 0; round < 12; round += 1) {
      const data = join(dir, `data-${round}`);
      const children = [0, 1, 2].map(() =>
        spawn(process.execPath, ['--input-type=module', '--no-warnings', '-e', script], {
          env: { ...process.env, DATA_DIR: data },
          stdio: ['pipe', 'pipe', 'inherit'],
        }),
      );
      const outputs = children.map(
        (child) =>
          new Promise<string>((resolve) => {
            let text = '';
            child.stdout.setEncoding('utf8').on('data', (piece: string) => (text += piece));
            child.on('close', () => resolve(text));
          }),
      );
      await Promise.all(
        children.map((child) => new Promise<void>((resolve) => child.stdout.once('data', () => resolve()))),
      );
      for (const child of children) child.stdin.write('go\n');
      const texts = await Promise.all(outputs);
      for (const text of texts) expect(text, `round ${round}`).toMatch(/opened/);
      const opened = openDatabase(data);
      expect(
        (opened.prepare('PRAGMA user_version').get() as { user_version: number }).user_version,
      ).toBeGreaterThanOrEqual(3);
      opened.close();
    }
  }, 60_000);
});
