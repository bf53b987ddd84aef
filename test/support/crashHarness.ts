/**
 * The crash harness: for one provider, the real `ferry run --until-idle` child process uploads a mix
 * of files to that provider's emulator and is SIGKILLed at seeded random moments picked from the
 * emulator's request log (a session being created, a chunk on the wire, just after the server
 * acknowledged a chunk — before the CLI could commit it —, finalize on the wire, just after finalize
 * was answered, a processing poll). It is restarted until the queue is empty, and then the outcome is
 * checked against what the emulator holds:
 *
 * - every file is at the emulator byte for byte (sha256) under its own name;
 * - finalize succeeded exactly once per file and there is exactly one remote media per file;
 * - no job is lost or stuck: every queued job is `completed`;
 * - SQLite `PRAGMA integrity_check` answers `ok`;
 * - re-sent chunks per file are at most (interruptions of that file's job) × (parallel width): a kill
 *   can lose the acknowledgement of each part that was in flight, and nothing else; where
 *   acknowledgements are committed in batches (SelfCommunity, TwentyThree: ProviderCapabilities.ackBatch)
 *   also the batch not committed yet (at most `parts` + width more per interruption). Serial providers
 *   have width 1; OFAuth sends 2 parts at once and TwentyThree 3; Xvid's single "chunk" is the whole
 *   file (its resume re-sends the file, as docs/protocols.md says); Oktopost pulls, so nothing is re-sent
 *   by Ferry and the check is that no second import request was created for a source.
 *
 * Used by the short version in `npm test` (test/reliability/crash.test.ts) and by `npm run soak`.
 * The emulators run in this process, the CLI in a child; the emulators' state survives the kills.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../../main/db/database.ts';
import type { Job } from '../../main/db/jobsRepository.ts';
import type { NewAccountInput } from '../../main/engine/accounts.ts';
import type { Queue } from '../../main/engine/queue.ts';
import { getAdapter } from '../../main/providers/registry.ts';
import { startFileHost, type FileHost } from '../sandbox/fileHost.ts';
import type { LoggedRequest } from '../sandbox/harness.ts';
import { startOfauthSandbox, type OfauthSandbox } from '../sandbox/ofauth.ts';
import { startOktopostSandbox, type OktopostSandbox } from '../sandbox/oktopost.ts';
import { startSelfCommunitySandbox, type SelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { startTwentyThreeSandbox, type TwentyThreeSandbox } from '../sandbox/twentythree.ts';
import { startXvidSandbox, type XvidSandbox } from '../sandbox/xvid.ts';
import { randomFile, sleep, spawnFerry, type FerryChild } from './ferryHarness.ts';
import { openTestQueue } from './testQueue.ts';

export type CrashProviderId = 'ofauth' | 'selfcommunity' | 'oktopost' | 'xvid' | 'twentythree';

/** Where in the life of an upload the process is killed. `after-*`: the reply was just sent. */
export type MomentKind = 'create' | 'after-create' | 'chunk' | 'after-chunk' | 'finalize' | 'after-finalize' | 'poll';

/** mulberry32: a tiny deterministic PRNG, so a failing run can be replayed from its seed. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface CrashFile {
  /** What is given to `ferry upload`: a path, or a URL for Oktopost. */
  input: string;
  name: string;
  size: number;
  sha256: string;
}

/** What the emulator holds for one file. */
interface Received {
  /** sha256 of each remote media created for this file. */
  media: string[];
  /** Successful finalize calls for this file. */
  finalizes: number;
  /** Chunk (part) bodies fully received for this file, re-sends included. */
  chunksReceived: number;
  /** Chunks the file needs. */
  chunksNeeded: number;
  /** Import requests created (Oktopost only). */
  importRequests?: number;
}

interface ProviderWorld {
  account: Omit<NewAccountInput, 'name'>;
  /** Parallel parts per job (the re-send bound per interruption). */
  width: number;
  moments: readonly MomentKind[];
  requests(): readonly LoggedRequest[];
  /** Which request of the log belongs to a step (create / chunk / finalize / poll). */
  step(request: LoggedRequest): 'create' | 'chunk' | 'finalize' | 'poll' | null;
  /** Count of finalizations so far (for providers whose finalize is not a separate request). */
  finalizedCount?(): number;
  /** Delay faults on every step, so that a kill can land inside a request. */
  slowDown(ms: number): void;
  makeFiles(dir: string, batch: number, rand: () => number): Promise<CrashFile[]>;
  received(file: CrashFile): Received;
  close(): Promise<void>;
}

