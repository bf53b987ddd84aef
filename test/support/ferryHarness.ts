/**
 * Plumbing for the engine and CLI integration tests: temporary folders, random source files with
 * their SHA-256, a queue + engine on a real SQLite data folder, the `ferry` command as a child
 * process, and bounded waits. Everything created here is tracked and released by `cleanup()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from '../../main/db/database.ts';
import { Engine, type EngineOptions } from '../../main/engine/engine.ts';
import type { Queue } from '../../main/engine/queue.ts';
import { openTestQueue } from './testQueue.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FERRY_BIN = join(REPO_ROOT, 'bin', 'ferry.js');
const NODE_BIN_DIR = join(REPO_ROOT, 'node_modules', '.bin');

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface LocalFile {
  path: string;
  name: string;
  bytes: Buffer;
  sha256: string;
}

/** Writes `size` random bytes to `dir/name`. */
export async function randomFile(dir: string, name: string, size: number): Promise<LocalFile> {
  const path = join(dir, name);
  const bytes = randomBytes(size);
  await writeFile(path, bytes);
  return { path, name, bytes, sha256: sha256(bytes) };
}

export const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/**
 * Polls `check` until it returns a truthy value and returns that value; fails with `what` after
 * `timeoutMs`. The loop is bounded by time, never by luck.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  intervalMs = 10,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() >= deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** How many chunks were sent more than once, counted by their start offset (or chunk number). */
export function resentCount<K>(keys: readonly K[]): number {
  const seen = new Map<K, number>();
  for (const key of keys) seen.set(key, (seen.get(key) ?? 0) + 1);
  let resent = 0;
  for (const count of seen.values()) resent += count - 1;
  return resent;
}

export interface FerryProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface FerryChild {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when the process has exited (killed by the timeout if it runs too long). */
  exited: Promise<FerryProcessResult>;
}

/** Environment of child processes: Node 24 first on PATH, short engine timings. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${NODE_BIN_DIR}:${process.env.PATH ?? ''}`,
    FERRY_RETRY_BASE_MS: '50',
    FERRY_STALL_TIMEOUT_MS: '5000',
    FERRY_REPLY_TIMEOUT_MS: '30000',
    FERRY_DATA_DIR: '',
    NODE_NO_WARNINGS: '1',
    ...extra,
  };
}

/** Starts `node bin/ferry.js --data-dir DIR ...args`; the child is killed after `timeoutMs`. */
export function spawnFerry(
  dataDir: string,
  args: readonly string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): FerryChild {
  const child = spawn(join(NODE_BIN_DIR, 'node'), [FERRY_BIN, '--data-dir', dataDir, ...args], {
    cwd: REPO_ROOT,
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  const exited = new Promise<FerryProcessResult>((done) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
  };
}

/** Runs the `ferry` command to completion. */
export function runFerry(
  dataDir: string,
  args: readonly string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<FerryProcessResult> {
  return spawnFerry(dataDir, args, options).exited;
}

/** Parses JSON Lines output. */
export function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

export interface EngineHandle {
  dir: string;
  /** The database of the queue and the engine (closed by `close()`). */
  db: Db;
  queue: Queue;
  engine: Engine;
  /** Stops the engine and closes the database (idempotent). */
  close(): Promise<void>;
}

/**
 * Tracks temporary folders, engines and child processes of one test file; `cleanup()` (in afterEach)
 * stops and removes all of them.
 */
export class Fixtures {
  readonly #dirs: string[] = [];
  readonly #engines: EngineHandle[] = [];
  readonly #children: ChildProcess[] = [];
  readonly #closers: Array<() => Promise<void>> = [];

  async tempDir(prefix = 'ferry-it-'): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.#dirs.push(dir);
    return dir;
  }

  /** Registers something to close in cleanup (an emulator). Returns it. */
  track<T extends { close(): Promise<void> }>(thing: T): T {
    this.#closers.push(() => thing.close());
    return thing;
  }

  /** A queue and an engine on the data folder `dir` (a real SQLite database and secrets file). */
  openEngine(dir: string, options: Omit<EngineOptions, 'queue' | 'db'> = {}): EngineHandle {
    const { db, queue } = openTestQueue(dir);
    const engine = new Engine({
      queue,
      db,
      stallTimeoutMs: 5_000,
      retry: { baseDelayMs: 20, maxDelayMs: 200 },
      pollDelays: { initialMs: 20, maxMs: 100, maxPolls: 50 },
      controlPollMs: 100,
      ...options,
      // A lost answer must not hold a test for the real deadlines (minutes).
      replyDeadlines: { request: 20_000, part: 20_000, finalize: 20_000, ...options.replyDeadlines },
    });
    let closed = false;
    const handle: EngineHandle = {
      dir,
      db,
      queue,
      engine,
      async close() {
        if (closed) return;
        closed = true;
        await engine.stop();
        db.close();
      },
    };
    this.#engines.push(handle);
    return handle;
  }

  spawnFerry(
    dataDir: string,
    args: readonly string[],
    options: { env?: Record<string, string>; timeoutMs?: number } = {},
  ): FerryChild {
    const started = spawnFerry(dataDir, args, options);
    this.#children.push(started.child);
    return started;
  }

  async cleanup(): Promise<void> {
    for (const child of this.#children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await Promise.allSettled(this.#engines.splice(0).map((handle) => handle.close()));
    await Promise.allSettled(this.#closers.splice(0).map((close) => close()));
    await Promise.allSettled(this.#dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

/** Rejects with a readable message when `promise` takes longer than `ms`. */
export async function within<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
