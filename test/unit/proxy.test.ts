/**
 * The proxy pieces one by one: what a proxy setting may be, the order in which the proxy of a request
 * is chosen, the desktop app's system proxy (Electron's PAC answers, through a fake session), the
 * kept-alive agents (the bytes an http proxy receives), the one-line reasons for a proxy that refuses
 * or cannot be reached, and the API's checks and hidden passwords. The uploads through a real proxy
 * server are in test/integration/proxy.test.ts.
 */
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiResult } from '../../main/api/contract.ts';
import { FerryApi } from '../../main/api/ferryApi.ts';
import { electronSystemProxy, parsePacAnswer } from '../../main/app/systemProxy.ts';
import { UploadError } from '../../main/core/errors.ts';
import { createAccountClient } from '../../main/engine/accountHttp.ts';
import { ProxyAgents, chooseProxy, proxySettingProblem } from '../../main/engine/proxy.ts';
import type { Queue } from '../../main/engine/queue.ts';
import { send } from '../../main/providers/http.ts';
import type { AccountContext } from '../../main/providers/types.ts';
import { Fixtures } from '../support/ferryHarness.ts';
import { openTestQueue } from '../support/testQueue.ts';

const fixtures = new Fixtures();
const closers: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await fixtures.cleanup();
});

describe('proxy settings', () => {
  it('accepts system, direct, an http(s) URL with a host, and "" only for an account', () => {
    for (const value of ['system', 'direct', 'http://proxy:3128', 'https://user:p%40ss@proxy.example:8443/']) {
      expect(proxySettingProblem(value, 'global'), value).toBeNull();
    }
    expect(proxySettingProblem('', 'account')).toBeNull();
    expect(proxySettingProblem('', 'global')).toMatch(/is empty/);
  });

  it('gives a one-line reason naming the value, with its password hidden', () => {
    const reasons = {
      'socks5://proxy:1080': /"socks5:\/\/proxy:1080" uses socks5:\/\/, which Ferry does not support/,
      'proxy:3128': /uses proxy:\/\/|is not a URL/,
      'not a url': /"not a url" contains spaces/,
      'http://user:hunter22@proxy:3128/path': /"http:\/\/user:\*\*\*@proxy:3128\/path" has a path/,
      'http://user:hunter22@': /"http:\/\/user:\*\*\*@" is not a URL/,
      'ftp://proxy': /ftp:\/\/, which Ferry does not support/,
    };
    for (const [value, reason] of Object.entries(reasons)) {
      const problem = proxySettingProblem(value, 'global');
      expect(problem, value).toMatch(reason);
      expect(problem).not.toContain('hunter22');
      expect(problem).not.toContain('\n');
    }
  });
});

