/**
 * Auto-copy under `ferry serve`: when an upload completes and the setting `autoCopyLink` is not off,
 * its link goes to the browser's clipboard in the chosen style. The desktop app copies in the main
 * process (Electron's clipboard, also while the window is hidden), so the window leaves it alone there
 * rather than copy twice.
 */
import { formatCopiedLink, type JobsChanged } from '../../main/api/contract.ts';
import { t } from '../i18n.ts';
import { copyText } from '../lib/clipboard.ts';
import { ferryStore } from './store.ts';
import { pushToast } from './toasts.ts';

/** Jobs whose link was copied already: a completed job can be announced again (details, a refresh). */
const copied = new Set<number>();

/** Call with a jobs.changed event before the store takes it in (it compares with the job's last state). */
export function autoCopyCompleted(change: JobsChanged): void {
  const { settings, jobs } = ferryStore.getState();
  const style = settings?.autoCopyLink ?? 'off';
  if (style === 'off') return;
  for (const job of change.jobs) {
    if (job.state !== 'completed' || !job.result?.url || copied.has(job.id)) continue;
    if (jobs.get(job.id)?.state === 'completed') continue;
    copied.add(job.id);
    const text = formatCopiedLink(style, { url: job.result.url, name: job.name, mime: job.mime });
    if (!text) continue;
    copyText(text).then(
      () => pushToast('success', t('autoCopy.copied', { name: job.name })),
      // A browser copies only while the page has focus: say so once rather than fail silently.
      () => pushToast('info', t('autoCopy.failed', { name: job.name })),
    );
  }
}
