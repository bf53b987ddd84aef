import { memo } from 'react';
import type { JobView } from '../../main/api/contract.ts';
import { useTranslation } from 'react-i18next';
import { rowT } from '../lib/cachedText.ts';
import { formatDuration } from '../lib/format.ts';
import { networkWaitOf } from '../lib/networkWait.ts';
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
export function describeState(
  job: JobView,
  now: number,
  t: (key: string, options?: Record<string, unknown>) => string,
): ChipInfo {
  // Waiting for an unreachable host: no retry is used up and no countdown runs (the host is probed).
  const network = job.state === 'waiting' ? networkWaitOf(job.error?.message) : null;
  if (network)
    return {
      label: t('network.waiting'),
      tone: 'warning',
      description: t('network.waitingHint', { host: network.host, code: network.code }),
    };
  const countdown = job.nextAttemptAt !== null ? formatDuration(Math.max(0, (job.nextAttemptAt - now) / 1000)) : null;
  switch (job.state) {
    case 'queued':
      return { label: t('state.queued'), tone: 'neutral', description: t('state.queuedHint') };
    case 'uploading':
      return { label: t('state.uploading'), tone: 'accent', description: t('state.uploadingHint') };
    case 'waiting':
      if (job.error?.kind === 'rate-limited') {
        return {
          label: countdown ? t('state.rateLimitedIn', { countdown }) : t('state.rateLimited'),
          tone: 'orange',
          description: countdown ? t('state.rateLimitedHintIn', { countdown }) : t('state.rateLimitedHint'),
        };
      }
      return {
        label: countdown
          ? t('state.retryIn', { n: job.attempts + 1, countdown })
          : t('state.retrySoon', { n: job.attempts + 1 }),
        tone: 'warning',
        description: job.error
          ? t('state.attemptFailedWhy', { n: job.attempts, message: job.error.message })
          : t('state.attemptFailed', { n: job.attempts }),
      };
    case 'paused':
      return { label: t('state.paused'), tone: 'muted', description: t('state.pausedHint') };
    case 'finalizing':
      return {
        label: t('state.finalizing'),
        tone: 'teal',
        description: t('state.finalizingHint'),
      };
    case 'processing':
      return { label: t('state.processing'), tone: 'teal', description: t('state.processingHint') };
    case 'completed':
      return { label: t('state.completed'), tone: 'success', description: t('state.completedHint') };
    case 'failed':
      return {
        label: t('state.failed'),
        tone: 'danger',
        description: job.error ? job.error.message : t('state.failed'),
      };
    case 'canceled':
      return { label: t('state.canceled'), tone: 'muted', description: t('state.canceled') };
    default: {
      const never: never = job.state;
      return { label: String(never), tone: 'neutral', description: String(never) };
    }
  }
}

/**
 * Only the fields describeState reads decide whether the chip renders again: a recycled list row that
 * now shows another job in the same state (a scroll) leaves the chip alone. A language change or the
 * countdown's tick still re-render it through its own hooks.
 */
function sameChip(a: { job: JobView }, b: { job: JobView }): boolean {
  return (
    a.job.state === b.job.state &&
    a.job.attempts === b.job.attempts &&
    a.job.nextAttemptAt === b.job.nextAttemptAt &&
    a.job.error?.kind === b.job.error?.kind &&
    a.job.error?.message === b.job.error?.message
  );
}

export const StateChip = memo(function StateChip({ job }: { job: JobView }) {
  const now = useNow(job.state === 'waiting');
  // Subscribed for the re-render when the language changes; the texts come from the per-language cache.
  useTranslation();
  const info = describeState(job, now, rowT);
  return (
    <span className={`chip tone-${info.tone}`} title={info.description} data-state={job.state}>
      <span
        className={`chip-dot${job.state === 'uploading' || job.state === 'processing' || job.state === 'finalizing' ? ' is-live' : ''}`}
        aria-hidden="true"
      />
      <span className="chip-label">{info.label}</span>
    </span>
  );
}, sameChip);
