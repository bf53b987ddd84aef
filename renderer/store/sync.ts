/**
 * Watched folders: read when the Sync view first shows (and after reconnecting), kept fresh by the
 * sync.changed event, changed by the view's buttons and form. Refusals of the form are thrown so that
 * it can show them next to the fields; the others become toasts.
 */
import type { SyncAddInput, SyncRuleInfo, SyncTrashEntry } from '../../main/api/contract.ts';
import { t } from '../i18n.ts';
import { call } from './api.ts';
import { ferryStore } from './store.ts';
import { pushToast, toastError } from './toasts.ts';

export function applySyncRules(rules: SyncRuleInfo[]): void {
  ferryStore.setState({ syncRules: rules, syncReady: true });
}

function upsertRule(rule: SyncRuleInfo): void {
  ferryStore.setState((s) => {
    const index = s.syncRules.findIndex((r) => r.id === rule.id);
    return { syncRules: index === -1 ? [...s.syncRules, rule] : s.syncRules.map((r) => (r.id === rule.id ? rule : r)) };
  });
}

export async function loadSyncRules(): Promise<void> {
  try {
    applySyncRules(await call('sync.list'));
  } catch (error) {
    toastError(error);
  }
}

/** Watches a folder; throws the server's refusal (not a folder, already watched...) for the form. */
export async function addSyncRule(input: SyncAddInput): Promise<SyncRuleInfo> {
  const rule = await call('sync.add', input);
  upsertRule(rule);
  pushToast('success', t('toast.syncAdded', { dir: rule.dir, account: rule.accountName ?? t('toast.theAccount') }));
  return rule;
}

export async function removeSyncRule(rule: SyncRuleInfo): Promise<void> {
  try {
    await call('sync.remove', { id: rule.id });
    ferryStore.setState((s) => ({ syncRules: s.syncRules.filter((r) => r.id !== rule.id) }));
    pushToast('info', t('toast.syncRemoved', { dir: rule.dir }));
  } catch (error) {
    toastError(error);
  }
}

export async function setSyncRulePaused(id: number, paused: boolean): Promise<void> {
  try {
    upsertRule(await call(paused ? 'sync.pause' : 'sync.resume', { id }));
  } catch (error) {
    toastError(error);
  }
}

export async function setAllSyncPaused(paused: boolean): Promise<void> {
  try {
    applySyncRules(await call(paused ? 'sync.pauseAll' : 'sync.resumeAll'));
  } catch (error) {
    toastError(error);
  }
}

/** Files that "delete" rules put in Ferry's trash; an empty list when it cannot be read (older main). */
export async function loadSyncTrash(): Promise<SyncTrashEntry[]> {
  try {
    return await call('sync.trashList');
  } catch {
    return [];
  }
}

/** Puts a trashed file back; the refusal (a file is there now) becomes a toast. True when restored. */
export async function restoreSyncTrash(entry: SyncTrashEntry): Promise<boolean> {
  try {
    await call('sync.trashRestore', { id: entry.id });
    pushToast('success', t('toast.restored', { path: entry.path }));
    return true;
  } catch (error) {
    toastError(error);
    return false;
  }
}
