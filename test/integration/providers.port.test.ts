/**
 * The optional parts of the adapter port that the API layer relies on instead of naming providers:
 * `testConnection` (the API's "Test connection" only adds secrets, base URL and deadline around it)
 * and `credentialsChanged` (called by accounts.update).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { testConnection } from '../../main/api/connectionTest.ts';
import { FerryApi } from '../../main/api/ferryApi.ts';
import { createAccountHttp } from '../../main/engine/accountHttp.ts';
import { getAdapter, listAdapters } from '../../main/providers/registry.ts';
import type { AccountContext, JobContext } from '../../main/providers/types.ts';
import { startXvidSandbox } from '../sandbox/xvid.ts';
import { testFileSource } from '../support/fileSources.ts';
import { Fixtures } from '../support/ferryHarness.ts';
import { openTestQueue } from '../support/testQueue.ts';

const fixtures = new Fixtures();

afterAll(async () => {
  await fixtures.cleanup();
});

describe('testConnection', () => {
  it('is offered by every provider Ferry ships', () => {
    for (const adapter of listAdapters()) expect(typeof adapter.testConnection, adapter.id).toBe('function');
  });

  it('says so, and sends nothing, when a provider has no connection test', async () => {
    let requests = 0;
    const server = createServer((_request, response) => {
      requests += 1;
      response.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const adapter = { ...getAdapter('selfcommunity'), testConnection: undefined };
      const result = await testConnection(adapter, {
        id: 1,
        name: 'community',
        baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        settings: {},
        secrets: { accessToken: 'token-1234' },
      });
      expect(result).toEqual({
        ok: false,
        checked: 'SelfCommunity: no connection test',
        message: 'Ferry has no connection test for SelfCommunity',
      });
      expect(requests).toBe(0);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('credentialsChanged', () => {
  it('makes an Xvid MediaHub account ask for a new token after accounts.update, not reuse the cached one', async () => {
    const xvid = fixtures.track(await startXvidSandbox());
    const dir = await fixtures.tempDir('ferry-port-');
    const { db, queue } = openTestQueue(dir);
    const api = new FerryApi({ queue, db, dataDir: dir, log: () => undefined });
    await api.start();
    try {
      const secrets = { clientId: xvid.clientId, clientSecret: xvid.clientSecret };
      const added = await api.call('accounts.add', {
        provider: 'xvid',
        name: 'hub',
        baseUrl: xvid.apiUrl,
        settings: { pipelineId: xvid.pipelineId },
        secrets,
      });
      expect(added).toMatchObject({ ok: true });

      const adapter = getAdapter('xvid');
      const path = join(dir, 'clip.mp4');
      await writeFile(path, randomBytes(100));
      const job: JobContext = {
        jobId: 1,
        source: { kind: 'file', path, name: 'clip.mp4', size: 100, mime: 'video/mp4' },
        options: {},
        file: testFileSource(path, 100),
      };
      const account: AccountContext = {
        id: 1,
        name: 'hub',
        baseUrl: xvid.apiUrl,
        settings: { pipelineId: xvid.pipelineId },
        secrets,
        http: createAccountHttp(),
      };
      const call = { signal: new AbortController().signal, onBytes: () => undefined };

      await adapter.createSession(account, job, call);
      await adapter.createSession(account, job, call);
      expect(xvid.tokenCalls).toHaveLength(1);

      expect(
        await api.call('accounts.update', { account: 'hub', secrets: { clientSecret: xvid.clientSecret } }),
      ).toMatchObject({ ok: true });
      await adapter.createSession(account, job, call);
      expect(xvid.tokenCalls).toHaveLength(2);
    } finally {
      api.close();
      db.close();
    }
  });
});
