/**
 * JobsRepository.count remembers a filter's count until the database changes (every page of a
 * `ferry list` carries the total, and counting a million jobs walks an index). It must never answer a
 * stale count: after this connection's writes, after another connection's commit (another `ferry`
 * process, the desktop app), after a rolled-back write, and per filter.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../main/db/database.ts';
import { JobsRepository, type NewJob } from '../../main/db/jobsRepository.ts';

let dir: string;
let db: Db;
let jobs: JobsRepository;
let accountId: number;

const newJob = (name: string): NewJob => ({
  accountId,
  sourceKind: 'file',
  source: `/photos/${name}`,
  name,
  mime: 'image/png',
  size: 10,
  mtimeMs: 0,
  edgeHash: null,
  options: {},
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-count-'));
  db = openDatabase(dir);
  accountId = Number(
    db
      .prepare("INSERT INTO accounts (name, provider, settings, created_at) VALUES ('a', 'selfcommunity', '{}', 0)")
      .run().lastInsertRowid,
  );
  jobs = new JobsRepository(db);
  jobs.insert(['1.png', '2.png', '3.png'].map(newJob));
});

afterEach(async () => {
  if (db.isOpen) db.close();
  await rm(dir, { recursive: true, force: true });
});

describe('JobsRepository.count', () => {
  it("follows this connection's writes", () => {
    expect(jobs.count()).toBe(3);
    expect(jobs.count({ states: ['failed'] })).toBe(0);
    jobs.insert([newJob('4.png')]);
    expect(jobs.count()).toBe(4);
    jobs.update(jobs.list({ limit: 1 })[0]!.id, { state: 'failed' });
    expect(jobs.count({ states: ['failed'] })).toBe(1);
    expect(jobs.count({ states: ['queued'] })).toBe(3);
    // Another repository on the same connection (the Queue and the accounts service each have one).
    new JobsRepository(db).insert([newJob('5.png')]);
    expect(jobs.count()).toBe(5);
  });

  it("follows another connection's commits, and not its rolled-back writes", () => {
    expect(jobs.count()).toBe(3);
    const other = new DatabaseSync(join(dir, 'ferry.db'));
    try {
      other.exec("DELETE FROM jobs WHERE name = '1.png'");
      expect(jobs.count()).toBe(2);
      other.exec("UPDATE jobs SET state = 'paused' WHERE name = '2.png'");
      expect(jobs.count({ states: ['paused'] })).toBe(1);
      other.exec('BEGIN; DELETE FROM jobs; ROLLBACK');
      expect(jobs.count()).toBe(2);
    } finally {
      other.close();
    }
  });

  it('keeps each filter apart', () => {
    jobs.update(jobs.list({ limit: 1 })[0]!.id, { state: 'failed' });
    expect(jobs.count({ states: ['failed'] })).toBe(1);
    expect(jobs.count({ states: ['queued'] })).toBe(2);
    expect(jobs.count({ search: '2.p' })).toBe(1);
    expect(jobs.count({ search: '.png' })).toBe(3);
    expect(jobs.count({ accountId: accountId + 1 })).toBe(0);
    expect(jobs.count({ accountId })).toBe(3);
    // Limit, offset and the keyset cursor do not change what is counted.
    expect(jobs.count({ limit: 1, offset: 2, after: { position: 1, id: 1 } })).toBe(3);
  });
});
