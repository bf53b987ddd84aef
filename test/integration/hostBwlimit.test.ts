/**
 * The host applies the bandwidth limits: the saved global `bwlimit` when the engine is built, a
 * `--bwlimit` of the process over it (not saved), a change through the API at once, a change made
 * by another process (straight into the settings table, as `ferry settings set` does) within about
 * a second, and each account's own `bwlimit` as accounts change.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SettingsStore } from '../../main/api/settingsStore.ts';
import { openDatabase } from '../../main/db/database.ts';
import { openFerryHost, type FerryHost } from '../../main/host/ferryHost.ts';
import { Fixtures, waitFor } from '../support/ferryHarness.ts';
import { openTestQueue } from '../support/testQueue.ts';

const fixtures = new Fixtures();
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await fixtures.cleanup();
});

const K = 1024;

async function opened(engineOptions: { bwlimit?: string } = {}): Promise<{ host: FerryHost; dir: string }> {
  const dir = join(await fixtures.tempDir('ferry-host-bw-'), 'data');
  await mkdir(dir, { recursive: true });
  const { db, queue } = openTestQueue(dir);
  closers.push(() => db.close());
  new SettingsStore(db).set({ bwlimit: '512K' });
  const host = await openFerryHost({
    dataDir: dir,
    db,
    queue,
    log: () => undefined,
    answersCommands: false,
    engineOptions,
  });
  closers.push(() => host.close());
  return { host, dir };
}

describe('the host and the bandwidth limits', () => {
  it('applies the saved limit, a change through the API, and one made by another process', async () => {
    const { host, dir } = await opened();
    const engine = host.engine!;
    expect(engine.bandwidth.global.rate).toBe(512 * K);
    expect(await host.api.invoke('settings.set', { bwlimit: '2M' })).toMatchObject({ ok: true });
    expect(engine.bandwidth.global.rate).toBe(2048 * K);

    // Another process writes the settings table only.
    const other = openDatabase(dir);
    try {
      new SettingsStore(other).set({ bwlimit: '64K' });
    } finally {
      other.close();
    }
    await waitFor('the other process change', () => (engine.bandwidth.global.rate === 64 * K ? true : null), 5_000);

    // An account's own limit, applied when accounts change.
    await host.queue.accounts.add({
      provider: 'selfcommunity',
      name: 'community',
      baseUrl: 'https://community.example',
      settings: { bwlimit: '100K' },
      secrets: { accessToken: 'token-1234' },
    });
    const account = host.queue.accounts.list()[0]!;
    await waitFor('the account limit', () => (engine.bandwidth.account(account.id).rate === 100 * K ? true : null));
    await host.queue.accounts.update(account.name, { settings: {} });
    await waitFor('the account limit lifted', () => (engine.bandwidth.account(account.id).rate === null ? true : null));
  });

  it('keeps a --bwlimit of the process over the saved limit and its changes, and does not save it', async () => {
    const { host } = await opened({ bwlimit: '1M' });
    const engine = host.engine!;
    expect(engine.bandwidth.global.rate).toBe(1024 * K);
    expect(await host.api.invoke('settings.set', { bwlimit: 'off' })).toMatchObject({ ok: true });
    expect(engine.bandwidth.global.rate).toBe(1024 * K);
    expect(host.api.settings.get().bwlimit).toBe('off');
  });
});
