/**
 * The short version of the crash harness (the full one is `npm run soak`): the real `ferry run` is
 * SIGKILLed at seeded moments read off the emulator's request log and restarted until the queue is
 * empty; then every file must be at the emulator byte-exact, finalized exactly once, with one media
 * and (for Oktopost) one import request, every job completed, integrity_check ok, and at most one
 * chunk re-sent per interrupted upload per parallel part (OFAuth sends 2 parts at once).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { crashRun } from '../support/crashHarness.ts';
import { Fixtures } from '../support/ferryHarness.ts';

const fixtures = new Fixtures();
afterEach(async () => {
  await fixtures.cleanup();
});

describe('crash harness (short): SIGKILL the real ferry run and restart it', () => {
  it('OFAuth survives 3 kills (init, parts, complete) with nothing lost, doubled or over-sent', async () => {
    const report = await crashRun({
      provider: 'ofauth',
      kills: 3,
      seed: 8,
      dir: await fixtures.tempDir('ferry-crash-'),
      budgetMs: 50_000,
    });
    expect(report.violations).toEqual([]);
    expect(report.kills).toBe(3);
    expect(report.integrity).toBe('ok');
    expect(report.states).toEqual({ completed: report.files });
  }, 90_000);

  it('Oktopost survives 2 kills around create and polls without a duplicate import request', async () => {
    const report = await crashRun({
      provider: 'oktopost',
      kills: 2,
      seed: 3,
      dir: await fixtures.tempDir('ferry-crash-'),
      budgetMs: 50_000,
    });
    expect(report.violations).toEqual([]);
    expect(report.kills).toBe(2);
    expect(report.states).toEqual({ completed: report.files });
  }, 90_000);
});
