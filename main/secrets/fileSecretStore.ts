/**
 * The headless SecretStore: one JSON file, created with mode 0600 inside the data folder and replaced
 * durably (temporary file, fsync, rename, fsync of the folder: durableFile.ts), so a crash or a power
 * cut never leaves half a secrets file.
 *
 * A file that is proven unreadable (not JSON, or not the shape Ferry writes) is set aside under a new
 * name, never deleted, so that secrets can be entered again; a file that merely cannot be read now
 * (permissions, a disk error) is left alone and the operation fails with what to do.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { replaceFileDurably, setAside } from './durableFile.ts';
import { rememberSecrets } from './knownSecrets.ts';
import type { SecretStore } from './secretStore.ts';

const fileSchema = z.record(z.string(), z.record(z.string(), z.string()));

type Secrets = Record<string, Record<string, string>>;

export class FileSecretStore implements SecretStore {
  readonly #path: string;
  /** Writes are serialised so that two quick updates cannot lose each other. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(dataDir: string) {
    this.#path = join(dataDir, 'secrets.json');
  }

  get path(): string {
    return this.#path;
  }

  async get(accountId: number): Promise<Record<string, string>> {
    const secrets = (await this.#read())[String(accountId)] ?? {};
    // Known to the process from now on, so that logs and errors that quote one are redacted.
    rememberSecrets(Object.values(secrets));
    return secrets;
  }

  set(accountId: number, secrets: Record<string, string>): Promise<void> {
    rememberSecrets(Object.values(secrets));
    return this.#update((all) => {
      all[String(accountId)] = secrets;
    });
  }

  delete(accountId: number): Promise<void> {
    return this.#update((all) => {
      delete all[String(accountId)];
    });
  }

  async #read(): Promise<Secrets> {
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new Error(
        `Ferry could not read its secrets file ${this.#path} (${(error as Error).message}); nothing was changed. Check that the file belongs to you and try again.`,
        { cause: error },
      );
    }
    let parsed: Secrets | null = null;
    try {
      const result = fileSchema.safeParse(JSON.parse(text));
      if (result.success) parsed = result.data;
    } catch {
      // Not JSON: handled below with the wrong shape.
    }
    if (parsed) return parsed;
    // Proven unreadable: keep the bytes for recovery, and let the secrets be entered again.
    let aside: string;
    try {
      aside = await setAside(this.#path);
    } catch (error) {
      // Another process set it aside first: read what is there now.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return this.#read();
      throw error;
    }
    throw new Error(
      `The secrets file ${this.#path} is damaged (it is not the JSON Ferry writes); it was moved to ${aside}. ` +
        'Re-add the accounts\' secrets with "ferry accounts add" (or in the app), or restore them from that file.',
    );
  }

  #update(change: (all: Secrets) => void): Promise<void> {
    const run = this.#queue.then(async () => {
      const all = await this.#read();
      change(all);
      await replaceFileDurably(this.#path, JSON.stringify(all));
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
