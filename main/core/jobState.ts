/**
 * Job states and the only transitions allowed between them. Every state change in the engine goes
 * through `assertTransition`, so an impossible change is a bug that shows, not a silent corruption.
 */
export const JOB_STATES = [
  'queued',
  'uploading',
  'waiting',
  'paused',
  'finalizing',
  'processing',
  'completed',
  'failed',
  'canceled',
] as const;

export type JobState = (typeof JOB_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['completed', 'failed', 'canceled']);
/** States whose job has a runner working on it. */
export const ACTIVE_STATES: ReadonlySet<JobState> = new Set(['uploading', 'finalizing', 'processing']);

export const TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  // A queued job starts in the phase it had reached (a recovered job may be past its parts).
  queued: ['uploading', 'finalizing', 'processing', 'waiting', 'paused', 'canceled', 'failed'],
  // Runners go back to queued when the process shuts down while they work.
  uploading: ['finalizing', 'processing', 'waiting', 'paused', 'canceled', 'failed', 'queued'],
  waiting: ['uploading', 'finalizing', 'processing', 'paused', 'canceled', 'failed', 'queued'],
  paused: ['queued', 'canceled'],
  // Finalize cannot be paused or canceled half-way: its outcome would be unknown. It ends on its own.
  finalizing: ['processing', 'completed', 'waiting', 'failed', 'queued'],
  processing: ['completed', 'waiting', 'failed', 'paused', 'queued'],
  completed: [],
  failed: ['queued', 'canceled'],
  canceled: ['queued'],
};

export function canTransition(from: JobState, to: JobState): boolean {
  return TRANSITIONS[from].includes(to);
}

export class TransitionError extends Error {
  readonly from: JobState;
  readonly to: JobState;

  constructor(from: JobState, to: JobState) {
    super(`A job that is ${from} cannot become ${to}`);
    this.name = 'TransitionError';
    this.from = from;
    this.to = to;
  }
}

export function assertTransition(from: JobState, to: JobState): void {
  if (!canTransition(from, to)) throw new TransitionError(from, to);
}

export function isJobState(value: string): value is JobState {
  return (JOB_STATES as readonly string[]).includes(value);
}

/** What a person may ask of a job (the queue's pause/resume/retry/cancel/remove commands). */
export const JOB_ACTIONS = ['pause', 'resume', 'retry', 'cancel', 'remove'] as const;
export type JobAction = (typeof JOB_ACTIONS)[number];

/**
 * The actions that the queue accepts for a job in `state`, derived from the transition table and the
 * queue's own rules, so that a window never offers what the engine would refuse (e.g. Cancel while a
 * job is `processing`: the platform already has the file, and its outcome must be learned).
 */
export function jobActions(state: JobState): JobAction[] {
  const actions: JobAction[] = [];
  // Finalize runs to its end: its outcome would be unknown otherwise (Queue.pause/cancel refuse it).
  const settling = state === 'finalizing';
  if (state !== 'paused' && !settling && canTransition(state, 'paused')) actions.push('pause');
  if (state === 'paused') actions.push('resume');
  // A retry puts an ended job back in the queue; running and waiting jobs retry by themselves.
  if (state === 'failed' || state === 'canceled') actions.push('retry');
  if (!TERMINAL_STATES.has(state) && !settling && canTransition(state, 'canceled')) actions.push('cancel');
  if (!ACTIVE_STATES.has(state)) actions.push('remove');
  return actions;
}
