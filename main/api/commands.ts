/**
 * The command table: for every command of the contract, its input schema and its handler. Handlers
 * receive parsed input, return plain data, and throw FerryError / ApiError for refusals; the
 * dispatcher in `ferryApi.ts` turns everything into the result envelope.
 */
import type { Account } from '../db/accountsRepository.ts';
import type { Db } from '../db/database.ts';
import type { Job, JobQuery } from '../db/jobsRepository.ts';
import { JOB_STATES, type JobState } from '../core/jobState.ts';
import { checkAccountFields, checkBaseUrl } from '../engine/accounts.ts';
import type { Queue } from '../engine/queue.ts';
import { proxyPassword, proxySettingProblem, withStoredPassword } from '../engine/proxySetting.ts';
import { rememberSecret } from '../secrets/knownSecrets.ts';
import { REDACTED } from '../secrets/redaction.ts';
import { PROVIDER_DESCRIPTIONS, findDescription } from '../providers/catalog.ts';
import type { ProviderAdapter, ProviderDescription } from '../providers/types.ts';
import {
  addSyncRule,
  removeSyncRule,
  setAllSyncRulesPaused,
  setSyncRulePaused,
  type SyncStore,
} from '../sync/syncRules.ts';
import { listTrash, restoreFromTrash, trashDays } from '../sync/syncTrash.ts';
import { ApiError, toErrorPayload } from './apiError.ts';
import type { ProbeAccount } from './connectionTest.ts';
import type {
  AccountInfo,
  AppStatus,
  BulkResult,
  CommandName,
  CommandOutput,
  ConnectionTestResult,
  FinishedState,
  JobTally,
  JobView,
  JobsSummary,
  RemoveResult,
  Settings,
} from './contract.ts';
import { toCsv, toJson } from './historyExport.ts';
import { syncRuleInfoById, syncRuleInfos, trashEntryView, type SyncHost } from './syncViews.ts';
import { checkBaseUrlTransport } from './networkPolicy.ts';
import { INPUT_SCHEMAS, type InputSchemas, type ParsedInput } from './schemas.ts';
import type { SettingsStore } from './settingsStore.ts';
import type { StagingArea } from './staging.ts';
import { accountInfo, jobView, providerInfo, timelineEntry } from './views.ts';

export interface CommandSpec<K extends CommandName> {
  input: InputSchemas[K];
  handler: (input: ParsedInput<K>) => Promise<CommandOutput<K>> | CommandOutput<K>;
  /**
   * The handler builds its answer from object literals on every call, sharing no object with Ferry's
   * state or with an earlier answer: FerryApi checks that it is plain data instead of copying it
   * through JSON (plainData.ts). For large answers, where that copy costs the most.
   */
  fresh?: true;
}

export type CommandTable = { [K in CommandName]: CommandSpec<K> };

/** What the handlers need from the process they run in. */
export interface CommandDeps {
  queue: Queue;
  /** The queue's database: sync rules, Ferry's trash and its settings live in it too. */
  db: Db;
  settings: SettingsStore;
  staging: StagingArea;
  status: () => AppStatus;
  testConnection: (adapter: ProviderAdapter, account: ProbeAccount) => Promise<ConnectionTestResult>;
  /** Called after accounts were added, changed or removed (secrets included). */
  accountsChanged: (newSecrets?: Iterable<string>) => Promise<void>;
  jobsRemoved: (ids: number[]) => void;
  settingsChanged: (settings: Settings, previous: Settings) => void;
  /** The watched-folder service of this process, or null when another process runs the uploads. */
  sync: () => SyncHost | null;
  /** Called after sync rules were added, removed, paused or resumed. */
  syncRulesChanged: () => Promise<void>;
  log: (message: string, error?: unknown) => void;
}

const FINISHED: FinishedState[] = ['completed', 'failed', 'canceled'];
const EXPORT_LIMIT = 100_000;
/** The states `jobs.pauseAll` / `jobs.resumeAll` act on (the same as `ferry pause|resume --all`). */
const PAUSABLE: JobState[] = ['queued', 'uploading', 'waiting', 'processing'];

/**
 * The provider's description (providers/catalog.ts: its fields and capabilities, without its code),
 * or the refusal of a provider Ferry does not know. The adapters themselves come from the queue's
 * `adapterFor`: a command that only reads (`ferry list`) does not load them (docs/performance.md).
 */
