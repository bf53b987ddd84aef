/**
 * SelfCommunity and TwentyThree commit acknowledgements in small batches (ProviderCapabilities.ackBatch):
 * a SIGKILL of the real `ferry run` in the middle of a batch forgets the parts acknowledged since the
 * last commit. These tests kill it there and check, from what the emulator received, that the resume
 * recovers from the server's answer: the file byte-exact, one finalize, and no more than one batch
 * (plus what was in flight) sent again. SelfCommunity's offset check must turn the forgotten parts into
 * a resync: the server accepts no chunk twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Queue } from '../../main/engine/queue.ts';
import type { NewAccountInput } from '../../main/engine/accounts.ts';
import { getAdapter } from '../../main/providers/registry.ts';
import { startSelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { startTwentyThreeSandbox } from '../sandbox/twentythree.ts';
import { Fixtures, randomFile, type LocalFile } from '../support/ferryHarness.ts';
import { openTestQueue } from '../support/testQueue.ts';

const fixtures = new Fixtures();
afterEach(async () => {
  await fixtures.cleanup();
});

function withQueue<T>(dataDir: string, work: (queue: Queue) => T): T {
  const { queue, close } = openTestQueue(dataDir);
  try {
    return work(queue);
  } finally {
    close();
  }
}

/** What a world tells about one file at the emulator. */
interface Seen {
  /** Chunk requests that reached the server for the file (accepted or not). */
  chunkRequests: number;
  /** Chunks the server accepted (2xx). */
  chunksAccepted: number;
  finalizes: number;
  media: string[];
}

interface World {
  account: Omit<NewAccountInput, 'name'>;
  chunkSize: number;
  /** The file size of `parts` chunks. */
  fileSize(parts: number): number;
  /** Chunk requests from the nth on get no reply (the server never sees their bodies) until released. */
  holdChunks(nth: number): void;
  /** True once a held chunk request has arrived. */
  holding(): boolean;
  release(): void;
  seen(file: LocalFile): Seen;
  close(): Promise<void>;
}

const isOk = (status: number): boolean => status >= 200 && status < 300;

async function selfCommunity(): Promise<World> {
  const sandbox = await startSelfCommunitySandbox({ token: 'batch-sc-token' });
  const idsOf = (name: string): Set<string> =>
    new Set([...sandbox.uploads.values()].filter((u) => u.filename === name).map((u) => u.id));
  return {
    account: { provider: 'selfcommunity', baseUrl: sandbox.url, secrets: { accessToken: sandbox.token } },
    chunkSize: 204_800,
    fileSize: (parts) => parts * 204_800 - 1000,
    holdChunks(nth) {
      let count = 0;
      sandbox.fault({
        method: 'POST',
        path: /\/chunk\/$/,
        times: 1e9,
        when: () => ++count >= nth,
        action: { type: 'stall' },
      });
    },
    holding: () => sandbox.requests.some((r) => r.fault === 'stall'),
    release: () => sandbox.clearFaults(),
    seen(file) {
      const ids = idsOf(file.name);
      // The first chunk creates the upload (no upload_id yet); it is logged without one.
      const chunks = sandbox.chunkLog.filter(
        (c) => (c.uploadId === null && c.start === 0) || (c.uploadId !== null && ids.has(c.uploadId)),
      );
      return {
        chunkRequests: chunks.length,
        chunksAccepted: chunks.filter((c) => isOk(c.status)).length,
        finalizes: sandbox.completeCalls.filter((c) => c.uploadId !== null && ids.has(c.uploadId) && isOk(c.status))
          .length,
        media: sandbox.media.filter((m) => ids.has(m.uploadId)).map((m) => m.sha256),
      };
    },
    close: () => sandbox.close(),
  };
}

async function twentyThree(): Promise<World> {
  const sandbox = await startTwentyThreeSandbox();
  const chunkSize = 65_536;
  return {
    account: {
      provider: 'twentythree',
      baseUrl: sandbox.url,
      secrets: { consumerKey: 'ck', consumerSecret: 'cs', accessToken: 'at', accessTokenSecret: 'as' },
      settings: { chunkSize: String(chunkSize) },
    },
    chunkSize,
    // A whole number of chunks: the last one is the one that completes the file.
    fileSize: (parts) => parts * chunkSize,
    holdChunks(nth) {
      let count = 0;
      sandbox.fault({
        method: 'POST',
        path: '/api/photo/redeem-upload-token',
        times: 1e9,
        when: () => ++count >= nth,
        action: { type: 'stall' },
      });
    },
    holding: () => sandbox.requests.some((r) => r.fault === 'stall'),
    release: () => sandbox.clearFaults(),
    seen(file) {
      const prefix = `${file.bytes.length}-${file.name.replace(/[^0-9A-Za-z_-]/g, '').slice(0, 80)}-`;
      const chunks = sandbox.chunks.filter((c) => c.identifier.startsWith(prefix));
      const photos = sandbox.photos.filter((p) => p.filename === file.name);
      return {
        chunkRequests: chunks.length,
        chunksAccepted: chunks.filter((c) => isOk(c.status)).length,
        finalizes: photos.length,
        media: photos.map((p) => p.sha256),
      };
    },
    close: () => sandbox.close(),
  };
}

