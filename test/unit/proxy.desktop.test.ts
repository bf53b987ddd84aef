/**
 * The desktop app's system proxy, injected the way `main/index.ts` does it: a fake Electron session
 * (its `resolveProxy` answers a PAC string) handed to the desktop core, which hands it through the
 * host to the engine and the connection test. Uploads go through a real proxy server on loopback;
 * a changed setting applies to the next upload without a restart.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createProxy } from 'proxy';
import { afterEach, expect, it } from 'vitest';
import type { ApiResult, ConnectionTestResult, JobView } from '../../main/api/contract.ts';
import { startDesktopCore, type DesktopShell } from '../../main/app/desktopCore.ts';
import { electronSystemProxy } from '../../main/app/systemProxy.ts';
import { startSelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { Fixtures, waitFor } from '../support/ferryHarness.ts';
import { openTestQueue } from '../support/testQueue.ts';

const fixtures = new Fixtures();
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await fixtures.cleanup();
});

const shell: DesktopShell = {
  showWindow: () => undefined,
  showStatus: () => undefined,
  notify: () => undefined,
  copyText: () => Promise.resolve(),
  setUploading: () => undefined,
  setStartAtLogin: () => undefined,
};

it("uses Electron's system proxy for uploads and connection tests unless the setting says otherwise", async () => {
  const proxied: string[] = [];
  const server = createProxy(createServer());
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('request', (request: IncomingMessage) => proxied.push(`${request.method} ${request.url}`));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const proxyPort = (server.address() as AddressInfo).port;
  closers.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((done) => server.close(() => done()));
  });

  const sandbox = fixtures.track(await startSelfCommunitySandbox());
  const asked: string[] = [];
  const session = {
    resolveProxy: (url: string): Promise<string> => {
      asked.push(url);
      return Promise.resolve(`PROXY 127.0.0.1:${proxyPort}; DIRECT`);
    },
  };
  const dir = await fixtures.tempDir('ferry-proxy-desktop-');
  const { db, queue } = openTestQueue(dir);
  const core = await startDesktopCore({
    dataDir: dir,
    db,
    queue,
    shell,
    version: '1.2.3',
    log: () => undefined,
    engineOptions: { retry: { baseDelayMs: 20, maxDelayMs: 200 }, controlPollMs: 100 },
    systemProxy: electronSystemProxy(session),
  });
  closers.push(async () => {
    await core.close();
    db.close();
  });
  const call = async <T>(command: string, input: unknown): Promise<T> => {
    const result: ApiResult<unknown> = await core.call(command, input);
    if (!result.ok) throw new Error(result.error.message);
    return result.value as T;
  };
  await call('accounts.add', {
    provider: 'selfcommunity',
    name: 'community',
    baseUrl: sandbox.url,
    secrets: { accessToken: sandbox.token },
  });

  const tested = await call<ConnectionTestResult>('accounts.test', { account: 'community' });
  expect(tested.ok, tested.message ?? undefined).toBe(true);
  const byTest = proxied.length;
  expect(byTest).toBe(sandbox.requests.length);
  expect(byTest).toBeGreaterThan(0);

  const first = join(dir, 'first.png');
  await writeFile(first, Buffer.alloc(300_000, 7));
  const [job] = await call<JobView[]>('jobs.enqueue', { account: 'community', paths: [first] });
  await waitFor('the first upload', () => queue.jobs.get(job!.id)?.state === 'completed', 15_000);
  expect(sandbox.media).toHaveLength(1);
  // Every request, the connection test's included, went through the proxy Electron named.
  expect(proxied).toHaveLength(sandbox.requests.length);
  expect(proxied.every((line) => line.includes(`${sandbox.url}/`))).toBe(true);
  expect(asked.length).toBe(proxied.length);
  expect(asked.every((url) => url.startsWith(`${sandbox.url}/`))).toBe(true);

  // The setting wins over the system proxy, from the next request on, without a restart.
  const [proxiedBefore, askedBefore] = [proxied.length, asked.length];
  await call('settings.set', { proxy: 'direct' });
  const second = join(dir, 'second.png');
  await writeFile(second, Buffer.alloc(300_000, 8));
  const [next] = await call<JobView[]>('jobs.enqueue', { account: 'community', paths: [second] });
  await waitFor('the second upload', () => queue.jobs.get(next!.id)?.state === 'completed', 15_000);
  expect(sandbox.media).toHaveLength(2);
  expect(sandbox.requests.length).toBeGreaterThan(proxiedBefore);
  expect(proxied).toHaveLength(proxiedBefore);
  expect(asked).toHaveLength(askedBefore);
});
