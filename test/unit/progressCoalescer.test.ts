/**
 * Progress events are coalesced per subscriber: whatever the number of active jobs and however often
 * the engine reports, a subscriber gets at most ~10 progress messages a second, each holding the
 * newest figures of every job that moved. Counts messages over a measured window; asserts nothing
 * about speed.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiEvent, ProgressItem } from '../../main/api/contract.ts';
import { FerryApi } from '../../main/api/ferryApi.ts';
import { ProgressCoalescer } from '../../main/api/progressCoalescer.ts';
import type { ProgressUpdate } from '../../main/engine/engine.ts';
import { Fixtures, sleep } from '../support/ferryHarness.ts';
import { openTestQueue } from '../support/testQueue.ts';

const fixtures = new Fixtures();
afterEach(() => fixtures.cleanup());

/** Stands in for the engine: emits `progress` batches as fast as the test pumps them. */
class FakeEngine extends EventEmitter<{ progress: [ProgressUpdate[]] }> {}

async function openApi(progress: FakeEngine): Promise<{ api: FerryApi; close(): void }> {
  const dir = await fixtures.tempDir('ferry-api-progress-');
  const { db, queue } = openTestQueue(dir);
  const api = new FerryApi({ queue, db, dataDir: dir, progress, engine: { running: true, note: null } });
  return {
    api,
    close() {
      api.close();
      db.close();
    },
  };
}

interface Received {
  at: number;
  items: ProgressItem[];
}

describe('progress coalescing', () => {
  it('50 active jobs reporting every 2 ms reach a subscriber as at most ~10 messages a second', async () => {
    const engine = new FakeEngine();
    const { api, close } = await openApi(engine);
    const fast: Received[] = [];
    const second: Received[] = [];
    const unsubscribe = api.subscribe((event: ApiEvent) => {
      if (event.event === 'progress') fast.push({ at: Date.now(), items: event.payload });
    });
    api.subscribe((event: ApiEvent) => {
      if (event.event === 'progress') second.push({ at: Date.now(), items: event.payload });
    });

    const JOBS = 50;
    const bytes = new Map<number, number>();
    let emitted = 0;
    const started = Date.now();
    // Pump for at least 1.5 s: one batch per job per tick, far above what a UI can use.
    while (Date.now() - started < 1_500) {
      const updates: ProgressUpdate[] = [];
      for (let jobId = 1; jobId <= JOBS; jobId += 1) {
        const done = (bytes.get(jobId) ?? 0) + 1000 + jobId;
        bytes.set(jobId, done);
        updates.push({ jobId, bytesDone: done, total: 10_000_000, bytesPerSecond: 1 });
        // Half the reports come one job at a time, as separate engine events.
        if (jobId % 2 === 0) {
          engine.emit('progress', [updates.pop()!]);
          emitted += 1;
        }
      }
      engine.emit('progress', updates);
      emitted += 1;
      await sleep(2);
    }
    const pumpedMs = Date.now() - started;
    await sleep(250); // let the last merged message out
    const windowMs = pumpedMs + 250;

    expect(emitted).toBeGreaterThan(100);
    for (const received of [fast, second]) {
      expect(received.length).toBeGreaterThan(0);
      // ~10 per second, with slack for timer jitter: never more than 11 per started second, plus one.
      expect(received.length).toBeLessThanOrEqual(Math.ceil((windowMs / 1000) * 11) + 1);
      for (const message of received) {
        const ids = message.items.map((item) => item.jobId);
        expect(new Set(ids).size).toBe(ids.length); // merged by job id
      }
      // Nothing is lost by merging: the newest figures of every job arrived.
      const last = new Map<number, number>();
      for (const message of received) for (const item of message.items) last.set(item.jobId, item.bytesDone);
      expect(last.size).toBe(JOBS);
      for (const [jobId, done] of bytes) expect(last.get(jobId)).toBe(done);
    }
    unsubscribe();
    close();
  });

  it('a subscriber that cannot take a message gets it merged into the next one, without slowing others', async () => {
    const engine = new FakeEngine();
    const { api, close } = await openApi(engine);
    let accept = false;
    const slow: ProgressItem[][] = [];
    const quick: ProgressItem[][] = [];
    api.subscribe((event) => {
      if (event.event !== 'progress') return true;
      if (!accept) return false; // a WebSocket with a full send buffer
      slow.push(event.payload);
      return true;
    });
    api.subscribe((event) => {
      if (event.event === 'progress') quick.push(event.payload);
    });
    engine.emit('progress', [{ jobId: 1, bytesDone: 10, total: 100, bytesPerSecond: 1 }]);
    await sleep(150);
    engine.emit('progress', [{ jobId: 2, bytesDone: 20, total: 100, bytesPerSecond: 1 }]);
    await sleep(150);
    engine.emit('progress', [{ jobId: 1, bytesDone: 30, total: 100, bytesPerSecond: 1 }]);
    await sleep(150);
    accept = true;
    await sleep(300);
    expect(quick.length).toBe(3);
    expect(slow.length).toBe(1);
    expect(slow[0]!.map((item) => [item.jobId, item.bytesDone]).sort()).toEqual([
      [1, 30],
      [2, 20],
    ]);
    close();
  });

  it('a closed coalescer delivers nothing more', async () => {
    const delivered: ProgressItem[][] = [];
    const coalescer = new ProgressCoalescer({ intervalMs: 20, deliver: (items) => void delivered.push(items) });
    coalescer.push([{ jobId: 1, bytesDone: 1, total: null, bytesPerSecond: 0 }]);
    coalescer.close();
    coalescer.push([{ jobId: 1, bytesDone: 2, total: null, bytesPerSecond: 0 }]);
    await sleep(60);
    expect(delivered).toEqual([]);
  });
});