const isOk = (status: number): boolean => status >= 200 && status < 300;

async function mixedFiles(
  dir: string,
  batch: number,
  rand: () => number,
  ext: string,
  sizes: readonly number[],
  count: number,
): Promise<CrashFile[]> {
  const files: CrashFile[] = [];
  for (let i = 0; i < count; i += 1) {
    // Each batch takes different sizes from the list, so small, exact-chunk and multi-chunk files mix.
    const size = sizes[Math.floor(rand() * sizes.length)]!;
    const file = await randomFile(dir, `b${batch}-f${i}-${size}.${ext}`, size);
    files.push({ input: file.path, name: file.name, size, sha256: file.sha256 });
  }
  return files;
}

// Providers ----------------------------------------------------------------------------------------

const SC_CHUNK = 204_800;

async function selfCommunityWorld(): Promise<ProviderWorld> {
  const sandbox: SelfCommunitySandbox = await startSelfCommunitySandbox({ token: 'crash-sc-token' });
  const uploadsOf = (name: string): string[] =>
    [...sandbox.uploads.values()].filter((u) => u.filename === name).map((u) => u.id);
  return {
    account: { provider: 'selfcommunity', baseUrl: sandbox.url, secrets: { accessToken: sandbox.token } },
    width: 1,
    moments: ['chunk', 'after-chunk', 'finalize', 'after-finalize'],
    requests: () => sandbox.requests,
    step: (r) => (r.path.endsWith('/chunk/') ? 'chunk' : r.path.endsWith('/complete/') ? 'finalize' : null),
    slowDown(ms) {
      sandbox.fault({ method: 'POST', path: /\/(chunk|complete)\/$/, times: 1e9, action: { type: 'delay', ms } });
    },
    makeFiles: (dir, batch, rand) =>
      mixedFiles(dir, batch, rand, 'png', [1, 150_000, SC_CHUNK, 3 * SC_CHUNK + 17, 1_100_000], 4),
    received(file) {
      const ids = new Set(uploadsOf(file.name));
      return {
        media: sandbox.media.filter((m) => ids.has(m.uploadId)).map((m) => m.sha256),
        finalizes: sandbox.completeCalls.filter((c) => c.uploadId !== null && ids.has(c.uploadId) && isOk(c.status))
          .length,
        // Every upload was created by its first chunk (sent without upload_id); later chunks carry it.
        chunksReceived: ids.size + sandbox.chunkLog.filter((c) => c.uploadId !== null && ids.has(c.uploadId)).length,
        chunksNeeded: Math.ceil(file.size / SC_CHUNK),
      };
    },
    close: () => sandbox.close(),
  };
}

const OF_PART = 65_536;

