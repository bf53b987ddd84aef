/**
 * History export (CSV escaping that survives a real parser, JSON), history listing, and settings that
 * persist in the database across a reopen.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../main/api/contract.ts';
import { FerryApi } from '../../main/api/ferryApi.ts';
import { csvField } from '../../main/api/historyExport.ts';
import type { Db } from '../../main/db/database.ts';
import { JobsRepository, type JobPatch } from '../../main/db/jobsRepository.ts';
import { Fixtures, sleep } from '../support/ferryHarness.ts';
import { openTestQueue } from '../support/testQueue.ts';

const fixtures = new Fixtures();
const opened: Array<() => void> = [];
afterEach(async () => {
  for (const close of opened.splice(0)) close();
  await fixtures.cleanup();
});

function openApi(dir: string): { api: FerryApi; db: Db } {
  const { db, queue } = openTestQueue(dir);
  const api = new FerryApi({ queue, db, dataDir: dir });
  opened.push(() => {
    api.close();
    db.close();
  });
  return { api, db };
}

/** A strict RFC 4180 reader: quoted fields, doubled quotes, CRLF record ends. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const char = text[i]!;
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (char === '"') {
        quoted = false;
        i += 1;
        continue;
      }
      field += char;
      i += 1;
      continue;
    }
    if (char === '"' && field === '') {
      quoted = true;
      i += 1;
    } else if (char === ',') {
      row.push(field);
      field = '';
      i += 1;
    } else if (char === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 2;
    } else {
      if (char === '"' || char === '\n' || char === '\r') throw new Error(`bare ${JSON.stringify(char)} at ${i}`);
      field += char;
      i += 1;
    }
  }
  if (field !== '' || row.length > 0) throw new Error('the last record does not end with CRLF');
  return rows;
}

async function seedHistory({ api, db }: { api: FerryApi; db: Db }): Promise<void> {
  const { queue } = api;
  const added = await api.invoke('accounts.add', {
    provider: 'selfcommunity',
    name: 'Gemeinschaft, "Süd"',
    baseUrl: 'http://127.0.0.1:9',
    secrets: { accessToken: 'history-token' },
  });
  expect(added.ok).toBe(true);
  const account = queue.accounts.byName('Gemeinschaft, "Süd"')!;
  const base = {
    accountId: account.id,
    sourceKind: 'file' as const,
    mime: 'image/png',
    size: 1234,
    mtimeMs: 1,
    edgeHash: 'x',
    options: {},
  };
  const jobs = new JobsRepository(db).insert([
    { ...base, source: '/tmp/a.png', name: 'holiday, beach "best".png' },
    { ...base, source: '/tmp/b.png', name: 'line one\nline two.png' },
    { ...base, source: '/tmp/c.png', name: 'фото 日本語 ☃.png' },
    { ...base, source: '/tmp/d.png', name: '=HYPERLINK("http://evil")' },
    { ...base, source: '/tmp/e.png', name: 'still queued.png' },
  ]);
  const finish = (index: number, patch: JobPatch): void => new JobsRepository(db).update(jobs[index]!.id, patch);
  finish(0, {
    state: 'completed',
    finishedAt: Date.UTC(2025, 0, 2, 3, 4, 5),
    result: { remoteId: '17', url: 'http://x/m?a=1,2', details: {} },
  });
  finish(1, {
    state: 'failed',
    finishedAt: Date.UTC(2025, 0, 3),
    error: { kind: 'auth', message: 'SelfCommunity refused "chunk 1",\r\nbad token' },
  });
  finish(2, {
    state: 'completed',
    finishedAt: Date.UTC(2025, 0, 4),
    result: { remoteId: '18', url: null, details: { note: 'ok' } },
  });
  finish(3, { state: 'canceled', finishedAt: Date.UTC(2025, 0, 1) });
}

describe('history', () => {
  it('lists finished jobs only, newest first, with search and total', async () => {
    const { api, db } = openApi(await fixtures.tempDir('ferry-api-history-'));
    await seedHistory({ api, db });
    const all = await api.invoke('history.list', {});
    expect(all.ok && all.value.total).toBe(4);
    expect(all.ok && all.value.items.map((job) => job.name)).toEqual([
      'фото 日本語 ☃.png',
      'line one\nline two.png',
      'holiday, beach "best".png',
      '=HYPERLINK("http://evil")',
    ]);
    const failed = await api.invoke('history.list', { states: ['failed'] });
    expect(failed.ok && failed.value.items.map((job) => job.state)).toEqual(['failed']);
    const searched = await api.invoke('history.list', { search: '日本', limit: 1 });
    expect(searched.ok && searched.value).toMatchObject({
      total: 1,
      items: [{ name: 'фото 日本語 ☃.png', accountName: 'Gemeinschaft, "Süd"' }],
    });
  });

  it('exports CSV that a strict RFC 4180 reader gives back field for field', async () => {
    const { api, db } = openApi(await fixtures.tempDir('ferry-api-history-'));
    await seedHistory({ api, db });
    const exported = await api.invoke('history.export', { format: 'csv' });
    expect(exported.ok).toBe(true);
    if (!exported.ok) return;
    const rows = parseCsv(exported.value);
    expect(rows[0]).toEqual([
      'name',
      'account',
      'provider',
      'status',
      'remoteId',
      'url',
      'size',
      'finishedAt',
      'error',
    ]);
    expect(rows).toHaveLength(5);
    expect(rows).toContainEqual([
      'holiday, beach "best".png',
      'Gemeinschaft, "Süd"',
      'selfcommunity',
      'completed',
      '17',
      'http://x/m?a=1,2',
      '1234',
      '2025-01-02T03:04:05.000Z',
      '',
    ]);
    expect(rows).toContainEqual([
      'line one\nline two.png',
      'Gemeinschaft, "Süd"',
      'selfcommunity',
      'failed',
      '',
      '',
      '1234',
      '2025-01-03T00:00:00.000Z',
      'SelfCommunity refused "chunk 1",\r\nbad token',
    ]);
    expect(rows.map((row) => row[0])).toContain('фото 日本語 ☃.png');
    // A name that a spreadsheet would run as a formula is neutralised.
    expect(rows.map((row) => row[0])).toContain(`'=HYPERLINK("http://evil")`);
  });

  it('exports JSON with the same records and the result details', async () => {
    const { api, db } = openApi(await fixtures.tempDir('ferry-api-history-'));
    await seedHistory({ api, db });
    const exported = await api.invoke('history.export', { format: 'json', states: ['completed'] });
    expect(exported.ok).toBe(true);
    if (!exported.ok) return;
    const records = JSON.parse(exported.value) as Array<Record<string, unknown>>;
    expect(records).toHaveLength(2);
    expect(records[0]).toEqual({
      name: 'фото 日本語 ☃.png',
      account: 'Gemeinschaft, "Süd"',
      provider: 'selfcommunity',
      status: 'completed',
      remoteId: '18',
      url: null,
      size: 1234,
      finishedAt: '2025-01-04T00:00:00.000Z',
      error: null,
      details: { note: 'ok' },
    });
  });

  it('quotes exactly the fields that need it', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('ü名')).toBe('ü名');
    expect(csvField('-1')).toBe("'-1");
    expect(csvField(-1)).toBe('-1');
    expect(csvField(null)).toBe('');
  });
});

describe('settings', () => {
  it('start from defaults', async () => {
    const { api } = openApi(await fixtures.tempDir('ferry-api-settings-'));
    expect(await api.invoke('settings.get', undefined)).toEqual({
      ok: true,
      value: {
        globalConcurrency: 4,
        closeToTray: true,
        startAtLogin: false,
        notifications: true,
        theme: 'system',
        syncQuietSeconds: 60,
        syncTrashDays: 30,
        bwlimit: 'off',
        proxy: 'system',
        autoCopyLink: 'off',
        language: 'system',
        clipboardHotkey: '',
        autoUpdate: true,
        updateUrl: '',
      },
    });
  });

  it('persist across a reopen of the data folder and announce changes', async () => {
    const dir = await fixtures.tempDir('ferry-api-settings-');
    const { api: first } = openApi(dir);
    const events: ApiEvent[] = [];
    first.subscribe((event) => void events.push(event));
    const set = await first.invoke('settings.set', {
      globalConcurrency: 7,
      bwlimit: '08:00,512K Sat-00:00,off',
      theme: 'dark',
      closeToTray: false,
    });
    expect(set.ok && set.value).toMatchObject({
      globalConcurrency: 7,
      bwlimit: '08:00,512K Sat-00:00,off',
      theme: 'dark',
      closeToTray: false,
      notifications: true,
    });
    await first.invoke('settings.set', { notifications: false });
    await sleep(10);
    expect(events.filter((event) => event.event === 'settings.changed')).toHaveLength(2);
    for (const close of opened.splice(0)) close();

    const { api: second } = openApi(dir);
    expect(await second.invoke('settings.get', {})).toEqual({
      ok: true,
      value: {
        globalConcurrency: 7,
        closeToTray: false,
        startAtLogin: false,
        notifications: false,
        theme: 'dark',
        syncQuietSeconds: 60,
        syncTrashDays: 30,
        bwlimit: '08:00,512K Sat-00:00,off',
        proxy: 'system',
        autoCopyLink: 'off',
        language: 'system',
        clipboardHotkey: '',
        autoUpdate: true,
        updateUrl: '',
      },
    });
  });

  it('fall back to the default for one corrupt stored value without losing the others', async () => {
    const dir = await fixtures.tempDir('ferry-api-settings-');
    const { api, db } = openApi(dir);
    await api.invoke('settings.set', { theme: 'light', globalConcurrency: 3 });
    db.prepare("UPDATE settings SET value = '\"purple' WHERE key = 'app.theme'").run();
    db.prepare("UPDATE settings SET value = '99' WHERE key = 'app.globalConcurrency'").run();
    db.prepare("INSERT INTO settings (key, value) VALUES ('app.startAtLogin', 'true')").run();
    const read = await api.invoke('settings.get', undefined);
    expect(read.ok && read.value).toMatchObject({ theme: 'system', globalConcurrency: 4, startAtLogin: true });
  });

  it('refuse a malformed bandwidth limit with the bad token named, and save nothing of that call', async () => {
    const { api, db } = openApi(await fixtures.tempDir('ferry-api-settings-'));
    const refused = await api.invoke('settings.set', { theme: 'dark', bwlimit: '08:00,512K 25:00,off' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(!refused.ok && refused.error.message).toContain('"25:00" is not a time (HH:MM)');
    const read = await api.invoke('settings.get', undefined);
    expect(read.ok && read.value).toMatchObject({ theme: 'system', bwlimit: 'off' });
    // A stored value that does not parse (written by hand) reads as off rather than failing.
    db.prepare("INSERT INTO settings (key, value) VALUES ('app.bwlimit', '\"fast\"')").run();
    const again = await api.invoke('settings.get', undefined);
    expect(again.ok && again.value.bwlimit).toBe('off');
  });

  it('read the bandwidth cap of earlier versions as a bwlimit until one is saved', async () => {
    const { api, db } = openApi(await fixtures.tempDir('ferry-api-settings-'));
    // 2048 kbit/s = 256,000 bytes/s = 250 KiB/s.
    db.prepare("INSERT INTO settings (key, value) VALUES ('app.bandwidthCapKbps', '2048')").run();
    const read = await api.invoke('settings.get', undefined);
    expect(read.ok && read.value).toMatchObject({ bwlimit: '250K' });
    expect(read.ok && 'bandwidthCapKbps' in read.value).toBe(false);
    await api.invoke('settings.set', { bwlimit: 'off' });
    const after = await api.invoke('settings.get', undefined);
    expect(after.ok && after.value.bwlimit).toBe('off');
  });
});
