/**
 * Account management: the accounts' rows, the one check of their fields against the provider
 * (`checkAccountFields`, for every way in), and their secrets, which stay behind this service (views
 * say only which are set). The Queue owns one (`queue.accounts`) and announces its changes.
 */
import { AccountsRepository, type Account } from '../db/accountsRepository.ts';
import type { Db } from '../db/database.ts';
import { JobsRepository } from '../db/jobsRepository.ts';
import { parseBwLimit } from '../core/bwlimit.ts';
import { FerryError } from '../core/errors.ts';
import { proxySettingProblem } from './proxySetting.ts';
import { ACTIVE_STATES } from '../core/jobState.ts';
import type { ProviderAdapter } from '../providers/types.ts';
import type { SecretStore } from '../secrets/secretStore.ts';

export interface AccountView extends Account {
  /** Which secrets are stored; values never leave the SecretStore through here. */
  secretsSet: Record<string, boolean>;
}

export interface NewAccountInput {
  provider: string;
  name: string;
  baseUrl?: string | null;
  settings?: Record<string, string>;
  secrets?: Record<string, string>;
  concurrency?: number;
}

export interface AccountServiceOptions {
  db: Db;
  secrets: SecretStore;
  adapterFor: (provider: string) => ProviderAdapter;
  /** Called after an account was added, changed or removed. */
  changed: () => void;
}

export class AccountService {
  readonly #rows: AccountsRepository;
  readonly #jobs: JobsRepository;
  readonly #secrets: SecretStore;
  readonly #adapterFor: (provider: string) => ProviderAdapter;
  readonly #changed: () => void;

  constructor(options: AccountServiceOptions) {
    this.#rows = new AccountsRepository(options.db);
    this.#jobs = new JobsRepository(options.db);
    this.#secrets = options.secrets;
    this.#adapterFor = options.adapterFor;
    this.#changed = options.changed;
  }

  list(): Account[] {
    return this.#rows.list();
  }

  get(id: number): Account | undefined {
    return this.#rows.get(id);
  }

  /** The account's settings as of a moment ago (AccountsRepository.recentSettings), for every request. */
  recentSettings(id: number): Readonly<Record<string, string>> | undefined {
    return this.#rows.recentSettings(id);
  }

  byName(name: string): Account | undefined {
    return this.#rows.byName(name);
  }

  /** The stored secrets of an account (for its adapter, a connection test, the redactor). */
  secretsOf(id: number): Promise<Record<string, string>> {
    return this.#secrets.get(id);
  }

