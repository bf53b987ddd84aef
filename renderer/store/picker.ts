/**
 * The drop picker: what was dropped or pasted waits here while the user picks an account. Items the
 * chosen account's provider cannot take are shown with the reason and left out of the upload.
 */
import type { AccountInfo, ProviderInfo } from '../../main/api/contract.ts';
import { refusalReason } from '../lib/accepts.ts';
import { formatBytes } from '../lib/format.ts';
import { t } from '../i18n.ts';
import { call, transport } from './api.ts';
import { scheduleRefresh } from './lists.ts';
import { ferryStore } from './store.ts';
import { scheduleSummary } from './summary.ts';
import type { PendingItem } from './slices.ts';
import { pushToast } from './toasts.ts';

export const LAST_ACCOUNT_KEY = 'ferry.lastAccount';
/** Files sent to the staging endpoint at once (browser uploads under `ferry serve`). */
const STAGE_PARALLEL = 3;

let nextKey = 1;

export function rememberedAccount(accounts: AccountInfo[]): string | null {
  let last: string | null = null;
  try {
    last = localStorage.getItem(LAST_ACCOUNT_KEY);
  } catch {
    last = null;
  }
  if (last && accounts.some((a) => a.name === last)) return last;
  return accounts[0]?.name ?? null;
}

export function openPicker(input: { files: File[]; urls: string[]; skipped?: number }): void {
  const items: PendingItem[] = [
    ...input.files.map((file) => ({
      key: `f${nextKey++}`,
      name: file.name,
      size: file.size,
      type: file.type,
      kind: 'file' as const,
      file,
      url: null,
    })),
    ...input.urls.map((url) => ({
      key: `u${nextKey++}`,
      name: nameFromUrl(url),
      size: null,
      type: '',
      kind: 'url' as const,
      file: null,
      url,
    })),
  ];
  if (items.length === 0) {
    if (input.skipped) pushToast('info', t('toast.onlySystemFiles', { count: input.skipped }));
    return;
  }
  const { accounts } = ferryStore.getState();
  ferryStore.setState({
    picker: { items, skipped: input.skipped ?? 0, accountName: rememberedAccount(accounts), busy: false, error: null },
  });
}

export function nameFromUrl(url: string): string {
  try {
    const path = new URL(url).pathname;
    const last = decodeURIComponent(path.split('/').filter(Boolean).pop() ?? '');
    return last || url;
  } catch {
    return url;
  }
}

export function closePicker(): void {
  ferryStore.setState({ picker: null });
}

export function choosePickerAccount(name: string): void {
  try {
    localStorage.setItem(LAST_ACCOUNT_KEY, name);
  } catch {
    // The choice is still used for this drop.
  }
  ferryStore.setState((s) => (s.picker ? { picker: { ...s.picker, accountName: name, error: null } } : {}));
}

export function removePickerItem(key: string): void {
  ferryStore.setState((s) => {
    if (!s.picker) return {};
    const items = s.picker.items.filter((item) => item.key !== key);
    return { picker: items.length === 0 ? null : { ...s.picker, items } };
  });
}

export interface Verdict {
  item: PendingItem;
  reason: string | null;
}

export function judge(items: PendingItem[], provider: ProviderInfo | undefined): Verdict[] {
  return items.map((item) => ({ item, reason: provider ? refusalReason(item, provider) : null }));
}

/** Queues the items the chosen account can take. */
export async function submitPicker(): Promise<void> {
  const state = ferryStore.getState();
  const picker = state.picker;
  if (!picker || !picker.accountName || picker.busy) return;
  const account = state.accounts.find((a) => a.name === picker.accountName);
  const provider = state.providers.find((p) => p.id === account?.provider);
  const accepted = judge(picker.items, provider)
    .filter((v) => v.reason === null)
    .map((v) => v.item);
  if (!account || accepted.length === 0) return;
  ferryStore.setState({ picker: { ...picker, busy: true, error: null } });

  const host = transport();
  const urls = accepted.filter((item) => item.kind === 'url').map((item) => item.url!);
  const files = accepted.filter((item) => item.kind === 'file');
  // Files with a path on disk are queued by path (desktop); the rest (every file in a browser, a
  // pasted screenshot on the desktop) have their bytes sent to the host's staging, when it has one.
  const paths: string[] = [];
  const withoutPath: PendingItem[] = [];
  for (const item of files) {
    const path = host.kind === 'electron' ? host.pathForFile(item.file!) : null;
    if (path) paths.push(path);
    else withoutPath.push(item);
  }
  const direct = [...urls, ...paths];

  // Things the server refuses at once (nothing was queued) keep the picker open with the reason.
  if (direct.length > 0) {
    try {
      await call('jobs.enqueue', { account: account.name, paths: direct });
    } catch (error) {
      ferryStore.setState((s) =>
        s.picker
          ? { picker: { ...s.picker, busy: false, error: error instanceof Error ? error.message : String(error) } }
          : {},
      );
      return;
    }
  }
  ferryStore.setState({ picker: null, view: 'queue' });
  const staged = host.stageFile ? withoutPath : [];
  if (!host.stageFile && withoutPath.length > 0) pushToast('warning', t('toast.noPath', { count: withoutPath.length }));
  if (staged.length > 0) await stageFiles(staged, account.name);
  const queued = direct.length + staged.length;
  if (queued > 0 && staged.length === 0)
    pushToast('success', t('toast.queued', { count: queued, account: account.name }));
  scheduleRefresh('queue', 50);
  scheduleSummary(100);
}

/** Sends dropped files' bytes to `ferry serve`, a few at a time, showing overall progress. */
async function stageFiles(items: PendingItem[], accountName: string): Promise<void> {
  const stage = transport().stageFile;
  if (!stage) return;
  const total = items.reduce((sum, item) => sum + (item.size ?? 0), 0);
  const sentBy = new Map<string, number>();
  const report = (): void => {
    const sent = [...sentBy.values()].reduce((a, b) => a + b, 0);
    ferryStore.setState({ staging: { files: items.length, sent, total } });
  };
  report();
  const failures: string[] = [];
  let done = 0;
  const queue = [...items];
  const worker = async (): Promise<void> => {
    for (let item = queue.shift(); item; item = queue.shift()) {
      const key = item.key;
      try {
        await stage(item.file!, accountName, (sent) => {
          sentBy.set(key, sent);
          report();
        });
        done += 1;
        scheduleRefresh('queue', 150);
      } catch (error) {
        failures.push(`${item.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
      sentBy.set(key, item.size ?? 0);
      report();
    }
  };
  await Promise.all(Array.from({ length: Math.min(STAGE_PARALLEL, items.length) }, worker));
  ferryStore.setState({ staging: null });
  if (done > 0)
    pushToast('success', t('toast.staged', { count: done, size: formatBytes(total), account: accountName }));
  if (failures.length > 0)
    pushToast(
      'error',
      `${t('toast.notQueued', { count: failures.length })} ${failures[0]}${failures.length > 1 ? ' …' : ''}`,
    );
}
