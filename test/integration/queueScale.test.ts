/**
 * The queue's behaviour at scale, without timing anything: the indexes exist (also in a database made
 * by an older Ferry), the hot queries are planned on them, keyset pages and the scheduler's merged
 * walk give the same jobs in the same order as the plain queries, `ferry list --json` over several
 * pages prints every job once, and a parallel enqueue still refuses a batch as a whole, naming the
 * first bad input.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../main/cli/main.ts';
import { openDatabase, transaction, type Db } from '../../main/db/database.ts';
import { JobsRepository, type NewJob } from '../../main/db/jobsRepository.ts';
import { MIGRATIONS } from '../../main/db/migrations/index.ts';
import { Queue } from '../../main/engine/queue.ts';
import { getAdapter } from '../../main/providers/registry.ts';
import { FileSecretStore } from '../../main/secrets/fileSecretStore.ts';
import { Fixtures, jsonLines, spawnFerry } from '../support/ferryHarness.ts';

const fixtures = new Fixtures();
afterEach(async () => {
  await fixtures.cleanup();
});

function newJob(accountId: number, i: number): NewJob {
  return {
    accountId,
    sourceKind: 'file',
    source: `/nonexistent/scale/IMG_${String(i).padStart(5, '0')}.png`,
    name: `IMG_${String(i).padStart(5, '0')}.png`,
    mime: 'image/png',
    size: 1_000 + i,
    mtimeMs: 1,
    edgeHash: 'e',
    options: i % 7 === 0 ? { title: `t${i}` } : {},
  };
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

function indexNames(db: DatabaseSync): string[] {
  return (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs'").all() as Array<{
      name: string;
    }>
  ).map((row) => row.name);
}

/** Records the SQL of every statement the repository prepares on `db`. */
function recordSql(db: Db): string[] {
  const seen: string[] = [];
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    seen.push(sql);
    return prepare(sql);
  }) as typeof db.prepare;
  return seen;
}

function planOf(db: Db, sql: string): string {
  // Unbound parameters are NULL: the plan does not depend on their values.
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>)
    .map((row) => row.detail)
    .join(' | ');
}

