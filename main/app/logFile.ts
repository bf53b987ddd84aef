/**
 * The desktop app's log: a packaged app has no terminal, so what `ferry run` prints on stderr goes to
 * `logs/desktop.log` in the data folder (and to stderr too, for `npm start`). The file is rotated
 * once at start when it is over 5 MB, keeping one previous file.
 *
 * Every line is redacted first (secrets/redaction.ts), in the file and on stderr: an error can quote
 * a request with a secret in it, or a provider's reply echoing one, and a log file is what people
 * attach to bug reports.
 */
import { appendFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { redactSecrets } from '../secrets/redaction.ts';

const MAX_BYTES = 5 * 1024 * 1024;

export type Log = (message: string, error?: unknown) => void;

export function createFileLog(dataDir: string): Log {
  const dir = join(dataDir, 'logs');
  const path = join(dir, 'desktop.log');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if ((statSync(path, { throwIfNoEntry: false })?.size ?? 0) > MAX_BYTES) renameSync(path, `${path}.1`);
  } catch {
    // A log that cannot be written must not stop the app; stderr still gets everything.
  }
  return (message, error) => {
    const detail = error instanceof Error ? (error.stack ?? error.message) : error === undefined ? '' : String(error);
    const text = redactSecrets(`${message}${detail ? `: ${detail}` : ''}`);
    process.stderr.write(`ferry: ${text}\n`);
    try {
      appendFileSync(path, `${new Date().toISOString()} ${text}\n`, { mode: 0o600 });
    } catch {
      // As above.
    }
  };
}
