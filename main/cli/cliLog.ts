/**
 * The `ferry` command's log file: `<data folder>/logs/ferry.log`, in the desktop app's format
 * (main/host/ferryLog.ts: electron-log, rotated past 5 MB to `ferry.old.log`, redacted). What goes in:
 * the engine host's messages of `ferry run` / `upload --wait`, `ferry serve`'s log, unexpected errors
 * and failures nothing handled (installProcessGuards). stderr keeps saying what it always said; the
 * file is for later ("what happened last night?") and for bug reports.
 *
 * The logger is electron-log's Node flavour (no Electron needed). It is loaded only by the commands
 * that log (`run`, `upload --wait`, `serve`, and an unexpected error): loading it costs ~60 ms, which
 * `ferry add`, `ferry status` and the like do not pay.
 */
import { join } from 'node:path';
import { configureFerryLog, logFunction, type Log } from '../host/ferryLog.ts';

let current: { dataDir: string; log: Log } | undefined;

export type { Log };

/** Points the file log at `dataDir`'s logs/ folder (once per data folder) and returns it. */
export async function openCliLog(dataDir: string): Promise<Log> {
  if (current?.dataDir === dataDir) return current.log;
  const { default: logger } = await import('electron-log/node');
  configureFerryLog(logger, { dir: join(dataDir, 'logs'), fileName: 'ferry.log', console: false });
  const log = logFunction(logger);
  current = { dataDir, log };
  return log;
}

/** The file log of the data folder opened last, or a no-op before one was opened. */
export function cliLog(message: string, error?: unknown): void {
  try {
    current?.log(message, error);
  } catch {
    // A log that cannot be written must not change what the command does; stderr has the message.
  }
}

/**
 * `stream`, with every whole line written to it also logged (without the `ferry: ` prefix):
 * `ferry serve` says what happens on stderr, and the same lines belong in its log file.
 */
export function copyLinesToLog<T extends NodeJS.WritableStream>(stream: T, log: Log): T {
  let partial = '';
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  return new Proxy(stream, {
    get(target, property, receiver) {
      if (property !== 'write') return Reflect.get(target, property, receiver) as unknown;
      return (chunk: unknown, ...rest: unknown[]): boolean => {
        partial += typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
        const lines = partial.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line.trim() !== '') log(line.replace(/^ferry: /, ''));
        return write(chunk, ...rest);
      };
    },
  });
}
