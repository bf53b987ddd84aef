/**
 * A scripted transport for renderer tests: commands are answered by the handlers given, every call
 * is recorded, and events are pushed with `emit` as the server would.
 */
import { jobActions } from '../../../main/core/jobState.ts';
import type {
  AccountInfo,
  ApiEvents,
  ApiResult,
  CommandInput,
  CommandName,
  CommandOutput,
  EventName,
  JobView,
  ProviderInfo,
  Settings,
} from '../../../main/api/contract.ts';
import type { Transport } from '../../../renderer/transport/types.ts';

export type Handlers = {
  [K in CommandName]?: (input: CommandInput<K>) => CommandOutput<K> | Promise<CommandOutput<K>>;
};

export interface FakeTransport extends Transport {
  calls: Array<{ command: CommandName; input: unknown }>;
  emit<E extends EventName>(event: E, payload: ApiEvents[E]): void;
}

export function fakeTransport(handlers: Handlers, kind: 'serve' | 'electron' = 'serve'): FakeTransport {
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const calls: FakeTransport['calls'] = [];
  return {
    kind,
    calls,
    bridge: {
      async call<K extends CommandName>(command: K, input: CommandInput<K>): Promise<ApiResult<CommandOutput<K>>> {
        calls.push({ command, input });
        const handler = handlers[command] as ((input: CommandInput<K>) => CommandOutput<K>) | undefined;
        if (!handler) return { ok: false, error: { code: 'NOT_FOUND', message: `No handler for ${command}` } };
        try {
          return { ok: true, value: await handler(input) };
        } catch (error) {
          return { ok: false, error: { code: 'INVALID_INPUT', message: (error as Error).message } };
        }
      },
      on(event, listener) {
        let set = listeners.get(event);
        if (!set) listeners.set(event, (set = new Set()));
        set.add(listener as (payload: unknown) => void);
        return () => set.delete(listener as (payload: unknown) => void);
      },
    },
    emit(event, payload) {
      for (const listener of listeners.get(event) ?? []) listener(payload);
    },
    onConnection(listener) {
      listener('open');
      return () => undefined;
    },
    pathForFile: (file) => (kind === 'electron' ? `/home/me/${file.name}` : null),
    revealInFolder: null,
    stageFile: null,
    openLogFolder: null,
  };
}

export function job(id: number, patch: Partial<JobView> = {}): JobView {
  return {
    id,
    accountId: 1,
    accountName: 'community',
    provider: 'selfcommunity',
    sourceKind: 'file',
    source: `/files/file-${id}.png`,
    name: `file-${id}.png`,
    mime: 'image/png',
    size: 1_000_000,
    state: 'queued',
    // What the server computes from the state table for the job's state.
    actions: jobActions(patch.state ?? 'queued'),
    position: id,
    bytesConfirmed: 0,
    attempts: 0,
    nextAttemptAt: null,
    error: null,
    result: null,
    options: {},
    staged: false,
    createdAt: 1_700_000_000_000,
    updatedAt: 1_700_000_000_000,
    finishedAt: null,
    ...patch,
  };
}

/** An account as `accounts.list` answers it: SelfCommunity's "community" unless `patch` says otherwise. */
export function account(id: number, patch: Partial<AccountInfo> = {}): AccountInfo {
  return {
    id,
    name: 'community',
    provider: 'selfcommunity',
    providerName: 'SelfCommunity',
    baseUrl: null,
    settings: {},
    secrets: {},
    concurrency: 2,
    paused: false,
    createdAt: 0,
    ...patch,
  };
}

export const SELFCOMMUNITY: ProviderInfo = {
  id: 'selfcommunity',
  name: 'SelfCommunity',
  fields: [
    {
      key: 'accessToken',
      label: 'Access token',
      kind: 'secret',
      required: true,
      default: null,
      hint: 'Bearer token',
      choices: null,
    },
  ],
  capabilities: {
    sources: 'file',
    baseUrlRequired: true,
    defaultBaseUrl: null,
    resumeNote: null,
    accepts: [
      { type: 'image/*', maxBytes: 5_000_000 },
      { type: 'application/pdf', maxBytes: 50_000_000 },
    ],
  },
};

export const OKTOPOST: ProviderInfo = {
  id: 'oktopost',
  name: 'Oktopost',
  fields: [
    { key: 'accountId', label: 'Account ID', kind: 'secret', required: true, default: null, hint: null, choices: null },
    { key: 'apiKey', label: 'API key', kind: 'secret', required: true, default: null, hint: null, choices: null },
    {
      key: 'region',
      label: 'Data centre',
      kind: 'setting',
      required: false,
      default: 'us',
      hint: null,
      choices: ['us', 'eu'],
    },
  ],
  capabilities: {
    sources: 'url',
    baseUrlRequired: false,
    defaultBaseUrl: 'https://api.oktopost.com/v2',
    resumeNote: null,
    accepts: ['video/mp4', 'image/png'].map((type) => ({ type, maxBytes: 8 * 1024 ** 3 })),
  },
};

/** A queue of `total` jobs served in pages, as `jobs.list` would. */
export function listOf(total: number, make: (id: number) => JobView = (id) => job(id)): Handlers['jobs.list'] {
  return (input) => {
    const offset = input.offset ?? 0;
    const limit = input.limit ?? 100;
    const items: JobView[] = [];
    for (let i = offset; i < Math.min(total, offset + limit); i += 1) items.push(make(i + 1));
    return { items, total };
  };
}

/** Settings as a fresh install has them. */
export const SETTINGS: Settings = {
  globalConcurrency: 4,
  closeToTray: true,
  startAtLogin: false,
  notifications: true,
  theme: 'system',
  syncQuietSeconds: 30,
  syncTrashDays: 30,
  bwlimit: 'off',
  proxy: 'system',
  autoCopyLink: 'off',
  language: 'system',
  clipboardHotkey: '',
  autoUpdate: true,
  updateUrl: '',
};
