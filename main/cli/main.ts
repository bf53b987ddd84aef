/**
 * The `ferry` command (contract in docs/architecture.md, "The ferry command"). Commands that change or
 * read the queue go through the API's command table (./apiCall.ts), like the window and `ferry serve`;
 * `run` and `upload --wait` put their output around the host (main/host/ferryHost.ts). Exit codes: 0
 * all done; 1 some job failed or was canceled (or did not finish), or Ferry failed unexpectedly; 2 usage
 * or validation error, with a one-line reason on stderr (an API error's code decides: apiError.ts).
 */
import { Command, CommanderError, Option } from 'commander';
import type { BulkResult, JobsListInput } from '../api/contract.ts';
import type { FerryApi } from '../api/ferryApi.ts';
import type { Account } from '../db/accountsRepository.ts';
import type { Db } from '../db/database.ts';
import type { Job } from '../db/jobsRepository.ts';
import type { ProviderAdapter } from '../providers/types.ts';
import { parseBwLimit } from '../core/bwlimit.ts';
import { JOB_STATES, TERMINAL_STATES, isJobState, type JobState } from '../core/jobState.ts';
import { installLastResort } from '../engine/lastResort.ts';
import { FerryError } from '../core/errors.ts';
import type { Queue } from '../engine/queue.ts';
import type { EngineTuning, SyncTuning } from '../host/ferryHost.ts';
import { PROVIDER_DESCRIPTIONS } from '../providers/catalog.ts';
import { redactingWriter } from '../secrets/redaction.ts';
import { apiCaller } from './apiCall.ts';
import { cliLog, copyLinesToLog, openCliLog } from './cliLog.ts';
import { resolveDataDir } from './dataDir.ts';
import {
  ProgressBars,
  describeJob,
  formatBytes,
  jobEvent,
  jobListLine,
  printJson,
  reportNetwork,
  type Output,
} from './output.ts';
import { printProviders, stopQuietlyOnClosedStdout } from './fastPath.ts';
import { registerSettingsCommands } from './settingsCommand.ts';
import { registerSyncCommands, syncTuning } from './syncCommands.ts';

/** Commander argument parser for --port. */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new FerryError('invalid', `"${value}" is not a port number (0-65535)`);
  return port;
}

/** Commander argument parser for --bwlimit: rclone syntax, checked before anything is queued or run. */
export function parseBwlimitOption(value: string): string {
  const parsed = parseBwLimit(value);
  if (!parsed.ok) throw new FerryError('invalid', `--bwlimit ${parsed.error}`);
  return parsed.schedule.text;
}

/** A usage error found while parsing: reported like any other refused input (exit code 2). */
class UsageError extends FerryError {
  constructor(message: string) {
    super('invalid', message);
  }
}

/** The states `cancel --all` and `retry --all` act on (`pause|resume --all` are the API's pauseAll/resumeAll). */
const ALL_STATES: Record<'cancel' | 'retry', JobState[]> = {
  cancel: ['queued', 'uploading', 'waiting', 'paused', 'processing', 'failed'],
  retry: ['failed', 'canceled'],
};
/**
 * Jobs per jobs.list page. A page of rows, jobs and views alive at once is garbage V8's young
 * generation (kept small by bin/ferry.js's lean heap) collects cheaply at 250 jobs, but promotes to the
 * old generation at the API's largest page of 1,000: 100,000 jobs listed in ~40 % less CPU and ~8 MB
 * less memory (docs/performance.md, "Round two: the command, second pass"). The page's total is
 * counted once per list, not once per page (JobsRepository.count).
 */
const PAGE = 250;

interface Context {
  dataDir: string;
  db: Db;
  queue: Queue;
  /** The API on this queue, built at the first command that needs it (`run` does not). */
  api?: FerryApi;
}

export interface MainIo {
  out?: NodeJS.WritableStream & { isTTY?: boolean };
  err?: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
}

/**
 * Last-resort handlers for the `ferry` process (bin/ferry.js installs them; tests that call `main`
 * in-process do not): a failure nothing handled is said on stderr, redacted, instead of ending every
 * upload of a long `ferry run` or `ferry serve` (see main/engine/lastResort.ts).
 */
export function installProcessGuards(): void {
  stopQuietlyOnClosedStdout();
  const err = redactingWriter(process.stderr);
  installLastResort((message, error) => {
    const detail = error instanceof Error ? (error.stack ?? error.message) : error === undefined ? '' : String(error);
    err.write(`ferry: ${message}${detail ? `\n${detail}` : ''}\n`);
    cliLog(message, error);
  });
}

