/**
 * Finding files: for every active sync rule a chokidar watcher reports files that appear or change,
 * and a scan walks the rule's folder (when the rule starts, and at every periodic rescan) to catch
 * what the watcher missed (events dropped under load, files added while Ferry was not running).
 * Every file found goes to the intake batcher, which waits until it is stable. Which rules are active
 * follows the rules table (`apply`, on every rule poll); a rule whose folder is gone is retried then.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { SyncRule } from '../db/syncRepository.ts';
import type { IntakeBatcher } from './intakeBatcher.ts';
import { keyOf, type SyncContext } from './syncContext.ts';
import { createSyncFilter, type SyncFilter } from './syncFilter.ts';
import { isUnchanged } from './syncIndexer.ts';
import { snapshotOf } from './stabilityTracker.ts';

export interface SyncRuleStatus {
  ruleId: number;
  dir: string;
  watching: boolean;
  /** Why the rule is not watched (e.g. its folder is gone); retried on every rule poll. */
  error: string | null;
}

/** A rule being followed: its filter, and its watcher (null without watching, or before it is ready). */
export interface ActiveRule {
  rule: SyncRule;
  filter: SyncFilter;
  watcher: FSWatcher | null;
}

export class SyncWatchers {
  readonly #context: SyncContext;
  readonly #batcher: IntakeBatcher;
  readonly #active = new Map<number, ActiveRule>();
  readonly #ruleErrors = new Map<number, string>();

  constructor(context: SyncContext, batcher: IntakeBatcher) {
    this.#context = context;
    this.#batcher = batcher;
  }

  /** Per active or failing rule: is it watched, and if not, why. */
  status(): SyncRuleStatus[] {
    const result: SyncRuleStatus[] = [];
    for (const { rule, watcher } of this.#active.values())
      result.push({ ruleId: rule.id, dir: rule.dir, watching: watcher !== null, error: null });
    for (const [ruleId, error] of this.#ruleErrors) {
      const rule = this.#context.repo.rule(ruleId);
      if (rule) result.push({ ruleId, dir: rule.dir, watching: false, error });
    }
    return result.sort((a, b) => a.ruleId - b.ruleId);
  }

  /** The active rule with this id, if it is followed now. */
  active(ruleId: number): ActiveRule | undefined {
    return this.#active.get(ruleId);
  }

  isActive(ruleId: number): boolean {
    return this.#active.has(ruleId);
  }

  /**
   * Re-reads the rules: starts new ones, stops removed or paused ones, retries failing ones; an
   * `activity` when the status changed.
   */
  async apply(): Promise<void> {
    if (!this.#context.started()) return;
    const before = JSON.stringify(this.status());
    try {
      await this.#applyRuleChanges();
    } finally {
      if (JSON.stringify(this.status()) !== before) this.#context.activity();
    }
  }

  /** Scans the folder of every active rule. */
  async scanAll(): Promise<void> {
    await Promise.all([...this.#active.values()].map((active) => this.#scan(active)));
  }

  /** Closes every watcher and forgets the active rules. */
  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.#active.values()].map((active) => active.watcher?.close()));
    this.#active.clear();
  }

  async #applyRuleChanges(): Promise<void> {
    const wanted = new Map(
      this.#context.repo
        .rules()
        .filter((rule) => !rule.paused)
        .map((rule) => [rule.id, rule]),
    );
    for (const [id, active] of [...this.#active]) {
      if (!wanted.has(id)) await this.#deactivate(active);
    }
    for (const id of [...this.#ruleErrors.keys()]) if (!wanted.has(id)) this.#ruleErrors.delete(id);
    for (const rule of wanted.values()) {
      if (this.#active.has(rule.id)) continue;
      await this.#activate(rule);
    }
  }

  async #activate(rule: SyncRule): Promise<void> {
    try {
      const info = await stat(rule.dir);
      if (!info.isDirectory()) throw new Error('it is not a folder any more');
    } catch (error) {
      const why =
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'the folder does not exist (moved or deleted?)'
          : (error as Error).message;
      const message = `Cannot watch ${rule.dir} (sync rule #${rule.id}): ${why}; will try again`;
      if (this.#ruleErrors.get(rule.id) !== message) this.#context.report(new Error(message));
      this.#ruleErrors.set(rule.id, message);
      return;
    }
    this.#ruleErrors.delete(rule.id);
    const filter = createSyncFilter(rule);
    const active: ActiveRule = { rule, filter, watcher: null };
    this.#active.set(rule.id, active);
    if (this.#context.watching()) {
      const watcher = watch(rule.dir, {
        ignoreInitial: true,
        ignored: (path: string) => filter.ignores(path),
        followSymlinks: false,
        ...(rule.recursive ? {} : { depth: 0 }),
        // Stability is decided here, for events and rescans alike (see StabilityTracker).
        awaitWriteFinish: false,
      });
      const onFile = (path: string): void => {
        this.#context.stats.watcherEvents += 1;
        if (!filter.accepts(path)) return;
        this.#batcher.observe(keyOf(rule.id, path), path);
      };
      watcher.on('add', onFile);
      watcher.on('change', onFile);
      watcher.on('unlink', (path: string) => {
        this.#batcher.forget(keyOf(rule.id, path));
        this.#context.checkSettled();
      });
      watcher.on('error', (error: unknown) => this.#context.report(error, `Watching ${rule.dir}`));
      active.watcher = watcher;
      await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    }
    // The scan runs after the watcher is ready, so a file created in between is seen by one or both
    // (the tracker merges them).
    await this.#scan(active);
  }

  async #deactivate(active: ActiveRule): Promise<void> {
    this.#active.delete(active.rule.id);
    this.#batcher.forgetRule(active.rule.id);
    await active.watcher?.close();
    this.#context.checkSettled();
  }

  /** Walks a rule's folder and tracks every acceptable file whose size or mtime is not the indexed one. */
  async #scan(active: ActiveRule): Promise<void> {
    this.#context.beginWork();
    try {
      const { rule, filter } = active;
      const walk = async (dir: string, depth: number): Promise<void> => {
        let entries;
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch (error) {
          if (dir === rule.dir) this.#context.report(error, `Scanning ${rule.dir}`);
          return;
        }
        for (const entry of entries) {
          if (!this.#context.started() || this.#active.get(rule.id) !== active) return;
          const path = join(dir, entry.name);
          if (filter.ignores(path)) continue;
          if (entry.isDirectory()) {
            if (rule.recursive) await walk(path, depth + 1);
            continue;
          }
          if (!entry.isFile() || !filter.accepts(path)) continue;
          this.#context.stats.scannedFiles += 1;
          const key = keyOf(rule.id, path);
          if (this.#batcher.has(key)) continue;
          const snapshot = await snapshotOf(path);
          if (!snapshot) continue;
          if (isUnchanged(this.#context.repo.file(rule.id, path), snapshot)) continue;
          this.#batcher.observe(key, path, snapshot);
        }
      };
      await walk(rule.dir, 0);
    } finally {
      this.#context.endWork();
      this.#context.checkSettled();
    }
  }
}
