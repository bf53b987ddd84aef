/**
 * Decides when a file has finished changing: its size and mtime must read the same on `checks`
 * consecutive looks `intervalMs` apart (so at least (checks − 1) × interval without a write, and a
 * growing file never qualifies). Every watcher event for a path restarts its count, so bursts of
 * events for one file coalesce into one candidate.
 */
import { stat } from 'node:fs/promises';

export interface FileSnapshot {
  size: number;
  mtimeMs: number;
}

export interface StabilityOptions {
  /** Identical looks in a row that make a file stable (at least 2). */
  checks: number;
  intervalMs: number;
  /** Reads a file's size and mtime; null when it is gone or not a regular file. */
  stat?: (path: string) => Promise<FileSnapshot | null>;
}

export interface StabilityHandlers {
  stable(key: string, path: string, snapshot: FileSnapshot): void;
  /** The file disappeared (or became a folder) before it was stable. */
  gone?(key: string, path: string): void;
}

interface Entry {
  path: string;
  last: FileSnapshot | null;
  same: number;
  /** Bumped by every event, so that a look already in progress does not count as quiet time. */
  generation: number;
  timer: NodeJS.Timeout | undefined;
}

export async function snapshotOf(path: string): Promise<FileSnapshot | null> {
  try {
    const info = await stat(path);
    return info.isFile() ? { size: info.size, mtimeMs: Math.trunc(info.mtimeMs) } : null;
  } catch {
    return null;
  }
}

export class StabilityTracker {
  readonly #options: Required<StabilityOptions>;
  readonly #handlers: StabilityHandlers;
  readonly #entries = new Map<string, Entry>();
  #stopped = false;

  constructor(options: StabilityOptions, handlers: StabilityHandlers) {
    this.#options = { stat: snapshotOf, ...options, checks: Math.max(2, Math.trunc(options.checks)) };
    this.#handlers = handlers;
  }

  /** Files being watched until they are stable. */
  get size(): number {
    return this.#entries.size;
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** The keys of the files being watched. */
  keys(): IterableIterator<string> {
    return this.#entries.keys();
  }

  /**
   * Starts (or restarts) watching `path` under `key`. `seen` is a look just taken (a rescan's stat):
   * it counts as the first one.
   */
  observe(key: string, path: string, seen?: FileSnapshot): void {
    if (this.#stopped) return;
    const entry = this.#entries.get(key);
    if (entry) {
      // Something happened to the file: whatever was seen before no longer counts.
      entry.generation += 1;
      entry.last = seen ?? null;
      entry.same = seen ? 1 : 0;
      entry.path = path;
      return;
    }
    const fresh: Entry = { path, last: seen ?? null, same: seen ? 1 : 0, generation: 0, timer: undefined };
    this.#entries.set(key, fresh);
    this.#schedule(key, fresh, seen ? this.#options.intervalMs : 0);
  }

  forget(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.#entries.delete(key);
  }

  /** Forgets every key that starts with `prefix` (all the paths of one rule). */
  forgetPrefix(prefix: string): void {
    for (const key of [...this.#entries.keys()]) if (key.startsWith(prefix)) this.forget(key);
  }

  stop(): void {
    this.#stopped = true;
    for (const entry of this.#entries.values()) clearTimeout(entry.timer);
    this.#entries.clear();
  }

  #schedule(key: string, entry: Entry, delayMs: number): void {
    entry.timer = setTimeout(() => void this.#check(key, entry), delayMs);
  }

  async #check(key: string, entry: Entry): Promise<void> {
    if (this.#entries.get(key) !== entry) return;
    const generation = entry.generation;
    const snapshot = await this.#options.stat(entry.path);
    if (this.#stopped || this.#entries.get(key) !== entry) return;
    if (snapshot === null) {
      this.#entries.delete(key);
      this.#handlers.gone?.(key, entry.path);
      return;
    }
    if (generation === entry.generation && entry.last && sameSnapshot(entry.last, snapshot)) {
      entry.same += 1;
    } else {
      entry.last = snapshot;
      entry.same = 1;
    }
    if (entry.same >= this.#options.checks) {
      this.#entries.delete(key);
      this.#handlers.stable(key, entry.path, snapshot);
      return;
    }
    this.#schedule(key, entry, this.#options.intervalMs);
  }
}

export function sameSnapshot(a: FileSnapshot, b: FileSnapshot): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs;
}
