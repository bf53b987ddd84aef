/**
 * The staging folder of `ferry serve`: a browser cannot give a file path, so a dropped file is
 * streamed to `<dataDir>/staging/<random>/<name>` and queued from there. A staged copy is deleted
 * once its job can no longer be retried: when it completes, when the job is removed, or (for copies
 * left behind by a crash or by a job finished in another process) by a sweep. Which jobs are staged
 * is recorded by the job's own source path lying inside the staging folder, so nothing else has to
 * stay in step with the jobs table.
 *
 * Receiving a file is guarded so that one upload cannot hurt the others or the machine:
 * - its length must be known up front, and it must fit the provider's size limit: bytes are
 *   counted as they arrive and the copy is stopped and deleted the moment the limit is passed;
 * - the disk must keep room to spare after it (and after the other files still arriving);
 * - only a few files are received at once, and a sender that stops sending is cut off;
 * - while a file is being received and queued, a marker `<random>.writing` names the process doing
 *   it, so that a sweep in another `ferry serve` on the same data folder leaves it alone.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { Transform, finished, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ProviderAdapter } from '../providers/types.ts';
import { ApiError } from './apiError.ts';

/**
 * Copies whose folder and files have not changed for this long, and that no live process marks as
 * its own, may be swept. The gap covers the moment between a copy being complete and its job being
 * recorded, in whichever process received it.
 */
export const SWEEP_MIN_AGE_MS = 10 * 60_000;
/** A marker this old, with no byte written meanwhile, is stale even if its process id is alive again. */
const MARKER_MAX_AGE_MS = 24 * 3_600_000;
const MARKER_SUFFIX = '.writing';
const MIB = 1024 * 1024;

export interface StagingLimits {
  /** Files received at once; one more is refused with 503 and Retry-After. */
  maxConcurrent: number;
  /** A sender that sends nothing for this long is cut off and its partial copy deleted. */
  idleTimeoutMs: number;
  /** Seconds a refused sender is told to wait (Retry-After). */
  retryAfterSeconds: number;
}

export const DEFAULT_STAGING_LIMITS: StagingLimits = { maxConcurrent: 4, idleTimeoutMs: 60_000, retryAfterSeconds: 5 };

/**
 * What must stay free on the disk beside a staged file: 512 MiB, or 5 % of the disk when that is
 * more. The database, its WAL and the other programs of the machine need room too; a disk filled to
 * the last byte by an upload is how a queue gets lost.
 */
export function stagingHeadroom(diskBytes: number): number {
  return Math.max(512 * MIB, Math.ceil(diskBytes * 0.05));
}

/** The provider's limit for one file, as refusals name it. */
export interface SizeLimit {
  maxBytes: number;
  /** The provider's display name. */
  provider: string;
}

/**
 * The largest file the provider accepts for this MIME type, from `capabilities.accepts`; null when
 * it states no limit or declares no matching type (then `validateSource` refuses the type itself).
 */
export function providerSizeLimit(adapter: ProviderAdapter, mime: string): SizeLimit | null {
  const type = mime.toLowerCase();
  const matching = adapter.capabilities.accepts.filter(
    (accepted) =>
      accepted.type === '*/*' ||
      accepted.type === type ||
      (accepted.type.endsWith('/*') && type.startsWith(accepted.type.slice(0, -1))),
  );
  if (matching.length === 0 || matching.some((accepted) => accepted.maxBytes === null)) return null;
  return { maxBytes: Math.max(...matching.map((accepted) => accepted.maxBytes!)), provider: adapter.displayName };
}

export type StagingRefusalStatus = 408 | 411 | 413 | 503 | 507;

/**
 * A file the staging folder will not take, with the HTTP status that says why: 408 the sender
 * stopped sending, 411 no length, 413 larger than the provider's limit, 503 too many files arriving
 * at once (try again after `retryAfterSeconds`), 507 not enough free disk space.
 */