describe('migration 004 (queue indexes)', () => {
  it('upgrades a database made by the previous schema on open, keeping its jobs', async () => {
    const dir = await fixtures.tempDir('ferry-scale-');
    // A data folder as the previous Ferry left it: migrations 1-3 only, with jobs in it.
    const old = new DatabaseSync(join(dir, 'ferry.db'));
    for (const migration of MIGRATIONS.slice(0, 3)) migration(old);
    old.exec('PRAGMA user_version = 3');
    const accountId = addAccount(old as Db, 'old');
    transaction(old as Db, () => new JobsRepository(old as Db).insert([0, 1, 2].map((i) => newJob(accountId, i))));
    expect(indexNames(old)).toContain('jobs_account');
    expect(indexNames(old)).not.toContain('jobs_position');
    old.close();

    const db = openDatabase(dir);
    try {
      expect((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version).toBe(
        MIGRATIONS.length,
      );
      const names = indexNames(db);
      for (const name of ['jobs_position', 'jobs_account_state_position', 'jobs_state_position_bytes', 'jobs_updated'])
        expect(names).toContain(name);
      // Replaced by indexes that start with the same columns.
      expect(names).not.toContain('jobs_account');
      expect(names).not.toContain('jobs_state_position');
      expect(new JobsRepository(db).list().map((job) => job.name)).toEqual([
        'IMG_00000.png',
        'IMG_00001.png',
        'IMG_00002.png',
      ]);
      // The account's jobs still go with it (the foreign key's index is the new one's first column).
      db.prepare('DELETE FROM accounts WHERE id = ?').run(accountId);
      expect(new JobsRepository(db).count()).toBe(0);
    } finally {
      db.close();
    }
  });
});

describe('the hot queries use indexes', () => {
  it('plans the scheduler, idle probe, pages, positions, followers, history, totals and summary without scanning or sorting jobs', async () => {
    const dir = await fixtures.tempDir('ferry-scale-');
    const db = openDatabase(dir);
    try {
      const accountId = addAccount(db, 'a');
      const jobs = new JobsRepository(db);
      transaction(db, () => jobs.insert([0, 1, 2, 3].map((i) => newJob(accountId, i))));
      const seen = recordSql(db);
      for (const job of jobs.runnable(Date.now(), [accountId])) expect(job.accountId).toBe(accountId);
      jobs.hasJobIn(accountId, ['queued', 'waiting']);
      jobs.nextWakeAt();
      jobs.list({ limit: 2 });
      jobs.list({ limit: 2, after: { position: 1, id: 1 } });
      jobs.list({ states: ['queued'], limit: 2, after: { position: 1, id: 1 } });
      jobs.changedSince(0);
      jobs.tallyByState();
      transaction(db, () => jobs.insert([newJob(accountId, 9)]));
      jobs.moveToTop(1);
      // The history (api/commands.ts historyQuery: finished states, newest first) and page totals.
      jobs.update(2, { state: 'completed', finishedAt: 5 });
      jobs.update(3, { state: 'failed', finishedAt: 6 });
      const history = { order: 'finished', limit: 2, offset: 0 } as const;
      expect(jobs.list({ ...history, states: ['completed', 'failed', 'canceled'] }).map((job) => job.id)).toEqual([
        3, 2,
      ]);
      jobs.list({ ...history, states: ['failed'] });
      jobs.list({ ...history, states: ['completed', 'canceled'], accountId });
      jobs.list({ ...history, states: ['completed', 'failed', 'canceled'], search: 'IMG', offset: 1 });
      jobs.count({ states: ['completed', 'failed', 'canceled'] });
      jobs.count({ states: ['failed'], accountId });
      jobs.count();
      const queries = seen.filter((sql) => /^\s*SELECT/i.test(sql));
      expect(queries.length).toBeGreaterThanOrEqual(16);
      expect(queries.filter((sql) => /jobs_history/.test(sql))).toHaveLength(4);
      expect(queries.filter((sql) => /FROM job_tallies/.test(sql))).toHaveLength(4);
      for (const sql of queries) {
        const plan = planOf(db, sql);
        // "SCAN jobs" alone reads every row; "USE TEMP B-TREE FOR ORDER BY" sorts every match before
        // the first row ("FOR LAST TERM OF ORDER BY" only orders jobs that share a position, by id).
        expect(plan, sql).not.toMatch(/SCAN jobs(?! USING (COVERING )?INDEX)/);
        expect(plan, sql).not.toMatch(/TEMP B-TREE FOR (ORDER|GROUP) BY/);
        if (/FROM jobs/.test(sql)) expect(plan, sql).toMatch(/USING (COVERING )?INDEX/);
      }
    } finally {
      db.close();
    }
  });
});

describe('queue order at scale', () => {
  it('pages with `after` give exactly the jobs of one unpaged list, in order, also with moved and equal positions', async () => {
    const dir = await fixtures.tempDir('ferry-scale-');
    const db = openDatabase(dir);
    try {
      const accountId = addAccount(db, 'a');
      const jobs = new JobsRepository(db);
      const inserted = transaction(db, () => jobs.insert(Array.from({ length: 53 }, (_, i) => newJob(accountId, i))));
      // What insert returns is what the database holds.
      for (const job of inserted.slice(0, 10)) expect(job).toEqual(jobs.get(job.id));
      jobs.moveToTop(40);
      jobs.moveToTop(7);
      // Two jobs at one position: the id decides, on both sides of a page boundary.
      jobs.update(20, { position: jobs.get(19)!.position });
      const whole = jobs.list().map((job) => job.id);
      const paged: number[] = [];
      for (let after: { position: number; id: number } | undefined; ;) {
        const page = jobs.list({ limit: 5, ...(after ? { after } : {}) });
        paged.push(...page.map((job) => job.id));
        if (page.length < 5) break;
        after = { position: page.at(-1)!.position, id: page.at(-1)!.id };
      }
      expect(paged).toEqual(whole);
      expect(new Set(paged).size).toBe(53);
      expect(paged.slice(0, 2)).toEqual([7, 40]);
    } finally {
      db.close();
    }
  });

  it('runnable merges accounts and states in queue order and skips what is not due, paused or finished', async () => {
    const dir = await fixtures.tempDir('ferry-scale-');
    const db = openDatabase(dir);
    try {
      const a = addAccount(db, 'a');
      const b = addAccount(db, 'b');
      const c = addAccount(db, 'c');
      const jobs = new JobsRepository(db);
      const now = 1_000_000;
      transaction(db, () =>
        jobs.insert(
          Array.from({ length: 60 }, (_, i) => newJob([a, b, c][i % 3]!, i)),
          now,
        ),
      );
      for (const job of jobs.list()) {
        const kind = job.id % 6;
        if (kind === 1) jobs.update(job.id, { state: 'waiting', nextAttemptAt: now - 10 });
        if (kind === 2) jobs.update(job.id, { state: 'waiting', nextAttemptAt: now + 10 });
        if (kind === 3) jobs.update(job.id, { state: 'paused' });
        if (kind === 4) jobs.update(job.id, { state: 'completed' });
      }
      jobs.moveToTop(58);
      const expected = jobs
        .list()
        .filter(
          (job) =>
            [a, b].includes(job.accountId) &&
            (job.state === 'queued' || (job.state === 'waiting' && (job.nextAttemptAt ?? 0) <= now)),
        )
        .map((job) => job.id);
      expect(expected.length).toBeGreaterThan(10);
      expect([...jobs.runnable(now, [a, b])].map((job) => job.id)).toEqual(expected);
      // Every account when none are named.
      const all = jobs
        .list()
        .filter((job) => job.state === 'queued' || (job.state === 'waiting' && (job.nextAttemptAt ?? 0) <= now));
      expect([...jobs.runnable(now)].map((job) => job.id)).toEqual(all.map((job) => job.id));
      // A scheduler that stops early closes its cursors: writing right after works.
      for (const job of jobs.runnable(now, [a, b])) {
        expect(job.id).toBe(expected[0]);
        break;
      }
      jobs.update(expected[0]!, { state: 'paused' });
      expect([...jobs.runnable(now, [a, b])].map((job) => job.id)).toEqual(expected.slice(1));
      expect(jobs.hasJobIn(c, ['queued'])).toBe(true);
      expect(jobs.hasJobIn(c, ['uploading', 'finalizing'])).toBe(false);
    } finally {
      db.close();
    }
  });
});

describe('ferry list --json over several pages', () => {
  it('prints every job once, in queue order, as the same JSON line as before', async () => {
    const dir = await fixtures.tempDir('ferry-scale-');
    const db = openDatabase(dir);
    const accountId = addAccount(db, 'scale');
    const jobs = new JobsRepository(db);
    transaction(db, () => jobs.insert(Array.from({ length: 2_345 }, (_, i) => newJob(accountId, i))));
    jobs.moveToTop(1_500); // first, so the page boundaries shift
    jobs.update(3, { state: 'failed', error: { kind: 'server', message: 'went wrong' }, attempts: 2 });
    const stored = jobs.list();
    db.close();

    let text = '';
    const out = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        text += String(chunk);
        done();
      },
    });
    const code = await main(['--data-dir', dir, 'list', '--json'], { out: out as never, err: out, env: {} });
    expect(code).toBe(0);
    const lines = jsonLines(text);
    expect(lines).toHaveLength(2_345);
    expect(lines.map((line) => line.id)).toEqual(stored.map((job) => job.id));
    expect(lines[0]!.id).toBe(1_500);
    const failed = lines.find((line) => line.id === 3)!;
    // The line's format: these keys, in this order (scripts read them).
    expect(Object.keys(failed)).toEqual([
      'event',
      'id',
      'account',
      'provider',
      'source',
      'name',
      'size',
      'status',
      'attempts',
      'result',
      'error',
      'bytesConfirmed',
      'lastError',
    ]);
    expect(failed).toEqual({
      event: 'job',
      id: 3,
      account: 'scale',
      provider: 'selfcommunity',
      source: stored.find((job) => job.id === 3)!.source,
      name: 'IMG_00002.png',
      size: 1_002,
      status: 'failed',
      attempts: 2,
      result: null,
      error: { kind: 'server', message: 'went wrong' },
      bytesConfirmed: 0,
      lastError: { kind: 'server', message: 'went wrong' },
    });
  }, 60_000);
});

