import type { JobView } from '../../main/api/contract.ts';
import { formatDuration } from '../lib/format.ts';
import { useNow } from './useNow.ts';

export type ChipTone = 'neutral' | 'accent' | 'warning' | 'orange' | 'muted' | 'teal' | 'success' | 'danger';

export interface ChipInfo {
  label: string;
  tone: ChipTone;
  /** Longer words for the tooltip and screen readers. */
  description: string;
}

/**
 * What a job's state means to a person. Waiting splits into "retry N in 12s" and "rate-limited"
 * (the provider asked Ferry to slow down), both with a countdown to the next try.
 */
export function describeState(job: JobView, now: number): ChipInfo {
  const countdown = job.nextAttemptAt !== null ? formatDuration(Math.max(0, (job.nextAttemptAt - now) / 1000)) : null;
  switch (job.state) {
    case 'queued':
      return { label: 'Queued', tone: 'neutral', description: 'Waiting for its turn' };
    case 'uploading':
      return { label: 'Uploading', tone: 'accent', description: 'Sending bytes' };
    case 'waiting':
      if (job.error?.kind === 'rate-limited') {
        return {
          label: countdown ? `Rate-limited · ${countdown}` : 'Rate-limited',
          tone: 'orange',
          description: `The provider asked Ferry to slow down${countdown ? `; trying again in ${countdown}` : ''}`,
        };
      }
      return {
        label: countdown ? `Retry ${job.attempts + 1} in ${countdown}` : `Retry ${job.attempts + 1} soon`,
        tone: 'warning',
        description: `Attempt ${job.attempts} failed${job.error ? `: ${job.error.message}` : ''}`,
      };
    case 'paused':
      return { label: 'Paused', tone: 'muted', description: 'Paused; resume to continue from the last confirmed part' };
    case 'finalizing':
      return {
        label: 'Finalizing',
        tone: 'teal',
        description: 'All bytes sent; asking the provider to finish the upload',
      };
    case 'processing':
      return { label: 'Processing', tone: 'teal', description: 'The provider is processing the file on its side' };
    case 'completed':
      return { label: 'Completed', tone: 'success', description: 'Uploaded' };
    case 'failed':
      return { label: 'Failed', tone: 'danger', description: job.error ? job.error.message : 'Failed' };
    case 'canceled':
      return { label: 'Canceled', tone: 'muted', description: 'Canceled' };
    default: {
      const never: never = job.state;
      return { label: String(never), tone: 'neutral', description: String(never) };
    }
  }
}

export function StateChip({ job }: { job: JobView }) {
  const now = useNow(job.state === 'waiting');
  const info = describeState(job, now);
  return (
    <span className={`chip tone-${info.tone}`} title={info.description} data-state={job.state}>
      <span
        className={`chip-dot${job.state === 'uploading' || job.state === 'processing' || job.state === 'finalizing' ? ' is-live' : ''}`}
        aria-hidden="true"
      />
      <span className="chip-label">{info.label}</span>
    </span>
  );
}
