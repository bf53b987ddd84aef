import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ACTIVE_STATES,
  JOB_ACTIONS,
  JOB_STATES,
  TERMINAL_STATES,
  TransitionError,
  assertTransition,
  canTransition,
  isJobState,
  jobActions,
} from '../../main/core/jobState.ts';
import type { JobAction, JobState } from '../../main/core/jobState.ts';
import { FerryError } from '../../main/core/errors.ts';
import type { Queue } from '../../main/engine/queue.ts';
import { Fixtures } from '../support/ferryHarness.ts';
import { JobsRepository } from '../../main/db/jobsRepository.ts';
import { openTestQueue } from '../support/testQueue.ts';

/**
 * The allowed transitions, written out independently of the source so that a change to the source
 * table has to be made here too, on purpose.
 */
const EXPECTED: Record<JobState, readonly JobState[]> = {
  queued: ['uploading', 'finalizing', 'processing', 'waiting', 'paused', 'canceled', 'failed'],
  uploading: ['finalizing', 'processing', 'waiting', 'paused', 'canceled', 'failed', 'queued'],
  waiting: ['uploading', 'finalizing', 'processing', 'paused', 'canceled', 'failed', 'queued'],
  paused: ['queued', 'canceled'],
  finalizing: ['processing', 'completed', 'waiting', 'failed', 'queued'],
  processing: ['completed', 'waiting', 'failed', 'paused', 'queued'],
  completed: [],
  failed: ['queued', 'canceled'],
  canceled: ['queued'],
};

const ALL_PAIRS = JOB_STATES.flatMap((from) =>
  JOB_STATES.map((to) => ({ from, to, allowed: EXPECTED[from].includes(to) })),
);

describe('job state machine', () => {
  it('knows exactly nine states', () => {
    expect([...JOB_STATES].sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(ALL_PAIRS).toHaveLength(81);
  });

  describe.each(ALL_PAIRS)('$from → $to', ({ from, to, allowed }) => {
    it(allowed ? 'is allowed' : 'is refused', () => {
      expect(canTransition(from, to)).toBe(allowed);
    });

    it(allowed ? 'passes assertTransition' : 'makes assertTransition throw a TransitionError', () => {
      if (allowed) {
        expect(() => assertTransition(from, to)).not.toThrow();
        return;
      }
      let thrown: unknown;
      try {
        assertTransition(from, to);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(TransitionError);
      expect(thrown).toBeInstanceOf(Error);
      const error = thrown as TransitionError;
      expect(error.from).toBe(from);
      expect(error.to).toBe(to);
      expect(error.name).toBe('TransitionError');
      expect(error.message).toBe(`A job that is ${from} cannot become ${to}`);
    });
  });

  it('never allows a state to transition to itself', () => {
    for (const state of JOB_STATES) expect(canTransition(state, state)).toBe(false);
  });

  it('lets a completed job go nowhere', () => {
    for (const to of JOB_STATES) expect(canTransition('completed', to)).toBe(false);
  });

  it('lets every state but completed go back to queued (a job can always be retried)', () => {
    for (const from of JOB_STATES) {
      if (from === 'completed' || from === 'queued') continue;
      expect(canTransition(from, 'queued')).toBe(true);
    }
  });

  it('does not let finalizing be paused or canceled half-way', () => {
    expect(canTransition('finalizing', 'paused')).toBe(false);
    expect(canTransition('finalizing', 'canceled')).toBe(false);
  });

  it('lets only finalizing and processing complete a job', () => {
    const completers = JOB_STATES.filter((from) => canTransition(from, 'completed'));
    expect(completers.sort()).toEqual(['finalizing', 'processing']);
  });

  it('names completed, failed and canceled as terminal', () => {
    expect([...TERMINAL_STATES].sort()).toEqual(['canceled', 'completed', 'failed']);
  });

  it('names uploading, finalizing and processing as active (a runner works on them)', () => {
    expect([...ACTIVE_STATES].sort()).toEqual(['finalizing', 'processing', 'uploading']);
    for (const state of ACTIVE_STATES) expect(TERMINAL_STATES.has(state)).toBe(false);
  });

  it.each([
    ...JOB_STATES.map((value) => ({ value, expected: true })),
    { value: '', expected: false },
    { value: 'Queued', expected: false },
    { value: 'done', expected: false },
    { value: 'queued ', expected: false },
    { value: 'toString', expected: false },
  ])('isJobState($value) is $expected', ({ value, expected }) => {
    expect(isJobState(value)).toBe(expected);
  });
});

describe('jobActions: what a window may offer for a job', () => {
  const fixtures = new Fixtures();
  afterAll(() => fixtures.cleanup());

  /** A queue with one job forced into `state`, on a fresh data folder. */
  async function jobIn(state: JobState): Promise<{ queue: Queue; id: number }> {
    const dir = await fixtures.tempDir('ferry-actions-');
    const { db, queue } = openTestQueue(dir);
    fixtures.track({ close: async () => db.close() });
    await queue.accounts.add({
      provider: 'selfcommunity',
      name: 'c',
      baseUrl: 'https://community.example.com',
      secrets: { accessToken: 'tok-1234' },
    });
    const path = join(dir, 'a.png');
    await writeFile(path, 'bytes');
    const [row] = await queue.enqueue('c', [path]);
    new JobsRepository(db).update(row!.id, { state });
    return { queue, id: row!.id };
  }

  /** Asks the real queue; true when it did what was asked (a no-op or a refusal is false). */
  async function accepted(state: JobState, action: JobAction): Promise<boolean> {
    const { queue, id } = await jobIn(state);
    try {
      if (action === 'remove') {
        queue.remove(id);
        return queue.jobs.get(id) === undefined;
      }
      const after = action === 'retry' ? await queue.retry(id) : queue[action](id);
      return after.state !== state;
    } catch (error) {
      if (error instanceof FerryError && error.code === 'conflict') return false;
      throw error;
    }
  }

  it('offers only what the queue then accepts, for every state and action', async () => {
    for (const state of JOB_STATES) {
      for (const action of JOB_ACTIONS) {
        if (jobActions(state).includes(action))
          expect(await accepted(state, action), `${action} offered for a ${state} job`).toBe(true);
      }
    }
  });

  it('does not offer Cancel while the platform processes the file, and offers Remove for a job waiting to retry', () => {
    expect(jobActions('processing')).not.toContain('cancel');
    expect(jobActions('processing')).toContain('pause');
    expect(jobActions('waiting')).toContain('remove');
    expect(jobActions('finalizing')).toEqual([]);
    expect(jobActions('completed')).toEqual(['remove']);
    expect(jobActions('failed')).toEqual(['retry', 'remove']);
  });
});
