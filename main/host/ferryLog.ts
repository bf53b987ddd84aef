/**
 * Ferry's log files, written through electron-log: `electron-log/main` in the desktop app
 * (main/index.ts) and `electron-log/node` in the `ferry` command (main/cli/cliLog.ts), both set up
 * here so that they write the same format:
 *
 *   [2026-12-04 10:21:07.412] [error] (renderer) The window's script failed: …
 *
 * - one file per program (`desktop.log`, `ferry.log`), rotated by size: past 5 MB it becomes
 *   `desktop.old.log` (replacing the previous one) and a new file starts, so at most two are kept;
 * - owner-only file permissions, as with the rest of the data folder;
 * - every message redacted before any transport sees it (secrets/redaction.ts, as an electron-log
 *   hook): an error can quote a request with a secret in it, or a provider's reply echoing one, and
 *   a log file is what people attach to bug reports. Errors are turned into their (redacted) stack
 *   here, because electron-log would otherwise print the Error object itself, unredacted.
 *
 * This file only configures a logger it is given (a type import of electron-log), so it loads in
 * either program and in tests.
 */
import { join } from 'node:path';
import { inspect } from 'node:util';
import type { Hook, Logger, LogMessage, NodeLogger } from 'electron-log';
import { redactSecrets } from '../secrets/redaction.ts';

/** One log line: a message, and the error (or detail) that goes with it, if any. */
export type Log = (message: string, error?: unknown) => void;

export const LOG_FORMAT = '[{y}-{m}-{d} {h}:{i}:{s}.{ms}] [{level}]{scope} {text}';
/** Past this size the file is renamed to `<name>.old.log` and a new one begins. */
export const LOG_MAX_BYTES = 5 * 1024 * 1024;

export interface FerryLogOptions {
  /** The folder of the log file (created by electron-log when missing). */
  dir: string;
  /** `desktop.log` or `ferry.log`. */
  fileName: string;
  /** Also print to stderr/stdout (the desktop app run from a terminal); off for the `ferry` command. */
  console: boolean;
}

/** A value from a log call, as redacted text. */
export function redactLogValue(value: unknown): string {
  if (typeof value === 'string') return redactSecrets(value);
  if (value instanceof Error) return redactSecrets(value.stack ?? `${value.name}: ${value.message}`);
  return redactSecrets(inspect(value, { depth: 4, breakLength: Infinity }));
}

/** The electron-log hook that redacts every message before it reaches a transport. */
export const redactionHook: Hook = (message: LogMessage) => ({
  ...message,
  data: message.data.map((value: unknown) => redactLogValue(value)),
});

/** Sets up `logger` as one of Ferry's logs; returns the file's path. */
export function configureFerryLog(logger: NodeLogger, options: FerryLogOptions): string {
  const path = join(options.dir, options.fileName);
  const file = logger.transports.file;
  file.resolvePathFn = () => path;
  file.fileName = options.fileName;
  file.maxSize = LOG_MAX_BYTES;
  file.format = LOG_FORMAT;
  file.level = 'info';
  file.writeOptions = { flag: 'a', mode: 0o600, encoding: 'utf8' };
  const terminal = logger.transports.console;
  terminal.format = LOG_FORMAT;
  terminal.level = options.console ? 'info' : false;
  // Nothing is sent anywhere but the file and the terminal.
  if (logger.transports.remote) logger.transports.remote.level = false;
  if (logger.transports.ipc) logger.transports.ipc.level = false;
  if (!logger.hooks.includes(redactionHook)) logger.hooks.unshift(redactionHook);
  return path;
}

/** Ferry's `Log` signature over an electron-log logger: with an error it is an error, else info. */
export function logFunction(logger: Pick<Logger, 'info' | 'error'>): Log {
  return (message, error) => {
    if (error === undefined) logger.info(message);
    else logger.error(`${message}:`, error);
  };
}

/**
 * Where the desktop app keeps its log: the platform's log folder (Electron's `app.getPath('logs')`:
 * `~/Library/Logs/Ferry` on macOS, `<data folder>/logs` elsewhere) for the default data folder, and
 * `<data folder>/logs` for any other (`--data-dir`, `$FERRY_DATA_DIR`), so two Ferrys on two data
 * folders never write to one file.
 */
export function desktopLogDir(dataDir: string, defaultDataDir: string, platformLogs: string): string {
  return dataDir === defaultDataDir ? platformLogs : join(dataDir, 'logs');
}
