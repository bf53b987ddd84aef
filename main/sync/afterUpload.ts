/**
 * The after-upload action of a rule (move to a subfolder, or delete into Ferry's trash). It is
 * destructive, so it waits and checks, and when in doubt keeps the file and says why (the path's
 * `reason`):
 * - only after the job completed, and only when the file's content hash, taken right before acting,
 *   is the hash of bytes a completed job of the account really sent (`jobs.sent_sha256`, confirmed
 *   part by part by the runner), so bytes that never reached the provider are never moved or deleted;
 * - only once the file has not changed (mtime and ctime) for the quiet period (setting
 *   `syncQuietSeconds`, default 60 s), checked again right before acting: a writer that pauses
 *   longer than the stability check (a slow NAS, a phone, a card reader) is still writing;
 * - never while another process has it open where the platform can tell (openFiles.ts), while an
 *   unfinished job of any account still reads it, or while another rule that watches the same path
 *   has not uploaded that content to its own account;
 * - never over another file: moves and deletes go through placeFile.ts (link + unlink, or a checked
 *   exclusive copy across devices), and "delete" moves the file into Ferry's trash (syncTrash.ts).
 * Actions run one after another; a file that has to wait is looked at again later (`#defer`).
 */
import { join } from 'node:path';
import type { SyncFile, SyncRule } from '../db/syncRepository.ts';
import { openFileSource } from '../engine/fileSource.ts';
import type { IntakeBatcher } from './intakeBatcher.ts';
import { whoHasOpen } from './openFiles.ts';
import { SourceChangedError, identityOf, placeFile, sameIdentity, type FileIdentity } from './placeFile.ts';
import { keyOf, type SyncContext } from './syncContext.ts';
import { readSyncSetting } from './syncSettings.ts';
import { createSyncFilter } from './syncFilter.ts';
import { moveToTrash } from './syncTrash.ts';
import type { SyncWatchers } from './syncWatchers.ts';

export interface AfterUploadOptions {
  /** How long a file must go unchanged before it is moved or deleted; undefined: the setting, read each time. */
  quietPeriodMs?: number;
  /** How soon a file kept because it is in use is looked at again; undefined: the quiet period, at least 1 s. */
  inUseRecheckMs?: number;
}

export class AfterUpload {
  readonly #context: SyncContext;
  readonly #batcher: IntakeBatcher;
  readonly #watchers: SyncWatchers;
  readonly #options: AfterUploadOptions;
  /** After-upload actions waiting to be looked at again, per key; `counts`: part of `whenSettled`. */
  readonly #deferred = new Map<string, { timer: NodeJS.Timeout; counts: boolean }>();
  /** After-upload actions run one after another on this chain. */
  #actions: Promise<void> = Promise.resolve();

  constructor(
    context: SyncContext,
    parts: { batcher: IntakeBatcher; watchers: SyncWatchers },
    options: AfterUploadOptions,
  ) {
    this.#context = context;
    this.#batcher = parts.batcher;
    this.#watchers = parts.watchers;
    this.#options = options;
  }

  /** The chain of actions as it is now: settles once every action queued so far has run. */
  get running(): Promise<void> {
    return this.#actions;
  }

  /** Whether the path waits to be looked at again (kept for the quiet period or while in use). */
  isWaiting(ruleId: number, path: string): boolean {
    return this.#deferred.has(keyOf(ruleId, path));
  }

