/**
 * Queue scale: N small files enqueued through Queue.enqueue in batches (the API path), `ferry list
 * --json` over N jobs, engine cold start (crash recovery + first scheduling pass) with N queued, the
 * idle engine's CPU with N jobs waiting on a paused account, and the database size.
 */
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase, transaction, type Db } from '../../../main/db/database.ts';
import { Engine } from '../../../main/engine/engine.ts';
import { Queue } from '../../../main/engine/queue.ts';
import { FileSecretStore } from '../../../main/secrets/fileSecretStore.ts';
import type { BenchFiles } from '../lib/files.ts';
import { REPO_ROOT, median, runNode, type ChildRun } from '../lib/measure.ts';
import { getAdapter } from '../../../main/providers/registry.ts';
import { JobsRepository } from '../../../main/db/jobsRepository.ts';

export interface QueueScaleResult {
  jobs: number;
  enqueueSeconds: number;
  enqueueMicrosPerFile: number;
  /** The median of LIST_RUNS runs (wall time, CPU and peak RSS alike). */
  listSeconds: number;
  listSecondsEach?: number[];
  listMaxRssBytes: number | null;
  /** CPU of the `ferry list --json` process (start-up included): steadier than wall time on a busy machine. */
  listCpuSeconds?: number | null;
  coldStartMs: number;
  /** CPU ms per second of an engine with every job waiting on a paused account. */
  idleCpuMsPerSecond: number;
  dbBytes: number;
  /** What the window and `ferry serve` ask on start: the summary, the first page and its total. */
  firstViewMs?: number;
  /** The header's summary alone (`jobs.summary`'s query), median of several. */
  summaryMs?: number;
}

const BATCH = 1_000;
const LIST_RUNS = 3;
const ACCOUNT = 'scale';

async function dbSize(dataDir: string): Promise<number> {
  let total = 0;
  for (const name of ['ferry.db', 'ferry.db-wal', 'ferry.db-shm']) {
    try {
      total += (await stat(join(dataDir, name))).size;
    } catch {
      // Absent after a clean close.
    }
  }
  return total;
}

function openQueue(dataDir: string): { db: Db; queue: Queue } {
  const db = openDatabase(dataDir);
  return { db, queue: new Queue({ adapterFor: getAdapter, db, secrets: new FileSecretStore(dataDir) }) };
}

export async function queueScale(files: BenchFiles, jobs: number): Promise<QueueScaleResult> {
  const dataDir = await files.dir(`queue-${jobs}/data`);
  const paths: string[] = [];
  for (let folder = 0; folder * BATCH < jobs; folder += 1) {
    const dir = await files.dir(`queue-${jobs}/src/${folder}`);
    const count = Math.min(BATCH, jobs - folder * BATCH);
    await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const path = join(dir, `img-${folder}-${i}.png`);
        await writeFile(path, `small file ${folder}/${i}\n`);
        paths.push(path);
      }),
    );
  }

  // Enqueue through the queue API, a batch of paths per call (as the API layer and `ferry upload` do).
  const { db, queue } = openQueue(dataDir);
  // Nothing listens on the discard port: the cold-start pass below may launch a few jobs, which fail fast.
  await queue.accounts.add({
    provider: 'selfcommunity',
    name: ACCOUNT,
    baseUrl: 'http://127.0.0.1:9',
    secrets: { accessToken: 't' },
  });
  const started = performance.now();
  for (let i = 0; i < paths.length; i += BATCH) await queue.enqueue(ACCOUNT, paths.slice(i, i + BATCH));
  const enqueueSeconds = (performance.now() - started) / 1000;
  db.close();
  const dbBytes = await dbSize(dataDir);

  // Three runs, their medians reported: one run on a shared machine swung 0.85–1.34 s between quiet runs.
  const lists: ChildRun[] = [];
  for (let run = 0; run < LIST_RUNS; run += 1) {
    const list = await runNode(join(REPO_ROOT, 'bin', 'ferry.js'), ['--data-dir', dataDir, 'list', '--json'], {
      env: { FERRY_DATA_DIR: '' },
    });
    if (list.code !== 0) throw new Error(`ferry list failed: ${list.stderr}`);
    const lines = list.stdout.split('\n').filter(Boolean).length;
    if (lines !== jobs) throw new Error(`ferry list printed ${lines} jobs, expected ${jobs}`);
    lists.push({ ...list, stdout: '' });
  }
  const medianOf = (pick: (run: ChildRun) => number | null): number | null =>
    lists.some((run) => pick(run) === null) ? null : median(lists.map((run) => pick(run)!));

  const { coldStartMs, firstViewMs, summaryMs, idleCpuMsPerSecond } = await startAndIdle(dataDir);

  return {
    jobs,
    summaryMs,
    enqueueSeconds,
    enqueueMicrosPerFile: (enqueueSeconds * 1e6) / jobs,
    listSeconds: medianOf((run) => run.wallSeconds)!,
    listSecondsEach: lists.map((run) => run.wallSeconds),
    listMaxRssBytes: medianOf((run) => run.maxRssBytes),
    listCpuSeconds: medianOf((run) => run.processCpuSeconds),
    coldStartMs,
    idleCpuMsPerSecond,
    dbBytes,
    firstViewMs,
  };
}

