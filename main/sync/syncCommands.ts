/**
 * `ferry sync add|list|remove|pause|resume`: watched folders from the command line. Failures are
 * FerryErrors, which the ferry command turns into exit code 2 with a one-line reason.
 */
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { INPUT_SCHEMAS } from '../api/schemas.ts';
import { SettingsStore } from '../api/settingsStore.ts';
import { AFTER_UPLOAD_ACTIONS, type AfterUpload } from '../db/syncRepository.ts';
import { FerryError } from '../core/errors.ts';
import { type Queue } from '../engine/queue.ts';
import type { SyncServiceOptions } from './syncService.ts';
import { listTrash, restoreFromTrash, trashEntryView } from './syncTrash.ts';
import {
  DEFAULT_MOVE_TO,
  addSyncRule,
  listSyncRules,
  removeSyncRule,
  setSyncRulePaused,
  type SyncRuleView,
} from './syncRules.ts';

export interface SyncCommandIo {
  out: NodeJS.WritableStream;
}

export function registerSyncCommands(program: Command, openQueue: () => Queue, io: SyncCommandIo): void {
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
        const rule = await addSyncRule(openQueue(), {
          account: options.account,
          dir: resolve(dir),
          include: options.include,
          exclude: options.exclude,
          recursive: options.recursive,
          afterUpload: options.after,
          ...(options.moveTo !== undefined ? { moveTo: options.moveTo } : {}),
        });
        write(`Added sync rule #${rule.id}: ${rule.dir} -> "${rule.account}" (${describeRule(rule)})`);
        write('"ferry run" uploads what appears in it.');
      },
    );

  sync
    .command('list')
    .description('list watched folders with what happened to their files')
    .option('--json', 'JSON Lines output')
    .action((options: { json?: boolean }) => {
      const rules = listSyncRules(openQueue());
      for (const rule of rules) {
        if (options.json) {
          write(
            JSON.stringify({
              event: 'sync-rule',
              id: rule.id,
              account: rule.account,
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
            `#${String(rule.id).padEnd(4)} ${rule.paused ? 'paused ' : 'active '} ${rule.account.padEnd(14)} ${rule.dir}`,
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
    .action((raw: string) => {
      const rule = removeSyncRule(openQueue(), ruleId(raw));
      write(`Removed sync rule #${rule.id} (${rule.dir})`);
    });

  sync
    .command('settings')
    .description(
      'show or change how long a file must be quiet before it is moved or deleted, and how long the trash keeps it',
    )
    .option('--quiet-seconds <n>', 'seconds without a change before a move or delete (setting syncQuietSeconds)')
    .option('--trash-days <n>', "days a deleted file stays in Ferry's trash (setting syncTrashDays)")
    .action((options: { quietSeconds?: string; trashDays?: string }) => {
      const store = new SettingsStore(openQueue().db);
      const patch: Record<string, number> = {};
      if (options.quietSeconds !== undefined) patch.syncQuietSeconds = Number(options.quietSeconds);
      if (options.trashDays !== undefined) patch.syncTrashDays = Number(options.trashDays);
      const parsed = INPUT_SCHEMAS['settings.set'].safeParse(patch);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const flag = issue?.path[0] === 'syncTrashDays' ? '--trash-days' : '--quiet-seconds';
        throw new FerryError('invalid', `Cannot change the sync settings: ${flag} ${issue?.message ?? 'is not valid'}`);
      }
      const settings = Object.keys(patch).length > 0 ? store.set(parsed.data) : store.get();
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
      const entries = await listTrash(openQueue().db);
      for (const entry of entries) {
        if (options.json) {
          write(JSON.stringify({ event: 'sync-trash', ...trashEntryView(entry) }));
        } else {
          const when = new Date(entry.trashedAt).toISOString().replace('T', ' ').slice(0, 16);
          const until = new Date(entry.expiresAt).toISOString().slice(0, 10);
          write(
            `#${String(entry.id).padEnd(5)} ${when}  ${entry.originalPath}  (${entry.size} bytes, kept until ${until}${entry.present ? '' : ', MISSING from the trash folder'})`,
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
      const entry = await restoreFromTrash(openQueue().db, id);
      write(
        `Restored ${entry.originalPath} (trash entry #${entry.id}); Ferry will not delete it again unless it changes`,
      );
    });

  for (const [command, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    sync
      .command(command)
      .description(`${command} watching a folder`)
      .argument('<id>', 'the rule id from "ferry sync list"')
      .action((raw: string) => {
        const rule = setSyncRulePaused(openQueue(), ruleId(raw), paused);
        write(`Sync rule #${rule.id} (${rule.dir}) ${paused ? 'paused' : 'resumed'}`);
      });
  }
}

/** Watcher timings can be tightened through the environment (tests use short ones). */
export function syncTuning(env: NodeJS.ProcessEnv): Omit<SyncServiceOptions, 'queue'> {
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

function describeRule(rule: SyncRuleView): string {
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
