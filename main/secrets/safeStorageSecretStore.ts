/**
 * The desktop SecretStore: every account's secrets in one file in the data folder, encrypted with
 * Electron's safeStorage (the OS keychain on macOS, DPAPI on Windows, libsecret or KWallet on
 * Linux). The file holds only ciphertext, with a header and a SHA-256 checksum of it; it is replaced
 * durably (temporary file, fsync, read back and decrypted, rename, fsync of the folder) and is
 * readable by its owner only.
 *
 * Storing is refused, with a message that says what to do, when encryption is not available or when
 * Linux falls back to its "basic_text" backend (a hard-coded key: encrypted in name only).
 *
 * Nothing saved is lost to a keychain that is locked for a moment, or whose prompt was denied: when
 * encryption is unavailable or decryption fails, the operation fails with what to do and the file is
 * left as it is (the next read tries again). Only a file proven unreadable — its checksum does not
 * match, or it decrypts but does not hold what Ferry writes — is set aside under a new name (never
 * deleted) so that secrets can be entered again.
 *
 * Accounts added with the `ferry` command keep their secrets in the headless store (`secrets.json`);
 * the desktop app reads those through `fallback` until the account's secrets are saved here. The
 * plain copy is removed once the encrypted one is on disk and has been read back: after saving, and
 * when the file is read and holds the account. Secrets are not moved here merely because the app read
 * them: the `ferry` command cannot decrypt this file, and would lose them.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { FerryError } from '../core/errors.ts';
import { replaceFileDurably, setAside } from './durableFile.ts';
import { rememberSecrets } from './knownSecrets.ts';
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
  /** Source for accounts this store has no entry for (the headless store); emptied as they are saved here. */
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

/**
 * The file's first line. Files written before it existed hold the ciphertext alone and are still read
 * (without the checksum, a damaged one of those cannot be told from a locked keychain).
 */
const MAGIC = Buffer.from('ferry-secrets 1\n');
const DIGEST_LINE = 64 + 1;

/** The ciphertext of a secrets file, or why the file is proven damaged. */
type Envelope = { ok: true; ciphertext: Buffer } | { ok: false; damage: string };

function openEnvelope(bytes: Buffer): Envelope {
  if (bytes.length === 0) return { ok: false, damage: 'the file is empty' };
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) return { ok: true, ciphertext: bytes };
  const digest = bytes.subarray(MAGIC.length, MAGIC.length + DIGEST_LINE - 1).toString('latin1');
  const ciphertext = bytes.subarray(MAGIC.length + DIGEST_LINE);
  if (
    bytes[MAGIC.length + DIGEST_LINE - 1] !== 0x0a ||
    createHash('sha256').update(ciphertext).digest('hex') !== digest
  ) {
    return { ok: false, damage: 'its checksum does not match: it was cut short or changed on disk' };
  }
  return { ok: true, ciphertext };
}