async function ofauthWorld(): Promise<ProviderWorld> {
  // The emulator's own 60/min budget is off: every restarted process starts with a full bucket of its
  // own, and the test is about crashes, not pacing (test/integration/ofauth.adapter.test.ts covers it).
  const sandbox: OfauthSandbox = await startOfauthSandbox({ partSize: OF_PART, rateLimit: null });
  const uploadsOf = (name: string): string[] =>
    [...sandbox.uploads.values()].filter((u) => u.filename === name).map((u) => u.id);
  return {
    account: {
      provider: 'ofauth',
      baseUrl: sandbox.url,
      secrets: { apiKey: sandbox.apiKey, connectionId: sandbox.connectionId },
    },
    width: 2,
    moments: ['create', 'after-create', 'chunk', 'after-chunk', 'finalize', 'after-finalize'],
    requests: () => sandbox.requests,
    step(r) {
      if (r.path.endsWith('/uploads/init')) return 'create';
      if (r.path.endsWith('/uploads/complete')) return 'finalize';
      if (/\/parts\/\d+$/.test(r.path)) return 'chunk';
      // A single-part upload's PUT is both its only chunk and its finalize.
      if (r.method === 'PUT') return 'finalize';
      return null;
    },
    slowDown(ms) {
      sandbox.fault({ path: /^\/v2\/access\/uploads\//, times: 1e9, action: { type: 'delay', ms } });
    },
    makeFiles: (dir, batch, rand) =>
      mixedFiles(dir, batch, rand, 'jpg', [1, 50_000, OF_PART, 3 * OF_PART + 5, 330_000], 4),
    received(file) {
      const ids = new Set(uploadsOf(file.name));
      const parts = sandbox.partLog.filter((c) => ids.has(c.uploadId)).length;
      const singles = sandbox.singleLog.filter((c) => ids.has(c.uploadId));
      return {
        media: sandbox.media.filter((m) => ids.has(m.uploadId)).map((m) => m.sha256),
        finalizes:
          sandbox.completeCalls.filter((c) => c.mediaUploadId !== null && ids.has(c.mediaUploadId) && isOk(c.status))
            .length + singles.filter((c) => isOk(c.status)).length,
        chunksReceived: parts + singles.length,
        chunksNeeded: Math.max(1, file.size > OF_PART ? Math.ceil(file.size / OF_PART) : 1),
      };
    },
    close: () => sandbox.close(),
  };
}

const T23_CHUNK = 65_536;

async function twentyThreeWorld(): Promise<ProviderWorld> {
  const sandbox: TwentyThreeSandbox = await startTwentyThreeSandbox();
  const identifierPrefix = (file: CrashFile): string =>
    `${file.size}-${file.name.replace(/[^0-9A-Za-z_-]/g, '').slice(0, 80)}-`;
  return {
    account: {
      provider: 'twentythree',
      baseUrl: sandbox.url,
      secrets: { consumerKey: 'ck', consumerSecret: 'cs', accessToken: 'at', accessTokenSecret: 'as' },
      settings: { chunkSize: String(T23_CHUNK) },
    },
    width: 3,
    // The chunk that completes the file is the finalize: it cannot be told apart before it is answered.
    moments: ['create', 'after-create', 'chunk', 'after-chunk', 'after-finalize'],
    requests: () => sandbox.requests,
    step: (r) =>
      r.path === '/api/photo/get-upload-token'
        ? 'create'
        : r.path === '/api/photo/redeem-upload-token'
          ? 'chunk'
          : null,
    finalizedCount: () => sandbox.completions,
    slowDown(ms) {
      sandbox.fault({ method: 'POST', path: /^\/api\/photo\//, times: 1e9, action: { type: 'delay', ms } });
    },
    makeFiles: (dir, batch, rand) =>
      mixedFiles(dir, batch, rand, 'mp4', [1, 40_000, T23_CHUNK, 5 * T23_CHUNK + 100, 600_000], 4),
    received(file) {
      const prefix = identifierPrefix(file);
      return {
        media: sandbox.photos.filter((p) => p.filename === file.name).map((p) => p.sha256),
        finalizes: sandbox.photos.filter((p) => p.filename === file.name).length,
        chunksReceived: sandbox.chunks.filter((c) => c.identifier.startsWith(prefix)).length,
        chunksNeeded: Math.max(1, Math.floor(file.size / T23_CHUNK)),
      };
    },
    close: () => sandbox.close(),
  };
}

async function xvidWorld(): Promise<ProviderWorld> {
  const sandbox: XvidSandbox = await startXvidSandbox({ completingPolls: 2 });
  const uploadsOf = (name: string) =>
    [...sandbox.uploads.values()].filter((u) => u.objectKey.split('/').pop() === name);
  return {
    account: {
      provider: 'xvid',
      baseUrl: sandbox.apiUrl,
      secrets: { clientId: sandbox.clientId, clientSecret: sandbox.clientSecret },
      settings: { pipelineId: sandbox.pipelineId },
    },
    width: 1,
    moments: ['create', 'after-create', 'chunk', 'after-chunk', 'finalize', 'after-finalize', 'poll'],
    requests: () => sandbox.requests,
    step(r) {
      if (r.path === '/v1/files/uploads/' && r.method === 'POST') return 'create';
      if (r.path.startsWith('/s3/')) return 'chunk';
      if (r.path.startsWith('/v1/files/uploads/')) return r.method === 'PUT' ? 'finalize' : 'poll';
      return null;
    },
    slowDown(ms) {
      sandbox.fault({ path: /^\/(v1\/files|s3)\//, times: 1e9, action: { type: 'delay', ms } });
    },
    makeFiles: (dir, batch, rand) => mixedFiles(dir, batch, rand, 'mp4', [1, 1_000, 200_000, 700_000], 3),
    received(file) {
      const uploads = uploadsOf(file.name);
      const ids = new Set(uploads.map((u) => u.id));
      return {
        // A media is an upload that MediaHub finished (it left COMPLETING as COMPLETED).
        media: uploads.filter((u) => u.status === 'COMPLETED').map((u) => u.stored?.sha256 ?? ''),
        finalizes: sandbox.finishCalls.filter((c) => ids.has(c.uploadId) && isOk(c.status)).length,
        chunksReceived: sandbox.s3Posts.filter((p) => p.uploadId !== null && ids.has(p.uploadId)).length,
        chunksNeeded: 1,
      };
    },
    close: () => sandbox.close(),
  };
}

async function oktopostWorld(): Promise<ProviderWorld> {
  const sandbox: OktopostSandbox = await startOktopostSandbox({
    pullChunk: 128 * 1024,
    pullDelayMs: 20,
    perMinute: 100_000,
  });
  const host: FileHost = await startFileHost();
  return {
    account: {
      provider: 'oktopost',
      baseUrl: sandbox.apiUrl,
      secrets: { accountId: sandbox.accountId, apiKey: sandbox.apiKey },
    },
    width: 1,
    moments: ['create', 'after-create', 'poll'],
    requests: () => sandbox.requests,
    step(r) {
      if (r.path.replace(/\/+$/, '') === '/v2/upload' && r.method === 'POST') return 'create';
      if (/^\/v2\/upload\/[^/]+$/.test(r.path)) return 'poll';
      return null;
    },
    slowDown(ms) {
      sandbox.fault({ path: /^\/v2\//, times: 1e9, action: { type: 'delay', ms } });
    },
    async makeFiles(dir, batch, rand) {
      const local = await mixedFiles(dir, batch, rand, 'mp4', [1_000, 100_000, 600_000], 3);
      const files: CrashFile[] = [];
      for (const file of local) {
        const published = await host.publish(file.input, file.name, 'video/mp4');
        files.push({ ...file, input: published.url });
      }
      return files;
    },
    received(file) {
      const requests = [...sandbox.uploads.values()].filter((u) => u.source === file.input);
      const ids = new Set(requests.map((u) => u.id));
      return {
        media: [...sandbox.media.values()].filter((m) => ids.has(m.uploadId)).map((m) => m.sha256),
        finalizes: sandbox.createCalls.filter((c) => c.source === file.input && c.result).length,
        chunksReceived: 0,
        chunksNeeded: 0,
        importRequests: requests.length,
      };
    },
    async close() {
      await sandbox.close();
      await host.close();
    },
  };
}

const WORLDS: Record<CrashProviderId, () => Promise<ProviderWorld>> = {
  selfcommunity: selfCommunityWorld,
  ofauth: ofauthWorld,
  twentythree: twentyThreeWorld,
  xvid: xvidWorld,
  oktopost: oktopostWorld,
};

// The loop -----------------------------------------------------------------------------------------

export interface CrashOptions {
  provider: CrashProviderId;
  kills: number;
  seed: number;
  /** A scratch folder (data folder and files go inside). */
  dir: string;
  /** Emulator delay per request, to widen the windows a kill can land in (default 40 ms). */
  delayMs?: number;
  /** Upper bound on the whole run; the loop gives up (and reports it) past it. */
  budgetMs?: number;
  log?: (line: string) => void;
}

export interface CrashReport {
  provider: CrashProviderId;
  seed: number;
  kills: number;
  killsByMoment: Partial<Record<MomentKind, number>>;
  runs: number;
  files: number;
  /** Kills that interrupted at least one job in an active state. */
  interruptions: number;
  resentChunks: number;
  /** Sum over files of interruptions × (width, plus a batch where acknowledgements are batched). */
  resentBound: number;
  width: number;
  integrity: string;
  states: Record<string, number>;
  ms: number;
  /** Everything that broke a promise; empty when the run passed. */
  violations: string[];
}

const ENV = {
  FERRY_RETRY_BASE_MS: '30',
  FERRY_STALL_TIMEOUT_MS: '5000',
  FERRY_REPLY_TIMEOUT_MS: '30000',
  FERRY_POLL_INITIAL_MS: '60',
  FERRY_MAX_JOBS: '3',
};

function withQueue<T>(dataDir: string, work: (queue: Queue, db: Db) => T): T {
  const { db, queue } = openTestQueue(dataDir);
  try {
    return work(queue, db);
  } finally {
    db.close();
  }
}

/**
 * Waits for `kind` to happen in the requests logged from index `from` on, `nth` times; resolves true
 * when it did (the caller kills at once), false when the child exited first.
 */
async function momentReached(
  world: ProviderWorld,
  kind: MomentKind,
  nth: number,
  from: number,
  finalizedBefore: number,
  child: FerryChild,
  exited: { done: boolean },
  rand: () => number,
  delayMs: number,
): Promise<boolean> {
  const step = kind.replace('after-', '') as 'create' | 'chunk' | 'finalize' | 'poll';
  const after = kind.startsWith('after-');
  const deadline = Date.now() + 30_000;
  while (!exited.done && Date.now() < deadline) {
    if (kind === 'after-finalize' && world.finalizedCount) {
      if (world.finalizedCount() - finalizedBefore >= nth) return true;
    } else {
      const matching = world
        .requests()
        .slice(from)
        .filter((r) => world.step(r) === step && (!after || isOk(r.status)));
      if (matching.length >= nth) {
        // Inside a request: land somewhere in the emulator's delay (or just after it).
        if (!after) await sleep(Math.floor(rand() * delayMs));
        return !exited.done;
      }
    }
    // A tight poll: "after" moments must land before the client has committed what it was told.
    await new Promise((resolve) => setImmediate(resolve));
  }
  void child;
  return false;
}

export async function crashRun(options: CrashOptions): Promise<CrashReport> {
  const started = Date.now();
  const rand = prng(options.seed);
  const delayMs = options.delayMs ?? 40;
  const log = options.log ?? (() => undefined);
  const budget = options.budgetMs ?? 10 * 60_000;
  const dataDir = join(options.dir, 'data');
  const filesDir = join(options.dir, 'files');
  await mkdir(filesDir, { recursive: true });
  const world = await WORLDS[options.provider]();
  const violations: string[] = [];
  const files = new Map<string, CrashFile>();
  const interruptedJobs = new Map<number, number>();
  const killsByMoment: Partial<Record<MomentKind, number>> = {};
  let kills = 0;
  let interruptions = 0;
  let runs = 0;
  let batch = 0;
  try {
    world.slowDown(delayMs);
    const setup = openTestQueue(dataDir);
    try {
      await setup.queue.accounts.add({ ...world.account, name: 'crash' });
    } finally {
      setup.close();
    }
    const enqueueBatch = async (): Promise<void> => {
      const made = await world.makeFiles(filesDir, batch, rand);
      batch += 1;
      const { db, queue } = openTestQueue(dataDir);
      try {
        await queue.enqueue(
          'crash',
          made.map((f) => f.input),
        );
      } finally {
        db.close();
      }
      for (const file of made) files.set(file.input, file);
    };
    await enqueueBatch();

    while (kills < options.kills && Date.now() - started < budget) {
      const open = withQueue(
        dataDir,
        (queue) => queue.jobs.list({}).filter((job) => !['completed', 'failed', 'canceled'].includes(job.state)).length,
      );
      if (open === 0) await enqueueBatch();
      const kind = world.moments[Math.floor(rand() * world.moments.length)]!;
      // The k-th occurrence of the moment in this run, so kills spread over the files and their parts.
      const nth = 1 + Math.floor(rand() * (kind.includes('chunk') ? 5 : 2));
      const from = world.requests().length;
      const finalizedBefore = world.finalizedCount?.() ?? 0;
      const child = spawnFerry(dataDir, ['run', '--until-idle', '--json'], { env: ENV, timeoutMs: 60_000 });
      const exited = { done: false };
      const exit = child.exited.then((result) => {
        exited.done = true;
        return result;
      });
      runs += 1;
      const hit = await momentReached(world, kind, nth, from, finalizedBefore, child, exited, rand, delayMs);
      if (hit) child.child.kill('SIGKILL');
      const result = await exit;
      if (hit && result.signal === 'SIGKILL') {
        kills += 1;
        killsByMoment[kind] = (killsByMoment[kind] ?? 0) + 1;
        const active = withQueue(dataDir, (queue) =>
          queue.jobs.list({ states: ['uploading', 'finalizing', 'processing'] }),
        );
        if (active.length > 0) interruptions += 1;
        for (const job of active) interruptedJobs.set(job.id, (interruptedJobs.get(job.id) ?? 0) + 1);
        log(`${options.provider}: kill ${kills} at ${kind} #${nth} (${active.length} job(s) interrupted)`);
        // Let the emulator finish what the killed process had already sent (it stays in its delay).
        await sleep(delayMs + 60);
      } else if (result.code !== 0) {
        violations.push(
          `run ${runs} exited with ${String(result.code ?? result.signal)}: ${result.stderr.trim().split('\n')[0] ?? ''}`,
        );
        break;
      }
    }
    if (kills < options.kills)
      violations.push(`only ${kills} of ${options.kills} kills happened within the time budget`);

    // Finish: restarts without kills until the queue is empty (one should be enough).
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const open = withQueue(
        dataDir,
        (queue) => queue.jobs.list({}).filter((job) => !['completed', 'failed', 'canceled'].includes(job.state)).length,
      );
      if (open === 0) break;
      runs += 1;
      const result = await spawnFerry(dataDir, ['run', '--until-idle', '--json'], { env: ENV, timeoutMs: 90_000 })
        .exited;
      if (result.code !== 0)
        violations.push(
          `final run exited with ${String(result.code ?? result.signal)}: ${result.stderr.trim().split('\n')[0] ?? ''}`,
        );
    }

    // Checks ---------------------------------------------------------------------------------------
    const { jobs, integrity } = withQueue(dataDir, (queue, db) => ({
      jobs: queue.jobs.list({}),
      integrity: (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check,
    }));
    if (integrity !== 'ok') violations.push(`integrity_check: ${integrity}`);
    const states: Record<string, number> = {};
    for (const job of jobs) states[job.state] = (states[job.state] ?? 0) + 1;
    if (jobs.length !== files.size)
      violations.push(`${files.size} files queued but ${jobs.length} jobs in the database`);
    let resentChunks = 0;
    let resentBound = 0;
    // A batch not committed yet can hold `parts` acknowledgements, plus those that arrived while the
    // previous commit was awaited (one per other lane).
    const ackBatch = getAdapter(options.provider).capabilities.ackBatch;
    const perInterruption = world.width + (ackBatch ? ackBatch.parts + world.width : 0);
    for (const job of jobs) {
      const file = files.get(job.source);
      if (!file) {
        violations.push(`job ${job.id} has an unknown source ${job.source}`);
        continue;
      }
      if (job.state !== 'completed')
        violations.push(`${file.name}: job ${job.id} ended ${job.state} (${job.error?.message ?? ''})`);
      const got = world.received(file);
      if (got.media.length !== 1)
        violations.push(`${file.name}: ${got.media.length} remote media (expected exactly 1)`);
      if (got.media[0] !== undefined && got.media[0] !== file.sha256)
        violations.push(`${file.name}: remote bytes differ (sha256)`);
      if (got.finalizes !== 1)
        violations.push(`${file.name}: finalize succeeded ${got.finalizes} times (expected exactly once)`);
      if (got.importRequests !== undefined && got.importRequests !== 1) {
        violations.push(`${file.name}: ${got.importRequests} import requests (expected 1, no duplicate)`);
      }
      const resent = Math.max(0, got.chunksReceived - got.chunksNeeded);
      const bound = (interruptedJobs.get(job.id) ?? 0) * perInterruption;
      resentChunks += resent;
      resentBound += bound;
      if (resent > bound) {
        violations.push(
          `${file.name}: ${resent} chunk(s) re-sent after ${interruptedJobs.get(job.id) ?? 0} interruption(s) (allowed ${bound})`,
        );
      }
    }
    return {
      provider: options.provider,
      seed: options.seed,
      kills,
      killsByMoment,
      runs,
      files: files.size,
      interruptions,
      resentChunks,
      resentBound,
      width: world.width,
      integrity,
      states,
      ms: Date.now() - started,
      violations,
    };
  } finally {
    await world.close();
  }
}

export type { Job };