export async function main(argv: string[], io: MainIo = {}): Promise<number> {
  const out = io.out ?? process.stdout;
  // Everything on stderr (this command's messages, `ferry serve`'s log) is redacted: an error can
  // quote a secret, or a token derived from one.
  const err = redactingWriter(io.err ?? process.stderr);
  const env = io.env ?? process.env;
  let context: Context | undefined;
  let exitCode = 0;
  let usageText = '';
  // The error behind the API's INTERNAL answer: said on stderr in one line (the API keeps it from clients).
  let unexpected: unknown;
  const logUnexpected = (message: string, error?: unknown): void => {
    unexpected = error ?? message;
  };

  // The database, the queue and the adapters are loaded by the first command that needs them: the
  // API's validation (zod), the HTTP client and the adapters are most of the command's start-up time,
  // and `ferry providers` or `--help` need none of them (docs/performance.md, "Round two").
  // Commands that only read or change job states (`list`, `pause`, `resume`, `cancel`, `retry`) send no
  // request and check no account or source: they set `adapters` to false, and the queue they open has
  // no adapter registry (the adapters bring the HTTP client and the proxy agents, ~40 % of the rest).
  let adapters = true;
  const open = async (): Promise<Context> => {
    if (context) return context;
    const dataDir = resolveDataDir(program.opts<{ dataDir?: string }>().dataDir, env);
    const [{ openDatabase }, { Queue }, registry, { FileSecretStore }] = await Promise.all([
      import('../db/database.ts'),
      import('../engine/queue.ts'),
      adapters ? import('../providers/registry.ts') : undefined,
      import('../secrets/fileSecretStore.ts'),
    ]);
    if (context) return context;
    const db = openDatabase(dataDir);
    const adapterFor = (provider: string): ProviderAdapter => {
      // Not reachable from those commands (test/integration/cli*.test.ts run each): a command added to
      // them that needs an adapter fails here, not with a half-done change.
      if (!registry) throw new Error(`This command did not load the provider adapters (asked for "${provider}")`);
      return registry.getAdapter(provider);
    };
    context = { dataDir, db, queue: new Queue({ adapterFor, db, secrets: new FileSecretStore(dataDir) }) };
    return context;
  };
  const output = (json = false): Output => ({ json, out, err });
  // Not started (`FerryApi.start`): this process answers one command and leaves the staging sweep to
  // `ferry serve`. It takes no run lock: queue commands work while another process uploads.
  const call = apiCaller(async () => {
    const ctx = await open();
    const { FerryApi } = await import('../api/ferryApi.ts');
    ctx.api ??= new FerryApi({
      queue: ctx.queue,
      db: ctx.db,
      dataDir: ctx.dataDir,
      engine: { running: false, note: null },
      log: logUnexpected,
    });
    return ctx.api;
  });

  const program = new Command('ferry')
    .description('Ferry: resumable uploads to OFAuth, SelfCommunity, Oktopost, Xvid MediaHub and TwentyThree')
    .option('--data-dir <dir>', "data folder (default: $FERRY_DATA_DIR, else the desktop app's user-data folder)")
    // Commander's error output is held back: a missing subcommand makes it print the whole help to
    // stderr, and the contract is one line (see the catch below).
    .configureOutput({ writeOut: (text) => out.write(text), writeErr: (text) => (usageText += text) })
    // Usage errors stay one line on stderr (the contract); --help shows the rest.
    .exitOverride();

  program
    .command('providers')
    .description('list the providers and the account fields each needs')
    .option('--json', 'JSON Lines output')
    .action((options: { json?: boolean }) => printProviders(out, Boolean(options.json)));

  const accounts = program.command('accounts').description('manage provider accounts');
  accounts
    .command('add')
    .description('add an account')
    .argument('<provider>', `provider id (${PROVIDER_DESCRIPTIONS.map((a) => a.id).join(', ')})`)
    .requiredOption('--name <name>', 'a name for this account, used by --account')
    .option('--base-url <url>', "the provider's API origin (required for self-hosted sites)")
    .option('--set <key=value>', 'a setting (repeatable)', collect, [])
    .option('--secret <key=value>', 'a secret, stored owner-only and never printed (repeatable)', collect, [])
    .addOption(new Option('--concurrency <n>', 'uploads at once for this account').argParser(positiveInt))
    .action(
      async (
        provider: string,
        options: { name: string; baseUrl?: string; set: string[]; secret: string[]; concurrency?: number },
      ) => {
        const account = await call('accounts.add', {
          provider,
          name: options.name,
          ...(options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : {}),
          settings: keyValues(options.set, '--set'),
          secrets: keyValues(options.secret, '--secret'),
          ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
        });
        out.write(`Added ${account.provider} account "${account.name}"\n`);
      },
    );
  accounts
    .command('list')
    .description('list accounts (secrets only as set / not set)')
    .option('--json', 'JSON Lines output')
    .action(async (options: { json?: boolean }) => {
      for (const account of await call('accounts.list', undefined)) {
        if (options.json) {
          printJson(output(), {
            event: 'account',
            name: account.name,
            provider: account.provider,
            baseUrl: account.baseUrl,
            settings: account.settings,
            secrets: account.secrets,
            concurrency: account.concurrency,
            paused: account.paused,
          });
        } else {
          const secrets = Object.entries(account.secrets)
            .map(([key, set]) => `${key}=${set === 'set' ? 'set' : 'NOT SET'}`)
            .join(' ');
          out.write(
            `${account.name.padEnd(16)} ${account.provider.padEnd(14)} ${account.baseUrl ?? '(default)'}  ${secrets}\n`,
          );
        }
      }
    });
  accounts
    .command('remove')
    .description('remove an account and its secrets')
    .argument('<name>')
    .action(async (name: string) => {
      const { removed } = await call('accounts.remove', { account: name });
      out.write(`Removed account "${removed}"\n`);
    });

  program
    .command('upload')
    .description('queue files (or URLs, for providers that pull) for an account')
    .requiredOption('--account <name>', 'the account to upload to')
    .option('--set <key=value>', 'a per-upload option, e.g. title=... (repeatable)', collect, [])
    .option('--wait', 'upload now and wait until these uploads are done')
    .option('--json', 'JSON Lines output')
    .option('--bwlimit <rate>', BWLIMIT_HELP, parseBwlimitOption)
    .argument('<paths...>', 'files, folders or URLs')
    .action(async (paths: string[], options: UploadOptions) => {
      if (options.bwlimit !== undefined && !options.wait)
        throw new UsageError('--bwlimit limits the uploads of this process: use it with --wait (or with "ferry run")');
      const jobs = await call('jobs.enqueue', {
        account: options.account,
        paths,
        options: keyValues(options.set, '--set'),
      });
      const o = output(options.json);
      for (const job of jobs) {
        if (o.json)
          printJson(o, {
            event: 'queued',
            id: job.id,
            account: options.account,
            name: job.name,
            size: job.size,
            source: job.source,
          });
      }
      if (!o.json) {
        const total = jobs.reduce((sum, job) => sum + (job.size ?? 0), 0);
        const sized = jobs.every((job) => job.size !== null)
          ? formatBytes(total)
          : 'size known once the provider fetches it';
        out.write(
          `Queued ${jobs.length} upload(s), ${sized}, for "${options.account}" (job ${jobs.map((j) => `#${j.id}`).join(', ')})\n`,
        );
        if (!options.wait) out.write('Run "ferry run" to upload them (or use --wait next time).\n');
      }
      if (options.wait) {
        // The command API has answered: the host's own API follows the jobs from here, so this one
        // stops gathering job changes nobody listens to.
        const ctx = await open();
        ctx.api?.close();
        exitCode = await drive(ctx, o, {
          only: new Set(jobs.map((job) => job.id)),
          engineOptions: withBwlimit(engineTuning(env), options.bwlimit),
        });
      }
    });

  program
    .command('run')
    .description('process the queue in the foreground (Ctrl-C stops; uploads resume next time)')
    .option('--until-idle', 'stop when nothing is left to do')
    .option('--json', 'JSON Lines output')
    .option('--bwlimit <rate>', BWLIMIT_HELP, parseBwlimitOption)
    .action(async (options: { untilIdle?: boolean; json?: boolean; bwlimit?: string }) => {
      // Tuning is read before anything starts: a wrong FERRY_* value stops here, with exit code 2.
      const tuning = {
        engineOptions: withBwlimit(engineTuning(env), options.bwlimit),
        syncOptions: syncTuning(env),
      };
      exitCode = await drive(await open(), output(options.json), { untilIdle: Boolean(options.untilIdle), ...tuning });
    });

  program
    .command('list')
    .description('list jobs')
    .option('--json', 'JSON Lines output')
    .addOption(new Option('--status <status>', 'only jobs in this state').choices([...JOB_STATES]))
    .action(async (options: { json?: boolean; status?: string }) => {
      adapters = false;
      const states = options.status && isJobState(options.status) ? [options.status] : undefined;
      // Pages keep memory flat with 100,000 jobs; waiting for 'drain' keeps stdout's buffer small too.
      // Each page starts after the last job of the previous one (not at an offset, which walks every
      // job before it): a million jobs list in linear time.
      let listed = 0;
      for (let after: JobsListInput['after']; ;) {
        const page = (
          await call('jobs.list', { ...(states ? { states } : {}), limit: PAGE, ...(after ? { after } : {}) })
        ).items;
        listed += page.length;
        // One write per 100 jobs, not per job: 100,000 small writes to a pipe cost more than the query,
        // and a whole page as one string (~300 KB) would be a large object for V8 to collect.
        let text = '';
        for (const [index, job] of page.entries()) {
          if (index % 100 === 0 && text) {
            out.write(text);
            text = '';
          }
          if (options.json) {
            text += jobListLine(job);
          } else {
            const percent = job.size ? `${Math.floor((100 * job.bytesConfirmed) / Math.max(1, job.size))}%` : '';
            const tail =
              job.state === 'completed' ? (job.result?.url ?? job.result?.remoteId ?? '') : (job.error?.message ?? '');
            text += `#${String(job.id).padEnd(5)} ${job.state.padEnd(10)} ${percent.padStart(4)} ${(job.accountName ?? '?').padEnd(14)} ${formatBytes(job.size).padStart(9)}  ${job.name}${tail ? `  ${tail}` : ''}\n`;
          }
        }
        if (text) out.write(text);
        if (page.length < PAGE) break;
        after = { position: page.at(-1)!.position, id: page.at(-1)!.id };
        if ((out as { writableNeedDrain?: boolean }).writableNeedDrain)
          await new Promise((resolve) => out.once('drain', resolve));
      }
      if (!options.json && listed === 0)
        out.write('No jobs. Queue files with "ferry upload --account NAME FILE...".\n');
    });

  for (const command of ['pause', 'resume', 'cancel', 'retry'] as const) {
    program
      .command(command)
      .description(`${command} jobs by id, or every job it applies to with --all`)
      .argument('[ids...]', 'job ids')
      .option('--all', 'every job')
      .action(async (ids: string[], options: { all?: boolean }) => {
        adapters = false;
        if (options.all && ids.length > 0) throw new UsageError(`Give job ids or --all, not both`);
        if (!options.all && ids.length === 0) throw new UsageError(`Give the ids of the jobs to ${command}, or --all`);
        const verb = { pause: 'paused', resume: 'resumed', cancel: 'canceled', retry: 'queued again' }[command];
        if (options.all) {
          const result =
            command === 'pause'
              ? await call('jobs.pauseAll', undefined)
              : command === 'resume'
                ? await call('jobs.resumeAll', undefined)
                : await callAll(command, await jobIdsIn(ALL_STATES[command]));
          out.write(`${result.jobs.length} job(s) ${verb}\n`);
          await reportRefusals(result.errors);
          return;
        }
        const numbers = ids.map((raw) => {
          const id = Number(raw);
          if (!Number.isInteger(id) || id <= 0) throw new UsageError(`"${raw}" is not a job id`);
          return id;
        });
        // Every id is tried, as in the window; each refusal is one line on stderr and sets the exit code.
        const result = await call(`jobs.${command}`, { ids: numbers });
        for (const job of result.jobs) out.write(`#${job.id} ${job.name}: ${job.state}\n`);
        await reportRefusals(result.errors);
      });
  }

  /** The ids of every job in these states (read before anything changes them). */
  const jobIdsIn = async (states: JobState[]): Promise<number[]> => {
    const ids: number[] = [];
    for (let after: JobsListInput['after']; ;) {
      const page = (await call('jobs.list', { states, limit: PAGE, ...(after ? { after } : {}) })).items;
      ids.push(...page.map((job) => job.id));
      if (page.length < PAGE) return ids;
      after = { position: page.at(-1)!.position, id: page.at(-1)!.id };
    }
  };
  /** `cancel|retry --all`: the API's bulk command over the given ids, in batches it accepts. */
  const callAll = async (command: 'cancel' | 'retry', ids: number[]): Promise<BulkResult> => {
    const merged: BulkResult = { jobs: [], errors: [] };
    for (let at = 0; at < ids.length; at += 10_000) {
      const result = await call(`jobs.${command}`, { ids: ids.slice(at, at + 10_000) });
      merged.jobs.push(...result.jobs);
      merged.errors.push(...result.errors);
    }
    return merged;
  };
  const reportRefusals = async (errors: BulkResult['errors']): Promise<void> => {
    const { exitCodeOf } = await import('../api/apiError.ts');
    for (const error of errors) {
      err.write(`ferry: ${error.message}\n`);
      exitCode = Math.max(exitCode, exitCodeOf(error.code));
    }
  };

  registerSyncCommands(program, call, { out });
  registerSettingsCommands(program, call, { out });

  program
    .command('serve')
    .description('serve the web UI and the API on http://HOST:PORT (token-protected) and run the queue')
    .option('--host <host>', 'address to listen on (anything but loopback needs --allow-remote)', '127.0.0.1')
    .option('--port <n>', 'port (default: any free one)', parsePort)
    .option(
      '--allow-remote',
      'allow a --host other networks can reach: anyone there with the token could upload your files',
    )
    .option(
      '--allow-path <dir>',
      'a folder whose files API commands may name; all other paths are refused (repeatable; with --allow-remote, none without it)',
      collect,
      [],
    )
    .action(async (options: { host: string; port?: number; allowRemote?: boolean; allowPath: string[] }) => {
      // Loaded only for this command: the API server (and its dependencies) would otherwise add to
      // the memory of every `ferry upload`.
      const { serveCommand } = await import('../serve/serve.ts');
      const context = await open();
      exitCode = await serveCommand(context, {
        host: options.host,
        allowRemote: Boolean(options.allowRemote),
        allowPaths: options.allowPath,
        port: options.port,
        out,
        // Its log lines also go to the log file (cliLog.ts).
        err: copyLinesToLog(err, await openCliLog(context.dataDir)),
        engineOptions: engineTuning(env),
        syncOptions: syncTuning(env),
      });
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not errors; everything else commander rejects is a usage error.
      const ok = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0;
      if (error.code === 'commander.help' && !ok) {
        // `ferry`, `ferry accounts`, `ferry sync` without a command: one line that says where help is.
        const command = /^Usage: (ferry(?: [a-z-]+)*?) \[options\]/.exec(usageText)?.[1] ?? 'ferry';
        err.write(`ferry: missing command; "${command} --help" lists the commands\n`);
      } else if (usageText.trim() !== '') {
        // "error: unknown command 'x'" and its "(Did you mean y?)" hint, on one line.
        err.write(`${usageText.trim().replace(/\s*\n\s*/g, ' ')}\n`);
      }
      usageText = '';
      return ok ? 0 : 2;
    }
    // One mapping for every refusal, whether the API answered it or this process threw it (a flag's
    // value, another process holding the run lock): the API's error code decides the exit code.
    const { exitCodeOf, oneLine, toErrorPayload } = await import('../api/apiError.ts');
    const payload = toErrorPayload('ferry', error, logUnexpected);
    if (payload.code === 'INTERNAL') {
      // One line, exit code 1: 70 is left to the last-resort handler, for what escaped everything.
      const cause = unexpected ?? error;
      err.write(`ferry: unexpected error: ${oneLine(cause instanceof Error ? cause.message : String(cause))}\n`);
      if (context) (await openCliLog(context.dataDir))('Unexpected error', cause);
    } else {
      err.write(`ferry: ${payload.message}\n`);
    }
    return exitCodeOf(payload.code);
  } finally {
    if (usageText) err.write(usageText);
    context?.api?.close();
    context?.db.close();
  }
}

