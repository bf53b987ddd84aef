/**
 * SafeStorageSecretStore with a fake safeStorage: secrets are only ever on disk encrypted, storing
 * is refused (with a message that says what to do) when the OS cannot encrypt, secrets of accounts
 * set up with the `ferry` command are still found through the headless store (and their plain copy
 * goes once they are saved encrypted), and a keychain that does not open for a moment never costs
 * the saved secrets: only a file proven unreadable is set aside, and it is renamed, never deleted.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSecretStore } from '../../main/secrets/fileSecretStore.ts';
import {
  EncryptionUnavailableError,
  SafeStorageSecretStore,
  type SafeStorageLike,
} from '../../main/secrets/safeStorageSecretStore.ts';
import { Fixtures } from '../support/ferryHarness.ts';

const fixtures = new Fixtures();
afterEach(() => fixtures.cleanup());

/** AES-GCM with a key of its own, like the OS keychain would hold. */
class FakeSafeStorage implements SafeStorageLike {
  available = true;
  backend = 'gnome_libsecret';
  rotate = false;
  encryptions = 0;
  /** Decryption throws as Electron does when the keychain prompt is denied or the keyring is locked. */
  refuseDecryption = false;
  /** Encryption returns bytes this keychain cannot decrypt (a key it does not keep). */
  forgetKey = false;
  readonly #key = randomBytes(32);

