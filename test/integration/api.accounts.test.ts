/**
 * Accounts through the API against the five provider emulators: add, update (a secret left empty
 * keeps its value), lane pause and concurrency, remove, and a connection test that really asks each
 * provider and tells a good credential from a bad one. Secrets never appear in any response or event:
 * every serialized answer and event is searched for every secret value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvent, ApiResult } from '../../main/api/contract.ts';
import { FerryApi } from '../../main/api/ferryApi.ts';
import type { Db } from '../../main/db/database.ts';
import type { Queue } from '../../main/engine/queue.ts';
import { startOfauthSandbox, type OfauthSandbox } from '../sandbox/ofauth.ts';
import { startOktopostSandbox, type OktopostSandbox } from '../sandbox/oktopost.ts';
import { startSelfCommunitySandbox, type SelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { startTwentyThreeSandbox, type TwentyThreeSandbox } from '../sandbox/twentythree.ts';
import { startXvidSandbox, type XvidSandbox } from '../sandbox/xvid.ts';
import { Fixtures, sleep } from '../support/ferryHarness.ts';
import { JobsRepository } from '../../main/db/jobsRepository.ts';
import { openTestQueue } from '../support/testQueue.ts';

const SECRETS = {
  scToken: 'sc-SECRET-7d41c0ffee',
  ofKey: 'of-SECRET-key-91aa',
  ofConnection: 'conn-SECRET-77b2',
  okAccount: '00ASECRET0000042',
  okKey: 'ok-SECRET-key-3c3c',
  xvClient: 'xvid-SECRET-client-5e',
  xvSecret: 'xvid-SECRET-secret-6f',
  ttConsumerKey: 'tt-SECRET-ck-1',
  ttConsumerSecret: 'tt-SECRET-cs-2',
  ttToken: 'tt-SECRET-at-3',
  ttTokenSecret: 'tt-SECRET-as-4',
  replacement: 'sc-SECRET-replaced-0b0b',
};

const fixtures = new Fixtures();
let api: FerryApi;
let db: Db;
let queue: Queue;
let selfcommunity: SelfCommunitySandbox;
let ofauth: OfauthSandbox;
let oktopost: OktopostSandbox;
let xvid: XvidSandbox;
let twentythree: TwentyThreeSandbox;
const answers: Array<ApiResult<unknown>> = [];
const events: ApiEvent[] = [];

async function call(command: string, input: unknown): Promise<ApiResult<unknown>> {
  const result = await api.call(command, input);
  answers.push(result);
  return result;
}

beforeAll(async () => {
  selfcommunity = fixtures.track(await startSelfCommunitySandbox({ token: SECRETS.scToken }));
  ofauth = fixtures.track(await startOfauthSandbox({ apiKey: SECRETS.ofKey, connectionId: SECRETS.ofConnection }));
  oktopost = fixtures.track(await startOktopostSandbox({ accountId: SECRETS.okAccount, apiKey: SECRETS.okKey }));
  xvid = fixtures.track(await startXvidSandbox({ clientId: SECRETS.xvClient, clientSecret: SECRETS.xvSecret }));
  twentythree = fixtures.track(
    await startTwentyThreeSandbox({
      consumerKey: SECRETS.ttConsumerKey,
      consumerSecret: SECRETS.ttConsumerSecret,
      accessToken: SECRETS.ttToken,
      accessTokenSecret: SECRETS.ttTokenSecret,
    }),
  );
  const dir = await fixtures.tempDir('ferry-api-accounts-');
  ({ db, queue } = openTestQueue(dir));
  api = new FerryApi({ queue, db, dataDir: dir, jobsChangedDelayMs: 5 });
  await api.start();
  api.subscribe((event) => void events.push(event));

  const accounts = [
    {
      provider: 'selfcommunity',
      name: 'community',
      baseUrl: selfcommunity.url,
      secrets: { accessToken: SECRETS.scToken },
    },
    {
      provider: 'ofauth',
      name: 'vault',
      baseUrl: ofauth.url,
      secrets: { apiKey: SECRETS.ofKey, connectionId: SECRETS.ofConnection },
    },
    {
      provider: 'oktopost',
      name: 'social',
      baseUrl: oktopost.apiUrl,
      secrets: { accountId: SECRETS.okAccount, apiKey: SECRETS.okKey },
    },
    {
      provider: 'xvid',
      name: 'mediahub',
      baseUrl: xvid.apiUrl,
      settings: { pipelineId: xvid.pipelineId },
      secrets: { clientId: SECRETS.xvClient, clientSecret: SECRETS.xvSecret },
    },
    {
      provider: 'twentythree',
      name: 'videos',
      baseUrl: twentythree.url,
      secrets: {
        consumerKey: SECRETS.ttConsumerKey,
        consumerSecret: SECRETS.ttConsumerSecret,
        accessToken: SECRETS.ttToken,
        accessTokenSecret: SECRETS.ttTokenSecret,
      },
    },
  ];
  for (const account of accounts) {
    const added = await call('accounts.add', account);
    expect(added, JSON.stringify(added)).toMatchObject({ ok: true });
  }
});

afterAll(async () => {
  api.close();
  db.close();
  await fixtures.cleanup();
});

describe('accounts', () => {
  it('lists accounts with their secrets only as set / not set', async () => {
    const listed = await call('accounts.list', undefined);
    expect(listed.ok).toBe(true);
    if (!listed.ok) return;
    const accounts = listed.value as Array<Record<string, unknown>>;
    expect(accounts.map((account) => account.name)).toEqual(['community', 'mediahub', 'social', 'vault', 'videos']);
    expect(accounts.find((account) => account.name === 'videos')).toMatchObject({
      provider: 'twentythree',
      providerName: 'TwentyThree',
      secrets: { consumerKey: 'set', consumerSecret: 'set', accessToken: 'set', accessTokenSecret: 'set' },
      settings: { chunkSize: '5242880' },
    });
    expect(accounts.find((account) => account.name === 'mediahub')).toMatchObject({
      settings: { pipelineId: xvid.pipelineId },
    });
  });

  it('refuses a second account with the same name as a CONFLICT', async () => {
    const again = await call('accounts.add', {
      provider: 'selfcommunity',
      name: 'community',
      baseUrl: selfcommunity.url,
      secrets: { accessToken: 'x1234' },
    });
    expect(again).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
  });

  it('says what an account lacks by its fields, never by command-line flags (the window shows these too)', async () => {
    const refusals = await Promise.all([
      call('accounts.add', {
        provider: 'selfcommunity',
        name: 'no-token',
        baseUrl: 'https://community.example.com',
        secrets: {},
      }),
      call('accounts.add', { provider: 'selfcommunity', name: 'no-site', secrets: { accessToken: 'x1234' } }),
      call('accounts.add', {
        provider: 'selfcommunity',
        name: 'mixed',
        baseUrl: 'https://community.example.com',
        secrets: { accessToken: 'x1234' },
        settings: { accessToken: 'x' },
      }),
    ]);
    const messages = refusals.map((result) => (result.ok ? 'accepted' : result.error.message));
    expect(messages[0]).toMatch(/SelfCommunity needs Access token/);
    expect(messages[1]).toMatch(/need the site's address as their base URL/);
    expect(messages[2]).toMatch(/has no setting "accessToken" \(it is a secret/);
    for (const message of messages) expect(message).not.toMatch(/--[a-z]/);
  });

  it('tests each connection with a real request to the provider', async () => {
    for (const name of ['community', 'vault', 'social', 'mediahub', 'videos']) {
      const tested = await call('accounts.test', { account: name });
      expect(tested, `${name}: ${JSON.stringify(tested)}`).toMatchObject({
        ok: true,
        value: { ok: true, message: null },
      });
    }
    // What was checked is said, and the requests really reached the emulators.
    const community = await call('accounts.test', { account: 'community' });
    expect(community.ok && (community.value as { checked: string }).checked).toMatch(/SelfCommunity.*without.*with/);
    expect(
      selfcommunity.requests
        .filter((request) => request.path === '/api/v2/media/upload/complete/')
        .map((r) => r.status),
    ).toEqual([401, 404, 401, 404]);
    expect(selfcommunity.media).toHaveLength(0);
    expect(xvid.tokenCalls.length).toBeGreaterThan(0);
  });

  it('reports a refused credential as a failed test, not as an API error', async () => {
    const other = fixtures.track(await startSelfCommunitySandbox({ token: 'a-different-token' }));
    await call('accounts.add', {
      provider: 'selfcommunity',
      name: 'wrong',
      baseUrl: other.url,
      secrets: { accessToken: SECRETS.replacement },
    });
    const tested = await call('accounts.test', { account: 'wrong' });
    expect(tested).toMatchObject({ ok: true, value: { ok: false } });
    expect(tested.ok && (tested.value as { message: string }).message).toMatch(/refused the credentials \(401/);
    await call('accounts.remove', { account: 'wrong' });
  });

  it('fails the test of every provider whose credentials are wrong', async () => {
    const wrong: Array<[string, Record<string, string>]> = [
      ['vault', { apiKey: 'wrong-key-1' }],
      ['social', { apiKey: 'wrong-key-2' }],
      ['mediahub', { clientSecret: 'wrong-secret-3' }],
      ['videos', { consumerSecret: 'wrong-secret-4' }],
    ];
    for (const [name, secrets] of wrong) {
      const updated = await call('accounts.update', { account: name, secrets });
      expect(updated.ok, JSON.stringify(updated)).toBe(true);
      const tested = await call('accounts.test', { account: name });
      expect(tested, name).toMatchObject({ ok: true, value: { ok: false } });
    }
    // Put the right ones back; the other secrets kept their values meanwhile.
    await call('accounts.update', { account: 'vault', secrets: { apiKey: SECRETS.ofKey } });
    await call('accounts.update', { account: 'social', secrets: { apiKey: SECRETS.okKey } });
    await call('accounts.update', { account: 'mediahub', secrets: { clientSecret: SECRETS.xvSecret } });
    await call('accounts.update', { account: 'videos', secrets: { consumerSecret: SECRETS.ttConsumerSecret } });
    for (const name of ['vault', 'social', 'mediahub', 'videos']) {
      expect(await call('accounts.test', { account: name }), name).toMatchObject({ ok: true, value: { ok: true } });
    }
  });

  it('says what is wrong when the base URL points at something that is not the provider', async () => {
    const notProvider = fixtures.track(await startSelfCommunitySandbox({ token: SECRETS.scToken }));
    // The OFAuth probe against a SelfCommunity server: 404 with and without credentials.
    await call('accounts.add', {
      provider: 'ofauth',
      name: 'misdirected',
      baseUrl: notProvider.url,
      secrets: { apiKey: 'k1234', connectionId: 'c1234' },
    });
    const tested = await call('accounts.test', { account: 'misdirected' });
    expect(tested).toMatchObject({ ok: true, value: { ok: false } });
    expect(tested.ok && (tested.value as { message: string }).message).toMatch(/did not ask for credentials/);
    const unreachable = await call('accounts.update', { account: 'misdirected', baseUrl: 'http://127.0.0.1:9' });
    expect(unreachable.ok).toBe(true);
    const offline = await call('accounts.test', { account: 'misdirected' });
    expect(offline).toMatchObject({ ok: true, value: { ok: false } });
    expect(offline.ok && (offline.value as { message: string }).message).toMatch(/Could not reach OFAuth/);
    await call('accounts.remove', { account: 'misdirected' });
  });

  it('updates name, base URL and settings; an empty secret keeps the stored one', async () => {
    const before = await queue.accounts.secretsOf(queue.accounts.byName('community')!.id);
    const updated = await call('accounts.update', {
      account: 'community',
      name: 'community-2',
      secrets: { accessToken: '' },
      concurrency: 3,
    });
    expect(updated).toMatchObject({
      ok: true,
      value: { name: 'community-2', concurrency: 3, secrets: { accessToken: 'set' } },
    });
    expect(await queue.accounts.secretsOf(queue.accounts.byName('community-2')!.id)).toEqual(before);
    const renamedBack = await call('accounts.update', { account: 'community-2', name: 'community' });
    expect(renamedBack.ok).toBe(true);

    const cleared = await call('accounts.update', { account: 'mediahub', settings: { objectKeyPrefix: 'in/' } });
    expect(cleared).toMatchObject({
      ok: true,
      value: { settings: { pipelineId: xvid.pipelineId, objectKeyPrefix: 'in/' } },
    });
    const missingRequired = await call('accounts.update', { account: 'mediahub', settings: { pipelineId: '' } });
    expect(missingRequired).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT', message: expect.stringMatching(/pipelineId/) },
    });
    const noBase = await call('accounts.update', { account: 'community', baseUrl: null });
    expect(noBase).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    const conflict = await call('accounts.update', { account: 'community', name: 'vault' });
    expect(conflict).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    expect(await call('accounts.update', { account: 'nobody', name: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
  });

  it('pauses and resumes an account lane and sets its concurrency', async () => {
    expect(await call('accounts.pause', { account: 'vault' })).toMatchObject({ ok: true, value: { paused: true } });
    expect(queue.accounts.byName('vault')!.paused).toBe(true);
    expect(await call('accounts.resume', { account: 'vault' })).toMatchObject({ ok: true, value: { paused: false } });
    expect(await call('accounts.setConcurrency', { account: 'vault', concurrency: 5 })).toMatchObject({
      ok: true,
      value: { concurrency: 5 },
    });
    expect(queue.accounts.byName('vault')!.concurrency).toBe(5);
    await sleep(20);
    const changed = events.filter((event) => event.event === 'accounts.changed');
    expect(changed.length).toBeGreaterThan(0);
  });

  it('never lets a secret out, even one a provider or another process wrote into a job error', async () => {
    // A job whose recorded error echoes a secret, as a careless server or proxy might.
    const account = queue.accounts.byName('mediahub')!;
    const [job] = new JobsRepository(db).insert([
      {
        accountId: account.id,
        sourceKind: 'file',
        source: '/tmp/x.mp4',
        name: 'x.mp4',
        mime: 'video/mp4',
        size: 1,
        mtimeMs: 1,
        edgeHash: 'x',
        options: {},
      },
    ]);
    queue.transition(
      job!.id,
      'failed',
      {
        error: { kind: 'auth', message: `token request for ${SECRETS.xvClient}:${SECRETS.xvSecret} refused` },
        finishedAt: Date.now(),
      },
      `refused ${SECRETS.xvSecret}`,
      'auth',
    );
    const detail = await call('jobs.get', { id: job!.id });
    expect(detail.ok && JSON.stringify(detail.value)).toContain('[secret]');
    await call('jobs.list', {});
    await call('history.list', {});
    await call('history.export', { format: 'csv' });
    await call('history.export', { format: 'json' });
    await call('providers.list', undefined);
    await call('accounts.list', {});
    await call('accounts.add', {
      provider: 'xvid',
      name: 'leaky',
      baseUrl: 'http://127.0.0.1:9',
      settings: { pipelineId: SECRETS.xvSecret },
      secrets: { clientId: SECRETS.xvClient },
    });
    await call('jobs.remove', { ids: [job!.id] });
    await sleep(50);

    const seen = [
      ...answers.map((answer) => JSON.stringify(answer)),
      ...events.map((event) => JSON.stringify(event)),
    ].join('\n');
    expect(answers.length).toBeGreaterThan(30);
    expect(events.length).toBeGreaterThan(5);
    for (const [name, value] of Object.entries(SECRETS)) {
      expect(seen.includes(value), `${name} leaked`).toBe(false);
    }
  });

  it('removes an account (refused while it has uploads in progress)', async () => {
    const account = queue.accounts.byName('videos')!;
    const [job] = new JobsRepository(db).insert([
      {
        accountId: account.id,
        sourceKind: 'file',
        source: '/tmp/y.mp4',
        name: 'y.mp4',
        mime: 'video/mp4',
        size: 1,
        mtimeMs: 1,
        edgeHash: 'x',
        options: {},
      },
    ]);
    new JobsRepository(db).update(job!.id, { state: 'uploading' });
    expect(await call('accounts.remove', { account: 'videos' })).toMatchObject({
      ok: false,
      error: { code: 'CONFLICT' },
    });
    new JobsRepository(db).update(job!.id, { state: 'paused' });
    expect(await call('accounts.remove', { account: 'videos' })).toEqual({ ok: true, value: { removed: 'videos' } });
    expect(await call('accounts.remove', { account: 'videos' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    expect(queue.jobs.get(job!.id)).toBeUndefined();
  });
});

describe('accounts through the queue (the account service checks them for every way in)', () => {
  it('names missing or misplaced fields without command-line flags', async () => {
    const dir = await fixtures.tempDir('ferry-accounts-queue-');
    const { db: ownDb, queue: own } = openTestQueue(dir);
    try {
      const refused = async (input: Parameters<Queue['accounts']['add']>[0]): Promise<string> => {
        try {
          await own.accounts.add(input);
          return 'accepted';
        } catch (error) {
          return (error as Error).message;
        }
      };
      const messages = [
        await refused({
          provider: 'selfcommunity',
          name: ' ',
          baseUrl: 'https://c.example.com',
          secrets: { accessToken: 'x1234' },
        }),
        await refused({ provider: 'selfcommunity', name: 'a', baseUrl: 'https://c.example.com', secrets: {} }),
        await refused({ provider: 'selfcommunity', name: 'b', secrets: { accessToken: 'x1234' } }),
        await refused({
          provider: 'selfcommunity',
          name: 'c',
          baseUrl: 'https://c.example.com',
          secrets: { accessToken: 'x1234' },
          settings: { accessToken: 'x' },
        }),
        await refused({
          provider: 'xvid',
          name: 'd',
          secrets: { clientId: 'abcd', clientSecret: 'efgh', pipelineId: 'p' },
          settings: { pipelineId: 'p' },
        }),
      ];
      expect(messages).toEqual([
        'An account needs a name',
        'SelfCommunity needs Access token (the secret "accessToken")',
        "SelfCommunity accounts need the site's address as their base URL (https://...)",
        'SelfCommunity has no setting "accessToken" (it is a secret, not a setting)',
        'Xvid MediaHub has no secret "pipelineId" (it is a setting, not a secret)',
      ]);
    } finally {
      ownDb.close();
    }
  });
});
