/**
 * An account's own bandwidth limit, the generic account setting `bwlimit`: every provider accepts
 * it through the API (accounts.add and accounts.update) and through the queue (the `ferry accounts
 * add --set` path), a malformed one is refused with the bad token named and nothing is saved, and
 * an empty value removes it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { FerryApi } from '../../main/api/ferryApi.ts';
import type { Db } from '../../main/db/database.ts';
import { getAdapter, listAdapters } from '../../main/providers/registry.ts';
import { Fixtures } from '../support/ferryHarness.ts';
import { openTestQueue } from '../support/testQueue.ts';

const fixtures = new Fixtures();

afterAll(async () => {
  await fixtures.cleanup();
});

async function openApi(): Promise<{ api: FerryApi; db: Db }> {
  const dir = await fixtures.tempDir('ferry-account-bwlimit-');
  const { db, queue } = openTestQueue(dir);
  return { api: new FerryApi({ queue, db, dataDir: dir, log: () => undefined }), db };
}

/** The fields an account of the provider needs, filled with placeholder values. */
function required(provider: string): { settings: Record<string, string>; secrets: Record<string, string> } {
  const settings: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  for (const field of getAdapter(provider).fields) {
    if (!field.required) continue;
    (field.kind === 'secret' ? secrets : settings)[field.key] = field.choices?.[0] ?? 'placeholder-1234';
  }
  return { settings, secrets };
}

describe("an account's own bwlimit", () => {
  for (const adapter of listAdapters()) {
    it(`${adapter.id}: accepted, refused when malformed (nothing saved), removed with ""`, async () => {
      const { api, db } = await openApi();
      try {
        const { settings, secrets } = required(adapter.id);
        const baseUrl = adapter.capabilities.defaultBaseUrl === null ? { baseUrl: 'https://site.example' } : {};
        const bad = await api.invoke('accounts.add', {
          provider: adapter.id,
          name: 'limited',
          ...baseUrl,
          settings: { ...settings, bwlimit: 'Mon-08:00,512K Fry-18:00,off' },
          secrets,
        });
        expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
        expect(!bad.ok && bad.error.message).toContain('"Fry" is not a weekday');
        expect(api.queue.accounts.list()).toHaveLength(0);

        const added = await api.invoke('accounts.add', {
          provider: adapter.id,
          name: 'limited',
          ...baseUrl,
          settings: { ...settings, bwlimit: 'Mon-08:00,512K Fri-18:00,off' },
          secrets,
        });
        expect(added, JSON.stringify(added)).toMatchObject({ ok: true });
        expect(api.queue.accounts.list()[0]!.settings.bwlimit).toBe('Mon-08:00,512K Fri-18:00,off');

        const badUpdate = await api.invoke('accounts.update', { account: 'limited', settings: { bwlimit: '2X' } });
        expect(!badUpdate.ok && badUpdate.error.message).toContain('"2X" is not a rate');
        expect(api.queue.accounts.list()[0]!.settings.bwlimit).toBe('Mon-08:00,512K Fri-18:00,off');

        const cleared = await api.invoke('accounts.update', { account: 'limited', settings: { bwlimit: '' } });
        expect(cleared).toMatchObject({ ok: true });
        expect(api.queue.accounts.list()[0]!.settings).not.toHaveProperty('bwlimit');

        // The queue's own check (the `ferry accounts add --set bwlimit=…` path).
        await expect(
          api.queue.accounts.add({
            provider: adapter.id,
            name: 'second',
            baseUrl: baseUrl.baseUrl ?? null,
            settings: { ...settings, bwlimit: '8:0x,1M' },
            secrets,
          }),
        ).rejects.toThrow('"8:0x" is not a time (HH:MM)');
        await api.queue.accounts.add({
          provider: adapter.id,
          name: 'second',
          baseUrl: baseUrl.baseUrl ?? null,
          settings: { ...settings, bwlimit: '1M' },
          secrets,
        });
        expect(api.queue.accounts.list().find((account) => account.name === 'second')?.settings.bwlimit).toBe('1M');
      } finally {
        api.close();
        db.close();
      }
    });
  }
});