const BWLIMIT_HELP =
  'upload bandwidth limit for this process only, instead of the saved one (rclone syntax: 2M, 512K, off, "08:00,512K 19:00,off")';

interface UploadOptions {
  account: string;
  set: string[];
  wait?: boolean;
  json?: boolean;
  bwlimit?: string;
}

/** The engine tuning with this process's --bwlimit, which wins over the saved setting (not saved). */
function withBwlimit(tuning: EngineTuning, bwlimit: string | undefined): EngineTuning {
  return bwlimit === undefined ? tuning : { ...tuning, bwlimit };
}

/**
 * Runs the engine in this process until `only` jobs have settled (upload --wait), the queue is idle
 * (run --until-idle) or a signal arrives (run). When another process already runs the queue, `--wait`
 * follows that process's progress through the database instead.
 */
async function drive(
  ctx: Context,
  output: Output,
  mode: { only?: Set<number>; untilIdle?: boolean; engineOptions: EngineTuning; syncOptions?: SyncTuning },
): Promise<number> {
  const { queue } = ctx;
  const accountOf = (job: Job): Account | undefined => queue.accounts.get(job.accountId);
  const reported = new Set<number>();
  let sawFailure = false;
  const bars = new ProgressBars(output);
  const report = (job: Job): void => {
    if (!TERMINAL_STATES.has(job.state) || reported.has(job.id)) return;
    if (mode.only && !mode.only.has(job.id)) return;
    reported.add(job.id);
    if (job.state !== 'completed') sawFailure = true;
    bars.done(job.id);
    if (output.json) printJson(output, jobEvent(job, accountOf(job)));
    else bars.log(output, describeJob(job, accountOf(job)));
  };
  // The waited-for jobs that have not settled (terminal or paused), kept up to date from job events so
  // that each event costs O(1) however many files `upload --wait` was given.
  const unsettled = new Set(mode.only ?? []);
  const track = (job: Job): void => {
    if (!mode.only?.has(job.id)) return;
    if (TERMINAL_STATES.has(job.state) || job.state === 'paused') unsettled.delete(job.id);
    else unsettled.add(job.id);
  };
  const reread = (): void => {
    for (const id of [...unsettled]) {
      const job = queue.jobs.get(id);
      if (job) track(job);
      else unsettled.delete(id);
    }
  };
  const settled = (): boolean => unsettled.size === 0;

  // The host takes the run lock, builds the API and the engine with the saved global concurrency (the
  // same limit as the window and `ferry serve`; FERRY_MAX_JOBS, for tests, still wins) and, for `run`,
  // the watched folders. It answers no commands here: no transport is attached to its API.
  const { openFerryHost } = await import('../host/ferryHost.ts');
  await openCliLog(ctx.dataDir);
  const host = await openFerryHost({
    dataDir: ctx.dataDir,
    db: ctx.db,
    queue,
    log: (message, error) => {
      const detail = error instanceof Error ? error.message : error === undefined ? '' : String(error);
      output.err.write(`ferry: ${message}${detail ? `: ${detail}` : ''}\n`);
      cliLog(message, error);
    },
    engineOptions: mode.engineOptions,
    answersCommands: false,
    // Watched folders run beside the engine, except for `upload --wait`, which only follows its jobs.
    // --until-idle: one full scan (files added while no Ferry ran), queue what is new, then drain.
    ...(mode.syncOptions
      ? {
          watchedFolders: {
            watch: !mode.untilIdle,
            tuning: mode.syncOptions,
            onError: (error: Error) => output.err.write(`ferry: ${error.message}\n`),
          },
        }
      : {}),
  });

  let stopRequested: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    stopRequested = resolve;
  });
  const onSignal = (): void => stopRequested();
  let interrupted = false;
  let check: ((job: Job) => void) | undefined;
  try {
    if (!host.engine) {
      const locked = host.locked!;
      if (!mode.only) throw locked;
      // Another process uploads this queue: follow our jobs through the database until they settle,
      // or until that process ends and this one can take over.
      // --bwlimit limits only what this process sends: nothing until it takes over.
      const limit = mode.engineOptions.bwlimit === undefined ? '' : ' (--bwlimit applies once this process uploads)';
      if (!output.json) output.err.write(`ferry: ${locked.message}; following its progress${limit}\n`);
      while (!host.engine) {
        for (const id of unsettled) {
          const job = queue.jobs.get(id);
          if (job) report(job);
        }
        reread();
        if (settled()) return finish();
        await new Promise((resolve) => setTimeout(resolve, 500));
        await host.takeOver();
      }
    }
    const engine = host.engine;
    queue.on('job', report);
    // A full disk or a locked database: said once per distinct message (the engine retries every few
    // seconds while it lasts), never as a failure of the jobs.
    let lastFault = '';
    engine.on('fault', (fault) => {
      if (output.json) {
        printJson(output, { event: 'fault', id: fault.jobId, message: fault.message, retryInMs: fault.retryInMs });
      } else if (fault.message !== lastFault) {
        output.err.write(`ferry: ${fault.message}\n`);
      }
      lastFault = fault.message;
    });
    engine.on('retry', (job) => {
      if (mode.only && !mode.only.has(job.id)) return;
      const wait = job.nextAttemptAt ? Math.max(0, job.nextAttemptAt - Date.now()) : 0;
      if (output.json) {
        printJson(output, {
          event: 'retry',
          id: job.id,
          name: job.name,
          attempts: job.attempts,
          error: job.error,
          retryInMs: wait,
        });
      } else {
        bars.log(output, `retry   #${job.id} ${job.name}: ${job.error?.message ?? ''}`);
      }
    });
    engine.on('progress', (updates) => bars.update(updates, (jobId) => queue.jobs.get(jobId)?.name ?? `#${jobId}`));
    engine.on('network', (change) =>
      reportNetwork(
        output,
        bars,
        change,
        engine.offlineHosts().map((offline) => offline.host),
      ),
    );

    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    await host.start();
    const goal = mode.only
      ? new Promise<void>((resolve) => {
          check = (job: Job): void => {
            track(job);
            if (settled()) resolve();
          };
          queue.on('job', check);
          reread();
          if (settled()) resolve();
          // Jobs that can never start (their account is paused) must not make --wait hang.
          void engine.whenIdle().then(resolve);
        })
      : mode.untilIdle
        ? (async () => {
            await host.sync?.whenSettled();
            await engine.whenIdle();
          })()
        : new Promise<void>(() => undefined);
    await Promise.race([goal, stopped.then(() => (interrupted = true))]);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // Watched folders, then the engine, then the lock.
    await host.close();
    queue.off('job', report);
    if (check) queue.off('job', check);
    bars.stop();
  }
  return finish(interrupted);

  function finish(wasInterrupted = false): number {
    if (mode.only) {
      const unfinished = [...mode.only].filter((id) => !reported.has(id));
      if (unfinished.length > 0 && !output.json) {
        output.err.write(
          `ferry: ${unfinished.length} upload(s) did not finish (paused, interrupted or their account is paused); "ferry list" shows them\n`,
        );
      }
      return sawFailure || unfinished.length > 0 ? 1 : 0;
    }
    if (wasInterrupted && !mode.untilIdle) return sawFailure ? 1 : 0;
    return sawFailure || wasInterrupted ? 1 : 0;
  }
}

