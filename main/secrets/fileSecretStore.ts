/**
 * The headless SecretStore: one JSON file, created with mode 0600 inside the data folder and replaced
 * atomically (write to a temporary file, then rename), so a crash never leaves half a secrets file.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { SecretStore } from './secretStore.ts';

const fileSchema = z.record(z.string(), z.record(z.string(), z.string()));

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
    return (await this.#read())[String(accountId)] ?? {};
  }

  set(accountId: number, secrets: Record<string, string>): Promise<void> {
    return this.#update((all) => {
      all[String(accountId)] = secrets;
    });
  }

  delete(accountId: number): Promise<void> {
    return this.#update((all) => {
      delete all[String(accountId)];
    });
  }

  async #read(): Promise<Record<string, Record<string, string>>> {
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    const parsed = fileSchema.safeParse(JSON.parse(text));
    if (!parsed.success) {
      throw new Error(`The secrets file ${this.#path} is damaged; re-add the accounts' secrets with "ferry accounts add".`);
    }
    return parsed.data;
  }

  #update(change: (all: Record<string, Record<string, string>>) => void): Promise<void> {
    const run = this.#queue.then(async () => {
      const all = await this.#read();
      change(all);
      await mkdir(dirname(this.#path), { recursive: true, mode: 0o700 });
      const temporary = `${this.#path}.${process.pid}.tmp`;
      await writeFile(temporary, JSON.stringify(all), { mode: 0o600 });
      // The mode given to writeFile is filtered by the umask; make sure it is owner-only.
      await chmod(temporary, 0o600);
      await rename(temporary, this.#path);
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
