/**
 * Managing watched folders: the handlers the CLI, the API table and the renderer's Sync view call.
 * They validate their input (zod at the boundary, then the file system and the account) and change
 * the database only; a running SyncService picks the change up on its next rule poll (or at once
 * through `SyncService.refresh()` when it runs in the same process).
 *
 * Every failure is a FerryError: `invalid` (bad input, not a folder, an account that takes URLs),
 * `not-found` (unknown account or rule) or `conflict` (the folder is already watched for that account,
 * or it overlaps another rule and one of them moves or deletes files).
 */
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, sep } from 'node:path';
import { z } from 'zod';
import type { Account } from '../db/accountsRepository.ts';
import {
  AFTER_UPLOAD_ACTIONS,
  SyncRepository,
  type AfterUpload,
  type SyncFileState,
  type SyncRule,
} from '../db/syncRepository.ts';
import { DEFAULT_MOVE_TO } from '../core/afterUpload.ts';
import { FerryError } from '../core/errors.ts';
import type { Db } from '../db/database.ts';
import { type Queue } from '../engine/queue.ts';
import { isTemporaryName } from './syncFilter.ts';

export { DEFAULT_MOVE_TO };

export const syncRuleInputSchema = z.object({
  /** Account name. */
  account: z.string().trim().min(1, 'a sync rule needs an account (--account NAME)'),
  /** Absolute path of an existing folder. */
  dir: z.string().min(1, 'a sync rule needs a folder'),
  include: z.array(z.string().trim().min(1, 'an include glob cannot be empty')).default([]),
  exclude: z.array(z.string().trim().min(1, 'an exclude glob cannot be empty')).default([]),
  recursive: z.boolean().default(true),
  afterUpload: z.enum(AFTER_UPLOAD_ACTIONS).default('keep'),
  moveTo: z.string().trim().min(1).default(DEFAULT_MOVE_TO),
});

export type SyncRuleInput = z.input<typeof syncRuleInputSchema>;

export interface SyncRuleView extends SyncRule {
  account: string;
  provider: string;
  /** Paths of this rule per state in the sync index. */
  counts: Record<SyncFileState, number>;
  /**
   * The latest refused and failed paths, with the reason (at most 20), then uploaded paths that the
   * rule's move or delete kept, and why (`kept`, at most 20).
   */
  problems: Array<{ path: string; state: 'refused' | 'failed' | 'kept'; reason: string | null }>;
}

/**
 * What the rule handlers work on: the database that holds the rules and the sync index, and the queue
 * on that database (the rules' accounts and their adapters). The composition root hands both in.
 */
export interface SyncStore {
  readonly db: Db;
  readonly queue: Queue;
}

function repository(store: SyncStore): SyncRepository {
  return new SyncRepository(store.db);
}

export async function addSyncRule(store: SyncStore, input: SyncRuleInput): Promise<SyncRuleView> {
  const parsed = syncRuleInputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FerryError(
      'invalid',
      `Cannot add the sync rule: ${issue ? `${issue.path.join('.') || 'input'}: ${issue.message}` : 'invalid input'}`,
    );
  }
  const rule = parsed.data;
  const account = store.queue.accounts.require(rule.account);
  const adapter = store.queue.adapterFor(account.provider);
  if (adapter.capabilities.sources !== 'file') {
    throw new FerryError(
      'invalid',
      `${adapter.displayName} imports files from public URLs; account "${account.name}" cannot take files from a watched folder`,
    );
  }
  if (!isAbsolute(rule.dir))
    throw new FerryError('invalid', `Cannot watch ${rule.dir}: give the folder as an absolute path`);
  const dir = await existingFolder(rule.dir);
  validateMoveTo(rule.afterUpload, rule.moveTo);
  const repo = repository(store);
  const existing = repo.ruleFor(account.id, dir);
  if (existing) {
    throw new FerryError(
      'conflict',
      `${dir} is already watched for "${account.name}" (sync rule #${existing.id}); remove it first to change it`,
    );
  }
  refuseOverlap(store, repo, { dir, recursive: rule.recursive, afterUpload: rule.afterUpload });
  const created = repo.insertRule({
    accountId: account.id,
    dir,
    include: rule.include,
    exclude: rule.exclude,
    recursive: rule.recursive,
    afterUpload: rule.afterUpload,
    moveTo: rule.moveTo,
  });
  return view(store, created);
}

export function listSyncRules(store: SyncStore): SyncRuleView[] {
  const repo = repository(store);
  const counts = repo.countsByRule();
  return repo.rules().map((rule) => view(store, rule, counts));
}

export function getSyncRule(store: SyncStore, id: number): SyncRuleView {
  return view(store, requireRule(store, id));
}

/** Stops watching the folder and forgets its paths; uploaded content is still never sent twice. */
export function removeSyncRule(store: SyncStore, id: number): SyncRule {
  const rule = requireRule(store, id);
  repository(store).removeRule(id);
  return rule;
}

