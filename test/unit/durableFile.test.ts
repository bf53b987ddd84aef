/**
 * Both secret stores write their file durably — temporary file, fsync, rename, fsync of the folder —
 * and the headless store sets aside (renames, never deletes) a secrets.json that is proven unreadable,
 * so that secrets can be entered again.
 *
 * The fsync order is observed on the real file system: FileHandle.prototype.sync is wrapped (it still
 * syncs) to note which file each call was for, through /proc/self/fd, and what the final file held at
 * that moment. Linux only, for /proc.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { open, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileSecretStore } from '../../main/secrets/fileSecretStore.ts';
import { SafeStorageSecretStore, type SafeStorageLike } from '../../main/secrets/safeStorageSecretStore.ts';
import { Fixtures } from '../support/ferryHarness.ts';

const fixtures = new Fixtures();
afterEach(async () => {
  vi.restoreAllMocks();
  await fixtures.cleanup();
});

class FakeSafeStorage implements SafeStorageLike {
  readonly #key = randomBytes(32);
  async isAsyncEncryptionAvailable(): Promise<boolean> {
    return true;
  }
  async encryptStringAsync(plainText: string): Promise<Buffer> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(plainText, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }
  async decryptStringAsync(encrypted: Buffer): Promise<{ result: string; shouldReEncrypt: boolean }> {
    const decipher = createDecipheriv('aes-256-gcm', this.#key, encrypted.subarray(0, 12));
    decipher.setAuthTag(encrypted.subarray(12, 28));
    return {
      result: Buffer.concat([decipher.update(encrypted.subarray(28)), decipher.final()]).toString('utf8'),
      shouldReEncrypt: false,
    };
  }
}

interface SyncCall {
  path: string;
  /** What the store's final file held when this sync ran (null: no file yet). */
  finalFile: Buffer | null;
}

/** Records every fsync of this process while `run` runs; the syncs still happen. */
async function recordSyncs(finalPath: string, run: () => Promise<void>): Promise<SyncCall[]> {
  const probe = await open(finalPath.replace(/[^/]+$/, ''), 'r');
  const prototype = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
  await probe.close();
  const realSync = prototype.sync;
  const calls: SyncCall[] = [];
  vi.spyOn(prototype, 'sync').mockImplementation(async function (this: { fd: number }) {
    let finalFile: Buffer | null = null;
    try {
      finalFile = await readFile(finalPath);
    } catch {
      // Not written yet.
    }
    calls.push({ path: readlinkSync(`/proc/self/fd/${this.fd}`), finalFile });
    return realSync.call(this);
  });
  await run();
  vi.restoreAllMocks();
  return calls;
}

describe.runIf(process.platform === 'linux')(
  'secret files are fsynced before the rename, and their folder after it',
  () => {
    it('the headless store (secrets.json)', async () => {
      const dir = await fixtures.tempDir('ferry-durable-');
      const store = new FileSecretStore(dir);
      await store.set(1, { apiKey: 'first-key-1234' });
      const before = await readFile(store.path);
      const calls = await recordSyncs(store.path, () => store.set(2, { apiKey: 'second-key-5678' }));

      expect(calls.map((call) => call.path.startsWith(`${store.path}.`) && call.path.endsWith('.tmp'))).toEqual([
        true,
        false,
      ]);
      // The temporary file was synced while the final file still held the old content…
      expect(calls[0]!.finalFile).toEqual(before);
      // …and the folder after the rename.
      expect(calls[1]!.path).toBe(dir);
      expect(calls[1]!.finalFile?.toString()).toContain('second-key-5678');
      expect((await stat(store.path)).mode & 0o777).toBe(0o600);
      expect(await readdir(dir)).toEqual(['secrets.json']);
    });

    it('the desktop store (secrets.safestorage)', async () => {
      const dir = await fixtures.tempDir('ferry-durable-');
      const safeStorage = new FakeSafeStorage();
      const store = new SafeStorageSecretStore({ safeStorage, dataDir: dir });
      await store.set(1, { apiKey: 'first-key-1234' });
      const before = await readFile(store.path);
      const calls = await recordSyncs(store.path, () => store.set(2, { apiKey: 'second-key-5678' }));

      expect(calls.map((call) => call.path.startsWith(`${store.path}.`) && call.path.endsWith('.tmp'))).toEqual([
        true,
        false,
      ]);
      expect(calls[0]!.finalFile).toEqual(before);
      expect(calls[1]!.path).toBe(dir);
      expect(calls[1]!.finalFile).not.toEqual(before);
      expect(await new SafeStorageSecretStore({ safeStorage, dataDir: dir }).get(2)).toEqual({
        apiKey: 'second-key-5678',
      });
      expect(await readdir(dir)).toEqual(['secrets.safestorage']);
    });
  },
);

describe('a damaged secrets.json', () => {
  it('is set aside byte for byte, with what to do, and secrets can be added again', async () => {
    const dir = await fixtures.tempDir('ferry-durable-');
    const store = new FileSecretStore(dir);
    const damaged = '{"1": {"apiKey": "half-writ';
    await writeFile(store.path, damaged, { mode: 0o600 });

    await expect(store.get(1)).rejects.toThrow(
      /secrets file .*secrets\.json is damaged.*moved to .*secrets\.json\.unreadable-.*ferry accounts add/,
    );
    const aside = (await readdir(dir)).filter((name) => name.startsWith('secrets.json.unreadable-'));
    expect(aside).toHaveLength(1);
    expect(await readFile(join(dir, aside[0]!), 'utf8')).toBe(damaged);

    await store.set(1, { apiKey: 'new-key-1234' });
    expect(await new FileSecretStore(dir).get(1)).toEqual({ apiKey: 'new-key-1234' });
  });

  it('of the wrong shape (valid JSON, not secrets) is set aside too', async () => {
    const dir = await fixtures.tempDir('ferry-durable-');
    const store = new FileSecretStore(dir);
    await writeFile(store.path, '[1, 2, 3]');
    await expect(store.set(1, { apiKey: 'new-key-1234' })).rejects.toThrow(/is damaged.*moved to/);
    await store.set(1, { apiKey: 'new-key-1234' });
    expect(await store.get(1)).toEqual({ apiKey: 'new-key-1234' });
    expect((await readdir(dir)).filter((name) => name.startsWith('secrets.json.unreadable-'))).toHaveLength(1);
  });
});
