/**
 * One engine per data folder: two processes uploading the same queue would re-queue each other's jobs
 * and send the same parts twice.
 *
 * The lock is an exclusive SQLite transaction on `engine.lock`, held open for the life of the process.
 * SQLite takes it with the operating system's own file locks (fcntl on Linux and macOS, LockFileEx on
 * Windows), so:
 * - it is released by the kernel when the process dies, however it dies (kill -9, crash, power loss),
 *   even while the dead process is still an unreaped zombie, and whatever process later reuses its pid;
 * - two processes starting at the same instant cannot both hold it: the kernel arbitrates.
 * A pid file was used before: a zombie or a reused pid kept it "held" forever, and two processes that
 * both found it stale could both take it over.
 *
 * `engine.pid` beside it names the holder for the message only; it is never trusted for the decision.
 */
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { isSqliteBusy } from '../core/sqliteErrors.ts';

export interface RunLock {
  release(): void;
}

export class LockedError extends Error {
  readonly pid: number | null;
  constructor(pid: number | null, dataDir: string) {
    super(`Another Ferry${pid !== null ? ` (pid ${pid})` : ''} is already uploading from ${dataDir}`);
    this.name = 'LockedError';
    this.pid = pid;
  }
}

export const LOCK_FILE = 'engine.lock';
export const PID_FILE = 'engine.pid';

/**
 * How long to keep asking while another process takes or drops the lock at the same moment. Two
 * processes that start together can each see the other's brief shared lock; SQLite's busy handler
 * retries within this time, so one of them wins instead of both giving up.
 */
const CONTENTION_MS = 100;

/**
 * Takes the data folder's engine lock for as long as this process lives (or until `release`).
 * Throws LockedError when another live process holds it; other errors (a read-only or missing folder)
 * are thrown as they are.
 */
/**
 * Connections holding a lock. A DatabaseSync that nothing references is closed when it is garbage
 * collected, which would drop the lock while this process still uploads: seen within milliseconds
 * in a process that did not keep the returned RunLock.
 */
const held = new Set<DatabaseSync>();

export function acquireRunLock(dataDir: string): RunLock {
  const path = join(dataDir, LOCK_FILE);
  retireLegacyLock(dataDir, path);
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, { timeout: CONTENTION_MS });
  } catch (error) {
    throw cannotLock(error, path);
  }
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if (isSqliteBusy(error)) throw new LockedError(holderPid(dataDir), dataDir);
    throw cannotLock(error, path);
  }
  held.add(db);
  writeHolder(dataDir);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      // The pid file goes first: a process that takes the lock right after writes its own.
      rmSync(join(dataDir, PID_FILE), { force: true });
      try {
        db.exec('ROLLBACK');
      } finally {
        db.close();
        held.delete(db);
      }
    },
  };
}

/**
 * Ferry before this lock kept the holder's pid as text in `engine.lock`, which SQLite refuses as "not
 * a database". Such a file is replaced, unless the pid in it is a live process: that may be an older
 * Ferry uploading this queue right now, and two engines would send parts twice, so Ferry waits for it
 * (the message says how to end the wait if that pid is something else).
 */
function retireLegacyLock(dataDir: string, path: string): void {
  let head: string;
  try {
    head = readFileSync(path).subarray(0, 16).toString('latin1');
  } catch {
    return;
  }
  if (head.length === 0 || head.startsWith('SQLite format 3')) return;
  const pid = Number.parseInt(head.trim(), 10);
  if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && mayBeFerry(pid)) {
    const error = new LockedError(pid, dataDir);
    error.message += ` (an older Ferry's lock file names pid ${pid}; if that process is not Ferry, delete ${path})`;
    throw error;
  }
  rmSync(path, { force: true });
}

/**
 * Whether `pid` may still be an older Ferry. Where /proc tells (Linux), a zombie or a process whose
 * command line does not mention Ferry (the pid was reused) is not; elsewhere any live pid may be.
 */
function mayBeFerry(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return false;
    const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    return /ferry/i.test(commandLine);
  } catch {
    return true;
  }
}

function cannotLock(error: unknown, path: string): Error {
  const message = error instanceof Error ? error.message : String(error);
  return new Error(
    `Ferry could not take its engine lock ${path} (${message}); check that the data folder exists and is writable`,
    {
      cause: error,
    },
  );
}

function writeHolder(dataDir: string): void {
  // Written beside, then renamed: a reader sees the previous holder's pid or this one, never half.
  const temporary = join(dataDir, `${PID_FILE}.${process.pid}.tmp`);
  try {
    const fd = openSync(temporary, 'w', 0o600);
    try {
      writeSync(fd, String(process.pid));
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, join(dataDir, PID_FILE));
  } catch {
    // Only the message of another process would lack the pid.
    rmSync(temporary, { force: true });
  }
}

function holderPid(dataDir: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(join(dataDir, PID_FILE), 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
