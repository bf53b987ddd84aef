/**
 * Proxies, end to end: a real HTTP proxy server (the `proxy` package, CONNECT included) on loopback,
 * started here, between real `ferry` processes and the provider emulators.
 *
 * - HTTP_PROXY/HTTPS_PROXY on the `ferry` process: uploads to every emulator go through the proxy
 *   (it saw every request the emulator received) and arrive byte-exact, finalized once;
 * - NO_PROXY bypasses it; the setting `direct` ignores the variables; an account's own proxy wins over
 *   the global one;
 * - a proxy that wants credentials: user:password in the URL works, wrong ones fail the job at once
 *   with a one-line reason that never shows the password;
 * - an https server behind the proxy is reached through CONNECT: the proxy sees host:port and never a
 *   path (TLS in front of an emulator, with the test certificate in test/support/tls).
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { createProxy } from 'proxy';
import { afterEach, describe, expect, it } from 'vitest';
import { SettingsStore } from '../../main/api/settingsStore.ts';
import { openDatabase, type Db } from '../../main/db/database.ts';
import type { Queue } from '../../main/engine/queue.ts';
import { startSelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { RIGS, type Rig } from '../support/faultRigs.ts';
import { Fixtures, REPO_ROOT, jsonLines, randomFile, type FerryProcessResult } from '../support/ferryHarness.ts';
import { openTestQueue } from '../support/testQueue.ts';

const TEST_TIMEOUT_MS = 60_000;
const fixtures = new Fixtures();
const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await fixtures.cleanup();
});

interface TestProxy {
  url: string;
  port: number;
  /** Plain requests it forwarded or refused: "METHOD absolute-URL". */
  requests: string[];
  /** CONNECT targets ("host:port"). */
  connects: string[];
  /** The Proxy-Authorization headers it received. */
  credentials: string[];
}

async function startProxy(auth?: { user: string; password: string }): Promise<TestProxy> {
  const server = createProxy(createServer());
  const seen: TestProxy = { url: '', port: 0, requests: [], connects: [], credentials: [] };
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const note = (request: IncomingMessage): void => {
    const header = request.headers['proxy-authorization'];
    if (header) seen.credentials.push(header);
  };
  server.on('request', (request: IncomingMessage) => {
    seen.requests.push(`${request.method} ${request.url}`);
    note(request);
  });
  server.on('connect', (request: IncomingMessage) => {
    seen.connects.push(request.url ?? '');
    note(request);
  });
  if (auth) {
    const expected = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
    server.authenticate = (request) => request.headers['proxy-authorization'] === expected;
  }
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  seen.port = (server.address() as AddressInfo).port;
  seen.url = `http://127.0.0.1:${seen.port}`;
  closers.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((done) => server.close(() => done()));
  });
  return seen;
}

/** A data folder with a queue open on it (closed before `ferry` runs on it). */
async function dataFolder(): Promise<{ data: string; files: string; db: Db; queue: Queue }> {
  const data = await fixtures.tempDir('ferry-proxy-data-');
  const files = await fixtures.tempDir('ferry-proxy-files-');
  const { db, queue } = openTestQueue(data);
  return { data, files, db, queue };
}

/** The variables of the `ferry` process: none of the caller's proxy variables leak in. */
function proxyEnv(values: Record<string, string>): Record<string, string> {
  const cleared: Record<string, string> = {};
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY']) {
    cleared[name] = '';
    cleared[name.toLowerCase()] = '';
  }
  return { ...cleared, ...values };
}

async function runUntilIdle(data: string, env: Record<string, string>): Promise<FerryProcessResult> {
  return fixtures.spawnFerry(data, ['run', '--until-idle', '--json'], { env, timeoutMs: 45_000 }).exited;
}

function jobLines(result: FerryProcessResult): Array<Record<string, unknown>> {
  return jsonLines(result.stdout).filter((line) => line.event === 'job');
}

