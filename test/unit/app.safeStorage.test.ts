/**
 * SafeStorageSecretStore with a fake safeStorage: secrets are only ever on disk encrypted, storing
 * is refused (with a message that says what to do) when the OS cannot encrypt, and secrets of
 * accounts set up with the `ferry` command are still found through the headless store.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSecretStore } from '../../main/secrets/fileSecretStore.ts';
import { EncryptionUnavailableError, SafeStorageSecretStore, type SafeStorageLike } from '../../main/secrets/safeStorageSecretStore.ts';
import { Fixtures } from '../support/ferryHarness.ts';

const fixtures = new Fixtures();
afterEach(() => fixtures.cleanup());

/** AES-GCM with a key of its own, like the OS keychain would hold. */
class FakeSafeStorage implements SafeStorageLike {
  available = true;
  backend = 'gnome_libsecret';
  rotate = false;
  encryptions = 0;
  readonly #key = randomBytes(32);

  async isAsyncEncryptionAvailable(): Promise<boolean> {
    return this.available;
  }
  async encryptStringAsync(plainText: string): Promise<Buffer> {
    if (!this.available) throw new Error('Encryption is not available.');
    this.encryptions += 1;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(plainText, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from('v10'), iv, cipher.getAuthTag(), body]);
  }
  async decryptStringAsync(encrypted: Buffer): Promise<{ result: string; shouldReEncrypt: boolean }> {
    if (!this.available) throw new Error('Decryption is not available.');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, encrypted.subarray(3, 15));
    decipher.setAuthTag(encrypted.subarray(15, 31));
    const result = Buffer.concat([decipher.update(encrypted.subarray(31)), decipher.final()]).toString('utf8');
    return { result, shouldReEncrypt: this.rotate };
  }
  getSelectedStorageBackend(): string {
    return this.backend;
  }
}

const TOKEN = 'sk-live-4f9a1c0d7e2b-very-secret';

describe('SafeStorageSecretStore', () => {
  it('keeps secrets encrypted on disk: the file never contains them', async () => {
    const dir = await fixtures.tempDir('ferry-safe-');
    const safeStorage = new FakeSafeStorage();
    const store = new SafeStorageSecretStore({ safeStorage, dataDir: dir, platform: 'linux' });
    await store.set(1, { accessToken: TOKEN });
    await store.set(2, { apiKey: 'key-two-123456', connectionId: 'conn-2' });

    const bytes = await readFile(store.path);
    for (const secret of [TOKEN, 'key-two-123456', 'conn-2', 'accessToken']) {
      expect(bytes.includes(Buffer.from(secret))).toBe(false);
      expect(bytes.toString('latin1')).not.toContain(secret);
      expect(bytes.toString('base64')).not.toContain(Buffer.from(secret).toString('base64'));
    }
    if (process.platform !== 'win32') expect((await stat(store.path)).mode & 0o777).toBe(0o600);
    // No temporary file with the content stays behind.
    expect((await readdir(dir)).filter((name) => name.includes('.tmp'))).toEqual([]);

    // A new process (a fresh store on the same file and keychain) reads them back.
    const reopened = new SafeStorageSecretStore({ safeStorage, dataDir: dir, platform: 'linux' });
    expect(await reopened.get(1)).toEqual({ accessToken: TOKEN });
    expect(await reopened.get(2)).toEqual({ apiKey: 'key-two-123456', connectionId: 'conn-2' });
    expect(await reopened.get(3)).toEqual({});
    await reopened.delete(1);
    expect(await new SafeStorageSecretStore({ safeStorage, dataDir: dir, platform: 'linux' }).get(1)).toEqual({});
  });

  it('refuses to store when encryption is not available, and writes nothing', async () => {
    const dir = await fixtures.tempDir('ferry-safe-');
    const safeStorage = new FakeSafeStorage();
    safeStorage.available = false;
    const store = new SafeStorageSecretStore({ safeStorage, dataDir: dir });
    const failure = store.set(1, { accessToken: TOKEN });
    await expect(failure).rejects.toBeInstanceOf(EncryptionUnavailableError);
    await expect(failure).rejects.toThrow(/keychain is not available.*Nothing was saved/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses Linux\'s basic_text backend, which encrypts with a key known to everyone', async () => {
    const dir = await fixtures.tempDir('ferry-safe-');
    const safeStorage = new FakeSafeStorage();
    safeStorage.backend = 'basic_text';
    const store = new SafeStorageSecretStore({ safeStorage, dataDir: dir, platform: 'linux' });
    await expect(store.set(1, { accessToken: TOKEN })).rejects.toThrow(/no keyring/);
    expect(await readdir(dir)).toEqual([]);
    // The same backend name means nothing on another platform.
    await new SafeStorageSecretStore({ safeStorage, dataDir: dir, platform: 'darwin' }).set(1, { accessToken: TOKEN });
  });

  it('reads secrets of accounts added with the ferry command from the headless store, until set here', async () => {
    const dir = await fixtures.tempDir('ferry-safe-');
    const headless = new FileSecretStore(dir);
    await headless.set(5, { accessToken: 'from-the-terminal' });
    const store = new SafeStorageSecretStore({ safeStorage: new FakeSafeStorage(), dataDir: dir, fallback: headless });
    expect(await store.get(5)).toEqual({ accessToken: 'from-the-terminal' });
    await store.set(5, { accessToken: 'from-the-app' });
    expect(await store.get(5)).toEqual({ accessToken: 'from-the-app' });
    // Removing the account removes both copies.
    await store.delete(5);
    expect(await store.get(5)).toEqual({});
    expect(await headless.get(5)).toEqual({});
  });

  it('re-encrypts when the OS rotated its key', async () => {
    const dir = await fixtures.tempDir('ferry-safe-');
    const safeStorage = new FakeSafeStorage();
    await new SafeStorageSecretStore({ safeStorage, dataDir: dir }).set(1, { accessToken: TOKEN });
    safeStorage.rotate = true;
    const before = safeStorage.encryptions;
    expect(await new SafeStorageSecretStore({ safeStorage, dataDir: dir }).get(1)).toEqual({ accessToken: TOKEN });
    expect(safeStorage.encryptions).toBe(before + 1);
  });

  it('moves an undecryptable file aside so that secrets can be entered again', async () => {
    const dir = await fixtures.tempDir('ferry-safe-');
    const store = new SafeStorageSecretStore({ safeStorage: new FakeSafeStorage(), dataDir: dir });
    await writeFile(store.path, Buffer.from('v10 written with another key'));
    await expect(store.get(1)).rejects.toThrow(/could not decrypt.*enter its secrets again/);
    expect((await readdir(dir)).some((name) => name.startsWith('secrets.safestorage.unreadable-'))).toBe(true);
    await store.set(1, { accessToken: TOKEN });
    expect(await store.get(1)).toEqual({ accessToken: TOKEN });
  });

  it('serialises quick updates so that none is lost', async () => {
    const dir = await fixtures.tempDir('ferry-safe-');
    const safeStorage = new FakeSafeStorage();
    const store = new SafeStorageSecretStore({ safeStorage, dataDir: dir });
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.set(i, { accessToken: `token-${i}` })));
    const reopened = new SafeStorageSecretStore({ safeStorage, dataDir: dir });
    for (let i = 0; i < 20; i += 1) expect(await reopened.get(i)).toEqual({ accessToken: `token-${i}` });
    expect(join(dir, 'secrets.safestorage')).toBe(store.path);
  });
});