describe('choosing the proxy of a request', () => {
  const asked: string[] = [];
  const system = (url: string): string => {
    asked.push(url);
    return 'system-proxy:8080';
  };

  it("takes the account's own proxy, then the global setting, then the system's", async () => {
    const url = 'https://api.example.com/upload';
    const own = await chooseProxy(url, { account: () => 'http://own:1', global: () => 'http://global:2', system });
    expect([own.proxy?.href, own.source]).toEqual(['http://own:1/', 'account']);
    const global = await chooseProxy(url, { account: () => '', global: () => 'http://global:2', system });
    expect([global.proxy?.href, global.source]).toEqual(['http://global:2/', 'setting']);
    expect(asked).toEqual([]);
    const fromSystem = await chooseProxy(url, { account: () => undefined, global: () => 'system', system });
    // A bare host:port from the system is an http proxy.
    expect([fromSystem.proxy?.href, fromSystem.source]).toEqual(['http://system-proxy:8080/', 'system']);
    expect(asked).toEqual([url]);
    // `direct` on the account wins over a global proxy; `direct` globally wins over the system's.
    expect((await chooseProxy(url, { account: () => 'direct', global: () => 'http://global:2' })).proxy).toBeNull();
    expect((await chooseProxy(url, { global: () => 'direct', system })).proxy).toBeNull();
    expect((await chooseProxy(url, { global: () => 'system', system: () => '' })).proxy).toBeNull();
  });

  it('refuses a stored or system value that is no proxy URL, as an `invalid` failure naming where it came from', async () => {
    const fromAccount = chooseProxy('http://a/', { account: () => 'socks5://x:1' });
    await expect(fromAccount).rejects.toBeInstanceOf(UploadError);
    await expect(fromAccount).rejects.toMatchObject({ kind: 'invalid', message: /account's proxy setting/ });
    await expect(chooseProxy('http://a/', { system: () => 'socks5://x:1' })).rejects.toMatchObject({
      kind: 'invalid',
      message: /system's proxy settings/,
    });
  });
});

describe("the desktop app's system proxy", () => {
  it('reads the first usable entry of a PAC answer', () => {
    expect(parsePacAnswer('DIRECT')).toBe('');
    expect(parsePacAnswer('PROXY proxy.corp:3128')).toBe('http://proxy.corp:3128');
    expect(parsePacAnswer('PROXY proxy.corp:3128; DIRECT')).toBe('http://proxy.corp:3128');
    expect(parsePacAnswer('HTTPS secure.corp:443;PROXY other:80')).toBe('https://secure.corp:443');
    // SOCKS cannot carry Ferry's requests: the next entry is used, else direct.
    expect(parsePacAnswer('SOCKS5 socks:1080; PROXY fallback:8080')).toBe('http://fallback:8080');
    expect(parsePacAnswer('SOCKS5 socks:1080')).toBe('');
    expect(parsePacAnswer('')).toBe('');
  });

  it("asks Electron's session for each URL and hands the answer to the proxy choice", async () => {
    const asked: string[] = [];
    const session = {
      resolveProxy: (url: string): Promise<string> => {
        asked.push(url);
        return Promise.resolve(url.includes('intranet') ? 'DIRECT' : 'PROXY 10.0.0.1:3128; DIRECT');
      },
    };
    const system = electronSystemProxy(session);
    const out = await chooseProxy('https://api.example.com/v1', { global: () => 'system', system });
    expect(out.proxy?.href).toBe('http://10.0.0.1:3128/');
    expect((await chooseProxy('http://intranet.corp/x', { global: () => 'system', system })).proxy).toBeNull();
    // A proxy set in the settings is used without asking the system.
    await chooseProxy('https://api.example.com/v2', { global: () => 'http://set:1', system });
    expect(asked).toEqual(['https://api.example.com/v1', 'http://intranet.corp/x']);
  });
});

/** A fake http proxy on loopback that answers every request with `reply` and records the raw bytes. */
async function rawProxy(
  reply: (request: string) => string,
): Promise<{ url: string; raw: string[]; connections: number }> {
  const seen = { url: '', raw: [] as string[], connections: 0 };
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    seen.connections += 1;
    sockets.add(socket);
    let pending = '';
    socket.on('data', (data) => {
      seen.raw.push(data.toString('latin1'));
      pending += data.toString('latin1');
      // One reply per complete request (header + the Content-Length body).
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(pending.slice(0, end))?.[1] ?? 0);
        if (pending.length < end + 4 + length) return;
        const request = pending.slice(0, end + 4 + length);
        pending = pending.slice(end + 4 + length);
        socket.write(reply(request));
      }
    });
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  seen.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closers.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((done) => server.close(() => done()));
  });
  return seen;
}

function account(http: AccountContext['http']): AccountContext {
  return { id: 1, name: 'acct', baseUrl: 'http://127.0.0.1:9', settings: {}, secrets: {}, http };
}

const call = () => ({ signal: new AbortController().signal, onBytes: () => undefined });

