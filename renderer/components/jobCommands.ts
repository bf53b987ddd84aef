import type { JobView } from '../../main/api/contract.ts';
import { copyText } from '../lib/clipboard.ts';
import { transport } from '../store/api.ts';
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

export async function copyJobLink(job: JobView): Promise<void> {
  if (!job.result?.url) return;
  try {
    await copyText(job.result.url);
    pushToast('success', `Link to ${job.name} copied`);
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
  const commands: JobCommand[] = [];
  const may = new Set(job.actions);
  if (may.has('pause'))
    commands.push({
      id: 'pause',
      short: 'Pause',
      label: `Pause ${job.name}`,
      icon: 'pause',
      run: () => void pauseJobs([job.id]),
    });
  if (may.has('resume'))
    commands.push({
      id: 'resume',
      short: 'Resume',
      label: `Resume ${job.name}`,
      icon: 'play',
      run: () => void resumeJobs([job.id]),
    });
  if (may.has('retry'))
    commands.push({
      id: 'retry',
      short: 'Retry',
      label: `Retry ${job.name}`,
      icon: 'retry',
      run: () => void retryJobs([job.id]),
    });
  if (job.result?.url)
    commands.push({
      id: 'copy',
      short: 'Copy link',
      label: `Copy link to ${job.name}`,
      icon: 'link',
      run: () => void copyJobLink(job),
    });
  const host = safeTransport();
  if (host?.revealInFolder && job.sourceKind === 'file' && !job.staged) {
    commands.push({
      id: 'reveal',
      short: 'Show in folder',
      label: `Show ${job.name} in its folder`,
      icon: 'folder',
      run: () => void revealJob(job),
    });
  }
  if (may.has('cancel'))
    commands.push({
      id: 'cancel',
      short: 'Cancel',
      label: `Cancel ${job.name}`,
      icon: 'cancel',
      run: () => void cancelJobs([job.id]),
      danger: true,
    });
  if (may.has('remove'))
    commands.push({
      id: 'remove',
      short: 'Remove',
      label: `Remove ${job.name} from the list`,
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