/** Engine timings can be tightened through the environment (tests and demos use short ones). */
function engineTuning(env: NodeJS.ProcessEnv): EngineTuning {
  const number = (name: string): number | undefined => {
    const value = env[name];
    if (value === undefined || value === '') return undefined;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < 0)
      throw new UsageError(`${name} must be a number of milliseconds (got "${value}")`);
    return parsed;
  };
  const stall = number('FERRY_STALL_TIMEOUT_MS');
  const reply = number('FERRY_REPLY_TIMEOUT_MS');
  const fault = number('FERRY_FAULT_RETRY_MS');
  const base = number('FERRY_RETRY_BASE_MS');
  const poll = number('FERRY_POLL_INITIAL_MS');
  const jobs = number('FERRY_MAX_JOBS');
  return {
    ...(stall !== undefined ? { stallTimeoutMs: stall } : {}),
    ...(reply !== undefined ? { replyDeadlines: { request: reply, part: reply, finalize: reply } } : {}),
    ...(fault !== undefined ? { machineFaultDelays: { firstMs: fault, maxMs: Math.max(fault * 8, fault) } } : {}),
    ...(base !== undefined ? { retry: { baseDelayMs: base, maxDelayMs: Math.max(base * 16, base) } } : {}),
    ...(poll !== undefined ? { pollDelays: { initialMs: poll, maxMs: Math.max(poll * 8, poll), maxPolls: 720 } } : {}),
    ...(jobs !== undefined ? { maxJobsInFlight: Math.max(1, Math.trunc(jobs)) } : {}),
  };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new UsageError(`"${value}" is not a positive whole number`);
  return parsed;
}

function keyValues(pairs: string[], flag: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`${flag} expects KEY=VALUE (got "${pair}")`);
    result[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return result;
}
