import { formatCopiedLink, type JobView } from '../../main/api/contract.ts';
import { locale, t } from '../i18n.ts';
import { fixedText, namedText } from '../lib/cachedText.ts';
import { copyText } from '../lib/clipboard.ts';
import { transport } from '../store/api.ts';
import { ferryStore } from '../store/store.ts';
import { cancelJobs, pauseJobs, removeJobs, resumeJobs, retryJobs } from '../store/jobActions.ts';
import { pushToast, toastError } from '../store/toasts.ts';
import type { IconName } from './Icon.tsx';

export interface JobCommand {
  id: 'pause' | 'resume' | 'retry' | 'cancel' | 'copy' | 'reveal' | 'remove';
  label: string;
  /** The label without the file name, for buttons next to it. */
  short: string;
  icon: IconName;
  run: () => void;
  danger?: boolean;
}

export async function revealJob(job: JobView): Promise<void> {
  const reveal = safeTransport()?.revealInFolder;
  if (!reveal) return;
  try {
    await reveal(job.id);
  } catch (error) {
    toastError(error);
  }
}

/** Copies a finished job's link in the style of the auto-copy setting (the plain URL when that is off). */
export async function copyJobLink(job: JobView): Promise<void> {
  if (!job.result?.url) return;
  const style = ferryStore.getState().settings?.autoCopyLink ?? 'off';
  const text = formatCopiedLink(style === 'off' ? 'url' : style, {
    url: job.result.url,
    name: job.name,
    mime: job.mime,
  });
  if (!text) return;
  try {
    await copyText(text);
    pushToast('success', t('job.linkCopied', { name: job.name }));
  } catch (error) {
    toastError(error);
  }
}

/**
 * The actions that make sense for a job in its current state, most useful first. Which of pause,
 * resume, retry, cancel and remove apply comes from the server (`job.actions`, computed from the
 * engine's state table), so the window never offers what the engine would refuse.
 */
export function commandsFor(job: JobView): JobCommand[] {
  // A row re-renders with every progress message while its job object stays the same: the labels
  // (translated, with the file name) are made once per job version and language, not per frame.
  const cached = cache.get(job);
  const host = safeTransport();
  if (cached && cached.language === locale() && cached.host === host) return cached.commands;
  const commands = buildCommands(job, host);
  cache.set(job, { language: locale(), host, commands });
  return commands;
}

const cache = new WeakMap<JobView, { language: string; host: unknown; commands: JobCommand[] }>();

function buildCommands(job: JobView, host: ReturnType<typeof safeTransport>): JobCommand[] {
  const commands: JobCommand[] = [];
  const may = new Set(job.actions);
  if (may.has('pause'))
    commands.push({
      id: 'pause',
      short: fixedText('job.cmd.pause'),
      label: namedText('job.cmd.pauseNamed', job.name),
      icon: 'pause',
      run: () => void pauseJobs([job.id]),
    });
  if (may.has('resume'))
    commands.push({
      id: 'resume',
      short: fixedText('job.cmd.resume'),
      label: namedText('job.cmd.resumeNamed', job.name),
      icon: 'play',
      run: () => void resumeJobs([job.id]),
    });
  if (may.has('retry'))
    commands.push({
      id: 'retry',
      short: fixedText('job.cmd.retry'),
      label: namedText('job.cmd.retryNamed', job.name),
      icon: 'retry',
      run: () => void retryJobs([job.id]),
    });
  if (job.result?.url)
    commands.push({
      id: 'copy',
      short: fixedText('job.cmd.copy'),
      label: namedText('job.cmd.copyNamed', job.name),
      icon: 'link',
      run: () => void copyJobLink(job),
    });
  if (host?.revealInFolder && job.sourceKind === 'file' && !job.staged) {
    commands.push({
      id: 'reveal',
      short: fixedText('job.cmd.reveal'),
      label: namedText('job.cmd.revealNamed', job.name),
      icon: 'folder',
      run: () => void revealJob(job),
    });
  }
  if (may.has('cancel'))
    commands.push({
      id: 'cancel',
      short: fixedText('job.cmd.cancel'),
      label: namedText('job.cmd.cancelNamed', job.name),
      icon: 'cancel',
      run: () => void cancelJobs([job.id]),
      danger: true,
    });
  if (may.has('remove'))
    commands.push({
      id: 'remove',
      short: fixedText('job.cmd.remove'),
      label: namedText('job.cmd.removeNamed', job.name),
      icon: 'trash',
      run: () => void removeJobs([job.id]),
      danger: true,
    });
  return commands;
}

function safeTransport() {
  try {
    return transport();
  } catch {
    return null;
  }
}
