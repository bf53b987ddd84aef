/**
 * The running totals behind the summary and the page totals (migration 005) against a full recount
 * of the jobs table: after randomised sequences of enqueues, state changes, size and progress
 * updates, deletes, account removals and rolled-back transactions; after the upgrade of a database
 * made by the previous schema; and after a process killed in the middle of a transaction.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { JOB_STATES, type JobState } from '../../main/core/jobState.ts';
import { openDatabase, transaction, type Db } from '../../main/db/database.ts';
import { JobsRepository, type NewJob } from '../../main/db/jobsRepository.ts';
import { MIGRATIONS } from '../../main/db/migrations/index.ts';
import { Fixtures } from '../support/ferryHarness.ts';

const fixtures = new Fixtures();
afterEach(async () => {
  await fixtures.cleanup();
});

type Tally = { count: number; bytesTotal: number; bytesConfirmed: number; sizeUnknown: number };

/** What the summary showed before migration 005: one aggregate over every job. */
function recount(db: Db): Partial<Record<JobState, Tally>> {
  const rows = db
    .prepare(
      `SELECT state, COUNT(*) AS n, COALESCE(SUM(size), 0) AS total,
              COALESCE(SUM(CASE WHEN size IS NULL THEN bytes_confirmed ELSE MIN(bytes_confirmed, size) END), 0) AS confirmed,
              COALESCE(SUM(size IS NULL), 0) AS unknown
         FROM jobs GROUP BY state`,
    )
    .all() as Array<{ state: JobState; n: number; total: number; confirmed: number; unknown: number }>;
  return Object.fromEntries(
    rows.map((row) => [
      row.state,
      { count: row.n, bytesTotal: row.total, bytesConfirmed: row.confirmed, sizeUnknown: row.unknown },
    ]),
  );
}

/** The stored totals, per state and account, without the rows whose jobs all left. */
function storedRows(db: Db): unknown[] {
  return db
    .prepare(
      'SELECT state, account_id, jobs, bytes_total, bytes_confirmed, size_unknown FROM job_tallies WHERE jobs <> 0 ORDER BY state, account_id',
    )
    .all();
}

/** The same per state and account, counted from the jobs. */
function recountRows(db: Db): unknown[] {
  return db
    .prepare(
      `SELECT state, account_id, COUNT(*) AS jobs, COALESCE(SUM(size), 0) AS bytes_total,
              COALESCE(SUM(CASE WHEN size IS NULL THEN bytes_confirmed ELSE MIN(bytes_confirmed, size) END), 0) AS bytes_confirmed,
              COALESCE(SUM(size IS NULL), 0) AS size_unknown
         FROM jobs GROUP BY state, account_id ORDER BY state, account_id`,
    )
    .all();
}

function expectExact(db: Db, step: string): void {
  const jobs = new JobsRepository(db);
  expect(jobs.tallyByState(), step).toEqual(recount(db));
  expect(storedRows(db), step).toEqual(recountRows(db));
  // A row whose jobs all left holds nothing else either.
  expect(
    db
      .prepare(
        'SELECT COUNT(*) AS n FROM job_tallies WHERE jobs = 0 AND (bytes_total, bytes_confirmed, size_unknown) <> (0, 0, 0)',
      )
      .get(),
    step,
  ).toEqual({ n: 0 });
}

function addAccount(db: Db, name: string): number {
  return Number(
    db
      .prepare(
        `INSERT INTO accounts (name, provider, base_url, settings, concurrency, paused, created_at)
         VALUES (?, 'selfcommunity', 'http://127.0.0.1:9', '{}', 2, 0, 0)`,
      )
      .run(name).lastInsertRowid,
  );
}

