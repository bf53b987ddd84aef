/**
 * One engine per data folder: two processes uploading the same queue would send the same parts twice.
 * The lock is a file holding the owner's pid, created exclusively; a lock whose process is gone (crash,
 * kill, power loss) is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface RunLock {
  release(): void;
}

export class LockedError extends Error {
  readonly pid: number;
  constructor(pid: number, dataDir: string) {
    super(`Another Ferry (pid ${pid}) is already uploading from ${dataDir}`);
    this.name = 'LockedError';
    this.pid = pid;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireRunLock(dataDir: string): RunLock {
  const path = join(dataDir, 'engine.lock');
  for (let tries = 0; tries < 3; tries += 1) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
      if (Number.isInteger(owner) && owner !== process.pid && alive(owner)) throw new LockedError(owner, dataDir);
      rmSync(path, { force: true });
    }
  }
  throw new Error(`Could not take the engine lock in ${dataDir}`);
}