export interface QueueSeededResult {
  jobs: number;
  seedSeconds: number;
  /** Engine start with every job queued and a few left "uploading" by a crash: recovery + first pass. */
  coldStartMs: number;
  /** CPU ms per second of an engine with every job waiting on a paused account. */
  idleCpuMsPerSecond: number;
  /** What the window and `ferry serve` ask on start: the summary, the first page and its total. */
  firstViewMs: number;
  /** The header's summary alone, median of several. */
  summaryMs: number;
  /** With half of the jobs finished (one UPDATE of every other job): the summary again. */
  summaryHalfFinishedMs: number;
  /** The history's first page (100 jobs, newest first) and its total, with half of the jobs finished. */
  historyPageMs: number;
  dbBytes: number;
}

/**
 * A queue too large to enqueue file by file in a quick run: `jobs` queued rows written straight into
 * SQLite in one statement (as the UI suite seeds its queue, but without a JavaScript loop per row),
 * through the current schema, so that the indexes are the ones a real queue has.
 */
export async function queueSeeded(files: BenchFiles, jobs: number): Promise<QueueSeededResult> {
  const dataDir = await files.dir(`queue-seeded-${jobs}/data`);
  const { db, queue } = openQueue(dataDir);
  const account = await queue.accounts.add({
    provider: 'selfcommunity',
    name: ACCOUNT,
    baseUrl: 'http://127.0.0.1:9',
    secrets: { accessToken: 't' },
  });
  const seedStarted = performance.now();
  const now = Date.now();
  transaction(db, () => {
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
         INSERT INTO jobs (account_id, source_kind, source, name, mime, size, mtime_ms, edge_hash, options, state,
                           position, created_at, updated_at)
         SELECT ?, 'file', '/nonexistent/ferry-bench/photos/' || (i / 1000) || '/IMG_' || printf('%07d', i) || '.png',
                'IMG_' || printf('%07d', i) || '.png', 'image/png', 1000000 + i % 4000000, 0, printf('%064d', i),
                '{}', 'queued', i, ?, ?
         FROM n`,
    ).run(jobs, account.id, now, now);
    // The event every enqueued job has, so that the size compares with the enqueued queue's.
    db.prepare(
      `INSERT INTO job_events (job_id, at, type, state, message) SELECT id, ?, 'state', 'queued', ? FROM jobs`,
    ).run(now, `Queued for ${ACCOUNT}`);
  });
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  db.close();
  const dbBytes = await dbSize(dataDir);

  const { coldStartMs, firstViewMs, summaryMs, idleCpuMsPerSecond } = await startAndIdle(dataDir);

  // Half of the jobs finished (as after a long day of uploads), for the history and the summary.
  const { db: finishedDb, queue: finishedQueue } = openQueue(dataDir);
  finishedDb.exec(
    `UPDATE jobs SET state = CASE id % 6 WHEN 0 THEN 'failed' WHEN 2 THEN 'canceled' ELSE 'completed' END,
            finished_at = updated_at + id, bytes_confirmed = size WHERE id % 2 = 0`,
  );
  const summaryHalfFinishedMs = medianMs(() => finishedQueue.jobs.tallyByState());
  const historyPageMs = medianMs(() => {
    const query = { states: ['completed', 'failed', 'canceled'] as const, order: 'finished' as const };
    if (finishedQueue.jobs.list({ ...query, states: [...query.states], limit: 100 }).length !== 100)
      throw new Error('the history page is short');
    finishedQueue.jobs.count({ ...query, states: [...query.states] });
  });
  finishedDb.close();

  return {
    jobs,
    seedSeconds,
    coldStartMs,
    idleCpuMsPerSecond,
    firstViewMs,
    summaryMs,
    summaryHalfFinishedMs,
    historyPageMs,
    dbBytes,
  };
}

/** The median of five timed calls of `work`, in ms. */
function medianMs(work: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    const started = performance.now();
    work();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[2]!;
}

/**
 * The engine on a queue already in `dataDir`: its cold start (as after a crash, a few jobs are left
 * "uploading"; start() puts them back and schedules), what the window asks first (summary, a page,
 * the total), and its CPU while every job waits on a paused account (it still checks each second).
 */
async function startAndIdle(
  dataDir: string,
): Promise<{ coldStartMs: number; firstViewMs: number; summaryMs: number; idleCpuMsPerSecond: number }> {
  const { db, queue } = openQueue(dataDir);
  for (const job of queue.jobs.list({ limit: 4 })) new JobsRepository(db).update(job.id, { state: 'uploading' });
  const engine = new Engine({ queue, db, controlPollMs: 1_000 });
  const coldStarted = performance.now();
  engine.start();
  const coldStartMs = performance.now() - coldStarted;
  await engine.stop();
  const viewStarted = performance.now();
  queue.jobs.tallyByState();
  queue.jobs.list({ limit: 100 });
  queue.jobs.count();
  const firstViewMs = performance.now() - viewStarted;
  const summaryMs = medianMs(() => queue.jobs.tallyByState());

  await queue.accounts.update(ACCOUNT, { paused: true });
  const idle = new Engine({ queue, db, controlPollMs: 1_000 });
  idle.start();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const cpuBefore = process.cpuUsage();
  const idleStarted = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const cpu = process.cpuUsage(cpuBefore);
  const idleSeconds = (performance.now() - idleStarted) / 1000;
  await idle.stop();
  db.close();
  return { coldStartMs, firstViewMs, summaryMs, idleCpuMsPerSecond: (cpu.user + cpu.system) / 1000 / idleSeconds };
}
