/**
 * Faults of the machine rather than of an upload: the disk that holds Ferry's data folder is full or
 * failing, or the database stayed locked by another process for longer than its busy timeout. None of
 * them says anything about the file or the provider, so a job must not fail for them: the engine puts
 * the job aside with the reason, tries again later, and keeps every part that was acknowledged.
 */
import { statfsSync } from 'node:fs';
import { formatSize } from '../core/formatSize.ts';
import { SQLITE_FULL, SQLITE_IOERR, isSqliteBusy, sqlitePrimaryCode } from '../core/sqliteErrors.ts';

export interface MachineFault {
  kind: 'disk-full' | 'disk-error' | 'database-busy';
  /** One line for the job and the user, e.g. "Disk full: 0 B free in /home/me/.config/Ferry". */
  message: string;
}

/** The machine fault behind `error` (looking through `cause` chains), or null when it is none. */
export function machineFaultOf(error: unknown, dataDir: string | null): MachineFault | null {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 8; depth += 1) {
    const found = classify(current, dataDir);
    if (found) return found;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

function classify(error: unknown, dataDir: string | null): MachineFault | null {
  const { code } = error as { code?: unknown };
  const primary = sqlitePrimaryCode(error);
  if (primary === SQLITE_FULL || code === 'ENOSPC' || code === 'EDQUOT') {
    return {
      kind: 'disk-full',
      message: `Disk full: ${freeSpace(dataDir)}; Ferry keeps what was sent and tries again once there is room`,
    };
  }
  if (primary === SQLITE_IOERR || code === 'EIO') {
    const text = error instanceof Error ? error.message : String(error);
    return {
      kind: 'disk-error',
      message: `The disk that holds Ferry's data${dataDir ? ` (${dataDir})` : ''} failed to write (${text}); Ferry tries again later`,
    };
  }
  if (isSqliteBusy(error)) {
    return {
      kind: 'database-busy',
      message: `Ferry's database${dataDir ? ` in ${dataDir}` : ''} stayed locked by another process for too long; Ferry tries again shortly`,
    };
  }
  return null;
}

function freeSpace(dataDir: string | null): string {
  if (dataDir === null) return "no room left for Ferry's data";
  try {
    const stats = statfsSync(dataDir);
    return `${formatSize(stats.bavail * stats.bsize)} free in ${dataDir}`;
  } catch {
    return `no room left in ${dataDir}`;
  }
}