/**
 * One file of `parts` chunks; the run is killed once chunk requests from `holdFrom` on are held
 * unanswered (so the chunks before were acknowledged to Ferry: the round's first committed at once,
 * the rest in an open batch unless a quarter second passed). Returns what the database held at the
 * kill, what the emulator had accepted then, and what it saw once the resumed run had finished.
 */
async function killMidBatch(world: World, parts: number, holdFrom: number) {
  const dir = await fixtures.tempDir('ferry-ackbatch-');
  const dataDir = `${dir}/data`;
  const ext = world.account.provider === 'selfcommunity' ? 'png' : 'mp4';
  const file = await randomFile(dir, `batch-${parts}.${ext}`, world.fileSize(parts));
  const { queue: setup, close } = openTestQueue(dataDir);
  try {
    await setup.accounts.add({ ...world.account, name: 'batch' });
    await setup.enqueue('batch', [file.path]);
  } finally {
    close();
  }
  world.holdChunks(holdFrom);
  const run = fixtures.spawnFerry(dataDir, ['run', '--until-idle', '--json'], { timeoutMs: 60_000 });
  // Bounded (30 s): the held request keeps the run inside the batch until it is killed.
  for (let i = 0; i < 3000 && !world.holding(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  run.child.kill('SIGKILL');
  expect((await run.exited).signal).toBe('SIGKILL');
  world.release();
  const atKill = world.seen(file);
  const recorded = withQueue(dataDir, (queue) => queue.jobs.list({})[0]!.bytesConfirmed);

  const resumed = await fixtures.spawnFerry(dataDir, ['run', '--until-idle', '--json'], { timeoutMs: 60_000 }).exited;
  expect(resumed.code, resumed.stderr).toBe(0);
  const states = withQueue(dataDir, (queue) => queue.jobs.list({}).map((job) => job.state));
  return { file, atKill, recorded, after: world.seen(file), states };
}

const batchOf = (provider: string): number => getAdapter(provider).capabilities.ackBatch?.parts ?? 1;
/** Attempts at landing the kill inside an open batch (a loaded machine may commit it on its timer first). */
const ATTEMPTS = 3;

describe('acknowledgements committed in batches: a kill mid-batch resumes from the server', () => {
  it('SelfCommunity: forgotten acknowledgements become a resync, no chunk is accepted twice', async () => {
    expect(batchOf('selfcommunity')).toBeGreaterThan(1);
    const parts = 12;
    let forgotten = 0;
    for (let attempt = 0; attempt < ATTEMPTS && forgotten === 0; attempt += 1) {
      const world = fixtures.track(await selfCommunity());
      const { file, atKill, recorded, after, states } = await killMidBatch(world, parts, 6);
      // Five chunks were acknowledged to Ferry before the kill.
      expect(atKill.chunksAccepted).toBe(5);
      forgotten = atKill.chunksAccepted - Math.round(recorded / world.chunkSize);
      expect(states).toEqual(['completed']);
      expect(after.media).toEqual([file.sha256]);
      expect(after.finalizes).toBe(1);
      // The server is the authority: each chunk accepted once, whatever Ferry had forgotten.
      expect(after.chunksAccepted).toBe(parts);
      // Sent again: the chunk whose offset the server corrected; never more than a batch.
      expect(after.chunkRequests - parts).toBeLessThanOrEqual(1);
    }
    // The kill did land in an open batch: the database had forgotten acknowledged chunks.
    expect(forgotten).toBeGreaterThan(0);
    expect(forgotten).toBeLessThan(batchOf('selfcommunity'));
  }, 180_000);

  it('TwentyThree: forgotten chunks are sent again and overwrite, at most one batch of them', async () => {
    expect(batchOf('twentythree')).toBeGreaterThan(1);
    const parts = 16;
    const width = getAdapter('twentythree').capabilities.maxParallelParts;
    let forgotten = 0;
    // One commit per part could forget only the parts in flight (width); an open batch forgets more.
    for (let attempt = 0; attempt < ATTEMPTS && forgotten <= width; attempt += 1) {
      const world = fixtures.track(await twentyThree());
      const { file, atKill, recorded, after, states } = await killMidBatch(world, parts, 7);
      // Six chunk requests went out before the held one; some were acknowledged.
      expect(atKill.chunksAccepted).toBeGreaterThanOrEqual(4);
      forgotten = atKill.chunksAccepted - Math.round(recorded / world.chunkSize);
      expect(states).toEqual(['completed']);
      expect(after.media).toEqual([file.sha256]);
      expect(after.finalizes).toBe(1);
      // Every chunk sent again was one the server had accepted and Ferry had forgotten: no more than
      // one batch plus what was in flight.
      expect(after.chunksAccepted - parts).toBe(forgotten);
      expect(after.chunkRequests - parts).toBeLessThanOrEqual(batchOf('twentythree') + width);
    }
    expect(forgotten).toBeGreaterThan(width);
  }, 180_000);
});
