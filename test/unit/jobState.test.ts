import { describe, expect, it } from 'vitest';
import {
  ACTIVE_STATES,
  JOB_STATES,
  TERMINAL_STATES,
  TransitionError,
  assertTransition,
  canTransition,
  isJobState,
} from '../../main/engine/jobState.ts';
import type { JobState } from '../../main/engine/jobState.ts';

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