/** A small deterministic generator (mulberry32): the same seed gives the same sequence. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function newJob(accountId: number, i: number, size: number | null): NewJob {
  return {
    accountId,
    sourceKind: size === null ? 'url' : 'file',
    source: size === null ? `https://example.invalid/v${i}.mp4` : `/nonexistent/tally/f${i}.png`,
    name: `f${i}`,
    mime: 'image/png',
    size,
    mtimeMs: size === null ? null : 1,
    edgeHash: size === null ? null : 'e',
    options: {},
  };
}

describe('job tallies (migration 005)', () => {
  it('equal a full recount after every step of randomised operation sequences', async () => {
    const dir = await fixtures.tempDir('ferry-tally-');
    const db = openDatabase(dir);
    try {
      const jobs = new JobsRepository(db);
      let accounts = [addAccount(db, 'a'), addAccount(db, 'b'), addAccount(db, 'c')];
      let made = 0;
      for (const seed of [1, 2, 3]) {
        const next = random(seed);
        const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
        const ids = (): number[] => (db.prepare('SELECT id FROM jobs').all() as Array<{ id: number }>).map((r) => r.id);
        for (let step = 0; step < 150; step += 1) {
          const existing = ids();
          const op = next();
          const label = `seed ${seed} step ${step}`;
          if (op < 0.2 || existing.length === 0) {
            // An enqueue: a batch, some sizes unknown (URLs), in one transaction.
            const batch = Array.from({ length: 1 + Math.floor(next() * 12) }, () => {
              made += 1;
              return newJob(pick(accounts), made, next() < 0.2 ? null : Math.floor(next() * 5_000_000));
            });
            transaction(db, () => jobs.insert(batch));
          } else if (op < 0.55) {
            // A state change, sometimes with progress or a learned size (as the runner writes them).
            const id = pick(existing);
            const patch: Parameters<JobsRepository['update']>[1] = { state: pick(JOB_STATES) };
            if (next() < 0.5) patch.bytesConfirmed = Math.floor(next() * 6_000_000);
            if (next() < 0.2) patch.size = next() < 0.3 ? null : Math.floor(next() * 5_000_000);
            transaction(db, () => jobs.update(id, patch));
          } else if (op < 0.7) {
            // Progress alone (an acknowledged part), possibly beyond the size (capped in the totals).
            const id = pick(existing);
            jobs.update(id, { bytesConfirmed: Math.floor(next() * 6_000_000) });
          } else if (op < 0.75) {
            // An update that names the counted columns without changing them.
            const job = jobs.get(pick(existing))!;
            jobs.update(job.id, { state: job.state, size: job.size, bytesConfirmed: job.bytesConfirmed });
          } else if (op < 0.85) {
            jobs.remove(pick(existing));
          } else if (op < 0.9) {
            // Several changes in one transaction that fails: none of them, and none of their counts, stay.
            const before = storedRows(db);
            expect(() =>
              transaction(db, () => {
                jobs.insert([newJob(pick(accounts), (made += 1), 10)]);
                jobs.update(pick(existing), { state: 'completed', bytesConfirmed: 7 });
                jobs.remove(pick(existing));
                throw new Error('rolled back');
              }),
            ).toThrow('rolled back');
            expect(storedRows(db), label).toEqual(before);
          } else if (op < 0.93) {
            // Jobs moved to another account by hand (not something Ferry does, but counted all the same).
            db.prepare('UPDATE jobs SET account_id = ? WHERE id = ?').run(pick(accounts), pick(existing));
          } else if (op < 0.96 && accounts.length > 1) {
            // An account removed: the foreign key's cascade deletes its jobs, through the delete trigger.
            const gone = pick(accounts);
            db.prepare('DELETE FROM accounts WHERE id = ?').run(gone);
            accounts = accounts.filter((id) => id !== gone);
            accounts.push(addAccount(db, `acc${made}-${step}`));
          } else {
            // Raw SQL from another writer: a few rows at once, counted by the triggers too.
            db.prepare(
              `INSERT INTO jobs (account_id, source_kind, source, name, mime, size, options, state, position, created_at, updated_at, bytes_confirmed)
               SELECT ?, 'file', '/x/' || value, 'x', 'image/png', CASE WHEN value % 2 THEN NULL ELSE value * 100 END, '{}', 'waiting', value, 0, 0, value
                 FROM json_each('[1,2,3,4]')`,
            ).run(pick(accounts));
          }
          expectExact(db, label);
          // The page totals the API shows without a search come from the same totals.
          const states = [pick(JOB_STATES), pick(JOB_STATES)];
          const accountId = pick(accounts);
          const counted = (where: string, ...params: Array<string | number>): number =>
            (db.prepare(`SELECT COUNT(*) AS n FROM jobs ${where}`).get(...params) as { n: number }).n;
          expect(jobs.count(), label).toBe(counted(''));
          expect(jobs.count({ states }), label).toBe(counted('WHERE state IN (?, ?)', ...states));
          expect(jobs.count({ states, accountId }), label).toBe(
            counted('WHERE state IN (?, ?) AND account_id = ?', ...states, accountId),
          );
        }
      }
      // The history read through its index is the history sorted in full, ties (same time) by id.
      transaction(db, () =>
        jobs.insert(Array.from({ length: 40 }, (_, i) => newJob(accounts[i % accounts.length]!, (made += 1), i))),
      );
      db.exec(
        "UPDATE jobs SET state = CASE id % 3 WHEN 0 THEN 'completed' WHEN 1 THEN 'failed' ELSE 'canceled' END WHERE id % 2 = 0",
      );
      expectExact(db, 'after many jobs finished at once');
      db.exec('UPDATE jobs SET finished_at = CASE WHEN id % 3 THEN (id * 7) % 11 ELSE NULL END, updated_at = id % 5');
      const sorted = (where: string, ...params: Array<string | number>): number[] =>
        (
          db
            .prepare(
              `SELECT id FROM jobs NOT INDEXED WHERE ${where} ORDER BY COALESCE(finished_at, updated_at) DESC, id DESC`,
            )
            .all(...params) as Array<{ id: number }>
        ).map((row) => row.id);
      const history = (query: Parameters<JobsRepository['list']>[0]): number[] =>
        jobs.list({ order: 'finished', ...query }).map((job) => job.id);
      const all = sorted("state IN ('completed', 'failed', 'canceled')");
      expect(all.length).toBeGreaterThan(20);
      expect(history({ states: ['completed', 'failed', 'canceled'] })).toEqual(all);
      expect(history({ states: ['completed', 'failed', 'canceled'], limit: 7, offset: 5 })).toEqual(all.slice(5, 12));
      expect(history({ states: ['failed'], accountId: accounts[0]! })).toEqual(
        sorted("state = 'failed' AND account_id = ?", accounts[0]!),
      );
      // The sequences reached every kind of state and both known and unknown sizes.
      expect(Object.keys(recount(db)).length).toBeGreaterThanOrEqual(6);
      expect(Object.values(recount(db)).some((tally) => tally.sizeUnknown > 0)).toBe(true);
    } finally {
      db.close();
    }
  });

  it('counts the jobs of a database made by the previous schema when it is upgraded, and keeps counting', async () => {
    const dir = await fixtures.tempDir('ferry-tally-');
    const old = new DatabaseSync(join(dir, 'ferry.db'));
    for (const migration of MIGRATIONS.slice(0, 4)) migration(old);
    old.exec('PRAGMA user_version = 4');
    const a = addAccount(old as Db, 'a');
    const b = addAccount(old as Db, 'b');
    // Inserted by the previous schema's statements: no job_tallies table exists yet.
    old.exec('BEGIN');
    for (let i = 0; i < 40; i += 1) {
      old
        .prepare(
          `INSERT INTO jobs (account_id, source_kind, source, name, mime, size, options, state, position, created_at, updated_at, bytes_confirmed)
           VALUES (?, 'file', ?, ?, 'image/png', ?, '{}', ?, ?, 0, 0, ?)`,
        )
        .run(
          i % 3 ? a : b,
          `/x/${i}`,
          `f${i}`,
          i % 5 ? i * 1000 : null,
          JOB_STATES[i % JOB_STATES.length]!,
          i,
          i * 700,
        );
    }
    old.exec('COMMIT');
    const before = recount(old as Db);
    expect(Object.keys(before).length).toBe(JOB_STATES.length);
    expect(old.prepare("SELECT name FROM sqlite_master WHERE name = 'job_tallies'").get()).toBeUndefined();
    old.close();

    const db = openDatabase(dir);
    try {
      expect((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version).toBe(
        MIGRATIONS.length,
      );
      expectExact(db, 'after the upgrade');
      expect(new JobsRepository(db).tallyByState()).toEqual(before);
      const jobs = new JobsRepository(db);
      transaction(db, () => jobs.insert([newJob(a, 100, 5), newJob(b, 101, null)]));
      jobs.update(1, { state: 'completed', bytesConfirmed: 10 ** 9 });
      jobs.remove(2);
      expectExact(db, 'after changes on the upgraded database');
    } finally {
      db.close();
    }
  });

  it('hold what the committed jobs hold after a process is killed in the middle of a transaction', async () => {
    const dir = await fixtures.tempDir('ferry-tally-');
    const db = openDatabase(dir);
    const accountId = addAccount(db, 'a');
    const jobs = new JobsRepository(db);
    transaction(db, () => jobs.insert(Array.from({ length: 50 }, (_, i) => newJob(accountId, i, 1000 + i))));
    db.close();

    // Another process opens the same database, commits one change, then starts a transaction that
    // inserts, updates and deletes many rows (with a tiny page cache, so that uncommitted pages are
    // written to the log before the end) and kills itself before committing.
    const child = `
      import { DatabaseSync } from 'node:sqlite';
      const db = new DatabaseSync(${JSON.stringify(join(dir, 'ferry.db'))});
      db.exec('PRAGMA foreign_keys = ON; PRAGMA cache_size = 2;');
      db.exec("UPDATE jobs SET state = 'completed', bytes_confirmed = 5000 WHERE id = 1");
      db.exec('BEGIN IMMEDIATE');
      const insert = db.prepare(\`INSERT INTO jobs (account_id, source_kind, source, name, mime, size, options, state,
        position, created_at, updated_at) VALUES (${accountId}, 'file', ?, 'x', 'image/png', ?, '{}', 'queued', ?, 0, 0)\`);
      for (let i = 0; i < 5000; i += 1) insert.run('/killed/' + i + '/' + 'p'.repeat(200), i % 7 ? i : null, 1000 + i);
      db.exec("UPDATE jobs SET state = 'uploading', bytes_confirmed = 3 WHERE id <= 30");
      db.exec('DELETE FROM jobs WHERE id > 40 AND id <= 50');
      const wal = ${JSON.stringify(join(dir, 'ferry.db-wal'))};
      const { statSync } = await import('node:fs');
      process.stdout.write(String(statSync(wal).size));
      process.kill(process.pid, 'SIGKILL');
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', child], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.signal).toBe('SIGKILL');
    // The transaction had spilled to the log before the kill: recovery must ignore those pages.
    expect(Number(run.stdout)).toBeGreaterThan(100_000);

    const reopened = openDatabase(dir);
    try {
      const after = new JobsRepository(reopened);
      expect(after.count()).toBe(50);
      expect(after.get(1)!.state).toBe('completed');
      expectExact(reopened, 'after the kill');
      expect(after.tallyByState()).toEqual({
        queued: { count: 49, bytesTotal: 49 * 1000 + (49 * 50) / 2, bytesConfirmed: 0, sizeUnknown: 0 },
        completed: { count: 1, bytesTotal: 1000, bytesConfirmed: 1000, sizeUnknown: 0 },
      });
    } finally {
      reopened.close();
    }
  });
});
