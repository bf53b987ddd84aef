/**
 * Security checks that search for the thing that must not be there:
 *
 * - every secret field of every provider, with a distinctive value, is looked for in every byte of
 *   ferry.db, ferry.db-wal and ferry.db-shm, in the stdout/stderr of every `ferry` command (plain and
 *   --json), in the API answers and events, in what the IPC transport hands the window, and in the
 *   API's log — including after a provider echoed a secret back in an error body;
 * - the headless secrets file is 0600 and the data folder 0700;
 * - TLS verification is never turned off: the sources are searched for the ways to turn it off, the
 *   account HTTP client keeps `rejectUnauthorized`, and a self-signed server is refused;
 * - the real `ferry serve` binds loopback and prints a token URL, refuses a --host other machines can
 *   reach without --allow-remote; staging names in encoded and Unicode disguises cannot leave the
 *   staging folder (the plain forms are in serve.test.ts);
 * - `ferry accounts add` refuses a plain http:// base URL that leaves the machine;
 * - the Electron window: no source turns a hardening option off, and the CSP stays strict (the window
 *   options and navigation guards themselves are asserted in test/unit/app.window.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import { request as httpRequest } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join, relative } from 'node:path';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiEvent } from '../../main/api/contract.ts';
import { CONTENT_SECURITY_POLICY } from '../../main/app/appProtocol.ts';
import { mainWindowOptions } from '../../main/app/mainWindow.ts';
import { FerryApi } from '../../main/api/ferryApi.ts';
import { createAccountHttp } from '../../main/engine/accountHttp.ts';
import { IpcTransport } from '../../main/ipc/ipcTransport.ts';
import { startServe } from '../../main/serve/serve.ts';
import { startOfauthSandbox } from '../sandbox/ofauth.ts';
import { startOktopostSandbox } from '../sandbox/oktopost.ts';
import { startSelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { startTwentyThreeSandbox } from '../sandbox/twentythree.ts';
import { startXvidSandbox } from '../sandbox/xvid.ts';
import {
  Fixtures,
  REPO_ROOT,
  randomFile,
  runFerry,
  waitFor,
  within,
  type FerryProcessResult,
} from '../support/ferryHarness.ts';
import { openTestQueue } from '../support/testQueue.ts';

const fixtures = new Fixtures();
afterEach(async () => {
  await fixtures.cleanup();
});

const secret = (label: string): string => `${label}-${randomBytes(10).toString('hex')}`;

async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) found.push(join(entry.parentPath, entry.name));
  }
  return found;
}

describe('secrets stay secret', () => {
  it('no secret field of any provider appears in the database, CLI output, API, IPC or logs — even one a provider echoes', async () => {
    const root = await fixtures.tempDir('ferry-sec-');
    const data = join(root, 'data'); // created by ferry itself
    const files = await fixtures.tempDir('ferry-sec-files-');
    const s = {
      ofauth: { apiKey: secret('of-key'), connectionId: secret('of-conn') },
      selfcommunity: { accessToken: secret('sc-token') },
      oktopost: { accountId: secret('ok-acct'), apiKey: secret('ok-key') },
      xvid: { clientId: secret('xv-id'), clientSecret: secret('xv-secret') },
      twentythree: {
        consumerKey: secret('t23-ck'),
        consumerSecret: secret('t23-cs'),
        accessToken: secret('t23-at'),
        accessTokenSecret: secret('t23-as'),
      },
    };
    const all = Object.values(s).flatMap((fields) => Object.values(fields));
    const sc = fixtures.track(await startSelfCommunitySandbox({ token: s.selfcommunity.accessToken }));
    const of = fixtures.track(await startOfauthSandbox({ ...s.ofauth, rateLimit: null }));
    const ok = fixtures.track(await startOktopostSandbox(s.oktopost));
    const xv = fixtures.track(await startXvidSandbox(s.xvid));
    const t23 = fixtures.track(await startTwentyThreeSandbox(s.twentythree));
    // Providers that echo what they were sent: OFAuth quotes the key it refused, Xvid the client id.
    of.fault({
      path: '/v2/access/uploads/init',
      times: 1e9,
      action: {
        type: 'status',
        status: 401,
        body: JSON.stringify({ error: `Invalid key ${s.ofauth.apiKey} for ${s.ofauth.connectionId}` }),
      },
    });
    xv.fault({
      path: '/v1/oauth2/token/',
      times: 1e9,
      action: {
        type: 'status',
        status: 401,
        body: `{"error":"invalid_client","error_description":"client ${s.xvid.clientId} / ${s.xvid.clientSecret} unknown"}`,
      },
    });

    const outputs: FerryProcessResult[] = [];
    const ferry = async (...args: string[]): Promise<FerryProcessResult> => {
      const result = await runFerry(data, args, { timeoutMs: 25_000 });
      outputs.push(result);
      return result;
    };
    const add = (provider: keyof typeof s, baseUrl: string, settings: string[] = []): Promise<FerryProcessResult> =>
      ferry(
        'accounts',
        'add',
        provider,
        '--name',
        provider,
        '--base-url',
        baseUrl,
        ...Object.entries(s[provider]).flatMap(([k, v]) => ['--secret', `${k}=${v}`]),
        ...settings.flatMap((kv) => ['--set', kv]),
      );
    expect((await add('selfcommunity', sc.url)).code).toBe(0);
    expect((await add('ofauth', of.url)).code).toBe(0);
    expect((await add('oktopost', ok.apiUrl)).code).toBe(0);
    expect((await add('xvid', xv.apiUrl, [`pipelineId=${xv.pipelineId}`])).code).toBe(0);
    expect((await add('twentythree', t23.url, ['chunkSize=65536'])).code).toBe(0);

    const photo = await randomFile(files, 'photo.png', 300_000);
    const clip = await randomFile(files, 'clip.mp4', 100_000);
    const jpg = await randomFile(files, 'pic.jpg', 10_000);
    expect((await ferry('upload', '--account', 'selfcommunity', '--wait', '--json', photo.path)).code).toBe(0);
    expect((await ferry('upload', '--account', 'twentythree', '--wait', '--json', clip.path)).code).toBe(0);
    const refusedOf = await ferry('upload', '--account', 'ofauth', '--wait', '--json', jpg.path);
    const refusedXv = await ferry('upload', '--account', 'xvid', '--wait', '--json', clip.path);
    expect(refusedOf.code).toBe(1);
    expect(refusedXv.code).toBe(1);
    await ferry('upload', '--account', 'oktopost', '--json', 'http://127.0.0.1:9/never.mp4');
    await ferry('list', '--json');
    await ferry('list');
    await ferry('accounts', 'list', '--json');
    await ferry('accounts', 'list');
    await ferry('providers', '--json');
    // The refusals are recorded with the provider's text, minus the secret.
    expect(refusedOf.stdout).toMatch(/Invalid key \[secret\]/);

    // API answers and events, and what the IPC transport hands the window.
    const { db, queue } = openTestQueue(data);
    const logged: unknown[] = [];
    const api = new FerryApi({
      queue,
      db,
      dataDir: data,
      log: (message, error) => logged.push(message, String(error)),
      testConnection: async () => ({ ok: false, checked: 'nothing', message: 'not tested' }),
    });
    await api.start();
    const events: ApiEvent[] = [];
    const unsubscribe = api.subscribe((event) => {
      events.push(event);
    });
    const handlers = new Map<string, (event: unknown, ...args: unknown[]) => Promise<unknown>>();
    const sent: unknown[] = [];
    const ipc = new IpcTransport({
      ipcMain: {
        handle: (channel, listener) => handlers.set(channel, listener as never),
        removeHandler: (channel) => handlers.delete(channel),
      },
      call: (command, input) => api.call(command, input),
      subscribe: (listener) => api.subscribe(listener),
    });
    ipc.attach({ id: 1, send: (...args) => sent.push(args), isDestroyed: () => false, once: () => undefined });
    const fromWindow = { sender: { id: 1 }, senderFrame: { url: 'app://ferry/index.html', parent: null } };
    const answers: unknown[] = [];
    for (const [command, input] of [
      ['accounts.list', {}],
      ['jobs.list', {}],
      ['jobs.get', { id: 1 }],
      ['jobs.get', { id: 3 }],
      ['history.list', {}],
      ['app.status', {}],
      ['history.export', { format: 'json' }],
      ['history.export', { format: 'csv' }],
      ['providers.list', {}],
      ['settings.get', {}],
      ['jobs.retry', { ids: [3, 4] }],
      ['accounts.update', { account: 'selfcommunity', baseUrl: sc.url }],
    ] as const) {
      answers.push(await api.call(command, input));
      answers.push(await handlers.get('ferry:call')!(fromWindow, command, input));
    }
    await waitFor('events', () => events.length > 0 || sent.length > 0, 2_000).catch(() => undefined);
    unsubscribe();
    ipc.close();
    api.close();
    db.close();

    const texts: Array<[string, string]> = [
      ...outputs.flatMap((o, i): Array<[string, string]> => [
        [`stdout ${i}`, o.stdout],
        [`stderr ${i}`, o.stderr],
      ]),
      ['api answers', JSON.stringify(answers)],
      ['api events', JSON.stringify(events)],
      ['ipc sends', JSON.stringify(sent)],
      ['api log', JSON.stringify(logged)],
    ];
    for (const name of await filesUnder(data)) {
      if (name.endsWith('secrets.json')) continue;
      texts.push([relative(data, name), (await readFile(name)).toString('latin1')]);
    }
    expect(texts.map(([name]) => name)).toEqual(expect.arrayContaining(['ferry.db']));
    for (const value of all) {
      for (const [name, text] of texts) expect(text.includes(value), `${value} found in ${name}`).toBe(false);
    }

    // The secrets are in the owner-only file, in a folder only its owner can enter.
    const secretsFile = join(data, 'secrets.json');
    const stored = await readFile(secretsFile, 'utf8');
    for (const value of all) expect(stored).toContain(value);
    expect((await stat(secretsFile)).mode & 0o777).toBe(0o600);
    expect((await stat(data)).mode & 0o777).toBe(0o700);
  }, 120_000);
});

describe('secrets stay secret in the forms they travel in', () => {
  const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
  const form = (text: string): string => new URLSearchParams({ v: text }).toString().slice(2);
  /** Whether `text` gives away the middle of `value`: as it is, URL-decoded, or inside any base64 run. */
  const givesAway = (text: string, value: string): boolean => {
    const middle = value.slice(2, -2);
    const readings = [text];
    try {
      readings.push(decodeURIComponent(text.replaceAll('+', ' ')));
    } catch {
      // Not URL-encoded as a whole.
    }
    for (const run of text.match(/[A-Za-z0-9+/_-]{4,}=*/g) ?? []) {
      for (let shift = 0; shift < 4; shift += 1)
        readings.push(Buffer.from(run.slice(shift), 'base64').toString('latin1'));
    }
    return readings.some((reading) => reading.includes(middle));
  };

  it('a provider echoing a secret base64-encoded (Basic auth) or URL-encoded leaves no trace in the database or the CLI output', async () => {
    const data = join(await fixtures.tempDir('ferry-sec-'), 'data');
    const files = await fixtures.tempDir('ferry-sec-files-');
    const apiKey = `of key/${randomBytes(10).toString('hex')}+="x"`;
    const connectionId = secret('of-conn');
    const of = fixtures.track(await startOfauthSandbox({ apiKey, connectionId, rateLimit: null }));
    const added = await runFerry(data, [
      'accounts',
      'add',
      'ofauth',
      '--name',
      'of',
      '--base-url',
      of.url,
      '--secret',
      `apiKey=${apiKey}`,
      '--secret',
      `connectionId=${connectionId}`,
    ]);
    expect(added.code, added.stderr).toBe(0);

    const echoes = [
      `Basic ${b64(`${connectionId}:${apiKey}`)}`,
      `token ${b64(apiKey)}`,
      `key=${encodeURIComponent(apiKey)}`,
      `key=${form(apiKey)}`,
    ];
    const outputs: FerryProcessResult[] = [];
    for (const [i, echo] of echoes.entries()) {
      of.clearFaults();
      of.fault({
        path: '/v2/access/uploads/init',
        times: 1e9,
        action: { type: 'status', status: 401, body: JSON.stringify({ error: `Invalid ${echo}` }) },
      });
      const file = await randomFile(files, `pic-${i}.jpg`, 5_000);
      const result = await runFerry(data, ['upload', '--account', 'of', '--wait', '--json', file.path], {
        timeoutMs: 25_000,
      });
      expect(result.code, result.stderr).toBe(1);
      // The refusal is recorded, with the provider's words and without the secret.
      expect(result.stdout).toMatch(/Invalid [^"]*\[secret\]/);
      outputs.push(result);
    }
    outputs.push(await runFerry(data, ['list', '--json']));

    const texts: Array<[string, string]> = outputs.flatMap((o, i): Array<[string, string]> => [
      [`stdout ${i}`, o.stdout],
      [`stderr ${i}`, o.stderr],
    ]);
    for (const name of await filesUnder(data)) {
      if (name.endsWith('secrets.json')) continue;
      texts.push([relative(data, name), (await readFile(name)).toString('latin1')]);
    }
    for (const [name, text] of texts) {
      expect(givesAway(text, apiKey), `the API key in ${name}`).toBe(false);
      expect(givesAway(text, connectionId), `the connection id in ${name}`).toBe(false);
    }
  }, 120_000);
});

