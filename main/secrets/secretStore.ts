/**
 * Where account secrets live. Never the database: the desktop app keeps them encrypted with Electron's
 * safeStorage, the headless `ferry` command in a file only its owner can read.
 */
export interface SecretStore {
  /** The secrets of an account; an empty object when none were stored. */
  get(accountId: number): Promise<Record<string, string>>;
  /** Replaces the secrets of an account. Fails (throws) rather than storing them unprotected. */
  set(accountId: number, secrets: Record<string, string>): Promise<void>;
  delete(accountId: number): Promise<void>;
}