function sealEnvelope(ciphertext: Buffer): Buffer {
  return Buffer.concat([
    MAGIC,
    Buffer.from(`${createHash('sha256').update(ciphertext).digest('hex')}\n`, 'latin1'),
    ciphertext,
  ]);
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

  async set(accountId: number, secrets: Record<string, string>): Promise<void> {
    rememberSecrets(Object.values(secrets));
    await this.#update((all) => {
      all[String(accountId)] = { ...secrets };
      return true;
    });
    // The encrypted copy is on disk and was read back (#write): the plain copy the `ferry` command may
    // have left in secrets.json now only exposes the secrets (or outdated ones).
    try {
      await this.#removePlainCopy(accountId);
    } catch (error) {
      throw new FerryError(
        'conflict',
        `The secrets are saved encrypted, but Ferry could not remove their unencrypted copy from the command line's secrets file (${(error as Error).message}); save them again to retry.`,
      );
    }
  }

  async #removePlainCopy(accountId: number): Promise<void> {
    if (this.#fallback && Object.keys(await this.#fallback.get(accountId)).length > 0)
      await this.#fallback.delete(accountId);
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

  /** The keychain could not open the file now: nothing is changed, the next read tries again. */
  #notUnlocked(reason: string): EncryptionUnavailableError {
    return new EncryptionUnavailableError(
      `The system keychain did not unlock Ferry's saved secrets (${reason}); nothing was changed; unlock it and try again. ` +
        `If the keychain itself was reset, its old key is gone: move ${this.#path} elsewhere and enter the accounts' secrets again.`,
    );
  }

  async #load(): Promise<Secrets> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.#path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new EncryptionUnavailableError(
        `Ferry could not read its saved secrets ${this.#path} (${(error as Error).message}); nothing was changed. Check that the file belongs to you and try again.`,
      );
    }
    const envelope = openEnvelope(bytes);
    if (!envelope.ok) throw await this.#setAside(envelope.damage);
    let available: boolean;
    try {
      available = await this.#safeStorage.isAsyncEncryptionAvailable();
    } catch (error) {
      throw this.#notUnlocked((error as Error).message);
    }
    if (!available)
      throw this.#notUnlocked(
        'encryption is not available right now; on Linux, GNOME Keyring or KWallet may be locked',
      );
    let decrypted: { result: string; shouldReEncrypt: boolean };
    try {
      decrypted = await this.#safeStorage.decryptStringAsync(envelope.ciphertext);
    } catch (error) {
      // A denied prompt, a locked keyring and a key that changed all look the same from here: not a
      // proof that the file is bad, so it stays where it is.
      throw this.#notUnlocked((error as Error).message);
    }
    let content: Secrets;
    try {
      content = contentSchema.parse(JSON.parse(decrypted.result));
    } catch {
      // The keychain opened the file, and what came out is not what Ferry writes: proven unreadable.
      throw await this.#setAside('it decrypts, but not to the secrets Ferry writes');
    }
    for (const secrets of Object.values(content)) rememberSecrets(Object.values(secrets));
    // Versions before this one left the plain copy in secrets.json when an account was saved here: the
    // encrypted copy has just been read, so the plain one goes. At the next start if this fails.
    for (const id of Object.keys(content)) await this.#removePlainCopy(Number(id)).catch(() => undefined);
    if (decrypted.shouldReEncrypt) {
      // The OS rotated the key: write the same content again so that it stays readable.
      await this.#write(content).catch(() => undefined);
    }
    return content;
  }

  /** Moves a proven-unreadable file aside (kept for recovery) and says so. */
  async #setAside(damage: string): Promise<EncryptionUnavailableError> {
    let aside: string;
    try {
      aside = await setAside(this.#path);
    } catch (error) {
      return new EncryptionUnavailableError(
        `Ferry's saved secrets file ${this.#path} is damaged (${damage}), and it could not be moved aside (${(error as Error).message}); move it elsewhere and enter the accounts' secrets again.`,
      );
    }
    return new EncryptionUnavailableError(
      `Ferry's saved secrets file was damaged (${damage}); it was moved to ${aside}. Edit each account and enter its secrets again.`,
    );
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

  /**
   * Encrypts and writes the whole content. The bytes are decrypted again from the disk before they
   * replace the old file: a keychain that encrypts with a key it cannot use again would otherwise
   * destroy every saved secret at once.
   */
  async #write(all: Secrets): Promise<void> {
    const plainText = JSON.stringify(all);
    const encrypted = await this.#safeStorage.encryptStringAsync(plainText);
    await replaceFileDurably(this.#path, sealEnvelope(encrypted), {
      verify: async (written) => {
        const envelope = openEnvelope(written);
        let readBack: string | null = null;
        let problem = envelope.ok ? '' : envelope.damage;
        if (envelope.ok) {
          try {
            readBack = (await this.#safeStorage.decryptStringAsync(envelope.ciphertext)).result;
          } catch (error) {
            problem = (error as Error).message;
          }
        }
        if (readBack !== plainText) {
          throw new EncryptionUnavailableError(
            `Ferry could not save the secrets: the system keychain did not decrypt what it had just encrypted${problem ? ` (${problem})` : ''}. The saved secrets were left as they were; try again.`,
          );
        }
      },
    });
  }
}