function describedProvider(provider: string): ProviderDescription {
  const description = findDescription(provider);
  if (!description) {
    const known = PROVIDER_DESCRIPTIONS.map((a) => a.id).join(', ');
    throw new ApiError('INVALID_INPUT', `Unknown provider "${provider}": Ferry knows ${known}`);
  }
  return description;
}

/**
 * An account's own proxy (a setting of every provider): '' (the global one), system, direct or a URL.
 * A password shown hidden and sent back unchanged keeps the stored one (`withStoredPassword`); the
 * password is remembered as a secret, so that no answer, event or log shows it. Changes `settings`.
 */
function checkProxySetting(settings: Record<string, string> = {}, stored?: string): void {
  if (settings.proxy === undefined) return;
  const kept = withStoredPassword(settings.proxy, stored, REDACTED);
  const problem = 'problem' in kept ? kept.problem : proxySettingProblem(kept.value, 'account');
  if (problem !== null) throw new ApiError('INVALID_INPUT', `The account's proxy ${problem}`);
  if ('value' in kept) settings.proxy = kept.value;
  rememberProxyPassword(settings.proxy);
}

function rememberProxyPassword(value: string | undefined): void {
  const password = proxyPassword(value);
  if (password) rememberSecret(password);
}

export function createCommandTable(deps: CommandDeps): CommandTable {
  const { queue, db, staging } = deps;
  const store: SyncStore = { db, queue };
  const adapterOf = (provider: string): ProviderAdapter => {
    describedProvider(provider);
    return queue.adapterFor(provider);
  };

  const accountsById = (): Map<number, Account> =>
    new Map(queue.accounts.list().map((account) => [account.id, account]));
  const view = (job: Job, accounts = accountsById()): JobView =>
    jobView(job, accounts.get(job.accountId), staging.isStaged(job.source));
  const info = async (account: Account): Promise<AccountInfo> => {
    // The account's own proxy password is shown hidden, like its secrets.
    rememberProxyPassword(account.settings.proxy);
    return accountInfo(
      await queue.accounts.view(account),
      findDescription(account.provider)?.displayName ?? account.provider,
    );
  };

  /** Runs `step` for each id; a refusal for one id is reported and does not stop the others. */
  const bulk = async (
    command: CommandName,
    ids: readonly number[],
    step: (id: number) => Job | Promise<Job>,
  ): Promise<BulkResult> => {
    const changed: Job[] = [];
    const errors: BulkResult['errors'] = [];
    for (const id of ids) {
      try {
        changed.push(await step(id));
      } catch (error) {
        errors.push({ id, ...toErrorPayload(command, error, deps.log) });
      }
    }
    const accounts = accountsById();
    return { jobs: changed.map((job) => view(job, accounts)), errors };
  };

  const page = (query: JobQuery): { items: JobView[]; total: number } => {
    const accounts = accountsById();
    return { items: queue.jobs.list(query).map((job) => view(job, accounts)), total: queue.jobs.count(query) };
  };

  const historyQuery = (input: {
    states?: FinishedState[] | undefined;
    accountId?: number | undefined;
    search?: string | undefined;
  }): JobQuery => ({
    states: input.states && input.states.length > 0 ? input.states : FINISHED,
    ...(input.accountId !== undefined ? { accountId: input.accountId } : {}),
    ...(input.search ? { search: input.search } : {}),
    order: 'finished',
  });

  return {
    'app.status': {
      input: INPUT_SCHEMAS['app.status'],
      handler: () => deps.status(),
    },

    'providers.list': {
      input: INPUT_SCHEMAS['providers.list'],
      handler: () => PROVIDER_DESCRIPTIONS.map(providerInfo),
    },

    'accounts.list': {
      input: INPUT_SCHEMAS['accounts.list'],
      handler: async () => Promise.all(queue.accounts.list().map(info)),
    },

    'accounts.add': {
      input: INPUT_SCHEMAS['accounts.add'],
      handler: async (input) => {
        const adapter = describedProvider(input.provider);
        const secrets = Object.fromEntries(Object.entries(input.secrets ?? {}).filter(([, value]) => value !== ''));
        const settings = { ...input.settings };
        checkProxySetting(settings);
        checkBaseUrlTransport(input.baseUrl);
        // The account's fields are checked once, by the queue (checkAccountFields), for every way in.
        const added = await queue.accounts.add({
          provider: adapter.id,
          name: input.name,
          baseUrl: input.baseUrl ?? null,
          settings,
          secrets,
          ...(input.concurrency !== undefined ? { concurrency: input.concurrency } : {}),
        });
        await deps.accountsChanged(Object.values(secrets));
        return info(added);
      },
    },

    'accounts.update': {
      input: INPUT_SCHEMAS['accounts.update'],
      handler: async (input) => {
        const account = queue.accounts.require(input.account);
        const adapter = adapterOf(account.provider);
        const changed = { ...input.settings };
        checkProxySetting(changed, account.settings.proxy);
        const settings = { ...account.settings };
        for (const [key, value] of Object.entries(changed)) {
          if (value === '') delete settings[key];
          else settings[key] = value;
        }
        const stored = await queue.accounts.secretsOf(account.id);
        const given = Object.entries(input.secrets ?? {}).filter(([, value]) => value !== '');
        const secrets = { ...stored, ...Object.fromEntries(given) };
        checkAccountFields(adapter, settings, secrets);
        let baseUrl = account.baseUrl;
        if (input.baseUrl !== undefined) {
          checkBaseUrlTransport(input.baseUrl);
          baseUrl = checkBaseUrl(adapter, input.baseUrl);
        }
        const updated = await queue.accounts.update(
          account.name,
          {
            ...(input.name !== undefined ? { name: input.name } : {}),
            baseUrl,
            settings,
            ...(input.concurrency !== undefined ? { concurrency: input.concurrency } : {}),
          },
          given.length > 0 ? secrets : undefined,
        );
        // Whatever the adapter derived from the old credentials or address (e.g. a cached token) is stale.
        adapter.credentialsChanged?.();
        await deps.accountsChanged(given.map(([, value]) => value));
        return info(updated);
      },
    },

    'accounts.remove': {
      input: INPUT_SCHEMAS['accounts.remove'],
      handler: async (input) => {
        const account = queue.accounts.require(input.account);
        // The account's jobs go with it (ON DELETE CASCADE); their staged copies must go too.
        const jobs = queue.jobs.list({ accountId: account.id });
        await queue.accounts.remove(account.name);
        for (const job of jobs) await staging.release(job.source);
        deps.jobsRemoved(jobs.map((job) => job.id));
        await deps.accountsChanged();
        return { removed: account.name };
      },
    },

    'accounts.test': {
      input: INPUT_SCHEMAS['accounts.test'],
      handler: async (input) => {
        const account = queue.accounts.require(input.account);
        const adapter = adapterOf(account.provider);
        return deps.testConnection(adapter, {
          id: account.id,
          name: account.name,
          baseUrl: account.baseUrl,
          settings: account.settings,
          secrets: await queue.accounts.secretsOf(account.id),
        });
      },
    },

    'accounts.pause': {
      input: INPUT_SCHEMAS['accounts.pause'],
      handler: async (input) => info(await queue.accounts.update(input.account, { paused: true })),
    },

    'accounts.resume': {
      input: INPUT_SCHEMAS['accounts.resume'],
      handler: async (input) => info(await queue.accounts.update(input.account, { paused: false })),
    },

    'accounts.setConcurrency': {
      input: INPUT_SCHEMAS['accounts.setConcurrency'],
      handler: async (input) => info(await queue.accounts.update(input.account, { concurrency: input.concurrency })),
    },

    'jobs.enqueue': {
      input: INPUT_SCHEMAS['jobs.enqueue'],
      handler: async (input) => {
        const jobs = await queue.enqueue(input.account, input.paths, input.options ?? {});
        const accounts = accountsById();
        return jobs.map((job) => view(job, accounts));
      },
    },

    'jobs.list': {
      input: INPUT_SCHEMAS['jobs.list'],
      // Each page is made of new views of rows just read (jobView): checked, not copied.
      fresh: true,
      handler: (input) =>
        page({
          ...(input.states && input.states.length > 0 ? { states: input.states } : {}),
          ...(input.accountId !== undefined ? { accountId: input.accountId } : {}),
          ...(input.search ? { search: input.search } : {}),
          limit: input.limit,
          offset: input.offset,
          ...(input.after ? { after: input.after } : {}),
        }),
    },

    'jobs.get': {
      input: INPUT_SCHEMAS['jobs.get'],
      handler: (input) => {
        const job = queue.requireJob(input.id);
        const account = queue.accounts.get(job.accountId);
        const adapter = account ? findDescription(account.provider) : undefined;
        return {
          job: jobView(job, account, staging.isStaged(job.source)),
          timeline: queue.jobs.events(job.id).map(timelineEntry),
          partsAcknowledged: queue.jobs.ackedParts(job.id).length,
          resumeNote: adapter?.capabilities.resumeNote ?? null,
        };
      },
    },

    'jobs.pause': {
      input: INPUT_SCHEMAS['jobs.pause'],
      handler: (input) => bulk('jobs.pause', input.ids, (id) => queue.pause(id)),
    },

    'jobs.resume': {
      input: INPUT_SCHEMAS['jobs.resume'],
      handler: (input) => bulk('jobs.resume', input.ids, (id) => queue.resume(id)),
    },

    'jobs.cancel': {
      input: INPUT_SCHEMAS['jobs.cancel'],
      handler: (input) => bulk('jobs.cancel', input.ids, (id) => queue.cancel(id)),
    },

    'jobs.retry': {
      input: INPUT_SCHEMAS['jobs.retry'],
      handler: (input) => bulk('jobs.retry', input.ids, (id) => queue.retry(id)),
    },

    'jobs.remove': {
      input: INPUT_SCHEMAS['jobs.remove'],
      handler: async (input): Promise<RemoveResult> => {
        const removed: number[] = [];
        const errors: RemoveResult['errors'] = [];
        for (const id of input.ids) {
          try {
            const job = queue.requireJob(id);
            queue.remove(id);
            removed.push(id);
            await staging.release(job.source);
          } catch (error) {
            errors.push({ id, ...toErrorPayload('jobs.remove', error, deps.log) });
          }
        }
        deps.jobsRemoved(removed);
        return { removed, errors };
      },
    },

    'jobs.pauseAll': {
      input: INPUT_SCHEMAS['jobs.pauseAll'],
      handler: () =>
        bulk(
          'jobs.pauseAll',
          queue.jobs.list({ states: PAUSABLE }).map((job) => job.id),
          (id) => queue.pause(id),
        ),
    },

    'jobs.resumeAll': {
      input: INPUT_SCHEMAS['jobs.resumeAll'],
      handler: () =>
        bulk(
          'jobs.resumeAll',
          queue.jobs.list({ states: ['paused'] }).map((job) => job.id),
          (id) => queue.resume(id),
        ),
    },

    'jobs.moveToTop': {
      input: INPUT_SCHEMAS['jobs.moveToTop'],
      handler: async (input) => {
        // Moving the last one first leaves the given ids on top in the order given.
        const result = await bulk('jobs.moveToTop', [...input.ids].reverse(), (id) => queue.moveToTop(id));
        return { jobs: result.jobs.reverse(), errors: result.errors.reverse() };
      },
    },

    'jobs.summary': {
      input: INPUT_SCHEMAS['jobs.summary'],
      handler: (): JobsSummary => {
        const tallies = queue.jobs.tallyByState();
        const empty = (): JobTally => ({ count: 0, bytesTotal: 0, bytesConfirmed: 0, sizeUnknown: 0 });
        const all = empty();
        const states = Object.fromEntries(JOB_STATES.map((state) => [state, empty()])) as Record<JobState, JobTally>;
        for (const state of JOB_STATES) {
          const tally = tallies[state];
          if (!tally) continue;
          states[state] = { ...tally };
          all.count += tally.count;
          all.bytesTotal += tally.bytesTotal;
          all.bytesConfirmed += tally.bytesConfirmed;
          all.sizeUnknown += tally.sizeUnknown;
        }
        return { states, all };
      },
    },

    'history.list': {
      input: INPUT_SCHEMAS['history.list'],
      handler: (input) => page({ ...historyQuery(input), limit: input.limit, offset: input.offset }),
    },

    'history.export': {
      input: INPUT_SCHEMAS['history.export'],
      handler: (input) => {
        const accounts = accountsById();
        const jobs = queue.jobs.list({ ...historyQuery(input), limit: EXPORT_LIMIT }).map((job) => view(job, accounts));
        return input.format === 'csv' ? toCsv(jobs) : toJson(jobs);
      },
    },

    'settings.get': {
      input: INPUT_SCHEMAS['settings.get'],
      handler: () => {
        const settings = deps.settings.get();
        rememberProxyPassword(settings.proxy); // Shown hidden, like the accounts' secrets.
        return settings;
      },
    },

    'settings.set': {
      input: INPUT_SCHEMAS['settings.set'],
      handler: (input) => {
        const previous = deps.settings.get();
        const patch: Partial<Settings> = {};
        for (const [key, value] of Object.entries(input))
          if (value !== undefined) Object.assign(patch, { [key]: value });
        if (patch.proxy !== undefined) {
          const kept = withStoredPassword(patch.proxy, previous.proxy, REDACTED);
          if ('problem' in kept)
            throw new ApiError('INVALID_INPUT', `Invalid input for settings.set: proxy: ${kept.problem}`);
          patch.proxy = kept.value;
          rememberProxyPassword(patch.proxy);
        }
        const next = deps.settings.set(patch);
        deps.settingsChanged(next, previous);
        return next;
      },
    },

    'sync.list': {
      input: INPUT_SCHEMAS['sync.list'],
      handler: () => syncRuleInfos(store, deps.sync()),
    },

    'sync.add': {
      input: INPUT_SCHEMAS['sync.add'],
      handler: async (input) => {
        const added = await addSyncRule(store, {
          account: input.account,
          dir: input.dir,
          include: input.include ?? [],
          exclude: input.exclude ?? [],
          ...(input.recursive !== undefined ? { recursive: input.recursive } : {}),
          ...(input.afterUpload !== undefined ? { afterUpload: input.afterUpload } : {}),
          ...(input.moveTo !== undefined ? { moveTo: input.moveTo } : {}),
        });
        await deps.syncRulesChanged();
        return syncRuleInfoById(store, deps.sync(), added.id);
      },
    },

    'sync.remove': {
      input: INPUT_SCHEMAS['sync.remove'],
      handler: async (input) => {
        const removed = removeSyncRule(store, input.id);
        await deps.syncRulesChanged();
        return { removed: removed.id };
      },
    },

    'sync.pause': {
      input: INPUT_SCHEMAS['sync.pause'],
      handler: async (input) => {
        setSyncRulePaused(store, input.id, true);
        await deps.syncRulesChanged();
        return syncRuleInfoById(store, deps.sync(), input.id);
      },
    },

    'sync.resume': {
      input: INPUT_SCHEMAS['sync.resume'],
      handler: async (input) => {
        setSyncRulePaused(store, input.id, false);
        await deps.syncRulesChanged();
        return syncRuleInfoById(store, deps.sync(), input.id);
      },
    },

    'sync.pauseAll': {
      input: INPUT_SCHEMAS['sync.pauseAll'],
      handler: async () => {
        setAllSyncRulesPaused(store, true);
        await deps.syncRulesChanged();
        return syncRuleInfos(store, deps.sync());
      },
    },

    'sync.resumeAll': {
      input: INPUT_SCHEMAS['sync.resumeAll'],
      handler: async () => {
        setAllSyncRulesPaused(store, false);
        await deps.syncRulesChanged();
        return syncRuleInfos(store, deps.sync());
      },
    },

    'sync.trashList': {
      input: INPUT_SCHEMAS['sync.trashList'],
      handler: async () => (await listTrash(db)).map(trashEntryView),
    },

    'sync.trashRestore': {
      input: INPUT_SCHEMAS['sync.trashRestore'],
      handler: async (input) => {
        const entry = await restoreFromTrash(db, input.id);
        // Its copy left the trash: it is back at `path`.
        return trashEntryView({
          ...entry,
          expiresAt: entry.trashedAt + trashDays(db) * 86_400_000,
          present: false,
        });
      },
    },
  };
}

/** Jobs whose staged copy is still needed: every staged job that has not completed. */
export function neededStagedSources(queue: Queue, staging: StagingArea): Set<string> {
  const needed = new Set<string>();
  for (const job of queue.jobs.list({
    states: ['queued', 'uploading', 'waiting', 'paused', 'finalizing', 'processing', 'failed', 'canceled'],
  })) {
    if (staging.isStaged(job.source)) needed.add(job.source);
  }
  return needed;
}