describe('the agents of a proxy', () => {
  it('are made once per proxy and kept alive: each request goes out once, absolute, on the same connection', async () => {
    const proxy = await rawProxy(() => 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok');
    const { http, agents } = createAccountClient({ proxy: { global: () => proxy.url } });
    closers.push(() => agents.destroy());
    for (let i = 0; i < 3; i += 1) {
      const reply = await send(
        account(http),
        `http://127.0.0.1:9/up?i=${i}`,
        { method: 'POST', body: 'a=1' },
        call(),
        'Sending',
      );
      expect(reply.statusCode).toBe(200);
    }
    const requests = proxy.raw.join('').match(/POST \S+ HTTP\/1\.1(?=\r\n)/g);
    expect(requests).toEqual([0, 1, 2].map((i) => `POST http://127.0.0.1:9/up?i=${i} HTTP/1.1`));
    expect(proxy.connections).toBe(1);

    const cache = new ProxyAgents(4);
    const a = new URL('http://p:1');
    expect(cache.for(a)).toBe(cache.for(new URL('http://p:1')));
    expect(cache.for(new URL('http://q:1'))).not.toBe(cache.for(a));
    expect(cache.for(null)).toBe(cache.direct);
    cache.destroy();
  });
});

describe('a proxy that refuses or cannot be reached', () => {
  it('407 fails as `auth` with a one-line reason naming the proxy, never its password', async () => {
    const proxy = await rawProxy(
      () => 'HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic\r\ncontent-length: 0\r\n\r\n',
    );
    const port = new URL(proxy.url).port;
    const withCredentials = createAccountClient({
      proxy: { global: () => `http://ferry:s3cret-pw@127.0.0.1:${port}` },
    });
    const without = createAccountClient({ proxy: { account: () => proxy.url } });
    closers.push(
      () => withCredentials.agents.destroy(),
      () => without.agents.destroy(),
    );

    const refused = send(account(withCredentials.http), 'http://127.0.0.1:9/x', {}, call(), 'Sending');
    await expect(refused).rejects.toMatchObject({
      kind: 'auth',
      message: `The proxy http://127.0.0.1:${port} refused Ferry's credentials (407 Proxy Authentication Required): check the user and password in the proxy setting`,
    });
    expect(proxy.raw.join('')).toContain(
      `Proxy-Authorization: Basic ${Buffer.from('ferry:s3cret-pw').toString('base64')}`,
    );
    // An https server: the proxy refuses the CONNECT, and the request itself never reaches it.
    const tunnel = send(account(withCredentials.http), 'https://127.0.0.1:9/secret-path', {}, call(), 'Sending');
    await expect(tunnel).rejects.toMatchObject({
      kind: 'auth',
      message: /^The proxy http:\/\/127\.0\.0\.1:\d+ refused/,
    });
    expect(proxy.raw.join('')).toContain('CONNECT 127.0.0.1:9 HTTP/1.1');
    expect(proxy.raw.join('')).not.toContain('secret-path');
    await expect(send(account(without.http), 'http://127.0.0.1:9/x', {}, call(), 'Sending')).rejects.toMatchObject({
      kind: 'auth',
      message: `The proxy http://127.0.0.1:${port} asks for a user and password (407 Proxy Authentication Required): give them in the account's proxy setting, as http://user:password@host:port`,
    });
  });

  it('an unreachable proxy is a network failure (retried), named without its password', async () => {
    const closed = await rawProxy(() => '');
    const port = new URL(closed.url).port;
    await closers.pop()!(); // Nothing listens on the port any more.
    const { http, agents } = createAccountClient({ proxy: { global: () => `http://u:pw-9876@127.0.0.1:${port}` } });
    closers.push(() => agents.destroy());
    for (const target of ['http://127.0.0.1:9/x', 'https://127.0.0.1:9/x']) {
      const failure = await send(account(http), target, {}, call(), 'Sending').catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(UploadError);
      expect(failure).toMatchObject({
        kind: 'network',
        message: `Sending: could not reach the proxy http://127.0.0.1:${port} (ECONNREFUSED); will retry`,
      });
    }
  });
});

describe('the API', () => {
  function openApi(dir: string): { api: FerryApi; queue: Queue } {
    const { db, queue } = openTestQueue(dir);
    const api = new FerryApi({ queue, db, dataDir: dir });
    closers.push(() => {
      api.close();
      db.close();
    });
    return { api, queue };
  }
  const value = <T>(result: ApiResult<unknown>): T => {
    if (!result.ok) throw new Error(result.error.message);
    return result.value as T;
  };

  it('refuses a bad global proxy with a one-line reason and saves nothing; shows a saved password hidden and keeps it', async () => {
    const { api } = openApi(await fixtures.tempDir());
    const refused = await api.call('settings.set', { proxy: 'socks5://user:pw-abcdef@h:1', globalConcurrency: 7 });
    expect(refused).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    const message = refused.ok ? '' : refused.error.message;
    expect(message).toMatch(/^Invalid input for settings\.set: proxy: "socks5:\/\/user:\*\*\*@h:1" uses socks5:\/\//);
    expect(message).not.toContain('pw-abcdef');
    expect(value<{ proxy: string; globalConcurrency: number }>(await api.call('settings.get', {}))).toMatchObject({
      proxy: 'system',
      globalConcurrency: 4,
    });

    value(await api.call('settings.set', { proxy: 'http://ferry:pw-0123456789@proxy.corp:3128' }));
    const shown = value<{ proxy: string }>(await api.call('settings.get', {})).proxy;
    expect(shown).toBe('http://ferry:[secret]@proxy.corp:3128');
    // A form that saves what it was shown keeps the password; the stored value is unchanged.
    value(await api.call('settings.set', { proxy: shown }));
    expect(api.settings.get().proxy).toBe('http://ferry:pw-0123456789@proxy.corp:3128');
    // ...but not for another proxy host.
    const moved = await api.call('settings.set', { proxy: 'http://ferry:[secret]@elsewhere:3128' });
    expect(moved).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', message: /type the password again/ } });
    expect(api.settings.get().proxy).toBe('http://ferry:pw-0123456789@proxy.corp:3128');
  });

  it("checks an account's own proxy for every provider on add and update, and shows its password hidden", async () => {
    const { api, queue } = openApi(await fixtures.tempDir());
    const base = { provider: 'selfcommunity', baseUrl: 'http://127.0.0.1:9', secrets: { accessToken: 'tok-12345678' } };
    const bad = await api.call('accounts.add', { ...base, name: 'a', settings: { proxy: 'proxy.corp' } });
    expect(bad).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT', message: /^The account's proxy "proxy\.corp"/ },
    });
    expect(queue.accounts.list()).toEqual([]);

    value(await api.call('accounts.add', { ...base, name: 'a', settings: { proxy: 'direct' } }));
    const refused = await api.call('accounts.update', { account: 'a', settings: { proxy: 'https://' } });
    expect(refused).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(queue.accounts.require('a').settings.proxy).toBe('direct');

    const updated = value<{ settings: Record<string, string> }>(
      await api.call('accounts.update', { account: 'a', settings: { proxy: 'http://me:pw-own-12345@p:8080' } }),
    );
    expect(updated.settings.proxy).toBe('http://me:[secret]@p:8080');
    expect(queue.accounts.require('a').settings.proxy).toBe('http://me:pw-own-12345@p:8080');
    value(await api.call('accounts.update', { account: 'a', settings: { proxy: updated.settings.proxy! } }));
    expect(queue.accounts.require('a').settings.proxy).toBe('http://me:pw-own-12345@p:8080');
    // '' goes back to the global proxy.
    value(await api.call('accounts.update', { account: 'a', settings: { proxy: '' } }));
    expect(queue.accounts.require('a').settings.proxy).toBeUndefined();
  });
});