  /** Stops every wait: a file kept for now is looked at again by the next start's reconciliation. */
  cancelAll(): void {
    for (const key of [...this.#deferred.keys()]) this.#cancelDeferred(key);
  }

  /**
   * Queues the rule's action for an uploaded file (nothing for a rule that keeps its files, or a file
   * already moved, deleted or restored). Failures are reported, and the file is kept.
   */
  schedule(file: SyncFile): void {
    const rule = this.#context.repo.rule(file.ruleId);
    if (!rule || rule.afterUpload === 'keep' || file.disposition !== null || file.restoredAt !== null) return;
    this.#cancelDeferred(keyOf(rule.id, file.path));
    this.#context.beginWork();
    this.#actions = this.#actions
      .then(() => this.#dispose(rule, file))
      .catch((error: unknown) =>
        this.#context.report(error, `Applying "${rule.afterUpload}" to ${file.path} (the file is kept)`),
      )
      .finally(() => {
        this.#context.endWork();
        this.#context.checkSettled();
      });
  }

  /** The quiet period in force now (the option, else the setting, read each time so a change applies). */
  #quietMs(): number {
    return this.#options.quietPeriodMs ?? readSyncSetting(this.#context.db, 'syncQuietSeconds') * 1000;
  }

  /**
   * Looks at a kept file again after `ms`. A wait for the quiet period is bounded, so it counts as
   * work in progress (`whenSettled`, and `ferry run --until-idle`, wait for it); a wait for a file in
   * use is not, and happens only while watching (otherwise the next start's reconciliation looks again).
   */
  #defer(file: SyncFile, ms: number, counts: boolean): void {
    if (!this.#context.started() || (!counts && !this.#context.watching())) return;
    const key = keyOf(file.ruleId, file.path);
    this.#cancelDeferred(key);
    if (counts) this.#context.beginWork();
    const timer = setTimeout(
      () => {
        this.#deferred.delete(key);
        const fresh = this.#context.repo.file(file.ruleId, file.path);
        if (fresh && this.#context.started()) this.schedule(fresh);
        if (counts) this.#context.endWork();
        this.#context.checkSettled();
      },
      Math.max(0, ms),
    );
    this.#deferred.set(key, { timer, counts });
  }

  #cancelDeferred(key: string): void {
    const deferred = this.#deferred.get(key);
    if (!deferred) return;
    clearTimeout(deferred.timer);
    this.#deferred.delete(key);
    if (deferred.counts) this.#context.endWork();
  }

  #inUseRecheckMs(): number {
    return this.#options.inUseRecheckMs ?? Math.max(1_000, this.#quietMs());
  }

  /** Records why the action did not run (once per new reason) and tells listeners. */
  #keep(file: SyncFile, reason: string): void {
    const current = this.#context.repo.file(file.ruleId, file.path);
    if (!current || current.reason === reason) return;
    this.#context.repo.setFileState(file.ruleId, file.path, current.state, { reason });
    this.#context.emitFile({ ruleId: file.ruleId, path: file.path, state: 'kept', jobId: current.jobId, reason });
  }

  async #dispose(rule: SyncRule, file: SyncFile): Promise<void> {
    const current = this.#context.repo.file(file.ruleId, file.path);
    if (
      !current ||
      current.disposition !== null ||
      current.restoredAt !== null ||
      (current.state !== 'uploaded' && current.state !== 'duplicate')
    )
      return;
    const doing = rule.afterUpload === 'delete' ? "moving it to Ferry's trash" : `moving it to ${rule.moveTo}/`;
    const account = this.#context.queue.accounts.get(current.accountId)?.name ?? `account #${current.accountId}`;
    const first = await identityOf(file.path);
    // Gone, or a new version: the watcher and the rescan take a new version through the whole
    // pipeline again (its own upload, its own action).
    if (!first || first.size !== current.size || first.mtimeMs !== current.mtimeMs) return;

