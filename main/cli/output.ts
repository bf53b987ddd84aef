/**
 * What the `ferry` command prints: JSON Lines for scripts (`--json`), short human lines otherwise, and
 * progress bars only when stdout is a terminal.
 */
import type cliProgress from 'cli-progress';
import { createRequire } from 'node:module';
import { formatSize } from '../core/formatSize.ts';
import type { JobView } from '../api/contract.ts';
import type { Account } from '../db/accountsRepository.ts';
import type { Job } from '../db/jobsRepository.ts';
import type { ProgressUpdate } from '../engine/engine.ts';
import type { NetworkChange } from '../engine/networkMonitor.ts';

// cli-progress is loaded by the first bars on a terminal: commands that print no bars (and scripts,
// whose stdout is no terminal) do not pay for its modules at start-up.
const require = createRequire(import.meta.url);

export interface Output {
  json: boolean;
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream;
}

/** The terminal-state line of the command contract (docs/architecture.md). */
export function jobEvent(job: Job, account: Account | undefined): Record<string, unknown> {
  const terminal = job.state === 'completed' || job.state === 'failed' || job.state === 'canceled';
  return {
    event: 'job',
    id: job.id,
    account: account?.name ?? null,
    provider: account?.provider ?? null,
    source: job.source,
    name: job.name,
    size: job.size,
    status: job.state,
    attempts: job.attempts,
    result: job.result ? { remoteId: job.result.remoteId, url: job.result.url, details: job.result.details } : null,
    error:
      terminal && job.state !== 'completed' && job.error ? { kind: job.error.kind, message: job.error.message } : null,
  };
}

/**
 * `ferry list --json`'s line for a job, from the API's view of it: the terminal-state line's fields
 * (`jobEvent`) and the confirmed bytes and last error, built as one object literal (it runs for every
 * job listed).
 */
export function jobListLine(job: JobView): string {
  const terminal = job.state === 'completed' || job.state === 'failed' || job.state === 'canceled';
  return `${JSON.stringify({
    event: 'job',
    id: job.id,
    account: job.accountName,
    provider: job.provider,
    source: job.source,
    name: job.name,
    size: job.size,
    status: job.state,
    attempts: job.attempts,
    result: job.result ? { remoteId: job.result.remoteId, url: job.result.url, details: job.result.details } : null,
    error:
      terminal && job.state !== 'completed' && job.error ? { kind: job.error.kind, message: job.error.message } : null,
    bytesConfirmed: job.bytesConfirmed,
    lastError: job.error,
  })}\n`;
}

export function printJson(output: Output, value: unknown): void {
  output.out.write(`${JSON.stringify(value)}\n`);
}

export function formatBytes(bytes: number | null): string {
  return bytes === null ? '?' : formatSize(bytes);
}

/** One human line for a job that reached a terminal state. */
export function describeJob(job: Job, account: Account | undefined): string {
  const where = account ? `${account.name} (${account.provider})` : `account ${job.accountId}`;
  if (job.state === 'completed') {
    const id = job.result?.remoteId ? ` id ${job.result.remoteId}` : '';
    const url = job.result?.url ? ` ${job.result.url}` : '';
    const warning = typeof job.result?.details.warning === 'string' ? ` (warning: ${job.result.details.warning})` : '';
    return `done    #${job.id} ${job.name} -> ${where}${id}${url}${warning}`;
  }
  if (job.state === 'failed')
    return `failed  #${job.id} ${job.name} -> ${where}: ${job.error?.message ?? 'unknown error'}`;
  if (job.state === 'canceled') return `canceled #${job.id} ${job.name} -> ${where}`;
  return `${job.state.padEnd(7)} #${job.id} ${job.name} -> ${where}`;
}

/** Progress bars on a terminal; nothing at all otherwise. */
export class ProgressBars {
  readonly #bars = new Map<number, cliProgress.SingleBar>();
  readonly #multi: cliProgress.MultiBar | null;
  /** What the bars say instead of a speed while hosts cannot be reached, or null. */
  #waiting: string | null = null;

  constructor(output: Output) {
    const bars = output.out.isTTY && !output.json ? (require('cli-progress') as typeof cliProgress) : null;
    this.#multi = bars
      ? new bars.MultiBar(
          {
            format: ' {bar} {percentage}% | {name} | {done}/{size} | {speed}',
            hideCursor: true,
            clearOnComplete: false,
            stopOnComplete: false,
            autopadding: true,
            stream: output.out as NodeJS.WriteStream,
          },
          bars.Presets.shades_classic,
        )
      : null;
  }

  update(updates: ProgressUpdate[], nameOf: (jobId: number) => string): void {
    if (!this.#multi) return;
    for (const update of updates) {
      const total = update.total ?? Math.max(1, update.bytesDone);
      let bar = this.#bars.get(update.jobId);
      const payload = {
        name: nameOf(update.jobId),
        done: formatBytes(update.bytesDone),
        size: formatBytes(update.total),
        speed: `${formatBytes(Math.round(update.bytesPerSecond))}/s`,
      };
      if (!bar) {
        bar = this.#multi.create(Math.max(1, total), update.bytesDone, payload);
        this.#bars.set(update.jobId, bar);
      }
      bar.setTotal(Math.max(1, total));
      bar.update(update.bytesDone, payload);
    }
  }

  /**
   * Hosts that cannot be reached (empty: all reachable again): the bars that do not move say
   * "Waiting for network" where the speed was (a bar that moves again shows its speed).
   */
  setOffline(hosts: readonly string[]): void {
    this.#waiting = hosts.length > 0 ? `Waiting for network (${hosts.join(', ')})` : null;
    for (const bar of this.#bars.values()) bar.update({ speed: this.#waiting ?? '' });
  }

  /** Prints a line above the bars (or plainly when there are none). */
  log(output: Output, line: string): void {
    if (this.#multi) this.#multi.log(`${line}\n`);
    else output.out.write(`${line}\n`);
  }

  done(jobId: number): void {
    const bar = this.#bars.get(jobId);
    if (bar && this.#multi) {
      this.#multi.remove(bar);
      this.#bars.delete(jobId);
    }
  }

  stop(): void {
    this.#multi?.stop();
  }
}

/**
 * A host became unreachable or reachable again: a JSON event (`{"event":"network","state":…,"host":…}`)
 * or a line, and the progress bars say "Waiting for network" while any host is offline.
 */
export function reportNetwork(
  output: Output,
  bars: ProgressBars,
  change: NetworkChange,
  offlineHosts: readonly string[],
): void {
  if (output.json) {
    printJson(output, {
      event: 'network',
      state: change.state,
      host: change.host,
      ...(change.code !== undefined ? { code: change.code } : {}),
    });
  } else if (change.state === 'offline') {
    bars.log(
      output,
      `Waiting for network: ${change.host} cannot be reached (${change.code ?? 'no connection'}); its uploads resume when it answers, without using up their retries`,
    );
  } else {
    bars.log(output, `Network back: ${change.host} answers again; resuming its uploads`);
  }
  bars.setOffline(offlineHosts);
}