  async isAsyncEncryptionAvailable(): Promise<boolean> {
    return this.available;
  }
  async encryptStringAsync(plainText: string): Promise<Buffer> {
    if (!this.available) throw new Error('Encryption is not available.');
    this.encryptions += 1;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.forgetKey ? randomBytes(32) : this.#key, iv);
    const body = Buffer.concat([cipher.update(plainText, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from('v10'), iv, cipher.getAuthTag(), body]);
  }
  async decryptStringAsync(encrypted: Buffer): Promise<{ result: string; shouldReEncrypt: boolean }> {
    if (!this.available) throw new Error('Decryption is not available.');
    if (this.refuseDecryption) throw new Error('User canceled the operation.');
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

  it("refuses Linux's basic_text backend, which encrypts with a key known to everyone", async () => {
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

  it('keeps the saved secrets when the keychain refuses to decrypt them, and reads them once it opens', async () => {
    const dir = await fixtures.tempDir('ferry-safe-');
    const safeStorage = new FakeSafeStorage();
    await new SafeStorageSecretStore({ safeStorage, dataDir: dir }).set(1, { accessToken: TOKEN });
    const saved = await readFile(join(dir, 'secrets.safestorage'));

    // A denied keychain prompt (macOS) or a locked keyring (Linux): decryption throws.
    safeStorage.refuseDecryption = true;
    const store = new SafeStorageSecretStore({ safeStorage, dataDir: dir });
    await expect(store.get(1)).rejects.toThrow(
      /keychain did not unlock Ferry's saved secrets \(User canceled the operation\.\); nothing was changed; unlock it and try again/,
    );
    // A save in the meantime fails too, rather than replacing the file with the new account alone.
    await expect(store.set(2, { accessToken: 'second-token-5678' })).rejects.toBeInstanceOf(EncryptionUnavailableError);
    expect(await readdir(dir)).toEqual(['secrets.safestorage']);
    expect(await readFile(store.path)).toEqual(saved);

    // The next read tries again.
    safeStorage.refuseDecryption = false;
    expect(await store.get(1)).toEqual({ accessToken: TOKEN });
  });

  it('keeps the saved secrets when encryption is unavailable for a moment', async () => {
    const dir = await fixtures.tempDir('ferry-safe-');
    const safeStorage = new FakeSafeStorage();
    await new SafeStorageSecretStore({ safeStorage, dataDir: dir }).set(1, { accessToken: TOKEN });
    const saved = await readFile(join(dir, 'secrets.safestorage'));

    safeStorage.available = false;
    const store = new SafeStorageSecretStore({ safeStorage, dataDir: dir });
    await expect(store.get(1)).rejects.toThrow(/keychain did not unlock.*nothing was changed; unlock it and try again/);
    expect(await readdir(dir)).toEqual(['secrets.safestorage']);
    expect(await readFile(store.path)).toEqual(saved);

    safeStorage.available = true;
    expect(await store.get(1)).toEqual({ accessToken: TOKEN });
  });

  it('sets aside, under a new name and byte for byte, a file that decrypts but does not hold secrets', async () => {
    const dir = await fixtures.tempDir('ferry-safe-');
    const safeStorage = new FakeSafeStorage();
    const store = new SafeStorageSecretStore({ safeStorage, dataDir: dir });
    const garbage = await safeStorage.encryptStringAsync('{"1": {"accessToken"');
    await writeFile(store.path, garbage);
    await expect(store.get(1)).rejects.toThrow(
      /damaged \(it decrypts, but not to the secrets Ferry writes\); it was moved to .*secrets\.safestorage\.unreadable-.*enter its secrets again/,
    );
    const aside = (await readdir(dir)).filter((name) => name.startsWith('secrets.safestorage.unreadable-'));
    expect(aside).toHaveLength(1);
    expect(await readFile(join(dir, aside[0]!))).toEqual(garbage);
    // Secrets can be entered again.
    await store.set(1, { accessToken: TOKEN });
    expect(await new SafeStorageSecretStore({ safeStorage, dataDir: dir }).get(1)).toEqual({ accessToken: TOKEN });
  });

  it('sets aside a file whose checksum does not match (cut short on disk) without asking the keychain', async () => {
    const dir = await fixtures.tempDir('ferry-safe-');
    const safeStorage = new FakeSafeStorage();
    await new SafeStorageSecretStore({ safeStorage, dataDir: dir }).set(1, { accessToken: TOKEN });
    const path = join(dir, 'secrets.safestorage');
    const cut = (await readFile(path)).subarray(0, -4);
    await writeFile(path, cut);
    // Even with the keychain locked the damage is proven by the checksum alone.
    safeStorage.refuseDecryption = true;
    await expect(new SafeStorageSecretStore({ safeStorage, dataDir: dir }).get(1)).rejects.toThrow(
      /checksum does not match.*moved to/,
    );
    const aside = (await readdir(dir)).filter((name) => name.startsWith('secrets.safestorage.unreadable-'));
    expect(await readFile(join(dir, aside[0]!))).toEqual(cut);
  });

  it('still reads a file written before the checksum header (ciphertext alone)', async () => {
    const dir = await fixtures.tempDir('ferry-safe-');
    const safeStorage = new FakeSafeStorage();
    const store = new SafeStorageSecretStore({ safeStorage, dataDir: dir });
    await writeFile(store.path, await safeStorage.encryptStringAsync(JSON.stringify({ 1: { accessToken: TOKEN } })));
    expect(await store.get(1)).toEqual({ accessToken: TOKEN });
  });

  it("removes the unencrypted copy from secrets.json once the encrypted one is saved, and only that account's", async () => {
    const dir = await fixtures.tempDir('ferry-safe-');
    const headless = new FileSecretStore(dir);
    await headless.set(5, { accessToken: 'terminal-token-five' });
    await headless.set(6, { accessToken: 'terminal-token-six' });
    const safeStorage = new FakeSafeStorage();
    await new SafeStorageSecretStore({ safeStorage, dataDir: dir, fallback: headless }).set(5, {
      accessToken: 'terminal-token-five',
    });

    const plain = await readFile(join(dir, 'secrets.json'), 'utf8');
    expect(plain).not.toContain('terminal-token-five');
    expect(plain).toContain('terminal-token-six');
    // A new process finds the secret in the encrypted file alone.
    const reopened = new SafeStorageSecretStore({ safeStorage, dataDir: dir, fallback: new FileSecretStore(dir) });
    expect(await reopened.get(5)).toEqual({ accessToken: 'terminal-token-five' });
    expect(await reopened.get(6)).toEqual({ accessToken: 'terminal-token-six' });
  });

  it('removes unencrypted copies that earlier versions left behind, once it has read the encrypted ones', async () => {
    const dir = await fixtures.tempDir('ferry-safe-');
    const safeStorage = new FakeSafeStorage();
    // An earlier version saved account 5 here and left its plain copy in secrets.json.
    await new SafeStorageSecretStore({ safeStorage, dataDir: dir }).set(5, { accessToken: 'app-token-five' });
    const headless = new FileSecretStore(dir);
    await headless.set(5, { accessToken: 'terminal-token-five' });
    await headless.set(6, { accessToken: 'terminal-token-six' });

    const store = new SafeStorageSecretStore({ safeStorage, dataDir: dir, fallback: headless });
    expect(await store.get(5)).toEqual({ accessToken: 'app-token-five' });
    const plain = await readFile(join(dir, 'secrets.json'), 'utf8');
    expect(plain).not.toContain('terminal-token-five');
    expect(await store.get(6)).toEqual({ accessToken: 'terminal-token-six' });
  });

  it('keeps the old encrypted file and the unencrypted copy when what was written does not decrypt back', async () => {
    const dir = await fixtures.tempDir('ferry-safe-');
    const headless = new FileSecretStore(dir);
    await headless.set(5, { accessToken: 'terminal-token-five' });
    const safeStorage = new FakeSafeStorage();
    const store = new SafeStorageSecretStore({ safeStorage, dataDir: dir, fallback: headless });
    await store.set(1, { accessToken: TOKEN });
    const saved = await readFile(store.path);

    safeStorage.forgetKey = true;
    await expect(store.set(5, { accessToken: 'app-token-five' })).rejects.toThrow(
      /did not decrypt what it had just encrypted.*left as they were/,
    );
    expect(await readFile(store.path)).toEqual(saved);
    expect(await readFile(join(dir, 'secrets.json'), 'utf8')).toContain('terminal-token-five');
    expect((await readdir(dir)).filter((name) => name.includes('.tmp'))).toEqual([]);
    safeStorage.forgetKey = false;
    const reopened = new SafeStorageSecretStore({ safeStorage, dataDir: dir, fallback: new FileSecretStore(dir) });
    expect(await reopened.get(1)).toEqual({ accessToken: TOKEN });
    expect(await reopened.get(5)).toEqual({ accessToken: 'terminal-token-five' });
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