    const quietMs = this.#quietMs();
    const wait = quietLeft(first, quietMs);
    if (wait > 0) {
      this.#keep(current, `Uploaded; waiting until it has not changed for ${describeMs(quietMs)} before ${doing}`);
      this.#defer(current, wait, true);
      return;
    }
    if (this.#stillRead(current, doing)) return;

    let sha256: string;
    try {
      sha256 = await openFileSource(file.path, first.size).digest('sha256');
    } catch {
      return; // gone or unreadable: nothing to do with it
    }
    if (!this.#context.queue.jobs.completedWithSentContent(current.accountId, sha256)) {
      if (current.sha256 !== null && current.sha256 !== sha256 && this.#watchers.isActive(rule.id)) {
        // Rewritten in place with its size and mtime put back (cp -p, some importers): only the
        // content tells. It is a new version: forget the record and take it through the pipeline.
        this.#context.repo.removeFile(rule.id, file.path);
        this.#batcher.observe(keyOf(rule.id, file.path), file.path);
        return;
      }
      // The index may say "uploaded" for this path, but no completed job sent these exact bytes.
      this.#keep(
        current,
        `Kept: no completed upload to "${account}" sent exactly this content (SHA-256 ${sha256.slice(0, 12)}…); Ferry only moves or deletes bytes that reached the provider`,
      );
      return;
    }
    for (const other of this.#context.repo.rules()) {
      if (other.id === rule.id || !createSyncFilter(other).accepts(file.path)) continue;
      if (!this.#context.queue.jobs.completedWithSentContent(other.accountId, sha256)) {
        const otherAccount = this.#context.queue.accounts.get(other.accountId)?.name ?? `account #${other.accountId}`;
        this.#keep(
          current,
          `Kept for now: sync rule #${other.id} also watches it and has not uploaded it to "${otherAccount}" yet`,
        );
        this.#defer(current, this.#inUseRecheckMs(), false);
        return;
      }
    }

    // Right before acting: the file is still the one hashed, still quiet, read by no job and open in
    // no other process.
    const before = await identityOf(file.path);
    if (!before) return;
    if (!sameIdentity(before, first)) {
      if (before.size === first.size && before.mtimeMs === first.mtimeMs)
        this.#defer(current, quietLeft(before, quietMs), true);
      return;
    }
    if (quietLeft(before, quietMs) > 0 || this.#stillRead(current, doing)) return;
    const open = await whoHasOpen([file.path]);
    if (open.kind === 'known' && open.holders.has(file.path)) {
      const pids = open.holders.get(file.path)!.join(', ');
      this.#keep(current, `Uploaded; kept while another program (process ${pids}) still has it open, before ${doing}`);
      this.#defer(current, this.#inUseRecheckMs(), false);
      return;
    }
    if (open.kind === 'incomplete') {
      this.#keep(
        current,
        `Uploaded; kept because Ferry could not check whether another program has it open (${open.reason})`,
      );
      this.#defer(current, this.#inUseRecheckMs(), false);
      return;
    }

    this.#batcher.forget(keyOf(rule.id, file.path));
    try {
      if (rule.afterUpload === 'delete') {
        const entry = await moveToTrash(
          this.#context.db,
          { ruleId: rule.id, accountId: current.accountId, path: file.path, jobId: current.jobId },
          before,
          sha256,
        );
        this.#context.repo.setDisposition(rule.id, file.path, 'deleted', entry.trashPath);
        this.#context.repo.setFileState(rule.id, file.path, current.state, { reason: null });
        this.#context.emitFile({
          ruleId: rule.id,
          path: file.path,
          state: 'deleted',
          jobId: current.jobId,
          reason: entry.trashPath,
        });
        return;
      }
      const relativePath = createSyncFilter(rule).relative(file.path);
      const target = await placeFile(file.path, join(rule.dir, rule.moveTo, relativePath), { expect: before, sha256 });
      this.#context.repo.setDisposition(rule.id, file.path, 'moved', target);
      this.#context.repo.setFileState(rule.id, file.path, current.state, { reason: null });
      this.#context.emitFile({
        ruleId: rule.id,
        path: file.path,
        state: 'moved',
        jobId: current.jobId,
        reason: target,
      });
    } catch (error) {
      // Changed while being moved: it stays, and goes through the pipeline as a new version.
      if (error instanceof SourceChangedError) return;
      this.#keep(current, `Kept: ${doing} failed (${(error as Error).message})`);
      throw error;
    }
  }

  /** True (and the file kept) while an unfinished job of any account still reads the file. */
  #stillRead(file: SyncFile, doing: string): boolean {
    const readers = this.#context.queue.jobs.unfinishedReading(file.path);
    if (readers.length === 0) return false;
    const list = readers.map((job) => `#${job.id} (${job.state})`).join(', ');
    this.#keep(file, `Uploaded; kept while job ${list} still reads it, before ${doing}`);
    this.#defer(file, this.#inUseRecheckMs(), false);
    return true;
  }
}

/**
 * Milliseconds until the file has gone `quietMs` without a change. The ctime counts too: a copy that
 * keeps the source's timestamps (cp -p, rsync -t, many card importers) sets an old mtime, but every
 * write and every timestamp change moves the ctime, which no program can set back.
 */
function quietLeft(file: FileIdentity, quietMs: number): number {
  return Math.max(0, Math.max(file.mtimeMs, file.ctimeMs) + quietMs - Date.now());
}

function describeMs(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : ms >= 1_000 ? `${Math.round(ms / 1_000)} s` : `${ms} ms`;
}