describe('ferry list into a pipe that closes early (`ferry list | head`)', () => {
  it('stops quietly with exit code 0 when its reader leaves, with nothing on stderr', async () => {
    const dir = await fixtures.tempDir('ferry-scale-');
    const db = openDatabase(dir);
    const accountId = addAccount(db, 'pipe');
    const jobs = new JobsRepository(db);
    transaction(db, () => jobs.insert(Array.from({ length: 20_000 }, (_, i) => newJob(accountId, i))));
    db.close();

    const ferry = spawnFerry(dir, ['list'], { timeoutMs: 50_000 });
    // Read the first line, then close our end, as `head -1` does.
    await new Promise<void>((done) => ferry.child.stdout!.once('data', () => done()));
    ferry.child.stdout!.destroy();
    const result = await ferry.exited;
    expect(result.signal).toBeNull();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  }, 60_000);
});

describe('enqueue, several files at once', () => {
  it('queues a nested folder in name order, and refuses a batch as a whole naming the first bad input', async () => {
    const dir = await fixtures.tempDir('ferry-scale-');
    const src = join(dir, 'src');
    const names: string[] = [];
    for (const folder of ['b', 'a']) {
      await mkdir(join(src, folder), { recursive: true });
      for (let i = 0; i < 25; i += 1) {
        const name = `f${String(i).padStart(2, '0')}.png`;
        await writeFile(join(src, folder, name), `file ${folder}/${i}\n`);
      }
    }
    for (const folder of ['a', 'b'])
      for (let i = 0; i < 25; i += 1) names.push(`${folder}/f${String(i).padStart(2, '0')}.png`);
    const data = join(dir, 'data');
    const db = openDatabase(data);
    const queue = new Queue({ adapterFor: getAdapter, db, secrets: new FileSecretStore(data) });
    try {
      await queue.accounts.add({
        provider: 'selfcommunity',
        name: 'a',
        baseUrl: 'http://127.0.0.1:9',
        secrets: { accessToken: 't' },
      });
      const queued = await queue.enqueue('a', [src]);
      expect(queued.map((job) => job.source)).toEqual(names.map((name) => join(src, name)));
      expect(queue.jobs.list().map((job) => job.source)).toEqual(names.map((name) => join(src, name)));
      // Each job has its file's fingerprint (size from the one stat, edge hash of its content).
      expect(queued[0]!.size).toBe('file a/0\n'.length);
      expect(queued[0]!.edgeHash).toMatch(/^[0-9a-f]{64}$/);
      expect(queued[0]!.edgeHash).not.toBe(queued[1]!.edgeHash);

      const good = names.slice(0, 20).map((name) => join(src, name));
      const missing = [join(src, 'nope-1.png'), join(src, 'nope-2.png')];
      await writeFile(join(src, 'empty.png'), '');
      await expect(queue.enqueue('a', [...good, missing[0]!, ...good, missing[1]!])).rejects.toThrow(
        /nope-1\.png.*no such file/,
      );
      // An empty file is refused by the provider's check, before any job is written.
      await expect(queue.enqueue('a', [...good, join(src, 'empty.png')])).rejects.toThrow(/empty\.png/);
      expect(queue.jobs.count()).toBe(50);
    } finally {
      db.close();
    }
  });
});