export class StagingRefusal extends Error {
  readonly status: StagingRefusalStatus;
  readonly retryAfterSeconds: number | null;
  constructor(status: StagingRefusalStatus, message: string, retryAfterSeconds: number | null = null) {
    super(message);
    this.name = 'StagingRefusal';
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** "5.0 MB (5,000,000 bytes)": the rounded size for people, the exact one for checking. */
export function describeBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const rounded = unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
  return unit === 0 ? rounded : `${rounded} (${bytes.toLocaleString('en-US')} bytes)`;
}

/** The refusal for a file larger than its provider takes, whether its length said so or its bytes did. */
export function tooLargeRefusal(name: string, limit: SizeLimit, size: number | null): StagingRefusal {
  const what = size === null ? 'is larger than' : `is ${describeBytes(size)}, more than`;
  return new StagingRefusal(
    413,
    `${name} ${what} the ${describeBytes(limit.maxBytes)} that ${limit.provider} accepts for this type of file; nothing was kept. Upload a smaller file`,
  );
}

/**
 * Checks a file name given by a browser. It must be a plain name: no path separator, no `.`/`..`,
 * no NUL or control character, at most 255 bytes. Throws INVALID_INPUT otherwise; never rewrites a
 * bad name into a good one, so what is uploaded is what the person picked.
 */
export function checkStagedName(name: string): string {
  const reason = ((): string | null => {
    if (name.length === 0) return 'it is empty';
    if (name === '.' || name === '..') return 'it names a folder';
    if (name.includes('/') || name.includes('\\')) return 'it contains a path separator';
    if (name.includes('..')) return 'it contains ".."';
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(name)) return 'it contains a control character';
    if (process.platform === 'win32' && /[<>:"|?*]/.test(name))
      return 'it contains a character Windows does not allow in file names';
    if (Buffer.byteLength(name) > 255) return 'it is longer than 255 bytes';
    return null;
  })();
  if (reason !== null) {
    throw new ApiError(
      'INVALID_INPUT',
      `Cannot stage the file "${JSON.stringify(name).slice(1, 81)}": ${reason}; give a plain file name`,
    );
  }
  return name;
}

export interface StageRequest {
  name: string;
  /** The declared length (Content-Length); null when unknown (only in-process callers). */
  length: number | null;
  /** The provider's limit for this file; null for none. */
  limit: SizeLimit | null;
}

/**
 * One file being received: holds a slot of the concurrency limit and the `.writing` marker from
 * `reserve` until `end`. Call `end` in every case, after the copy was queued (or given up).
 */
export class StagingReservation {
  readonly dir: string;
  readonly path: string;
  readonly request: StageRequest;
  /** Bytes written so far. */
  written = 0;
  readonly #area: StagingArea;
  readonly #marker: string;
  #ended = false;

  constructor(area: StagingArea, dir: string, request: StageRequest) {
    this.#area = area;
    this.dir = dir;
    this.path = join(dir, request.name);
    this.#marker = `${dir}${MARKER_SUFFIX}`;
    this.request = request;
  }

  /** @internal Written before the folder exists, so that no sweep ever sees the folder unmarked. */
  async mark(): Promise<void> {
    await writeFile(this.#marker, `${process.pid}\n${hostname()}\n`, { mode: 0o600 });
  }

  /**
   * Streams `body` into the staged file and returns its path. Counts the bytes as they arrive: past
   * the provider's limit, past the declared length, or after `idleTimeoutMs` without a byte, the
   * body is cut off. On any failure the partial copy is deleted and the error rethrown.
   */
  async receive(body: Readable): Promise<string> {
    const { name, length, limit } = this.request;
    const idleMs = this.#area.limits.idleTimeoutMs;
    let idle: NodeJS.Timeout | undefined;
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, done: TransformCallback) => {
        this.written += chunk.length;
        if (limit && this.written > limit.maxBytes) return done(tooLargeRefusal(name, limit, null));
        if (length !== null && this.written > length) {
          return done(
            new StagingRefusal(
              413,
              `${name} sent more than the ${describeBytes(length)} it announced; nothing was kept. Try again`,
            ),
          );
        }
        arm();
        done(null, chunk);
      },
    });
    const arm = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        counter.destroy(
          new StagingRefusal(
            408,
            `${name} stopped arriving: nothing came for ${Math.round(idleMs / 1000)} s after ${describeBytes(this.written)}; nothing was kept. Try again`,
          ),
        );
      }, idleMs);
    };
    // The body is piped rather than handed to pipeline(): pipeline destroys every stream when the
    // copy stops early, and an HTTP request destroyed here takes its socket along, so the sender would
    // never read why. Errors and an early close of the body still stop the copy.
    const stopEarly = finished(body, { writable: false }, (error) => {
      if (error) counter.destroy(error);
    });
    body.pipe(counter);
    arm();
    try {
      await pipeline(counter, createWriteStream(this.path, { flags: 'wx', mode: 0o600 }));
      if (length !== null && this.written !== length) {
        throw new StagingRefusal(
          413,
          `${name} arrived incomplete (${describeBytes(this.written)} of ${describeBytes(length)}); nothing was kept. Try again`,
        );
      }
      return this.path;
    } catch (error) {
      body.unpipe(counter);
      await rm(this.dir, { recursive: true, force: true });
      throw error;
    } finally {
      clearTimeout(idle);
      stopEarly();
    }
  }

  /** Frees the slot and removes the marker; the staged copy stays (its job owns it now). */
  async end(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    this.#area.ended(this);
    await rm(this.#marker, { force: true });
  }
}

