/**
 * The engine end to end: a real SQLite queue in a temporary data folder, the real adapters, and the
 * provider emulators over loopback HTTP. Assertions are on what the emulators received (bytes,
 * hashes, chunk and complete calls, request times) and on the job as the queue records it.
 */
import type { IncomingMessage } from 'node:http';
import { open, rm, utimes, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Job } from '../../main/db/jobsRepository.ts';
import { startSelfCommunitySandbox, type SelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import {
  startTwentyThreeSandbox,
  type TwentyThreeSandbox,
  type TwentyThreeSandboxOptions,
} from '../sandbox/twentythree.ts';
import {
  Fixtures,
  randomFile,
  resentCount,
  sha256,
  sleep,
  waitFor,
  within,
  type EngineHandle,
  type LocalFile,
} from '../support/ferryHarness.ts';

const SC_CHUNK = 204_800;
const SC_CHUNK_PATH = '/api/v2/media/upload/chunk/';
const T23_CHUNK = 65_536;
const T23_REDEEM_PATH = '/api/photo/redeem-upload-token';
const T23_SECRETS = { consumerKey: 'ck', consumerSecret: 'cs', accessToken: 'at', accessTokenSecret: 'as' };

const fixtures = new Fixtures();

afterEach(async () => {
  await fixtures.cleanup();
});

/** The first byte of a SelfCommunity chunk request, from its inclusive Content-Range header. */
function rangeStart(request: IncomingMessage | { headers: IncomingMessage['headers'] }): number | null {
  const match = /^bytes (\d+)-/.exec(String(request.headers['content-range'] ?? ''));
  return match ? Number(match[1]) : null;
}

interface World {
  engine: EngineHandle;
  files: string;
}

async function world(options: Parameters<Fixtures['openEngine']>[1] = {}): Promise<World> {
  const data = await fixtures.tempDir('ferry-engine-data-');
  const files = await fixtures.tempDir('ferry-engine-files-');
  return { engine: fixtures.openEngine(data, options), files };
}

async function selfCommunity(w: World, name = 'community'): Promise<SelfCommunitySandbox> {
  const sandbox = fixtures.track(await startSelfCommunitySandbox());
  await w.engine.queue.accounts.add({
    provider: 'selfcommunity',
    name,
    baseUrl: sandbox.url,
    secrets: { accessToken: sandbox.token },
  });
  return sandbox;
}

async function twentyThree(
  w: World,
  options: TwentyThreeSandboxOptions = {},
  name = 'videos',
): Promise<TwentyThreeSandbox> {
  const sandbox = fixtures.track(await startTwentyThreeSandbox(options));
  await w.engine.queue.accounts.add({
    provider: 'twentythree',
    name,
    baseUrl: sandbox.url,
    secrets: T23_SECRETS,
    settings: { chunkSize: String(T23_CHUNK) },
  });
  return sandbox;
}

async function runUntilIdle(w: World, ms = 20_000): Promise<void> {
  w.engine.engine.start();
  await within('the engine to become idle', ms, w.engine.engine.whenIdle());
}

function job(w: World, id: number): Job {
  const found = w.engine.queue.jobs.get(id);
  if (!found) throw new Error(`no job ${id}`);
  return found;
}

function expectSelfCommunityHas(sandbox: SelfCommunitySandbox, done: Job, file: LocalFile): void {
  expect(done.state).toBe('completed');
  const media = sandbox.media.find((m) => String(m.id) === done.result?.remoteId);
  expect(media, `a media for ${file.name}`).toBeDefined();
  expect(media!.size).toBe(file.bytes.length);
  expect(media!.sha256).toBe(file.sha256);
  expect(sandbox.completeCalls.filter((c) => c.uploadId === media!.uploadId)).toHaveLength(1);
}

describe('engine + SelfCommunity emulator', () => {
  it('uploads files of 1 byte, one chunk, one chunk + 1, two chunks − 1 and ~3 MB byte-exact, one media each', async () => {
    const w = await world();
    const sandbox = await selfCommunity(w);
    const sizes = [1, SC_CHUNK, SC_CHUNK + 1, 2 * SC_CHUNK - 1, 3_000_000];
    const files = await Promise.all(sizes.map((size) => randomFile(w.files, `photo-${size}.png`, size)));
    const jobs = await w.engine.queue.enqueue(
      'community',
      files.map((f) => f.path),
    );

    await runUntilIdle(w);

    expect(sandbox.media).toHaveLength(files.length);
    expect(sandbox.completeCalls).toHaveLength(files.length);
    expect(new Set(sandbox.media.map((m) => m.uploadId)).size).toBe(files.length);
    files.forEach((file, i) => {
      const done = job(w, jobs[i]!.id);
      expectSelfCommunityHas(sandbox, done, file);
      expect(done.bytesConfirmed).toBe(file.bytes.length);
      const media = sandbox.media.find((m) => String(m.id) === done.result?.remoteId)!;
      // Every chunk is a full 204,800 bytes except the last; the first one (which creates the
      // upload) carries no upload_id, the others carry this upload's.
      const expected = Array.from({ length: Math.ceil(file.bytes.length / SC_CHUNK) }, (_, k) =>
        Math.min(SC_CHUNK, file.bytes.length - k * SC_CHUNK),
      );
      expect(sandbox.chunkLog.filter((c) => c.uploadId === media.uploadId).map((c) => c.size)).toEqual(
        expected.slice(1),
      );
    });
    const expectedChunks = sizes.reduce((sum, size) => sum + Math.ceil(size / SC_CHUNK), 0);
    expect(sandbox.chunkLog).toHaveLength(expectedChunks);
    expect(sandbox.chunkLog.every((c) => c.status === 201)).toBe(true);
  });

  it("starts the lane's next file while the last one's completion is still being synced to disk", async () => {
    const w = await world();
    const sandbox = fixtures.track(await startSelfCommunitySandbox());
    await w.engine.queue.accounts.add({
      provider: 'selfcommunity',
      name: 'community',
      baseUrl: sandbox.url,
      secrets: { accessToken: sandbox.token },
      concurrency: 1,
    });
    const files = await Promise.all([1, 2].map((n) => randomFile(w.files, `lane-${n}.png`, 2 * SC_CHUNK)));
    const jobs = await w.engine.queue.enqueue(
      'community',
      files.map((f) => f.path),
    );
    // Every sync of the database's log made after the first file's complete call is held until the
    // emulator has received the second file's first chunk (a chunk without upload_id), for 5 s at most.
    const probe = await open(files[0]!.path, 'r');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const datasync = proto.datasync;
    const secondStarted = (): boolean => sandbox.chunkLog.filter((c) => c.uploadId === null).length >= 2;
    let heldUntilSecondStarted: boolean | null = null;
    proto.datasync = async function (this: unknown): Promise<void> {
      if (sandbox.completeCalls.length === 1 && heldUntilSecondStarted === null) {
        const deadline = Date.now() + 5_000;
        while (!secondStarted() && Date.now() < deadline) await sleep(5);
        heldUntilSecondStarted = secondStarted();
      }
      return datasync.call(this);
    };
    let firstCompletedAt: number | null = null;
    w.engine.queue.on('job', (changed: Job) => {
      if (changed.id === jobs[0]!.id && changed.state === 'completed') firstCompletedAt ??= sandbox.chunkLog.length;
    });
    try {
      await runUntilIdle(w);
    } finally {
      proto.datasync = datasync;
    }
    expect(heldUntilSecondStarted).toBe(true);
    // Told of the first completion (after its sync) only once the second file was under way.
    expect(firstCompletedAt).toBeGreaterThan(2);
    files.forEach((file, i) => expectSelfCommunityHas(sandbox, job(w, jobs[i]!.id), file));
  });

  it('commits the last acknowledgements with the finalize marker: one log sync between the last chunk and complete', async () => {
    const w = await world();
    const sandbox = await selfCommunity(w);
    // Ten chunks: the first is committed at once, the next eight as a batch, the tenth is left for the
    // marker's commit.
    const file = await randomFile(w.files, 'last-batch.png', 10 * SC_CHUNK);
    const [queued] = await w.engine.queue.enqueue('community', [file.path]);
    const probe = await open(file.path, 'r');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const datasync = proto.datasync;
    // Log syncs made once the emulator has answered the last chunk and before complete arrives.
    let syncsBeforeComplete = 0;
    const lastChunkAnswered = (): boolean => sandbox.chunkLog.length === 10 && sandbox.chunkLog[9]!.status !== 0;
    proto.datasync = function (this: unknown): Promise<void> {
      if (lastChunkAnswered() && sandbox.completeCalls.length === 0) syncsBeforeComplete += 1;
      return datasync.call(this);
    };
    // What the database holds when complete arrives.
    let atComplete: { state: string; acked: number; bytesConfirmed: number } | null = null;
    sandbox.fault({
      method: 'POST',
      path: '/api/v2/media/upload/complete/',
      when: () => {
        const current = job(w, queued!.id);
        atComplete ??= {
          state: current.state,
          acked: w.engine.queue.jobs.ackedParts(queued!.id).length,
          bytesConfirmed: current.bytesConfirmed,
        };
        return false;
      },
      action: { type: 'status', status: 500 },
    });
    try {
      await runUntilIdle(w);
    } finally {
      proto.datasync = datasync;
    }
    expectSelfCommunityHas(sandbox, job(w, queued!.id), file);
    expect(sandbox.chunkLog).toHaveLength(10);
    expect(atComplete).toEqual({ state: 'finalizing', acked: 10, bytesConfirmed: 10 * SC_CHUNK });
    expect(syncsBeforeComplete).toBe(1);
  });

  it('keeps the last acknowledgements when a pause comes while they wait for the previous batch to sync, and finalizes once after resume', async () => {
    const w = await world();
    const sandbox = await selfCommunity(w);
    const file = await randomFile(w.files, 'paused-at-the-end.png', 10 * SC_CHUNK);
    const [queued] = await w.engine.queue.enqueue('community', [file.path]);
    const id = queued!.id;
    const probe = await open(file.path, 'r');
    const proto = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
    await probe.close();
    const datasync = proto.datasync;
    // Log syncs started once the ninth chunk is answered wait for the gate: the batch of chunks 2–9 is
    // still syncing when the tenth is acknowledged, which the finalize marker's commit must wait for.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let held = 0;
    const ninthAnswered = (): boolean => sandbox.chunkLog.length >= 9 && sandbox.chunkLog[8]!.status !== 0;
    proto.datasync = function (this: unknown): Promise<void> {
      if (ninthAnswered() && sandbox.completeCalls.length === 0) {
        held += 1;
        return gate.then(() => datasync.call(this));
      }
      return datasync.call(this);
    };
    try {
      w.engine.engine.start();
      await waitFor(
        'the tenth chunk answered',
        () => sandbox.chunkLog.length === 10 && sandbox.chunkLog[9]!.status !== 0,
      );
      // The runner reads the reply and waits for the held sync; the pause comes meanwhile.
      await sleep(150);
      w.engine.queue.pause(id);
      release();
      await waitFor('the runner to stop', () => w.engine.engine.activeJobIds.length === 0);
    } finally {
      release();
      proto.datasync = datasync;
    }
    expect(held).toBeGreaterThan(0);
    expect(sandbox.completeCalls).toHaveLength(0);
    expect(job(w, id).state).toBe('paused');
    // Every acknowledged chunk is kept, the tenth included: resuming sends none of them again.
    expect(w.engine.queue.jobs.ackedParts(id)).toHaveLength(10);
    expect(job(w, id).bytesConfirmed).toBe(10 * SC_CHUNK);

    w.engine.queue.resume(id);
    await within('the resumed job to finish', 20_000, w.engine.engine.whenIdle());
    expectSelfCommunityHas(sandbox, job(w, id), file);
    expect(sandbox.chunkLog).toHaveLength(10);
    expect(sandbox.completeCalls).toHaveLength(1);
  });

  it('recovers a chunk whose reply was lost through the offset-mismatch reply, re-sending at most one chunk', async () => {
    const w = await world();
    const sandbox = await selfCommunity(w);
    const file = await randomFile(w.files, 'lost-reply.png', 4 * SC_CHUNK + 123);
    // The emulator stores the second chunk, then closes the connection instead of answering.
    sandbox.fault({
      method: 'POST',
      path: SC_CHUNK_PATH,
      when: (r) => rangeStart(r) === SC_CHUNK,
      action: { type: 'drop-response' },
    });
    const [queued] = await w.engine.queue.enqueue('community', [file.path]);

    await runUntilIdle(w);

    const done = job(w, queued!.id);
    expectSelfCommunityHas(sandbox, done, file);
    expect(sandbox.media).toHaveLength(1);
    const starts = sandbox.chunkLog.map((c) => c.start);
    expect(starts.filter((s) => s === SC_CHUNK)).toHaveLength(2);
    expect(resentCount(starts)).toBe(1);
    // The re-sent chunk met "Offsets do not match" and the engine continued from the server's offset.
    expect(sandbox.chunkLog.find((c) => c.start === SC_CHUNK && c.status === 400)).toBeDefined();
    const errors = w.engine.queue.jobs.events(queued!.id).filter((e) => e.type === 'error');
    expect(errors).toEqual([expect.objectContaining({ errorKind: 'network', state: 'waiting' })]);
    expect(errors[0]!.message).toMatch(/chunk 2 of lost-reply\.png/);
  });

  it('restarts an upload that expired mid-way from byte 0 and completes it', async () => {
    const w = await world();
    const sandbox = await selfCommunity(w);
    const file = await randomFile(w.files, 'expiring.png', 4 * SC_CHUNK);
    let expired = false;
    // When the third chunk arrives the upload has just expired (once): the emulator answers 410.
    sandbox.fault({
      method: 'POST',
      path: SC_CHUNK_PATH,
      when: (r) => {
        if (!expired && rangeStart(r) === 2 * SC_CHUNK) {
          expired = true;
          sandbox.expireAll();
        }
        return false;
      },
      action: { type: 'status', status: 500 },
    });
    const [queued] = await w.engine.queue.enqueue('community', [file.path]);

    await runUntilIdle(w);

    const done = job(w, queued!.id);
    expectSelfCommunityHas(sandbox, done, file);
    expect(sandbox.media).toHaveLength(1);
    expect(sandbox.uploads.size).toBe(2);
    const refused = sandbox.chunkLog.filter((c) => c.status === 410);
    expect(refused).toHaveLength(1);
    // After the 410 the file went again from the first byte, as a new upload.
    const after = sandbox.chunkLog.slice(sandbox.chunkLog.indexOf(refused[0]!) + 1);
    expect(after.map((c) => c.start)).toEqual([0, SC_CHUNK, 2 * SC_CHUNK, 3 * SC_CHUNK]);
    expect(after[0]!.uploadId).toBeNull();
    const media = sandbox.media[0]!;
    expect(media.uploadId).not.toBe(refused[0]!.uploadId);
    const errors = w.engine.queue.jobs.events(queued!.id).filter((e) => e.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ errorKind: 'session-gone', state: 'waiting' });
    expect(errors[0]!.message).toMatch(/410 Upload has expired/);
    expect(errors[0]!.message).toMatch(/new session/);
  });

  it('pauses mid-file, sends nothing while paused, and resumes from the acknowledged chunk', async () => {
    const w = await world();
    const sandbox = await selfCommunity(w);
    const file = await randomFile(w.files, 'paused.png', 1_000_000);
    sandbox.fault({ method: 'POST', path: SC_CHUNK_PATH, times: 100, action: { type: 'delay', ms: 150 } });
    const [queued] = await w.engine.queue.enqueue('community', [file.path]);
    const id = queued!.id;

    w.engine.engine.start();
    await waitFor('a first acknowledged chunk', () => job(w, id).bytesConfirmed > 0);
    w.engine.queue.pause(id);
    expect(job(w, id).state).toBe('paused');
    await waitFor('the runner to stop', () => w.engine.engine.activeJobIds.length === 0);
    // A request written just before the pause reaches the server (same process) a moment later.
    await sleep(100);
    const confirmed = job(w, id).bytesConfirmed;
    const sentBefore = sandbox.requests.filter((r) => r.path === SC_CHUNK_PATH).length;
    await sleep(300);
    expect(sandbox.requests.filter((r) => r.path === SC_CHUNK_PATH)).toHaveLength(sentBefore);
    expect(job(w, id).state).toBe('paused');

    sandbox.clearFaults();
    const resumedAt = Date.now();
    w.engine.queue.resume(id);
    await within('the resumed job to finish', 20_000, w.engine.engine.whenIdle());

    expectSelfCommunityHas(sandbox, job(w, id), file);
    expect(sandbox.media).toHaveLength(1);
    const firstAfter = sandbox.requests.find((r) => r.path === SC_CHUNK_PATH && r.at >= resumedAt);
    expect(rangeStart(firstAfter!)).toBe(confirmed);
    expect(resentCount(sandbox.chunkLog.map((c) => c.start))).toBeLessThanOrEqual(1);
  });

  it('holds the whole account lane for Retry-After on a 429, then completes', async () => {
    const w = await world();
    const sandbox = await selfCommunity(w);
    const files = await Promise.all([
      randomFile(w.files, 'a.png', 8 * SC_CHUNK),
      randomFile(w.files, 'b.png', 8 * SC_CHUNK),
    ]);
    sandbox.fault({
      method: 'POST',
      path: SC_CHUNK_PATH,
      when: (r) => rangeStart(r) === SC_CHUNK,
      action: {
        type: 'status',
        status: 429,
        body: '{"detail":"Request was throttled. Expected available in 1 second."}',
        headers: { 'content-type': 'application/json', 'retry-after': '1' },
      },
    });
    // A slow server keeps the other job of the account busy while the hold lasts.
    sandbox.fault({ method: 'POST', path: SC_CHUNK_PATH, times: 1_000, action: { type: 'delay', ms: 30 } });
    const jobs = await w.engine.queue.enqueue(
      'community',
      files.map((f) => f.path),
    );
    const states = new Map<number, string[]>();
    w.engine.queue.on('job', (changed) => states.set(changed.id, [...(states.get(changed.id) ?? []), changed.state]));

    await runUntilIdle(w);

    files.forEach((file, i) => expectSelfCommunityHas(sandbox, job(w, jobs[i]!.id), file));
    const limited = sandbox.requests.find((r) => r.status === 429)!;
    expect(limited).toBeDefined();
    const events = jobs.flatMap((j) => w.engine.queue.jobs.events(j.id));
    const hold = events.find((e) => e.errorKind === 'rate-limited');
    expect(hold).toMatchObject({ type: 'error', state: 'waiting' });
    expect(hold!.message).toMatch(/429/);
    expect([...states.values()].some((seen) => seen.includes('waiting'))).toBe(true);
    // Requests already on their way when the hold began may land just after it; after that, nothing
    // from either job of the account reaches the server until the second has passed.
    const later = sandbox.requests.filter((r) => r.at > hold!.at + 150);
    expect(later.length).toBeGreaterThan(0);
    for (const request of later) expect(request.at).toBeGreaterThanOrEqual(limited.at + 1_000 - 5);
  });

  it('aborts a chunk whose answer never comes after the reply deadline and retries it', async () => {
    const w = await world({ stallTimeoutMs: 500, replyDeadlines: { part: 1_000 } });
    const sandbox = await selfCommunity(w);
    const file = await randomFile(w.files, 'stall.png', 3 * SC_CHUNK - 7);
    sandbox.fault({
      method: 'POST',
      path: SC_CHUNK_PATH,
      when: (r) => rangeStart(r) === SC_CHUNK,
      action: { type: 'stall' },
    });
    const [queued] = await w.engine.queue.enqueue('community', [file.path]);

    await runUntilIdle(w);

    expectSelfCommunityHas(sandbox, job(w, queued!.id), file);
    expect(sandbox.requests.filter((r) => r.fault === 'stall')).toHaveLength(1);
    // On a very busy machine another request may also sit still for 500 ms; each is a stall too.
    const errors = w.engine.queue.jobs.events(queued!.id).filter((e) => e.type === 'error');
    expect(errors.length).toBeGreaterThanOrEqual(1);
    for (const error of errors) {
      expect(error).toMatchObject({ errorKind: 'timeout', state: 'waiting' });
      expect(error.message).toMatch(/stalled/);
    }
    expect(errors.map((e) => e.message).join('\n')).toMatch(
      /everything was sent, but the server did not answer within 1 s/,
    );
  });

  it('stops starting over when the upload session runs out before every upload can finish', async () => {
    // Each new session gets its first chunk acknowledged (progress, which resets the streak of errors)
    // and then runs out: without a bound per job this starts over for ever.
    const w = await world();
    const sandbox = await selfCommunity(w);
    const file = await randomFile(w.files, 'never-in-time.png', 3 * SC_CHUNK);
    sandbox.fault({
      method: 'POST',
      path: SC_CHUNK_PATH,
      when: (r) => rangeStart(r) === SC_CHUNK,
      times: 1_000,
      action: { type: 'status', status: 410, body: '{"detail":"Upload has expired"}' },
    });
    const [queued] = await w.engine.queue.enqueue('community', [file.path]);

    await runUntilIdle(w);

    const done = job(w, queued!.id);
    expect(done.state).toBe('failed');
    expect(done.error?.kind).toBe('session-gone');
    expect(done.error?.message).toMatch(/had to start over 6 times because the server's upload session ran out/);
    expect(done.error?.message).not.toMatch(/will retry/);
    // Seven sessions in all: the first and six new ones, each sending its first chunk once.
    expect(sandbox.requests.filter((r) => r.path === SC_CHUNK_PATH && rangeStart(r) === 0)).toHaveLength(7);
    expect(sandbox.media).toEqual([]);

    // A retry by the user starts the count again.
    sandbox.clearFaults();
    await w.engine.queue.retry(queued!.id);
    await within('the retried job', 20_000, w.engine.engine.whenIdle());
    expectSelfCommunityHas(sandbox, job(w, queued!.id), file);
  });

  it('waits for a slow answer after the last byte instead of aborting it as a stall', async () => {
    // The server answers the complete 1.5 s after the request, three times the stall timeout: it is
    // working (assembling, ingesting), not stalled, and aborting would lose the answer.
    const w = await world({ stallTimeoutMs: 500, replyDeadlines: { finalize: 10_000 } });
    const sandbox = await selfCommunity(w);
    const file = await randomFile(w.files, 'slow-finalize.png', 2 * SC_CHUNK + 11);
    sandbox.fault({ method: 'POST', path: '/api/v2/media/upload/complete/', action: { type: 'delay', ms: 1_500 } });
    const [queued] = await w.engine.queue.enqueue('community', [file.path]);

    await runUntilIdle(w);

    const done = job(w, queued!.id);
    expectSelfCommunityHas(sandbox, done, file);
    expect(sandbox.requests.filter((r) => r.path === '/api/v2/media/upload/complete/')).toHaveLength(1);
    expect(w.engine.queue.jobs.events(queued!.id).filter((e) => e.type === 'error')).toEqual([]);
    expect(done.attempts).toBe(1);
  });

  it('fails a job whose file changed or vanished after queueing, sends nothing, and a retry uploads the new content', async () => {
    const w = await world();
    const sandbox = await selfCommunity(w);
    const sameSize = await randomFile(w.files, 'same-size.png', SC_CHUNK + 10);
    const otherSize = await randomFile(w.files, 'other-size.png', 5_000);
    const gone = await randomFile(w.files, 'gone.png', 5_000);
    const jobs = await w.engine.queue.enqueue('community', [sameSize.path, otherSize.path, gone.path]);
    const newBytes = randomBytes(sameSize.bytes.length);
    await writeFile(sameSize.path, newBytes);
    const later = new Date(Date.now() + 60_000);
    await utimes(sameSize.path, later, later);
    await writeFile(otherSize.path, randomBytes(7_000));
    await rm(gone.path);

    await runUntilIdle(w);

    expect(sandbox.requests).toHaveLength(0);
    for (const [index, file] of [sameSize, otherSize].entries()) {
      const failed = job(w, jobs[index]!.id);
      expect(failed.state).toBe('failed');
      expect(failed.error?.kind).toBe('local-file');
      expect(failed.error?.message).toContain(file.path);
      expect(failed.error?.message).toMatch(/changed since it was queued/);
    }
    const missing = job(w, jobs[2]!.id);
    expect(missing.state).toBe('failed');
    expect(missing.error?.kind).toBe('local-file');
    expect(missing.error?.message).toContain(gone.path);
    expect(missing.error?.message).toMatch(/does not exist/);

    await w.engine.queue.retry(jobs[0]!.id);
    await within('the retried job to finish', 20_000, w.engine.engine.whenIdle());

    const retried = job(w, jobs[0]!.id);
    expectSelfCommunityHas(sandbox, retried, { ...sameSize, bytes: newBytes, sha256: sha256(newBytes) });
    expect(sandbox.media).toHaveLength(1);
  });

  it('resumes after a restart from the last acknowledged chunk, with a new queue and engine on the same folder', async () => {
    const data = await fixtures.tempDir('ferry-engine-data-');
    const filesDir = await fixtures.tempDir('ferry-engine-files-');
    const first: World = { engine: fixtures.openEngine(data), files: filesDir };
    const sandbox = await selfCommunity(first);
    const file = await randomFile(filesDir, 'restart.png', 1_200_000);
    sandbox.fault({ method: 'POST', path: SC_CHUNK_PATH, times: 100, action: { type: 'delay', ms: 100 } });
    const [queued] = await first.engine.queue.enqueue('community', [file.path]);
    const id = queued!.id;

    first.engine.engine.start();
    await waitFor('two acknowledged chunks', () => job(first, id).bytesConfirmed >= 2 * SC_CHUNK);
    await first.engine.close();
    // A request written just before the stop reaches the server (same process) a moment later.
    await sleep(100);
    sandbox.clearFaults();

    const second: World = { engine: fixtures.openEngine(data), files: filesDir };
    const stopped = job(second, id);
    expect(stopped.state).toBe('queued');
    expect(stopped.bytesConfirmed).toBeGreaterThanOrEqual(2 * SC_CHUNK);
    expect(stopped.bytesConfirmed).toBeLessThan(file.bytes.length);
    const restartedAt = Date.now();
    await runUntilIdle(second);

    expectSelfCommunityHas(sandbox, job(second, id), file);
    expect(sandbox.media).toHaveLength(1);
    expect(sandbox.uploads.size).toBe(1);
    const firstAfter = sandbox.requests.find((r) => r.path === SC_CHUNK_PATH && r.at >= restartedAt);
    expect(rangeStart(firstAfter!)).toBe(stopped.bytesConfirmed);
    expect(resentCount(sandbox.chunkLog.map((c) => c.start))).toBeLessThanOrEqual(1);
  });
});

describe('engine + TwentyThree emulator', () => {
  it('uploads files of 1 byte, one chunk, one chunk + 1, two chunks − 1, two chunks and ~3 MB byte-exact, one photo each', async () => {
    const w = await world();
    const sandbox = await twentyThree(w);
    const sizes = [1, T23_CHUNK, T23_CHUNK + 1, 2 * T23_CHUNK - 1, 2 * T23_CHUNK, 3_000_000];
    const files = await Promise.all(sizes.map((size) => randomFile(w.files, `clip-${size}.mp4`, size)));
    const jobs = await w.engine.queue.enqueue(
      'videos',
      files.map((f) => f.path),
    );

    await runUntilIdle(w);

    expect(sandbox.photos).toHaveLength(files.length);
    expect(sandbox.completions).toBe(files.length);
    files.forEach((file, i) => {
      const done = job(w, jobs[i]!.id);
      expect(done.state).toBe('completed');
      const photo = sandbox.photos.find((p) => String(p.photoId) === done.result?.remoteId);
      expect(photo, `a photo for ${file.name}`).toBeDefined();
      expect(photo!.size).toBe(file.bytes.length);
      expect(photo!.sha256).toBe(file.sha256);
      // The floor rule: max(1, floor(size / chunk)) chunks, the last one taking the remainder.
      const count = Math.max(1, Math.floor(file.bytes.length / T23_CHUNK));
      const chunks = sandbox.chunks.filter((c) => c.identifier.startsWith(`${file.bytes.length}-`));
      expect(chunks.map((c) => c.number).sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, k) => k + 1));
      expect(chunks.every((c) => c.status === 200)).toBe(true);
      const last = chunks.find((c) => c.number === count)!;
      expect(last.size).toBe(file.bytes.length - (count - 1) * T23_CHUNK);
    });
  });

  it('sends chunks in parallel', async () => {
    const w = await world();
    const sandbox = await twentyThree(w, { chunkDelayMs: 100 });
    const file = await randomFile(w.files, 'parallel.mp4', 6 * T23_CHUNK);
    const [queued] = await w.engine.queue.enqueue('videos', [file.path]);

    await runUntilIdle(w);

    expect(job(w, queued!.id).state).toBe('completed');
    expect(sandbox.maxInFlight).toBeGreaterThanOrEqual(2);
    expect(sandbox.photos).toHaveLength(1);
    expect(sandbox.photos[0]!.sha256).toBe(file.sha256);
  });

  it('fails the job at once when a chunk gets a 500 (the file is not supported)', async () => {
    const w = await world();
    const sandbox = await twentyThree(w);
    const file = await randomFile(w.files, 'broken.mp4', 6 * T23_CHUNK);
    sandbox.fault({
      method: 'POST',
      path: T23_REDEEM_PATH,
      action: { type: 'status', status: 500, body: 'Unsupported video codec' },
    });
    const [queued] = await w.engine.queue.enqueue('videos', [file.path]);

    await runUntilIdle(w);

    const failed = job(w, queued!.id);
    expect(failed.state).toBe('failed');
    expect(failed.attempts).toBe(1);
    expect(failed.error?.kind).toBe('unsupported');
    expect(failed.error?.message).toMatch(/500 Unsupported video codec/);
    expect(failed.error?.message).toMatch(/not supported/);
    expect(sandbox.photos).toHaveLength(0);
    expect(sandbox.completions).toBe(0);
  });

  it('retries a chunk that got a 503 and completes byte-exact', async () => {
    const w = await world();
    const sandbox = await twentyThree(w);
    const file = await randomFile(w.files, 'flaky.mp4', 5 * T23_CHUNK + 99);
    sandbox.fault({
      method: 'POST',
      path: T23_REDEEM_PATH,
      action: { type: 'status', status: 503, body: 'Service Unavailable' },
    });
    const [queued] = await w.engine.queue.enqueue('videos', [file.path]);

    await runUntilIdle(w);

    const done = job(w, queued!.id);
    expect(done.state).toBe('completed');
    expect(sandbox.photos).toHaveLength(1);
    expect(String(sandbox.photos[0]!.photoId)).toBe(done.result?.remoteId);
    expect(sandbox.photos[0]!.sha256).toBe(file.sha256);
    expect(sandbox.requests.filter((r) => r.status === 503)).toHaveLength(1);
    const errors = w.engine.queue.jobs.events(queued!.id).filter((e) => e.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ errorKind: 'server', state: 'waiting' });
    expect(errors[0]!.message).toMatch(/503/);
  });
});
