import { describe, expect, it } from 'vitest';
import { BandwidthControl, ByteLimiter, type JobThrottle } from '../../main/engine/bandwidth.ts';
import { ManualClock } from '../support/manualClock.ts';

const K = 1024;

/** A job that sends `piece`-byte pieces through the throttle until stopped, counting what it got. */
function job(throttle: JobThrottle | ByteLimiter, piece = 16 * K): { sent: number; stop: () => void } {
  const state = { sent: 0, stop: () => undefined as void };
  const controller = new AbortController();
  state.stop = () => controller.abort(new Error('stopped'));
  void (async () => {
    for (;;) {
      try {
        await throttle.take(piece, controller.signal);
      } catch {
        return;
      }
      state.sent += piece;
    }
  })();
  return state;
}

const within = (actual: number, expected: number, fraction: number): void => {
  expect(actual).toBeGreaterThanOrEqual(expected * (1 - fraction));
  expect(actual).toBeLessThanOrEqual(expected * (1 + fraction));
};

describe('ByteLimiter', () => {
  it('lets through the limit per second, ±5 % over 10 s, and wakes at most every 10 ms', async () => {
    const clock = new ManualClock();
    const limiter = new ByteLimiter(100 * K, clock);
    const one = job(limiter);
    await clock.advance(10_000);
    one.stop();
    within(one.sent, 1000 * K, 0.05);
    within(limiter.granted, 1000 * K, 0.05);
  });

  it('shares the limit fairly between three jobs, in FIFO order', async () => {
    const clock = new ManualClock();
    const limiter = new ByteLimiter(96 * K, clock);
    const jobs = [job(limiter), job(limiter), job(limiter)];
    await clock.advance(10_000);
    for (const each of jobs) each.stop();
    const total = jobs.reduce((sum, each) => sum + each.sent, 0);
    within(total, 960 * K, 0.05);
    // Turns are per request, in order: each job gets a third, to within one piece.
    for (const each of jobs) expect(Math.abs(each.sent - total / 3)).toBeLessThanOrEqual(16 * K);
  });

  it('gives a job that joins late its share from its first request', async () => {
    const clock = new ManualClock();
    const limiter = new ByteLimiter(64 * K, clock);
    const early = job(limiter);
    await clock.advance(5_000);
    const late = job(limiter);
    const before = early.sent;
    await clock.advance(5_000);
    early.stop();
    late.stop();
    expect(Math.abs(early.sent - before - late.sent)).toBeLessThanOrEqual(16 * K);
    within(late.sent, 160 * K, 0.1);
  });

  it('follows a rate change at once, also for a waiter already planned under the old rate', async () => {
    const clock = new ManualClock();
    const limiter = new ByteLimiter(1 * K, clock);
    const one = job(limiter, 64 * K);
    await clock.advance(1_000);
    // The first piece went out at once (the bucket may go one grant into debt); the second waits 64 s.
    expect(one.sent).toBe(64 * K);
    limiter.setRate(640 * K);
    await clock.advance(1_000);
    within(one.sent, 64 * K + 640 * K, 0.12);
    const before = one.sent;
    limiter.setRate(null);
    await clock.advance(0);
    // Off: no waiting at all (the loop runs without the clock moving; stop it after a moment).
    expect(one.sent).toBeGreaterThan(before + 64 * K);
    one.stop();
    expect(clock.sleeping).toBe(0);
  });

  it('drops an aborted waiter without disturbing the others', async () => {
    const clock = new ManualClock();
    const limiter = new ByteLimiter(10 * K, clock);
    await limiter.take(10 * K);
    const controller = new AbortController();
    const aborted = limiter.take(10 * K, controller.signal);
    let granted = false;
    void limiter.take(10 * K).then(() => (granted = true));
    controller.abort(new Error('paused'));
    await expect(aborted).rejects.toThrow('paused');
    await clock.advance(999);
    expect(granted).toBe(false);
    await clock.advance(2);
    expect(granted).toBe(true);
    expect(limiter.waiting).toBe(0);
  });
});

describe('BandwidthControl', () => {
  it('applies the account limit and the global one together (hierarchy)', async () => {
    const clock = new ManualClock();
    const control = new BandwidthControl(clock);
    control.setGlobal('100K');
    control.setAccount(1, '40K');
    const a1 = job(control.forAccount(1));
    const a2 = job(control.forAccount(1));
    const b = job(control.forAccount(2));
    await clock.advance(10_000);
    for (const each of [a1, a2, b]) each.stop();
    within(a1.sent + a2.sent, 400 * K, 0.06);
    within(a1.sent + a2.sent + b.sent, 1000 * K, 0.05);
    expect(Math.abs(a1.sent - a2.sent)).toBeLessThanOrEqual(16 * K);
    within(control.global.granted, 1000 * K, 0.05);
  });

  it('is inactive (no limiter call at all) while both limits are off, and cuts pieces small while on', () => {
    const control = new BandwidthControl(new ManualClock());
    const throttle = control.forAccount(7);
    expect(throttle.active).toBe(false);
    expect(throttle.pieceSize(1024 * K)).toBe(1024 * K);
    control.setAccount(7, '1M');
    expect(throttle.active).toBe(true);
    expect(throttle.pieceSize(1024 * K)).toBe(128 * K);
    control.setGlobal('64K');
    expect(throttle.pieceSize(1024 * K)).toBe(16 * K);
    control.setAccount(7, '');
    control.setGlobal('off');
    expect(throttle.active).toBe(false);
  });

  it('refuses a malformed limit with the one-line reason and keeps the previous one', () => {
    const control = new BandwidthControl(new ManualClock());
    control.setGlobal('2M');
    expect(() => control.setGlobal('8:0x,512K')).toThrow('bwlimit: "8:0x,512K" — "8:0x" is not a time (HH:MM)');
    expect(control.global.rate).toBe(2 * 1024 * K);
  });

  it('switches at a timetable boundary on its own, and a waiter follows within the second', async () => {
    // 07:59:30 local time on a Wednesday.
    const clock = new ManualClock(new Date(2026, 11, 9, 7, 59, 30).getTime());
    const control = new BandwidthControl(clock);
    control.setGlobal('08:00,10K 20:00,off');
    control.start();
    expect(control.global.rate).toBeNull(); // before 08:00: the 20:00 entry of the day before
    await clock.advance(29_000);
    expect(control.global.rate).toBeNull();
    await clock.advance(1_000);
    expect(control.global.rate).toBe(10 * K);
    const one = job(control.forAccount(1));
    await clock.advance(10_000);
    within(one.sent, 100 * K, 0.17); // 16 KiB pieces: one piece of slack at this small rate
    // 20:00: off again, and the job's waiting piece goes out at once.
    await clock.advance(new Date(2026, 11, 9, 20, 0, 0).getTime() - clock.time);
    expect(control.global.rate).toBeNull();
    const before = one.sent;
    await clock.advance(0);
    expect(one.sent).toBeGreaterThan(before);
    one.stop();
    control.stop();
  });
});