describe('TLS verification stays on', () => {
  const SOURCES = ['main', 'preload', 'bin', 'renderer'];
  const FORBIDDEN = [
    /rejectUnauthorized\s*:\s*(false|0|!1)/,
    /NODE_TLS_REJECT_UNAUTHORIZED/,
    /checkServerIdentity\s*:/,
    /setCertificateVerifyProc|certificate-error|ignore-certificate-errors/,
    /https\s*:\s*\{[^}]*certificateAuthority\s*:/,
  ];

  it('no source turns certificate checks off', async () => {
    const offenders: string[] = [];
    for (const dir of SOURCES) {
      if (!existsSync(join(REPO_ROOT, dir))) continue;
      for (const file of await filesUnder(join(REPO_ROOT, dir))) {
        if (!/\.(ts|tsx|js|cjs|mjs)$/.test(file)) continue;
        const text = await readFile(file, 'utf8');
        for (const pattern of FORBIDDEN)
          if (pattern.test(text)) offenders.push(`${relative(REPO_ROOT, file)}: ${pattern}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it("the account HTTP client keeps got's verification and refuses a self-signed server", async () => {
    const http = createAccountHttp();
    expect(http.defaults.options.https.rejectUnauthorized).not.toBe(false);
    expect(process.env.NODE_TLS_REJECT_UNAUTHORIZED).not.toBe('0');
    let keyPem: string;
    let certPem: string;
    try {
      const dir = await fixtures.tempDir('ferry-tls-');
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          join(dir, 'k.pem'),
          '-out',
          join(dir, 'c.pem'),
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
        ],
        { stdio: 'ignore' },
      );
      keyPem = await readFile(join(dir, 'k.pem'), 'utf8');
      certPem = await readFile(join(dir, 'c.pem'), 'utf8');
    } catch {
      // Without openssl there is no certificate to refuse; the option check above still holds.
      return;
    }
    const server = createHttpsServer({ key: keyPem, cert: certPem }, (_request, response) =>
      response.end('{"ok":true}'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fixtures.track({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const port = (server.address() as { port: number }).port;
    const error = await http(`https://127.0.0.1:${port}/`, { timeout: { request: 5_000 } }).then(
      () => null,
      (caught: unknown) => caught as { code?: string },
    );
    expect(error?.code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
  });
});

/** A raw request with the exact path given (no client-side normalisation). */
function raw(base: string, path: string, body: string): Promise<{ status: number; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: url.hostname, port: url.port, path, method: 'POST' }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

describe('ferry serve', () => {
  it('the real command binds loopback by default and answers nothing on other addresses', async () => {
    const data = join(await fixtures.tempDir('ferry-sec-serve-'), 'data');
    const served = fixtures.spawnFerry(data, ['serve', '--port', '0'], { timeoutMs: 30_000 });
    const line = await waitFor('the address line', () => /Ferry is at (\S+)/.exec(served.stdout)?.[1], 15_000);
    const url = new URL(line);
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.searchParams.get('token')?.length ?? 0).toBeGreaterThanOrEqual(32);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;
    if (external) {
      // Connecting to the machine's own LAN address must be refused: nothing listens there.
      const refused = await new Promise<boolean>((resolve) => {
        const socket = connect({ host: external, port: Number(url.port) });
        socket.once('connect', () => {
          socket.destroy();
          resolve(false);
        });
        socket.once('error', () => resolve(true));
      });
      expect(refused, `port ${url.port} reachable on ${external}`).toBe(true);
    }
    served.child.kill('SIGTERM');
    expect((await within('ferry serve to stop', 15_000, served.exited)).code).toBe(0);
  }, 60_000);

  it('the real command refuses a --host other machines can reach without --allow-remote, and an --allow-path that is no folder', async () => {
    const data = join(await fixtures.tempDir('ferry-sec-remote-'), 'data');
    for (const host of ['0.0.0.0', '192.0.2.1']) {
      const result = await runFerry(data, ['serve', '--host', host, '--port', '0'], { timeoutMs: 15_000 });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stdout).not.toMatch(/Ferry is at/);
      expect(result.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          new RegExp(
            `^ferry: Not listening on ${host.replace(/\./g, '\\.')}: .*anyone on the network who gets the token .* could upload your files.*--allow-remote`,
          ),
        ),
      ]);
    }
    const missing = await runFerry(data, ['serve', '--port', '0', '--allow-path', join(data, 'no-such-folder')], {
      timeoutMs: 15_000,
    });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`ferry: --allow-path ${join(data, 'no-such-folder')}: no such folder (ENOENT)\n`);
  }, 60_000);

  it('staging names in encoded and Unicode disguises never leave the staging folder', async () => {
    const root = await fixtures.tempDir('ferry-sec-stage-');
    const dataDir = join(root, 'data');
    const { db, queue } = openTestQueue(dataDir);
    const running = await startServe({
      dataDir,
      db,
      queue,
      port: 0,
      rendererDir: join(root, 'none'),
      log: () => undefined,
      engineOptions: { controlPollMs: 100 },
    });
    fixtures.track({
      close: async () => {
        await running.close();
        db.close();
      },
    });
    await running.api.invoke('accounts.add', {
      provider: 'selfcommunity',
      name: 'community',
      baseUrl: 'http://127.0.0.1:9',
      secrets: { accessToken: 'tok-12345' },
    });
    await queue.accounts.update('community', { paused: true });
    await writeFile(join(root, 'keep.txt'), 'outside');
    const before = (await filesUnder(root)).filter((f) => !f.startsWith(join(dataDir, 'ferry.db')));
    const base = `http://127.0.0.1:${running.port}`;
    const names = [
      '%2e%2e%2fx.png',
      '%2E%2E%2F%2E%2E%2Fx.png',
      '%252e%252e%252fx.png',
      '..%c0%afx.png',
      '..%ef%bc%8fx.png',
      '%e2%80%a5%2fx.png',
      '%ef%bc%8e%ef%bc%8e%2fx.png',
      '..%2f..%2fkeep.txt',
      '%2e%2e%5cx.png',
      'x.png%00.txt',
      '..%u2215x.png',
      '%c0%ae%c0%ae%2fx.png',
      '%ef%bc%8e%ef%bc%8e%ef%bc%8fx.png',
      '%e2%88%95etc%e2%88%95x.png',
      'x%2F..%2F..%2Fy.png',
      '%2Ftmp%2Fferry-escape.png',
      '....%2F%2Fx.png',
    ];
    for (const name of names) {
      const answer = await raw(base, `/api/stage?token=${running.token}&account=community&name=${name}`, 'payload');
      // Either refused as a bad name, or staged as a plain name inside staging/<random>/.
      expect([201, 400], `${name}: ${answer.body}`).toContain(answer.status);
      if (answer.status === 201) {
        const staged = (JSON.parse(answer.body) as { value: Array<{ source: string }> }).value[0]!.source;
        expect(relative(join(dataDir, 'staging'), staged).split('/'), name).toHaveLength(2);
      }
    }
    const after = (await filesUnder(root)).filter((f) => !f.startsWith(join(dataDir, 'ferry.db')));
    const outside = after.filter((f) => !before.includes(f) && !f.startsWith(join(dataDir, 'staging') + '/'));
    expect(outside).toEqual([]);
    expect(await readFile(join(root, 'keep.txt'), 'utf8')).toBe('outside');
    expect(existsSync('/tmp/ferry-escape.png')).toBe(false);
  }, 30_000);
});