  async add(input: NewAccountInput): Promise<AccountView> {
    const adapter = this.#adapterFor(input.provider);
    const name = input.name.trim();
    // Messages name fields, not command-line flags: the window, `ferry serve` and the `ferry` command all
    // show them.
    if (!name) throw new FerryError('invalid', 'An account needs a name');
    if (this.#rows.byName(name)) {
      throw new FerryError(
        'conflict',
        `An account named "${name}" already exists; choose another name or remove it first`,
      );
    }
    const settings: Record<string, string> = {};
    for (const field of adapter.fields)
      if (field.kind === 'setting' && field.default !== undefined) settings[field.key] = field.default;
    Object.assign(settings, input.settings);
    const secrets = { ...input.secrets };
    checkAccountFields(adapter, settings, secrets);
    const baseUrl = checkBaseUrl(adapter, input.baseUrl ?? null);
    const account = this.#rows.insert({
      name,
      provider: adapter.id,
      baseUrl,
      settings,
      ...(input.concurrency !== undefined ? { concurrency: input.concurrency } : {}),
    });
    try {
      await this.#secrets.set(account.id, secrets);
    } catch (error) {
      this.#rows.remove(account.id);
      throw error;
    }
    this.#changed();
    return this.view(account);
  }

  async views(): Promise<AccountView[]> {
    return Promise.all(this.#rows.list().map((account) => this.view(account)));
  }

  async view(account: Account): Promise<AccountView> {
    const stored = await this.#secrets.get(account.id);
    const adapter = this.#adapterFor(account.provider);
    const secretsSet: Record<string, boolean> = {};
    for (const field of adapter.fields) if (field.kind === 'secret') secretsSet[field.key] = Boolean(stored[field.key]);
    return { ...account, secretsSet };
  }

  require(name: string): Account {
    const account = this.#rows.byName(name);
    if (!account) {
      const names = this.#rows.list().map((a) => a.name);
      const known = names.length ? `known accounts: ${names.join(', ')}` : 'there are no accounts yet; add one first';
      throw new FerryError('not-found', `No account named "${name}" (${known})`);
    }
    return account;
  }

  async remove(name: string): Promise<void> {
    const account = this.require(name);
    const active = this.#jobs.list({ accountId: account.id, states: [...ACTIVE_STATES] });
    if (active.length > 0) {
      throw new FerryError(
        'conflict',
        `Account "${name}" has ${active.length} upload(s) in progress; pause or cancel them first`,
      );
    }
    this.#rows.remove(account.id);
    await this.#secrets.delete(account.id);
    this.#changed();
  }

  /**
   * Changes an account's stored fields and, when given, replaces its secrets. The caller validates
   * the values against the provider's fields; this checks only that a new name is free.
   */
  async update(
    name: string,
    patch: Partial<Pick<Account, 'name' | 'baseUrl' | 'settings' | 'concurrency' | 'paused'>>,
    secrets?: Record<string, string>,
  ): Promise<AccountView> {
    const account = this.require(name);
    if (patch.name !== undefined && patch.name !== account.name && this.#rows.byName(patch.name)) {
      throw new FerryError('conflict', `An account named "${patch.name}" already exists; choose another name`);
    }
    this.#rows.update(account.id, patch);
    if (secrets) await this.#secrets.set(account.id, secrets);
    this.#changed();
    return this.view(this.#rows.get(account.id)!);
  }
}

/**
 * The one check of an account's complete settings and secrets against its provider's fields (adding
 * and changing an account, from every way in): no unknown key, every required field, choices.
 * Messages name fields, not command-line flags.
 */
/** Account settings every provider has, each with its check (throws a one-line reason). */
const GENERIC_SETTINGS = {
  bwlimit: (value: string): void => {
    const parsed = parseBwLimit(value);
    if (!parsed.ok) throw new FerryError('invalid', `Account ${parsed.error}`);
  },
  proxy: (value: string): void => {
    const problem = proxySettingProblem(value, 'account');
    if (problem !== null) throw new FerryError('invalid', `The account's proxy ${problem}`);
  },
};

export function checkAccountFields(
  adapter: ProviderAdapter,
  settings: Record<string, string>,
  secrets: Record<string, string>,
): void {
  const known = new Set(adapter.fields.map((field) => `${field.kind}:${field.key}`));
  for (const [kind, bag] of [
    ['setting', settings],
    ['secret', secrets],
  ] as const) {
    for (const key of Object.keys(bag)) {
      if (known.has(`${kind}:${key}`)) continue;
      if (kind === 'setting' && key in GENERIC_SETTINGS) {
        // Every provider's account has these (its own bandwidth limit, its own proxy): '' = none.
        const value = settings[key] ?? '';
        if (value !== '') GENERIC_SETTINGS[key as keyof typeof GENERIC_SETTINGS](value);
        continue;
      }
      const other = kind === 'setting' ? 'secret' : 'setting';
      const hint = known.has(`${other}:${key}`) ? ` (it is a ${other}, not a ${kind})` : '';
      throw new FerryError('invalid', `${adapter.displayName} has no ${kind} "${key}"${hint}`);
    }
  }
  for (const field of adapter.fields) {
    const value = (field.kind === 'secret' ? secrets : settings)[field.key] ?? '';
    if (value === '' && field.required)
      throw new FerryError('invalid', `${adapter.displayName} needs ${field.label} (the ${field.kind} "${field.key}")`);
    if (value !== '' && field.choices && !field.choices.includes(value)) {
      throw new FerryError(
        'invalid',
        `${field.label} must be one of ${field.choices.join(', ')} (got "${value.slice(0, 40)}")`,
      );
    }
  }
}

/** An account's base URL, normalized; refused when missing for a provider without a default address. */
export function checkBaseUrl(adapter: ProviderAdapter, value: string | null): string | null {
  const baseUrl = normalizeBaseUrl(value);
  if (baseUrl === null && adapter.capabilities.defaultBaseUrl === null) {
    throw new FerryError(
      'invalid',
      `${adapter.displayName} accounts need the site's address as their base URL (https://...)`,
    );
  }
  return baseUrl;
}

export function normalizeBaseUrl(value: string | null): string | null {
  if (value === null || value.trim() === '') return null;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new FerryError('invalid', `The base URL "${value}" is not a valid address (expected https://host[/path])`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new FerryError('invalid', `The base URL "${value}" must start with https:// or http://`);
  }
  return url.href.replace(/\/+$/, '');
}
