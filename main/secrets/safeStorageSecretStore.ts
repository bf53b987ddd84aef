/**
 * The desktop SecretStore: every account's secrets in one file in the data folder, encrypted with
 * Electron's safeStorage (the OS keychain on macOS, DPAPI on Windows, libsecret or KWallet on
 * Linux). The file holds only ciphertext; it is replaced atomically (temporary file, then rename) and
 * is readable by its owner only.
 *
 * Storing is refused, with a message that says what to do, when encryption is not available or when
 * Linux falls back to its "basic_text" backend (a hard-coded key: encrypted in name only).
 *
 * Accounts added with the `ferry` command keep their secrets in the headless store (`secrets.json`);
 * the desktop app reads those through `fallback` until the account is edited here, so a data folder
 * set up in a terminal works in the app.
 */
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { FerryError } from '../engine/queue.ts';
import type { SecretStore } from './secretStore.ts';

/**
 * The part of Electron's `safeStorage` used here (the asynchronous API: the synchronous one is
 * deprecated in Electron 45). Tests give a fake.
 */
export interface SafeStorageLike {
  isAsyncEncryptionAvailable(): Promise<boolean>;
  encryptStringAsync(plainText: string): Promise<Buffer>;
  /** `shouldReEncrypt`: the key was rotated; encrypt the value again to keep it readable later. */
  decryptStringAsync(encrypted: Buffer): Promise<{ result: string; shouldReEncrypt: boolean }>;
  /** Linux only; other platforms may leave it out. */
  getSelectedStorageBackend?(): string;
}

export interface SafeStorageSecretStoreOptions {
  safeStorage: SafeStorageLike;
  dataDir: string;
  /** Read-only source for accounts this store has no entry for (the headless store). */
  fallback?: SecretStore;
  platform?: NodeJS.Platform;
}

const contentSchema = z.record(z.string(), z.record(z.string(), z.string()));

type Secrets = Record<string, Record<string, string>>;

/**
 * The secrets cannot be encrypted or decrypted on this machine now. A FerryError ('conflict': the
 * request is fine, the machine's state forbids it), so that its message reaches the person as is.
 */
export class EncryptionUnavailableError extends FerryError {
  constructor(message: string) {
    super('conflict', message);
    this.name = 'EncryptionUnavailableError';
  }
}

export class SafeStorageSecretStore implements SecretStore {
  readonly #safeStorage: SafeStorageLike;
  readonly #path: string;
  readonly #fallback: SecretStore | null;
  readonly #platform: NodeJS.Platform;
  /** The decrypted content, read once: this process is the only writer of the file. */
  #cache: Promise<Secrets> | null = null;
  /** Writes are serialised so that two quick updates cannot lose each other. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: SafeStorageSecretStoreOptions) {
    this.#safeStorage = options.safeStorage;
    this.#path = join(options.dataDir, 'secrets.safestorage');
    this.#fallback = options.fallback ?? null;
    this.#platform = options.platform ?? process.platform;
  }

  get path(): string {
    return this.#path;
  }

  async get(accountId: number): Promise<Record<string, string>> {
    const own = (await this.#read())[String(accountId)];
    if (own) return { ...own };
    return this.#fallback ? this.#fallback.get(accountId) : {};
  }

  set(accountId: number, secrets: Record<string, string>): Promise<void> {
    return this.#update((all) => {
      all[String(accountId)] = { ...secrets };
      return true;
    });
  }

  async delete(accountId: number): Promise<void> {
    await this.#update((all) => {
      if (!(String(accountId) in all)) return false;
      delete all[String(accountId)];
      return true;
    });
    // The account is gone: its copy in the headless store must not outlive it.
    await this.#fallback?.delete(accountId);
  }

  /** Throws EncryptionUnavailableError when secrets cannot be protected on this machine. */
  async #requireEncryption(): Promise<void> {
    if (!(await this.#safeStorage.isAsyncEncryptionAvailable())) {
      throw new EncryptionUnavailableError(
        'Ferry cannot save the secrets: the system keychain is not available to encrypt them (on Linux, unlock or install GNOME Keyring or KWallet). Nothing was saved; the "ferry" command line can store secrets in a file only you can read.',
      );
    }
    if (this.#platform === 'linux' && this.#safeStorage.getSelectedStorageBackend?.() === 'basic_text') {
      throw new EncryptionUnavailableError(
        'Ferry cannot save the secrets: no keyring (GNOME Keyring or KWallet) is running, and without one Electron would encrypt them with a key that is the same on every computer. Nothing was saved; start a keyring and try again, or use the "ferry" command line.',
      );
    }
  }

  #read(): Promise<Secrets> {
    this.#cache ??= this.#load().catch((error: unknown) => {
      // Do not remember a failure (a keychain that was locked may be unlocked on the next try).
      this.#cache = null;
      throw error;
    });
    return this.#cache;
  }

  async #load(): Promise<Secrets> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.#path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    if (!(await this.#safeStorage.isAsyncEncryptionAvailable())) {
      throw new EncryptionUnavailableError(
        'Ferry cannot read the saved secrets: the system keychain that encrypted them is not available (on Linux, unlock GNOME Keyring or KWallet), so uploads that need them cannot start.',
      );
    }
    let content: Secrets;
    let shouldReEncrypt: boolean;
    try {
      const decrypted = await this.#safeStorage.decryptStringAsync(bytes);
      shouldReEncrypt = decrypted.shouldReEncrypt;
      content = contentSchema.parse(JSON.parse(decrypted.result));
    } catch {
      // Encryption works but this file does not open: another key (the keychain entry was reset) or
      // damage. Keep the bytes aside for recovery and start empty, so that the secrets can be entered
      // again; otherwise every later save would fail on the same unreadable file.
      const aside = `${this.#path}.unreadable-${Date.now()}`;
      await rename(this.#path, aside).catch(() => undefined);
      throw new EncryptionUnavailableError(
        `Ferry could not decrypt its saved secrets (the system keychain entry changed, or the file is damaged); the file was moved to ${aside}. Edit each account and enter its secrets again.`,
      );
    }
    if (shouldReEncrypt) {
      // The OS rotated the key: write the same content again so that it stays readable.
      await this.#write(content).catch(() => undefined);
    }
    return content;
  }

  /** Applies `change` and writes the file when it says something changed. */
  #update(change: (all: Secrets) => boolean): Promise<void> {
    const run = this.#queue.then(async () => {
      const all = structuredClone(await this.#read());
      if (!change(all)) return;
      await this.#requireEncryption();
      await this.#write(all);
      this.#cache = Promise.resolve(all);
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #write(all: Secrets): Promise<void> {
    const encrypted = await this.#safeStorage.encryptStringAsync(JSON.stringify(all));
    await mkdir(dirname(this.#path), { recursive: true, mode: 0o700 });
    const temporary = `${this.#path}.${process.pid}.tmp`;
    try {
      await writeFile(temporary, encrypted, { mode: 0o600 });
      await chmod(temporary, 0o600);
      await rename(temporary, this.#path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }
}