export class StagingArea {
  readonly root: string;
  readonly #rootName: string;
  limits: StagingLimits = { ...DEFAULT_STAGING_LIMITS };
  readonly #active = new Set<StagingReservation>();

  constructor(dataDir: string) {
    this.root = resolve(dataDir, 'staging');
    this.#rootName = basename(this.root);
  }

  /** Tunes the limits (tests use small ones; `ferry serve` keeps the defaults). */
  configure(limits: Partial<StagingLimits>): void {
    this.limits = { ...this.limits, ...limits };
  }

  /** Files being received right now. */
  get receiving(): number {
    return this.#active.size;
  }

  /** True when `path` is a staged copy (a file two levels inside the staging folder). */
  isStaged(path: string): boolean {
    // Asked for every job of a list (100,000 for `ferry list`), nearly always with an absolute path
    // outside the staging folder. Resolving an absolute path only drops segments (`.`, `..`, empty
    // ones), so one that never names the folder cannot land in it: no `resolve` for those (~5 % of
    // the command's CPU at 100,000 jobs).
    if (isAbsolute(path) && !path.includes(this.#rootName)) return false;
    const absolute = resolve(path);
    if (!absolute.startsWith(this.root + sep)) return false;
    return dirname(dirname(absolute)) === this.root;
  }

  /**
   * Everything that can be refused before a byte is read: the name (INVALID_INPUT), the declared
   * length against the provider's limit (413), the number of files arriving at once (503) and the
   * free space (507). On success a slot is held and the marker written: call `end` in every case.
   */
  async reserve(request: StageRequest): Promise<StagingReservation> {
    const { name, length, limit } = request;
    checkStagedName(name);
    if (limit && length !== null && length > limit.maxBytes) throw tooLargeRefusal(name, limit, length);
    const dir = join(this.root, randomBytes(12).toString('hex'));
    const reservation = new StagingReservation(this, dir, request);
    // Defence in depth: the name check above already makes this impossible.
    if (!this.isStaged(reservation.path))
      throw new ApiError('INVALID_INPUT', `Cannot stage the file "${name}": it would leave the staging folder`);
    // Counted before the first await, so that a burst of requests cannot all slip under the limit.
    if (this.#active.size >= this.limits.maxConcurrent) {
      throw new StagingRefusal(
        503,
        `Ferry is already receiving ${this.#active.size} files; ${name} was not sent. Send it again in a few seconds`,
        this.limits.retryAfterSeconds,
      );
    }
    this.#active.add(reservation);
    try {
      await mkdir(this.root, { recursive: true, mode: 0o700 });
      await this.#checkSpace(reservation);
      await reservation.mark();
      await mkdir(dir, { mode: 0o700 });
      return reservation;
    } catch (error) {
      await reservation.end();
      throw error;
    }
  }

  /** @internal Called by `StagingReservation.end`. */
  ended(reservation: StagingReservation): void {
    this.#active.delete(reservation);
  }

  /**
   * Streams `body` to a new staged file and returns its path (reserve, receive, end in one). On any
   * failure the partial copy is removed and the error rethrown.
   */
  async stage(
    body: Readable,
    name: string,
    options: { length?: number | null; limit?: SizeLimit | null } = {},
  ): Promise<string> {
    const reservation = await this.reserve({ name, length: options.length ?? null, limit: options.limit ?? null });
    try {
      return await reservation.receive(body);
    } finally {
      await reservation.end();
    }
  }

  /** Deletes a staged copy (and its folder). Paths outside the staging folder are left alone. */
  async release(path: string): Promise<boolean> {
    if (!this.isStaged(path)) return false;
    await rm(dirname(resolve(path)), { recursive: true, force: true });
    return true;
  }

  /**
   * Deletes staged copies that no job needs any more: `needed` holds the sources of jobs that can
   * still run or be retried. A copy is kept while a live process (this one or another `ferry serve`
   * on the same data folder) marks it as being received or queued, and while its folder or any file
   * in it changed less than SWEEP_MIN_AGE_MS ago. Returns how many copies were deleted.
   */
  async sweep(needed: ReadonlySet<string>, now = Date.now()): Promise<number> {
    let entries;
    try {
      entries = await readdir(this.root, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw error;
    }
    const neededDirs = new Set([...needed].filter((path) => this.isStaged(path)).map((path) => dirname(resolve(path))));
    const ours = new Set([...this.#active].map((reservation) => reservation.dir));
    const dirs = new Set(entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name));
    let removed = 0;
    for (const entry of entries) {
      if (entry.isFile() && entry.name.endsWith(MARKER_SUFFIX)) {
        // A marker whose folder is gone: left by a process that died between the two, or by a sweep.
        const dir = join(this.root, entry.name.slice(0, -MARKER_SUFFIX.length));
        if (
          !dirs.has(entry.name.slice(0, -MARKER_SUFFIX.length)) &&
          !ours.has(dir) &&
          !(await this.#markerHeld(dir, now))
        ) {
          await rm(join(this.root, entry.name), { force: true });
        }
        continue;
      }
      const dir = join(this.root, entry.name);
      if (!entry.isDirectory() || neededDirs.has(dir) || ours.has(dir)) continue;
      if (await this.#markerHeld(dir, now)) continue;
      const changed = await newestChange(dir);
      if (changed === null || now - changed < SWEEP_MIN_AGE_MS) continue;
      await rm(dir, { recursive: true, force: true });
      await rm(`${dir}${MARKER_SUFFIX}`, { force: true });
      removed += 1;
    }
    return removed;
  }

  async #checkSpace(reservation: StagingReservation): Promise<void> {
    const length = reservation.request.length ?? 0;
    const disk = await statfs(this.root);
    const free = Number(disk.bavail) * Number(disk.bsize);
    const headroom = stagingHeadroom(Number(disk.blocks) * Number(disk.bsize));
    // Files still arriving will take their remaining bytes from the same free space.
    let pending = 0;
    for (const other of this.#active) {
      if (other !== reservation) pending += Math.max(0, (other.request.length ?? 0) - other.written);
    }
    const needed = length + headroom + pending;
    if (free >= needed) return;
    const others = pending > 0 ? `, ${describeBytes(pending)} for files still arriving` : '';
    throw new StagingRefusal(
      507,
      `Not enough free space in ${this.root}: ${describeBytes(free)} free, ${describeBytes(needed)} needed ` +
        `(${reservation.request.name}: ${describeBytes(length)}, ${describeBytes(headroom)} kept free${others}); free some space and send it again`,
    );
  }

  /**
   * True while a process still claims `dir`: its marker names a live process on this machine (or a
   * process on another machine sharing the folder), unless the marker and the folder have been
   * still for a day (a crashed process whose id was reused since).
   */
  async #markerHeld(dir: string, now: number): Promise<boolean> {
    const marker = `${dir}${MARKER_SUFFIX}`;
    let text: string;
    let markedAt: number;
    try {
      [text, markedAt] = await Promise.all([readFile(marker, 'utf8'), stat(marker).then((info) => info.mtimeMs)]);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      // Unreadable: someone else's; never delete what cannot be understood.
      return true;
    }
    const changed = Math.max(markedAt, (await newestChange(dir)) ?? 0);
    if (now - changed > MARKER_MAX_AGE_MS) return false;
    const [pidText, host] = text.split('\n');
    const pid = Number(pidText);
    // Half-written (the writer is between creating and filling it), or from another machine.
    if (!Number.isInteger(pid) || pid <= 0 || host !== hostname()) return true;
    return processAlive(pid);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When `dir` or a file in it last changed: a file being written keeps moving its mtime, while the
 * folder's own mtime stays at the moment the file was created. Null when the folder is gone.
 */
async function newestChange(dir: string): Promise<number | null> {
  let newest: number;
  try {
    newest = (await stat(dir)).mtimeMs;
  } catch {
    return null;
  }
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const info = await stat(join(dir, name)).catch(() => null);
    if (info) newest = Math.max(newest, info.mtimeMs);
  }
  return newest;
}