/** Pauses or resumes one rule (the tray's "pause sync" pauses them all with `setAllSyncRulesPaused`). */
export function setSyncRulePaused(store: SyncStore, id: number, paused: boolean): SyncRuleView {
  requireRule(store, id);
  repository(store).setRulePaused(id, paused);
  return getSyncRule(store, id);
}

export function setAllSyncRulesPaused(store: SyncStore, paused: boolean): SyncRuleView[] {
  const repo = repository(store);
  for (const rule of repo.rules()) repo.setRulePaused(rule.id, paused);
  return listSyncRules(store);
}

function requireRule(store: SyncStore, id: number): SyncRule {
  const rule = Number.isInteger(id) ? repository(store).rule(id) : undefined;
  if (!rule) throw new FerryError('not-found', `No sync rule #${id} (the list of watched folders shows them)`);
  return rule;
}

async function existingFolder(dir: string): Promise<string> {
  let info;
  try {
    info = await stat(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such folder' : `cannot read it (${code ?? String(error)})`;
    throw new FerryError('invalid', `Cannot watch ${dir}: ${why}`);
  }
  if (!info.isDirectory()) throw new FerryError('invalid', `Cannot watch ${dir}: it is a file, not a folder`);
  // The canonical path, so that the same folder reached through a symlink is one rule, not two.
  return realpath(dir);
}

/**
 * Two rules that can see the same file, where one moves or deletes it, race: the file can be gone
 * before the other rule's upload (to another account, or again to the same one) read it. Such a rule
 * is refused; rules that only keep files may overlap (each account gets its copy).
 */
function refuseOverlap(
  store: SyncStore,
  repo: SyncRepository,
  wanted: { dir: string; recursive: boolean; afterUpload: AfterUpload },
): void {
  for (const existing of repo.rules()) {
    if (wanted.afterUpload === 'keep' && existing.afterUpload === 'keep') continue;
    if (!rulesOverlap(wanted, existing)) continue;
    const account = store.queue.accounts.get(existing.accountId)?.name ?? `account #${existing.accountId}`;
    const how =
      existing.dir === wanted.dir
        ? 'is the folder of'
        : isInside(wanted.dir, existing.dir)
          ? 'is inside the folder of'
          : 'contains the folder of';
    const destructive =
      wanted.afterUpload !== 'keep'
        ? `this rule would ${wanted.afterUpload} its files`
        : `sync rule #${existing.id} ${existing.afterUpload}s its files`;
    throw new FerryError(
      'conflict',
      `Cannot watch ${wanted.dir}: it ${how} sync rule #${existing.id} (${existing.dir} -> "${account}") and ${destructive}, so a file could be gone before the other rule uploads it. Use "keep" for both rules, or folders that do not contain each other`,
    );
  }
}

/** Whether a file can belong to both rules: the same folder, or one inside a folder watched with its subfolders. */
export function rulesOverlap(a: { dir: string; recursive: boolean }, b: { dir: string; recursive: boolean }): boolean {
  if (a.dir === b.dir) return true;
  if (isInside(a.dir, b.dir)) return b.recursive;
  if (isInside(b.dir, a.dir)) return a.recursive;
  return false;
}

/** `inner` is a folder below `outer`. */
function isInside(inner: string, outer: string): boolean {
  const rel = relative(outer, inner);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

function validateMoveTo(afterUpload: AfterUpload, moveTo: string): void {
  if (afterUpload !== 'move') return;
  if (moveTo === '.' || moveTo === '..' || /[\\/]/.test(moveTo) || isTemporaryName(moveTo)) {
    throw new FerryError(
      'invalid',
      `"${moveTo}" cannot be the folder uploaded files move to: give a plain subfolder name such as "uploaded"`,
    );
  }
}

function view(
  store: SyncStore,
  rule: SyncRule,
  allCounts?: Map<number, Partial<Record<SyncFileState, number>>>,
): SyncRuleView {
  const repo = repository(store);
  const account: Account | undefined = store.queue.accounts.get(rule.accountId);
  const stored = (allCounts ?? repo.countsByRule()).get(rule.id) ?? {};
  const counts: Record<SyncFileState, number> = {
    pending: 0,
    queued: 0,
    uploaded: 0,
    duplicate: 0,
    refused: 0,
    failed: 0,
  };
  for (const [state, n] of Object.entries(stored)) counts[state as SyncFileState] = n;
  const problems = repo
    .files({ ruleId: rule.id, states: ['refused', 'failed'], limit: 20 })
    .map((file) => ({ path: file.path, state: file.state as 'refused' | 'failed' | 'kept', reason: file.reason }));
  if (rule.afterUpload !== 'keep') {
    for (const file of repo.keptFiles(rule.id, 20))
      problems.push({ path: file.path, state: 'kept', reason: file.reason });
  }
  return {
    ...rule,
    account: account?.name ?? `#${rule.accountId}`,
    provider: account?.provider ?? '?',
    counts,
    problems,
  };
}