/** Sets up a provider's emulator and account, queues its file, and closes the queue. */
async function queued(provider: keyof typeof RIGS): Promise<{ data: string; rig: Rig; origin: string }> {
  const { data, files, db, queue } = await dataFolder();
  const rig = await RIGS[provider](queue, files);
  closers.push(() => rig.close());
  await queue.enqueue('acct', [rig.source]);
  const account = queue.accounts.require('acct');
  const origin = new URL(account.baseUrl ?? '').origin;
  db.close();
  return { data, rig, origin };
}

describe('proxies', () => {
  it.each(Object.keys(RIGS) as Array<keyof typeof RIGS>)(
    '%s: HTTP_PROXY on `ferry run` sends every request through the proxy; the upload is byte-exact',
    async (provider) => {
      const proxy = await startProxy();
      const { data, rig, origin } = await queued(provider);

      const result = await runUntilIdle(data, proxyEnv({ HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url }));

      expect(result.code, result.stderr + result.stdout).toBe(0);
      expect(jobLines(result).map((line) => line.status)).toEqual(['completed']);
      expect(rig.check()).toEqual([]);
      // Every request the emulator received came through the proxy, as an absolute URL to it.
      const received = rig.requests();
      expect(received.length).toBeGreaterThan(0);
      expect(proxy.requests).toHaveLength(received.length);
      for (const line of proxy.requests) expect(line).toMatch(new RegExp(`^[A-Z]+ ${origin}/`));
      expect(proxy.connects).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'NO_PROXY bypasses the proxy, and the setting `direct` ignores the variables',
    async () => {
      const proxy = await startProxy();
      const bypassed = await queued('selfcommunity');
      const viaNoProxy = await runUntilIdle(
        bypassed.data,
        proxyEnv({ HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, NO_PROXY: '127.0.0.1' }),
      );
      expect(viaNoProxy.code, viaNoProxy.stderr).toBe(0);
      expect(bypassed.rig.check()).toEqual([]);

      const direct = await queued('ofauth');
      const db = openDatabase(direct.data);
      new SettingsStore(db).set({ proxy: 'direct' });
      db.close();
      const viaDirect = await runUntilIdle(direct.data, proxyEnv({ HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url }));
      expect(viaDirect.code, viaDirect.stderr).toBe(0);
      expect(direct.rig.check()).toEqual([]);

      expect(proxy.requests).toEqual([]);
      expect(proxy.connects).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "an account's own proxy wins over the global setting, which wins over the variables",
    async () => {
      const fromEnv = await startProxy();
      const global = await startProxy();
      const own = await startProxy();
      const { data, files, db, queue } = await dataFolder();
      new SettingsStore(db).set({ proxy: global.url });
      const sandbox = await startSelfCommunitySandbox({ token: 'proxy-sc-token-0123456789' });
      closers.push(() => sandbox.close());
      await queue.accounts.add({
        provider: 'selfcommunity',
        name: 'own',
        baseUrl: sandbox.url,
        secrets: { accessToken: sandbox.token },
        settings: { proxy: own.url },
      });
      await queue.accounts.add({
        provider: 'selfcommunity',
        name: 'global',
        baseUrl: sandbox.url,
        secrets: { accessToken: sandbox.token },
      });
      const a = await randomFile(files, 'own.png', 250_000);
      const b = await randomFile(files, 'global.png', 250_000);
      await queue.enqueue('own', [a.path]);
      await queue.enqueue('global', [b.path]);
      db.close();

      const result = await runUntilIdle(data, proxyEnv({ HTTP_PROXY: fromEnv.url }));

      expect(result.code, result.stderr).toBe(0);
      expect(sandbox.media.map((media) => media.sha256).sort()).toEqual([a.sha256, b.sha256].sort());
      expect(own.requests.length).toBeGreaterThan(0);
      expect(global.requests.length).toBeGreaterThan(0);
      expect(own.requests.length + global.requests.length).toBe(sandbox.requests.length);
      expect(fromEnv.requests).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a proxy with credentials: user:password in the URL works; wrong ones fail at once with a one-line reason, the password never shown',
    async () => {
      const password = `pw-${Date.now().toString(36)}-correct`;
      const wrong = `pw-${Date.now().toString(36)}-mistyped`;
      const proxy = await startProxy({ user: 'ferry', password });

      const good = await queued('twentythree');
      const goodDb = openDatabase(good.data);
      new SettingsStore(goodDb).set({ proxy: `http://ferry:${password}@127.0.0.1:${proxy.port}` });
      goodDb.close();
      const ok = await runUntilIdle(good.data, proxyEnv({}));
      expect(ok.code, ok.stderr).toBe(0);
      expect(good.rig.check()).toEqual([]);
      expect(proxy.requests.length).toBe(good.rig.requests().length);

      const bad = await queued('selfcommunity');
      const badDb = openDatabase(bad.data);
      new SettingsStore(badDb).set({ proxy: `http://ferry:${wrong}@127.0.0.1:${proxy.port}` });
      badDb.close();
      const refused = await runUntilIdle(bad.data, proxyEnv({}));

      const [job] = jobLines(refused);
      expect(job).toMatchObject({ status: 'failed', attempts: 1 });
      const error = job!.error as { kind: string; message: string };
      expect(error.kind).toBe('auth');
      expect(error.message).toBe(
        `The proxy http://127.0.0.1:${proxy.port} refused Ferry's credentials (407 Proxy Authentication Required): check the user and password in the proxy setting`,
      );
      expect(bad.rig.requests()).toEqual([]);
      // Neither password, nor its Basic form, in anything Ferry printed or recorded about the jobs.
      const db = openDatabase(bad.data);
      const recorded = JSON.stringify([
        db.prepare('SELECT * FROM jobs').all(),
        db.prepare('SELECT * FROM job_events').all(),
      ]);
      db.close();
      for (const text of [ok.stdout, ok.stderr, refused.stdout, refused.stderr, recorded]) {
        expect(text).not.toContain(password);
        expect(text).not.toContain(wrong);
        expect(text).not.toContain(Buffer.from(`ferry:${wrong}`).toString('base64'));
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'an https server is reached through CONNECT: the proxy sees host:port, never a path',
    async () => {
      const proxy = await startProxy();
      const sandbox = await startSelfCommunitySandbox({ token: 'proxy-tls-token-0123456789' });
      closers.push(() => sandbox.close());
      // TLS in front of the emulator on loopback, with the test certificate (test/support/tls).
      const tlsDir = join(REPO_ROOT, 'test', 'support', 'tls');
      const emulatorPort = Number(new URL(sandbox.url).port);
      const front = createTlsServer(
        { cert: readFileSync(join(tlsDir, 'loopback.crt')), key: readFileSync(join(tlsDir, 'loopback.key')) },
        (socket) => {
          const upstream = netConnect(emulatorPort, '127.0.0.1');
          socket.pipe(upstream).pipe(socket);
          socket.on('error', () => upstream.destroy());
          upstream.on('error', () => socket.destroy());
        },
      );
      front.listen(0, '127.0.0.1');
      await once(front, 'listening');
      const frontPort = (front.address() as AddressInfo).port;
      closers.push(() => new Promise<void>((done) => front.close(() => done())));

      const { data, files, db, queue } = await dataFolder();
      await queue.accounts.add({
        provider: 'selfcommunity',
        name: 'tls',
        baseUrl: `https://127.0.0.1:${frontPort}`,
        secrets: { accessToken: sandbox.token },
      });
      const file = await randomFile(files, 'tls.png', 3 * 204_800 + 7);
      await queue.enqueue('tls', [file.path]);
      db.close();

      const result = await runUntilIdle(data, {
        ...proxyEnv({ HTTPS_PROXY: proxy.url }),
        NODE_EXTRA_CA_CERTS: join(tlsDir, 'loopback.crt'),
      });

      expect(result.code, result.stderr).toBe(0);
      expect(sandbox.media.map((media) => media.sha256)).toEqual([file.sha256]);
      expect(sandbox.requests.length).toBeGreaterThan(0);
      expect(proxy.connects.length).toBeGreaterThan(0);
      for (const target of proxy.connects) expect(target).toBe(`127.0.0.1:${frontPort}`);
      expect(proxy.requests).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});
