/**
 * The bandwidth limit through the engine, with real uploads to every provider's emulator over
 * loopback: the upload arrives byte-exact, every file byte the bodies sent went through the limiters
 * (their accounted grants), an account's own limit and the global one both apply, a change while the
 * upload runs takes effect, and waiting for the limit is not taken for a stall.
 *
 * Timing: only lower bounds ("not faster than the limit allows"), which a busy machine cannot break;
 * speed and accuracy are measured in `npm run bench` (test/bench/suites/bandwidth.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Fixtures, sleep, waitFor } from '../support/ferryHarness.ts';
import { RIGS } from '../support/faultRigs.ts';

const fixtures = new Fixtures();

afterEach(async () => {
  await fixtures.cleanup();
});

const K = 1024;
/**
 * What may go out at once at 256K: the bucket saved up while idle (0.25 s of the limit) and the first
 * piece (1/8 s of the limit), granted in debt.
 */
const FIRST_PIECE = 64 * K + 32 * K;

describe('bandwidth limit through the engine', () => {
  for (const provider of ['selfcommunity', 'ofauth', 'twentythree', 'xvid'] as const) {
    it(`${provider}: uploads byte-exact at 256K, every file byte through the limiter, not faster than the limit`, async () => {
      const dir = await fixtures.tempDir(`ferry-bw-${provider}-`);
      const handle = fixtures.openEngine(dir, { bwlimit: '256K' });
      const rig = fixtures.track(await RIGS[provider](handle.queue, dir));
      const [job] = await handle.queue.enqueue('acct', [rig.source]);
      const started = Date.now();
      handle.engine.start();
      await handle.engine.whenIdle();
      const elapsed = Date.now() - started;

      const done = handle.queue.requireJob(job!.id);
      expect(done.state, done.error?.message).toBe('completed');
      expect(rig.check()).toEqual([]);
      expect(done.attempts).toBe(1);
      const size = rig.file.bytes.length;
      // Both limiters accounted for exactly the file's bytes (one attempt, no part sent twice).
      expect(handle.engine.bandwidth.global.granted).toBe(size);
      expect(handle.engine.bandwidth.account(done.accountId).granted).toBe(size);
      expect(elapsed).toBeGreaterThanOrEqual(((size - FIRST_PIECE) / (256 * K)) * 1000 * 0.9);
    });
  }

  it('oktopost pulls the file from a URL: Ferry sends no file bytes, so the limit has nothing to hold', async () => {
    const dir = await fixtures.tempDir('ferry-bw-oktopost-');
    const handle = fixtures.openEngine(dir, { bwlimit: '16K' });
    const rig = fixtures.track(await RIGS.oktopost(handle.queue, dir));
    const [job] = await handle.queue.enqueue('acct', [rig.source]);
    handle.engine.start();
    await handle.engine.whenIdle();
    expect(handle.queue.requireJob(job!.id).state).toBe('completed');
    expect(rig.check()).toEqual([]);
    expect(handle.engine.bandwidth.global.granted).toBe(0);
  });

  it("applies an account's own limit with the global one off, and follows a change while the upload runs", async () => {
    const dir = await fixtures.tempDir('ferry-bw-account-');
    const handle = fixtures.openEngine(dir);
    const rig = fixtures.track(await RIGS.selfcommunity(handle.queue, dir));
    // 16K: the 614 KB file would take about 38 s, longer than this test may run.
    const account = handle.queue.accounts.list()[0]!;
    await handle.queue.accounts.update(account.name, { settings: { ...account.settings, bwlimit: '16K' } });
    const [job] = await handle.queue.enqueue('acct', [rig.source]);
    handle.engine.start();
    const limiter = handle.engine.bandwidth.account(account.id);
    await waitFor('the account limit to apply', () => limiter.rate === 16 * K);
    await waitFor('some bytes under the limit', () => (limiter.granted >= 48 * K ? true : null), 10_000);
    expect(handle.engine.bandwidth.global.rate).toBeNull();
    expect(handle.queue.requireJob(job!.id).state).toBe('uploading');
    // Lifted while it runs: the waiting piece goes at once, and the rest is not limited.
    handle.engine.setAccountBandwidthLimit(account.id, 'off');
    await handle.engine.whenIdle();
    const done = handle.queue.requireJob(job!.id);
    expect(done.state).toBe('completed');
    expect(rig.check()).toEqual([]);
    expect(done.attempts).toBe(1);
  });

  it('does not take waiting for the limit as a stall (the watchdog holds while a body waits)', async () => {
    const dir = await fixtures.tempDir('ferry-bw-stall-');
    // 1 KiB/s: each 16 KiB piece waits 16 s, far beyond the 1 s stall timeout.
    const handle = fixtures.openEngine(dir, { bwlimit: '1K', stallTimeoutMs: 1_000 });
    const rig = fixtures.track(await RIGS.selfcommunity(handle.queue, dir));
    const [job] = await handle.queue.enqueue('acct', [rig.source]);
    handle.engine.start();
    await waitFor('the upload to wait on the limit', () => (handle.engine.bandwidth.global.waiting > 0 ? true : null));
    await sleep(3_000);
    handle.engine.setBandwidthLimit('off');
    await handle.engine.whenIdle();
    const done = handle.queue.requireJob(job!.id);
    expect(done.state, done.error?.message).toBe('completed');
    // A stall would have aborted the part and counted a retry.
    expect(done.attempts).toBe(1);
    expect(done.retryStreak).toBe(0);
    expect(rig.check()).toEqual([]);
  });
});
