/**
 * Watched folders as the UI sees them: the rule, what the sync index says about its files, and what
 * the SyncService of this process says about its watcher. Built field by field, like `views.ts`.
 */
import type { Queue } from '../engine/queue.ts';
import type { SyncRuleStatus } from '../sync/syncService.ts';
import { getSyncRule, listSyncRules, type SyncRuleView, type SyncStore } from '../sync/syncRules.ts';
import type { TrashView } from '../sync/syncTrash.ts';
import type { SyncRuleInfo, SyncRuleState, SyncTrashEntry } from './contract.ts';

/** The part of a SyncService the API reads and drives (a fake in tests). */
export interface SyncHost {
  /** Per active or failing rule: watched, or why not. */
  status(): SyncRuleStatus[];
  /** Files waiting to be complete or queued, per rule id. */
  pendingByRule(): Map<number, number>;
  /** Re-reads the rules now (instead of at the next poll). */
  refresh(): Promise<void>;
}

/** Why a rule shows `elsewhere`: said once, here, so the list and the tray use the same words. */
export const ELSEWHERE_MESSAGE = 'Watched by the other Ferry process, the one that runs the uploads';

export function syncRuleInfo(
  queue: Queue,
  rule: SyncRuleView,
  host: SyncHost | null,
  statuses = host?.status() ?? [],
  pending = host?.pendingByRule(),
): SyncRuleInfo {
  const account = queue.accounts.get(rule.accountId);
  let status: SyncRuleState;
  let statusMessage: string | null = null;
  const watched = statuses.find((entry) => entry.ruleId === rule.id);
  if (rule.paused) status = 'paused';
  else if (!host) {
    status = 'elsewhere';
    statusMessage = ELSEWHERE_MESSAGE;
  } else if (watched?.error) {
    status = 'error';
    statusMessage = watched.error;
  } else if (watched?.watching) status = 'watching';
  else status = 'starting';
  return {
    id: rule.id,
    accountId: rule.accountId,
    accountName: account?.name ?? null,
    provider: account?.provider ?? null,
    dir: rule.dir,
    include: [...rule.include],
    exclude: [...rule.exclude],
    recursive: rule.recursive,
    afterUpload: rule.afterUpload,
    moveTo: rule.afterUpload === 'move' ? rule.moveTo : null,
    paused: rule.paused,
    status,
    statusMessage,
    counts: {
      uploaded: rule.counts.uploaded,
      queued: rule.counts.queued,
      // Files the watcher waits on, and those recorded between hashing and their job existing.
      pending: (pending?.get(rule.id) ?? 0) + rule.counts.pending,
      refused: rule.counts.refused,
      failed: rule.counts.failed,
      duplicate: rule.counts.duplicate,
    },
    problems: rule.problems.map((problem) => ({ path: problem.path, state: problem.state, reason: problem.reason })),
    createdAt: rule.createdAt,
  };
}

export function syncRuleInfos(store: SyncStore, host: SyncHost | null): SyncRuleInfo[] {
  const statuses = host?.status() ?? [];
  const pending = host?.pendingByRule();
  return listSyncRules(store).map((rule) => syncRuleInfo(store.queue, rule, host, statuses, pending));
}

export function syncRuleInfoById(store: SyncStore, host: SyncHost | null, id: number): SyncRuleInfo {
  return syncRuleInfo(store.queue, getSyncRule(store, id), host);
}

/** A trash entry as the API and `ferry sync trash list --json` show it. */
export function trashEntryView(entry: TrashView): SyncTrashEntry {
  return {
    id: entry.id,
    path: entry.originalPath,
    trashPath: entry.trashPath,
    size: entry.size,
    sha256: entry.sha256,
    ruleId: entry.ruleId,
    jobId: entry.jobId,
    trashedAt: entry.trashedAt,
    expiresAt: entry.expiresAt,
    present: entry.present,
    restoredAt: entry.restoredAt,
  };
}
