/**
 * `ferry sync add|list|remove|pause|resume|settings|trash`: watched folders from the command line,
 * through the API's `sync.*` and `settings.*` commands (the same validation and messages as the window
 * and `ferry serve`). A refusal comes back as an API error, which the ferry command turns into its exit
 * code (main/api/apiError.ts) with a one-line reason.
 */
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { SyncRuleInfo } from '../api/contract.ts';
import { FerryError } from '../core/errors.ts';
import { AFTER_UPLOAD_ACTIONS, DEFAULT_MOVE_TO, type AfterUpload } from '../core/afterUpload.ts';
import type { SyncServiceOptions } from '../sync/syncService.ts';
import type { ApiCall } from './apiCall.ts';

export interface SyncCommandIo {
  out: NodeJS.WritableStream;
}

export function registerSyncCommands(program: Command, call: ApiCall, io: SyncCommandIo): void {
  const sync = program.command('sync').description('watched folders uploaded in the background by "ferry run"');
  const write = (line: string): void => void io.out.write(`${line}\n`);

  sync
    .command('add')
    .description('watch a folder and upload what appears in it to an account')
    .requiredOption('--account <name>', 'the account to upload to')
    .argument('<dir>', 'the folder to watch')
    .option('--include <glob>', 'only files matching this glob (repeatable; relative to the folder)', collect, [])
    .option('--exclude <glob>', 'never files matching this glob (repeatable)', collect, [])
    .option('--no-recursive', 'only files directly in the folder, not in subfolders')
    .addOption(
      new Option('--after <action>', 'what to do with a file once uploaded')
        .choices([...AFTER_UPLOAD_ACTIONS])
        .default('keep'),
    )
    .option('--move-to <name>', `subfolder for --after move (default "${DEFAULT_MOVE_TO}")`)
    .action(
      async (
        dir: string,
        options: {
          account: string;
          include: string[];
          exclude: string[];
          recursive: boolean;
          after: AfterUpload;
          moveTo?: string;
        },
      ) => {
        if (options.moveTo !== undefined && options.after !== 'move') {
          throw new FerryError('invalid', '--move-to only applies with --after move');
        }
        const rule = await call('sync.add', {
          account: options.account,
          dir: resolve(dir),
          include: options.include,
          exclude: options.exclude,
          recursive: options.recursive,
          afterUpload: options.after,
          ...(options.moveTo !== undefined ? { moveTo: options.moveTo } : {}),
        });
        write(`Added sync rule #${rule.id}: ${rule.dir} -> "${rule.accountName ?? '?'}" (${describeRule(rule)})`);
        write('"ferry run" uploads what appears in it.');
      },
    );

  sync
    .command('list')
    .description('list watched folders with what happened to their files')
    .option('--json', 'JSON Lines output')
    .action(async (options: { json?: boolean }) => {
      const rules = await call('sync.list', undefined);
      for (const rule of rules) {
        if (options.json) {
          write(
            JSON.stringify({
              event: 'sync-rule',
              id: rule.id,
              account: rule.accountName,
              provider: rule.provider,
              dir: rule.dir,
              include: rule.include,
              exclude: rule.exclude,
              recursive: rule.recursive,
              after: rule.afterUpload,
              moveTo: rule.afterUpload === 'move' ? rule.moveTo : null,
              paused: rule.paused,
              createdAt: rule.createdAt,
              counts: rule.counts,
              problems: rule.problems,
            }),
          );
        } else {
          const c = rule.counts;
          const tally = [
            `${c.uploaded} uploaded`,
            c.queued + c.pending ? `${c.queued + c.pending} queued` : '',
            c.duplicate ? `${c.duplicate} duplicate` : '',
            c.refused ? `${c.refused} refused` : '',
            c.failed ? `${c.failed} failed` : '',
          ].filter(Boolean);
          write(
            `#${String(rule.id).padEnd(4)} ${rule.paused ? 'paused ' : 'active '} ${(rule.accountName ?? '?').padEnd(14)} ${rule.dir}`,
          );
          write(`      ${describeRule(rule)}; ${tally.join(', ')}`);
          for (const problem of rule.problems.slice(0, 5))
            write(`      ${problem.state}: ${problem.path}: ${problem.reason ?? ''}`);
        }
      }
      if (!options.json && rules.length === 0)
        write('No watched folders. Add one with "ferry sync add --account NAME DIR".');
    });

  sync
    .command('remove')
    .description('stop watching a folder (files already uploaded are never sent again)')
    .argument('<id>', 'the rule id from "ferry sync list"')
    .action(async (raw: string) => {
      const id = ruleId(raw);
      // The answer names only the id; the folder is read first to say which one stopped.
      const dir = (await call('sync.list', undefined)).find((rule) => rule.id === id)?.dir;
      const removed = await call('sync.remove', { id });
      write(`Removed sync rule #${removed.removed}${dir ? ` (${dir})` : ''}`);
    });

  sync
    .command('settings')
    .description(
      'show or change how long a file must be quiet before it is moved or deleted, and how long the trash keeps it',
    )
    .option('--quiet-seconds <n>', 'seconds without a change before a move or delete (setting syncQuietSeconds)')
    .option('--trash-days <n>', "days a deleted file stays in Ferry's trash (setting syncTrashDays)")
    .action(async (options: { quietSeconds?: string; trashDays?: string }) => {
      const patch: { syncQuietSeconds?: number; syncTrashDays?: number } = {};
      if (options.quietSeconds !== undefined) patch.syncQuietSeconds = Number(options.quietSeconds);
      if (options.trashDays !== undefined) patch.syncTrashDays = Number(options.trashDays);
      // Validated by the API's settings.set, whose message names the setting (the flags' help names it too).
      const settings =
        Object.keys(patch).length > 0 ? await call('settings.set', patch) : await call('settings.get', undefined);
      write(
        `syncQuietSeconds ${settings.syncQuietSeconds}  (a file moves or is deleted once it has not changed for this long)`,
      );
      write(`syncTrashDays ${settings.syncTrashDays}  (deleted files stay this long in Ferry's trash)`);
    });

  const trash = sync
    .command('trash')
    .description('files that "--after delete" moved into Ferry\'s trash (kept for the syncTrashDays setting)');
  trash
    .command('list')
    .description('list the files in the trash, newest first')
    .option('--json', 'JSON Lines output')
    .action(async (options: { json?: boolean }) => {
      const entries = await call('sync.trashList', undefined);
      for (const entry of entries) {
        if (options.json) {
          write(JSON.stringify({ event: 'sync-trash', ...entry }));
        } else {
          const when = new Date(entry.trashedAt).toISOString().replace('T', ' ').slice(0, 16);
          const until = new Date(entry.expiresAt).toISOString().slice(0, 10);
          write(
            `#${String(entry.id).padEnd(5)} ${when}  ${entry.path}  (${entry.size} bytes, kept until ${until}${entry.present ? '' : ', MISSING from the trash folder'})`,
          );
        }
      }
      if (!options.json && entries.length === 0) write('The trash is empty.');
    });
  trash
    .command('restore')
    .description('put a file back where it was (never over a file that is there now)')
    .argument('<id>', 'the entry id from "ferry sync trash list"')
    .action(async (raw: string) => {
      const id = Number(raw);
      if (!Number.isInteger(id) || id <= 0)
        throw new FerryError('invalid', `"${raw}" is not a trash entry id ("ferry sync trash list" shows them)`);
      const entry = await call('sync.trashRestore', { id });
      write(`Restored ${entry.path} (trash entry #${entry.id}); Ferry will not delete it again unless it changes`);
    });

  for (const [command, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    sync
      .command(command)
      .description(`${command} watching a folder`)
      .argument('<id>', 'the rule id from "ferry sync list"')
      .action(async (raw: string) => {
        const rule = await call(paused ? 'sync.pause' : 'sync.resume', { id: ruleId(raw) });
        write(`Sync rule #${rule.id} (${rule.dir}) ${paused ? 'paused' : 'resumed'}`);
      });
  }
}

/** Watcher timings can be tightened through the environment (tests use short ones). */
export function syncTuning(env: NodeJS.ProcessEnv): Omit<SyncServiceOptions, 'queue' | 'db'> {
  const number = (name: string): number | undefined => {
    const value = env[name];
    if (value === undefined || value === '') return undefined;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < 0)
      throw new FerryError('invalid', `${name} must be a non-negative number (got "${value}")`);
    return parsed;
  };
  const checks = number('FERRY_SYNC_STABLE_CHECKS');
  const interval = number('FERRY_SYNC_STABLE_INTERVAL_MS');
  const rescan = number('FERRY_SYNC_RESCAN_MS');
  // Overrides the syncQuietSeconds setting (tests use a short one).
  const quiet = number('FERRY_SYNC_QUIET_MS');
  return {
    ...(quiet !== undefined ? { quietPeriodMs: quiet } : {}),
    ...(checks !== undefined ? { stableChecks: checks } : {}),
    ...(interval !== undefined ? { stableIntervalMs: interval } : {}),
    ...(rescan !== undefined ? { rescanIntervalMs: Math.max(100, rescan) } : {}),
  };
}

function describeRule(rule: SyncRuleInfo): string {
  const parts = [
    rule.include.length ? `include ${rule.include.join(' ')}` : 'every file',
    rule.exclude.length ? `exclude ${rule.exclude.join(' ')}` : '',
    rule.recursive ? 'with subfolders' : 'no subfolders',
    rule.afterUpload === 'move'
      ? `then move to ${rule.moveTo}/`
      : rule.afterUpload === 'delete'
        ? "then delete (into Ferry's trash)"
        : 'keep files',
  ];
  return parts.filter(Boolean).join(', ');
}

function ruleId(raw: string): number {
  const id = Number(raw);
  if (!Number.isInteger(id) || id <= 0)
    throw new FerryError('invalid', `"${raw}" is not a sync rule id ("ferry sync list" shows them)`);
  return id;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
