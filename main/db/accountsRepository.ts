/** Accounts: provider, base URL, non-secret settings and lane settings. Secrets live in the SecretStore. */
import { z } from 'zod';
import { prepared, type Db } from './database.ts';
import { recentRead } from './recentRead.ts';

export interface Account {
  id: number;
  name: string;
  provider: string;
  baseUrl: string | null;
  settings: Record<string, string>;
  concurrency: number;
  paused: boolean;
  createdAt: number;
}

export interface NewAccount {
  name: string;
  provider: string;
  baseUrl: string | null;
  settings: Record<string, string>;
  concurrency?: number;
}

interface AccountRow {
  id: number;
  name: string;
  provider: string;
  base_url: string | null;
  settings: string;
  concurrency: number;
  paused: number;
  created_at: number;
}

const settingsSchema = z.record(z.string(), z.string());

export function parseJsonColumn<T>(text: string | null, schema: z.ZodType<T>, fallback: T): T {
  if (text === null) return fallback;
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : fallback;
  } catch {
    return fallback;
  }
}

function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    name: row.name,
    provider: row.provider,
    baseUrl: row.base_url,
    settings: parseJsonColumn(row.settings, settingsSchema, {}),
    concurrency: row.concurrency,
    paused: row.paused === 1,
    createdAt: row.created_at,
  };
}

export class AccountsRepository {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  list(): Account[] {
    return (prepared(this.#db, 'SELECT * FROM accounts ORDER BY name').all() as unknown as AccountRow[]).map(toAccount);
  }

  get(id: number): Account | undefined {
    const row = prepared(this.#db, 'SELECT * FROM accounts WHERE id = ?').get(id) as AccountRow | undefined;
    return row && toAccount(row);
  }

  /**
   * An account's settings as of a moment ago, for readers on every request (its proxy): see
   * recentRead.ts for how fresh.
   */
  recentSettings(id: number): Readonly<Record<string, string>> | undefined {
    let read = this.#recentSettings.get(id);
    if (!read) {
      read = recentRead(this.#db, () => this.get(id)?.settings, { tables: ['accounts'] });
      this.#recentSettings.set(id, read);
    }
    return read();
  }

  readonly #recentSettings = new Map<number, () => Readonly<Record<string, string>> | undefined>();

  byName(name: string): Account | undefined {
    const row = prepared(this.#db, 'SELECT * FROM accounts WHERE name = ?').get(name) as AccountRow | undefined;
    return row && toAccount(row);
  }

  insert(account: NewAccount, now = Date.now()): Account {
    const result = prepared(
      this.#db,
      'INSERT INTO accounts (name, provider, base_url, settings, concurrency, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(
      account.name,
      account.provider,
      account.baseUrl,
      JSON.stringify(account.settings),
      account.concurrency ?? 2,
      now,
    );
    return this.get(Number(result.lastInsertRowid))!;
  }

  update(id: number, patch: Partial<Pick<Account, 'name' | 'baseUrl' | 'settings' | 'concurrency' | 'paused'>>): void {
    const current = this.get(id);
    if (!current) return;
    const next = { ...current, ...patch };
    prepared(
      this.#db,
      'UPDATE accounts SET name = ?, base_url = ?, settings = ?, concurrency = ?, paused = ? WHERE id = ?',
    ).run(next.name, next.baseUrl, JSON.stringify(next.settings), next.concurrency, next.paused ? 1 : 0, id);
  }

  remove(id: number): void {
    prepared(this.#db, 'DELETE FROM accounts WHERE id = ?').run(id);
  }
}
