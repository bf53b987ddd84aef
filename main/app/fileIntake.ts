/**
 * Files handed to the running app from outside the window — a second launch with file arguments,
 * files dropped on the app icon (macOS `open-file`), "Open with Ferry" — are queued for the account
 * the person last uploaded to. Without one (no upload yet, or that account was removed), the single
 * account is used if there is only one; otherwise the window comes up with a notice asking to pick
 * an account and drop the files there.
 *
 * Enqueuing goes through the API table, so these files are validated exactly like a drop on the
 * window; the outcome is a notice in the window.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { ApiResult, JobView, Notice } from '../api/contract.ts';
import type { Queue } from '../engine/queue.ts';
import type { LastAccountStore } from './lastAccount.ts';

export interface FileIntakeDeps {
  queue: Pick<Queue, 'accounts'>;
  enqueue: (account: string, paths: string[]) => Promise<ApiResult<JobView[]>>;
  lastAccount: Pick<LastAccountStore, 'get'>;
  notice: (level: Notice['level'], message: string) => void;
  showWindow: () => void;
  exists?: (path: string) => boolean;
}

export type IntakeOutcome =
  | { kind: 'queued'; account: string; jobs: number; missing: string[] }
  | { kind: 'no-account'; files: string[]; missing: string[] }
  | { kind: 'refused'; account: string; message: string; missing: string[] }
  | { kind: 'nothing'; missing: string[] };

function listed(paths: readonly string[]): string {
  const names = paths.slice(0, 3).map((path) => basename(path));
  return paths.length > 3 ? `${names.join(', ')} and ${paths.length - 3} more` : names.join(', ');
}

export class FileIntake {
  readonly #deps: FileIntakeDeps;
  /** One intake at a time: two launches in a row must not interleave their notices. */
  #chain: Promise<unknown> = Promise.resolve();

  constructor(deps: FileIntakeDeps) {
    this.#deps = deps;
  }

  /** The account files from outside go to, or null when the person must choose. */
  targetAccount(): string | null {
    const accounts = this.#deps.queue.accounts.list();
    const remembered = this.#deps.lastAccount.get();
    if (remembered !== null && accounts.some((account) => account.name === remembered)) return remembered;
    return accounts.length === 1 ? accounts[0]!.name : null;
  }

  /** Queues absolute paths; always shows the window, so that the person sees what happened. */
  receive(paths: readonly string[]): Promise<IntakeOutcome> {
    const run = this.#chain.then(() => this.#receive(paths));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #receive(paths: readonly string[]): Promise<IntakeOutcome> {
    const exists = this.#deps.exists ?? existsSync;
    const unique = [...new Set(paths)];
    const present = unique.filter((path) => exists(path));
    const missing = unique.filter((path) => !present.includes(path));
    this.#deps.showWindow();
    if (missing.length > 0)
      this.#deps.notice(
        'warning',
        `Ferry was given ${listed(missing)}, which ${missing.length === 1 ? 'does' : 'do'} not exist`,
      );
    if (present.length === 0) return { kind: 'nothing', missing };
    const account = this.targetAccount();
    if (account === null) {
      this.#deps.notice(
        'info',
        `Ferry was given ${listed(present)} but does not know which account to upload to: choose an account and drop the files on the window`,
      );
      return { kind: 'no-account', files: present, missing };
    }
    const result = await this.#deps.enqueue(account, present);
    if (!result.ok) {
      this.#deps.notice('error', `Could not queue ${listed(present)} for ${account}: ${result.error.message}`);
      return { kind: 'refused', account, message: result.error.message, missing };
    }
    const count = result.value.length;
    this.#deps.notice('info', `Queued ${count} file${count === 1 ? '' : 's'} for ${account} (${listed(present)})`);
    return { kind: 'queued', account, jobs: count, missing };
  }
}