describe('provider addresses', () => {
  it('accounts add refuses a plain http:// base URL off this machine with one line that says to use https', async () => {
    const data = join(await fixtures.tempDir('ferry-sec-http-'), 'data');
    const refused = await runFerry(data, [
      'accounts',
      'add',
      'selfcommunity',
      '--name',
      'c',
      '--base-url',
      'http://community.example.com/api',
      '--secret',
      'accessToken=tok-12345',
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^ferry: The base URL "http:\/\/community\.example\.com\/api" uses plain http:\/\/ .* use https:\/\/community\.example\.com\/api .*\n$/,
    );
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    const listed = await runFerry(data, ['accounts', 'list', '--json']);
    expect(listed.stdout).toBe('');
    // The sandbox emulators on loopback stay allowed.
    const local = await runFerry(data, [
      'accounts',
      'add',
      'selfcommunity',
      '--name',
      'c',
      '--base-url',
      'http://127.0.0.1:9',
      '--secret',
      'accessToken=tok-12345',
    ]);
    expect(local.code, local.stderr).toBe(0);
  }, 60_000);
});

describe('the Electron window', () => {
  it('no source turns a hardening option off, and the CSP allows no inline or eval script', async () => {
    const offenders: string[] = [];
    const weakening =
      /(contextIsolation|sandbox|webSecurity)\s*:\s*false|(nodeIntegration\w*|allowRunningInsecureContent|webviewTag|experimentalFeatures)\s*:\s*true|enableBlinkFeatures|disable-web-security|allowpopups/;
    for (const dir of ['main', 'preload']) {
      for (const file of await filesUnder(join(REPO_ROOT, dir))) {
        if (/\.(ts|js|cjs)$/.test(file) && weakening.test(await readFile(file, 'utf8')))
          offenders.push(relative(REPO_ROOT, file));
      }
    }
    expect(offenders).toEqual([]);
    const prefs = mainWindowOptions({ preload: '/p.cjs' }).webPreferences ?? {};
    expect(prefs).not.toHaveProperty('enableBlinkFeatures');
    expect(prefs.experimentalFeatures ?? false).toBe(false);
    const policy = Array.isArray(CONTENT_SECURITY_POLICY)
      ? CONTENT_SECURITY_POLICY.join('; ')
      : String(CONTENT_SECURITY_POLICY);
    expect(policy).toMatch(/default-src 'none'/);
    expect(policy).toMatch(/object-src 'none'/);
    expect(policy).not.toMatch(/unsafe-eval|unsafe-inline/);
    // The preload hands the page one method per command, never Electron's ipcRenderer itself.
    const preload = (await filesUnder(join(REPO_ROOT, 'preload'))).filter(
      (f) => /\.ts$/.test(f) && !f.endsWith('.config.ts'),
    );
    for (const file of preload) {
      expect(await readFile(file, 'utf8'), relative(REPO_ROOT, file)).not.toMatch(
        /exposeInMainWorld\([^)]*ipcRenderer\s*[,)]/,
      );
    }
  });
});
