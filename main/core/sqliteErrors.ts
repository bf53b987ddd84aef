/**
 * SQLite's primary result codes as node:sqlite reports them (`errcode`, possibly an extended code
 * whose low byte is the primary one), for the few that Ferry treats apart.
 */
export const SQLITE_BUSY = 5;
export const SQLITE_LOCKED = 6;
export const SQLITE_IOERR = 10;
export const SQLITE_FULL = 13;

/** The primary SQLite result code of `error`, or null when it is not a SQLite error. */
export function sqlitePrimaryCode(error: unknown): number | null {
  const { errcode } = (error ?? {}) as { errcode?: unknown };
  return typeof errcode === 'number' ? errcode & 0xff : null;
}

/** Another connection holds the lock (SQLITE_BUSY or SQLITE_LOCKED, extended codes included). */
export function isSqliteBusy(error: unknown): boolean {
  const code = sqlitePrimaryCode(error);
  return code === SQLITE_BUSY || code === SQLITE_LOCKED;
}
