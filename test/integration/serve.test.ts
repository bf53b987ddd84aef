/**
 * `ferry serve` over real loopback HTTP and WebSocket: the token and Origin/Host checks, a WebSocket
 * round trip with pushed events, a file uploaded through POST /api/stage that reaches the
 * SelfCommunity emulator byte for byte (and whose staged copy is then deleted), staging names that
 * try to leave the staging folder, the renderer files, serving without the engine when another
 * process holds the lock, and a graceful stop of the real command on SIGTERM.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, statfs, symlink, writeFile } from 'node:fs/promises';
import type { ClientRequest } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ApiEvent, JobView, WsResponse } from '../../main/api/contract.ts';
import type { Db } from '../../main/db/database.ts';
import type { Queue } from '../../main/engine/queue.ts';
import { LockedError, PID_FILE, acquireRunLock } from '../../main/engine/runLock.ts';
import { startServe, type RunningServe } from '../../main/serve/serve.ts';
import { startSelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { Fixtures, sleep, waitFor, within } from '../support/ferryHarness.ts';
import { JobsRepository } from '../../main/db/jobsRepository.ts';
import { http, openRequest, type HttpAnswer } from '../support/rawHttp.ts';
import { openTestQueue } from '../support/testQueue.ts';

const fixtures = new Fixtures();
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await fixtures.cleanup();
});

interface Served {
  serve: RunningServe;
  dataDir: string;
  base: string;
  token: string;
  db: Db;
  queue: Queue;
}

async function serve(options: { rendererDir?: string; dataDir?: string; allowPaths?: string[] } = {}): Promise<Served> {
  const dataDir = options.dataDir ?? join(await fixtures.tempDir('ferry-serve-'), 'data');
  const { db, queue } = openTestQueue(dataDir);
  const running = await startServe({
    dataDir,
    db,
    queue,
    port: 0,
    rendererDir: options.rendererDir ?? join(dataDir, 'no-renderer'),
    engineOptions: { stallTimeoutMs: 5_000, retry: { baseDelayMs: 20, maxDelayMs: 200 }, controlPollMs: 100 },
    log: () => undefined,
    followIntervalMs: 50,
    ...(options.allowPaths ? { allowPaths: options.allowPaths } : {}),
  });
  closers.push(() => db.close());
  closers.push(() => running.close());
  return { serve: running, dataDir, base: `http://127.0.0.1:${running.port}`, token: running.token, db, queue };
}

const callBody = (command: string, input?: unknown): string => JSON.stringify({ command, input });

/** Opens a WebSocket; resolves with it or rejects with the HTTP status of a refused upgrade. */
function openSocket(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_request, response) => reject(new Error(`status ${response.statusCode}`)));
    socket.once('error', reject);
  });
}

class WsClient {
  readonly events: ApiEvent[] = [];
  readonly #answers = new Map<string | number | null, (frame: WsResponse) => void>();
  #next = 1;
  readonly socket: WebSocket;

  constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as WsResponse | ApiEvent;
      if ('event' in frame) this.events.push(frame);
      else this.#answers.get(frame.id)?.(frame);
    });
  }

  call(command: string, input?: unknown): Promise<WsResponse> {
    const id = this.#next++;
    return this.raw(JSON.stringify({ id, command, input }), id);
  }

  raw(text: string, id: string | number | null): Promise<WsResponse> {
    return within(
      `an answer to ${text.slice(0, 60)}`,
      5_000,
      new Promise<WsResponse>((resolve) => {
        this.#answers.set(id, resolve);
        this.socket.send(text);
      }),
    );
  }
}

async function ws(served: Served): Promise<WsClient> {
  const socket = new WebSocket(`ws://127.0.0.1:${served.serve.port}/api/ws?token=${served.token}`);
  closers.push(() => socket.terminate());
  // Listen before the socket opens: the server may push an event right after the handshake.
  const client = new WsClient(socket);
  await within(
    'the WebSocket to open',
    5_000,
    new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    }),
  );
  return client;
}

describe('ferry serve: who may talk to it', () => {
  it('prints the address with the token and binds loopback', async () => {
    const served = await serve();
    expect(served.serve.url).toBe(`http://127.0.0.1:${served.serve.port}/?token=${served.token}`);
    expect(served.token.length).toBeGreaterThanOrEqual(32);
    expect(served.serve.http.server.address()).toMatchObject({ address: '127.0.0.1' });
  });

  it('answers 401 without the token or with a wrong one, on HTTP and on the WebSocket upgrade', async () => {
    const served = await serve();
    const none = await http(served.base, '/api/call', { method: 'POST', body: callBody('providers.list') });
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/token/) } });
    // The right token with its last character changed (to one it does not already end with).
    const wrongToken = `${served.token.slice(0, -1)}${served.token.endsWith('x') ? 'y' : 'x'}`;
    const wrong = await http(served.base, `/api/call?token=${wrongToken}`, {
      method: 'POST',
      body: callBody('providers.list'),
    });
    expect(wrong.status).toBe(401);
    const wrongHeader = await http(served.base, '/api/call', {
      method: 'POST',
      headers: { 'x-ferry-token': 'nope' },
      body: callBody('providers.list'),
    });
    expect(wrongHeader.status).toBe(401);
    const stage = await http(served.base, '/api/stage?account=a&name=b.png', { method: 'POST', body: 'x' });
    expect(stage.status).toBe(401);
    await expect(openSocket(`ws://127.0.0.1:${served.serve.port}/api/ws`)).rejects.toThrow('status 401');
    await expect(openSocket(`ws://127.0.0.1:${served.serve.port}/api/ws?token=wrong`)).rejects.toThrow('status 401');

    const byQuery = await http(served.base, `/api/call?token=${served.token}`, {
      method: 'POST',
      body: callBody('settings.get'),
    });
    expect(byQuery.status).toBe(200);
    const byBearer = await http(served.base, '/api/call', {
      method: 'POST',
      headers: { authorization: `Bearer ${served.token}` },
      body: callBody('settings.get'),
    });
    expect(byBearer.status).toBe(200);
  });

  it('answers 403 to another Origin (HTTP and WebSocket upgrade) and to a foreign Host', async () => {
    const served = await serve();
    const path = `/api/call?token=${served.token}`;
    const foreign = await http(served.base, path, {
      method: 'POST',
      headers: { origin: 'http://evil.example' },
      body: callBody('settings.get'),
    });
    expect(foreign.status).toBe(403);
    const otherPort = await http(served.base, path, {
      method: 'POST',
      headers: { origin: 'http://127.0.0.1:1' },
      body: callBody('settings.get'),
    });
    expect(otherPort.status).toBe(403);
    const nullOrigin = await http(served.base, path, {
      method: 'POST',
      headers: { origin: 'null' },
      body: callBody('settings.get'),
    });
    expect(nullOrigin.status).toBe(403);
    const own = await http(served.base, path, {
      method: 'POST',
      headers: { origin: served.base },
      body: callBody('settings.get'),
    });
    expect(own.status).toBe(200);
    const wsUrl = `ws://127.0.0.1:${served.serve.port}/api/ws?token=${served.token}`;
    await expect(openSocket(wsUrl, { origin: 'http://evil.example' })).rejects.toThrow('status 403');
    const ownSocket = await openSocket(wsUrl, { origin: served.base });
    ownSocket.terminate();
    // DNS rebinding: a foreign name pointed at 127.0.0.1 carries its own Host.
    const rebound = await http(served.base, path, {
      method: 'POST',
      headers: { host: `evil.example:${served.serve.port}` },
      body: callBody('settings.get'),
    });
    expect(rebound.status).toBe(403);
    const page = await http(served.base, '/', { headers: { host: 'evil.example' } });
    expect(page.status).toBe(403);
  });
});

describe('ferry serve: the API over WebSocket and HTTP', () => {
  it('round-trips a command over the WebSocket and refuses malformed frames', async () => {
    const served = await serve();
    const client = await ws(served);
    const providers = await client.call('providers.list');
    expect(providers).toMatchObject({ id: 1, ok: true });
    const list = (providers as { value: Array<{ id: string; fields: unknown[] }> }).value;
    expect(list.map((provider) => provider.id).sort()).toEqual([
      'ofauth',
      'oktopost',
      'selfcommunity',
      'twentythree',
      'xvid',
    ]);
    expect(list.find((provider) => provider.id === 'oktopost')!.fields).toContainEqual(
      expect.objectContaining({ key: 'region', kind: 'setting', choices: ['us', 'eu'] }),
    );
    expect(await client.call('jobs.list', { limit: 0 })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT', message: expect.stringContaining('limit') },
    });
    expect(await client.call('no.such')).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await client.raw('{not json', null)).toMatchObject({
      id: null,
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
    expect(await client.raw(JSON.stringify({ id: 'x' }), 'x')).toMatchObject({
      id: 'x',
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
    expect(await client.raw(JSON.stringify({ id: 'ok', command: 'settings.get' }), 'ok')).toMatchObject({
      id: 'ok',
      ok: true,
    });
  });

  it('runs the same commands over POST /api/call with HTTP statuses that match the error', async () => {
    const served = await serve();
    const path = `/api/call?token=${served.token}`;
    const invalid = await http(served.base, path, { method: 'POST', body: callBody('jobs.get', { id: 'x' }) });
    expect(invalid.status).toBe(400);
    const missing = await http(served.base, path, { method: 'POST', body: callBody('jobs.get', { id: 7 }) });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'No job 7' } });
    const notJson = await http(served.base, path, { method: 'POST', body: 'hello' });
    expect(notJson.status).toBe(400);
    const status = await http(served.base, path, { method: 'POST', body: callBody('app.status') });
    expect(JSON.parse(status.body)).toMatchObject({ ok: true, value: { engineRunning: true, engineNote: null } });
  });
});

describe('ferry serve: staged uploads', () => {
  it('streams a file to the staging folder, uploads it byte-exact to SelfCommunity, then deletes the staged copy', async () => {
    const sandbox = fixtures.track(await startSelfCommunitySandbox());
    const served = await serve();
    const client = await ws(served);
    const added = await client.call('accounts.add', {
      provider: 'selfcommunity',
      name: 'community',
      baseUrl: sandbox.url,
      secrets: { accessToken: sandbox.token },
    });
    expect(added.ok).toBe(true);

    const bytes = randomBytes(650_000);
    const name = 'Urlaub am Meer, "Süd" 日本.png';
    const staged = await http(
      served.base,
      `/api/stage?token=${served.token}&account=community&name=${encodeURIComponent(name)}&option.type=image`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: bytes,
      },
    );
    expect(staged.status, staged.body).toBe(201);
    const [job] = (JSON.parse(staged.body) as { ok: true; value: JobView[] }).value;
    expect(job).toMatchObject({ name, staged: true, state: 'queued', size: bytes.length, options: { type: 'image' } });
    expect(job!.source.startsWith(join(served.dataDir, 'staging'))).toBe(true);

    await waitFor(
      'the staged job to complete',
      () =>
        client.events.some(
          (event) =>
            event.event === 'jobs.changed' &&
            event.payload.jobs.some((row) => row.id === job!.id && row.state === 'completed'),
        ),
      15_000,
    );
    expect(sandbox.media).toHaveLength(1);
    expect(sandbox.media[0]!.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    await waitFor('the staged copy to be deleted', () => !existsSync(job!.source));
    expect(await readdir(join(served.dataDir, 'staging'))).toEqual([]);
    // Progress reaches subscribers on the coalescer's next flush, which may come after the job ended.
    await waitFor('a progress event', () => client.events.some((event) => event.event === 'progress'));
  });

  it('keeps the staged copy of a canceled job until the job is removed', async () => {
    const served = await serve();
    await served.serve.api.invoke('accounts.add', {
      provider: 'selfcommunity',
      name: 'community',
      baseUrl: 'http://127.0.0.1:9',
      secrets: { accessToken: 'tok-1234' },
    });
    await served.serve.api.invoke('accounts.pause', { account: 'community' });
    const staged = await http(served.base, `/api/stage?token=${served.token}&account=community&name=a.png`, {
      method: 'POST',
      body: randomBytes(1000),
    });
    expect(staged.status, staged.body).toBe(201);
    const [job] = (JSON.parse(staged.body) as { value: JobView[] }).value;
    await served.serve.api.invoke('jobs.cancel', { ids: [job!.id] });
    await sleep(50);
    expect(existsSync(job!.source)).toBe(true);
    expect(await served.serve.api.invoke('jobs.remove', { ids: [job!.id] })).toMatchObject({
      ok: true,
      value: { removed: [job!.id] },
    });
    expect(existsSync(job!.source)).toBe(false);
  });

  it('refuses names that would leave the staging folder, and writes nothing', async () => {
    const served = await serve();
    await served.serve.api.invoke('accounts.add', {
      provider: 'selfcommunity',
      name: 'community',
      baseUrl: 'http://127.0.0.1:9',
      secrets: { accessToken: 'tok-1234' },
    });
    const before = await readdir(join(served.dataDir, '..'));
    const attempts = [
      '..%2Fx.png',
      '..%2F..%2Fx.png',
      'a%2Fb.png',
      '..',
      '.',
      '%2Ftmp%2Fx.png',
      'a%5Cb.png',
      'x%00.png',
      '..%5Cx.png',
      '',
      'a..b.png',
    ];
    for (const name of attempts) {
      const answer = await http(served.base, `/api/stage?token=${served.token}&account=community&name=${name}`, {
        method: 'POST',
        body: 'payload',
      });
      expect(answer.status, `name=${name}`).toBe(400);
      expect(JSON.parse(answer.body), `name=${name}`).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    }
    // The raw path form too: the query parser must not let a literal "../" through either.
    const raw = await http(served.base, `/api/stage?token=${served.token}&account=community&name=../x.png`, {
      method: 'POST',
      body: 'payload',
    });
    expect(raw.status).toBe(400);
    expect(await readdir(join(served.dataDir, '..'))).toEqual(before);
    expect(existsSync(join(served.dataDir, 'staging')) ? await readdir(join(served.dataDir, 'staging')) : []).toEqual(
      [],
    );
    expect(existsSync(join(served.dataDir, 'x.png'))).toBe(false);
  });

  it('refuses an unknown account, a file type the provider cannot take, and a URL provider, before writing', async () => {
    const served = await serve();
    await served.serve.api.invoke('accounts.add', {
      provider: 'selfcommunity',
      name: 'community',
      baseUrl: 'http://127.0.0.1:9',
      secrets: { accessToken: 'tok-1234' },
    });
    await served.serve.api.invoke('accounts.add', {
      provider: 'oktopost',
      name: 'social',
      secrets: { accountId: 'acc-1234', apiKey: 'key-1234' },
    });
    const stage = (query: string): Promise<HttpAnswer> =>
      http(served.base, `/api/stage?token=${served.token}&${query}`, { method: 'POST', body: 'payload' });
    expect((await stage('account=nobody&name=a.png')).status).toBe(404);
    const text = await stage('account=community&name=notes.txt');
    expect(text.status).toBe(400);
    expect(JSON.parse(text.body).error.message).toMatch(/notes\.txt/);
    expect((await stage('account=social&name=a.png')).status).toBe(400);
    expect(existsSync(join(served.dataDir, 'staging')) ? await readdir(join(served.dataDir, 'staging')) : []).toEqual(
      [],
    );
  });
});

/** A request whose body is written by the test, bit by bit: to hold an upload open, or stall it. */
function openUpload(
  base: string,
  path: string,
  headers: Record<string, string>,
): { request: ClientRequest; answer: Promise<HttpAnswer> } {
  const open = openRequest(base, path, { method: 'POST', headers });
  open.request.flushHeaders();
  return open;
}

const stagingEntries = async (dataDir: string): Promise<string[]> =>
  existsSync(join(dataDir, 'staging')) ? readdir(join(dataDir, 'staging')) : [];

describe('ferry serve: what staging refuses, and when', () => {
  async function withAccount(provider: 'selfcommunity' | 'ofauth' = 'selfcommunity'): Promise<Served> {
    const served = await serve();
    const secrets: Record<string, string> =
      provider === 'ofauth' ? { apiKey: 'key-1234', connectionId: 'conn-1234' } : { accessToken: 'tok-1234' };
    const added = await served.serve.api.invoke('accounts.add', {
      provider,
      name: 'acct',
      baseUrl: 'http://127.0.0.1:9',
      secrets,
    });
    expect(added.ok).toBe(true);
    // Nothing is uploaded: these tests are about what arrives, not where it goes.
    await served.serve.api.invoke('accounts.pause', { account: 'acct' });
    return served;
  }

  it('answers 411 to an upload without a length (chunked), and writes nothing', async () => {
    const served = await withAccount();
    const upload = openUpload(served.base, `/api/stage?token=${served.token}&account=acct&name=a.png`, {
      'transfer-encoding': 'chunked',
    });
    upload.request.write('some bytes');
    upload.request.end();
    const answer = await within('the answer', 5_000, upload.answer);
    expect(answer.status).toBe(411);
    expect(JSON.parse(answer.body)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT', message: expect.stringMatching(/a\.png did not say its length.*Content-Length/) },
    });
    expect(await stagingEntries(served.dataDir)).toEqual([]);
  });

  it('answers 413 naming the file, the provider and its limit when the length is over it, before reading the body', async () => {
    const served = await withAccount();
    // Only the headers are sent: the answer must not wait for 5 MB that never come.
    const upload = openUpload(served.base, `/api/stage?token=${served.token}&account=acct&name=holiday.png`, {
      'content-length': '5000001',
    });
    const answer = await within('the answer', 5_000, upload.answer);
    upload.request.destroy();
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).error.message).toMatch(
      /holiday\.png is 5\.0 MB \(5,000,001 bytes\), more than the 5\.0 MB \(5,000,000 bytes\) that SelfCommunity accepts/,
    );
    expect(await stagingEntries(served.dataDir)).toEqual([]);
    // One byte less is taken.
    const fits = await http(served.base, `/api/stage?token=${served.token}&account=acct&name=fits.png`, {
      method: 'POST',
      body: Buffer.alloc(5_000_000, 1),
    });
    expect(fits.status, fits.body).toBe(201);
  });

  it('answers 507 when the disk lacks the file plus its headroom, saying how much is free and needed', async () => {
    const served = await withAccount('ofauth');
    const path = (name: string): string => `/api/stage?token=${served.token}&account=acct&name=${name}`;
    // A petabyte fits no disk here; OFAuth states no size limit, so only the disk can refuse it.
    const huge = openUpload(served.base, path('huge.mp4'), { 'content-length': String(2 ** 50) });
    const answer = await within('the answer', 5_000, huge.answer);
    huge.request.destroy();
    expect(answer.status).toBe(507);
    expect(JSON.parse(answer.body)).toMatchObject({
      ok: false,
      error: {
        code: 'CONFLICT',
        message: expect.stringMatching(
          new RegExp(`^Not enough free space in ${join(served.dataDir, 'staging')}: .+ free, .+ needed`),
        ),
      },
    });
    // A file that would fit, but would leave less than the headroom free, is refused too.
    const disk = await statfs(served.dataDir);
    const free = Number(disk.bavail) * Number(disk.bsize);
    const almost = openUpload(served.base, path('almost.mp4'), { 'content-length': String(free - 100 * 1024 * 1024) });
    const tight = await within('the answer', 5_000, almost.answer);
    almost.request.destroy();
    expect(tight.status, tight.body).toBe(507);
    expect(JSON.parse(tight.body).error.message).toMatch(/kept free/);
    expect((await stagingEntries(served.dataDir)).filter((name) => !name.endsWith('.writing'))).toEqual([]);
  });

  it('receives at most 4 files at once: the fifth gets 503 with Retry-After, and is taken once a slot is free', async () => {
    const served = await withAccount();
    const size = 1000;
    const open = Array.from({ length: 4 }, (_, i) => {
      const upload = openUpload(served.base, `/api/stage?token=${served.token}&account=acct&name=slow-${i}.png`, {
        'content-length': String(size),
      });
      upload.request.write(Buffer.alloc(10, 1));
      return upload;
    });
    await waitFor('four uploads arriving', () => served.serve.api.staging.receiving === 4);
    const fifth = await http(served.base, `/api/stage?token=${served.token}&account=acct&name=fifth.png`, {
      method: 'POST',
      body: Buffer.alloc(size, 2),
    });
    expect(fifth.status).toBe(503);
    expect(fifth.headers['retry-after']).toBe('5');
    expect(JSON.parse(fifth.body)).toMatchObject({
      ok: false,
      error: {
        code: 'CONFLICT',
        message: expect.stringMatching(/already receiving 4 files; fifth\.png was not sent\. Send it again/),
      },
    });
    // The four are not disturbed: each completes and is queued.
    open[0]!.request.end(Buffer.alloc(size - 10, 1));
    expect((await within('the first upload', 5_000, open[0]!.answer)).status).toBe(201);
    const again = await http(served.base, `/api/stage?token=${served.token}&account=acct&name=fifth.png`, {
      method: 'POST',
      body: Buffer.alloc(size, 2),
    });
    expect(again.status, again.body).toBe(201);
    for (const upload of open.slice(1)) upload.request.end(Buffer.alloc(size - 10, 1));
    const answers = await within('the other uploads', 5_000, Promise.all(open.slice(1).map((upload) => upload.answer)));
    expect(answers.map((answer) => answer.status)).toEqual([201, 201, 201]);
    expect(served.queue.jobs.list({}).map((job) => job.size)).toEqual([size, size, size, size, size]);
  });

  it('deletes the partial copy and frees the slot when the sender hangs up mid-file', async () => {
    const served = await withAccount();
    const upload = openUpload(served.base, `/api/stage?token=${served.token}&account=acct&name=cut.png`, {
      'content-length': '100000',
    });
    upload.answer.catch(() => undefined);
    upload.request.write(Buffer.alloc(5000, 1));
    await waitFor('the upload arriving', () => served.serve.api.staging.receiving === 1);
    await waitFor('bytes on disk', async () => (await stagingEntries(served.dataDir)).length === 2);
    upload.request.destroy();
    await waitFor('the slot to be free', () => served.serve.api.staging.receiving === 0, 5_000);
    await waitFor(
      'the staging folder to be empty',
      async () => (await stagingEntries(served.dataDir)).length === 0,
      5_000,
    );
    expect(served.queue.jobs.list({})).toEqual([]);
  });

  it('cuts off a sender that stops sending (408), deletes its partial copy and frees its slot', async () => {
    const served = await withAccount();
    served.serve.api.staging.configure({ idleTimeoutMs: 200 });
    const upload = openUpload(served.base, `/api/stage?token=${served.token}&account=acct&name=stalled.png`, {
      'content-length': '100000',
    });
    upload.request.write(Buffer.alloc(1000, 1));
    const answer = await within('the answer', 5_000, upload.answer);
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body).error.message).toMatch(/stalled\.png stopped arriving/);
    expect(served.serve.api.staging.receiving).toBe(0);
    expect(await stagingEntries(served.dataDir)).toEqual([]);
  });
});

describe('ferry serve: beyond loopback', () => {
  it('refuses a host other networks can reach unless allowRemote is given, saying why, and binds nothing', async () => {
    const dataDir = join(await fixtures.tempDir('ferry-serve-remote-'), 'data');
    const { db, queue } = openTestQueue(dataDir);
    closers.push(() => db.close());
    // 192.0.2.1 is a documentation address (on no machine): without the check, listening would fail for another reason.
    for (const host of ['0.0.0.0', '::', '192.0.2.1', '127.0.0.1.example.com']) {
      await expect(startServe({ dataDir, db, queue, host, port: 0, log: () => undefined }), host).rejects.toThrow(
        /^Not listening on .*: it can be reached from other machines, and anyone on the network who gets the token .* could upload your files.*--allow-remote/,
      );
    }
    // Nothing was left running: the run lock is free.
    acquireRunLock(dataDir).release();
  });

  it('with --allow-path, takes only paths inside the allowed folders: no sibling, no "..", no symlink out, over WebSocket and HTTP', async () => {
    const root = await fixtures.tempDir('ferry-serve-paths-');
    const allowed = join(root, 'allowed');
    const outside = join(root, 'outside');
    await mkdir(join(allowed, 'sub'), { recursive: true });
    await mkdir(outside);
    await mkdir(join(root, 'allowed-sibling'));
    await writeFile(join(allowed, 'photo.png'), randomBytes(100));
    await writeFile(join(allowed, 'sub', 'deep.png'), randomBytes(100));
    await writeFile(join(outside, 'secret.png'), randomBytes(100));
    await writeFile(join(root, 'allowed-sibling', 'x.png'), randomBytes(100));
    await symlink(join(outside, 'secret.png'), join(allowed, 'link.png'));
    await symlink(outside, join(allowed, 'linkdir'));
    // The allowed folder itself given through a symlink: its real path is what counts.
    await symlink(allowed, join(root, 'allowed-link'));
    const served = await serve({ allowPaths: [join(root, 'allowed-link')] });
    await served.serve.api.invoke('accounts.add', {
      provider: 'selfcommunity',
      name: 'community',
      baseUrl: 'http://127.0.0.1:9',
      secrets: { accessToken: 'tok-1234' },
    });
    await served.serve.api.invoke('accounts.pause', { account: 'community' });
    const client = await ws(served);

    const refused = [
      join(outside, 'secret.png'),
      join(allowed, '..', 'outside', 'secret.png'),
      `${allowed}/sub/../../outside/secret.png`,
      join(allowed, 'link.png'),
      join(allowed, 'linkdir', 'secret.png'),
      join(allowed, 'linkdir'),
      join(root, 'allowed-sibling', 'x.png'),
      `${allowed}/linkdir/../../outside/secret.png`,
      '/etc/passwd',
      outside,
    ];
    for (const path of refused) {
      const answer = await client.call('jobs.enqueue', {
        account: 'community',
        paths: [join(allowed, 'photo.png'), path],
      });
      expect(answer, path).toMatchObject({
        ok: false,
        error: {
          code: 'INVALID_INPUT',
          message: expect.stringContaining(
            `Cannot use ${path} over the network: it is not inside a folder this "ferry serve" may read (${allowed})`,
          ),
        },
      });
    }
    const overHttp = await http(served.base, `/api/call?token=${served.token}`, {
      method: 'POST',
      body: callBody('jobs.enqueue', { account: 'community', paths: [join(allowed, 'link.png')] }),
    });
    expect(overHttp.status).toBe(403);
    const watch = await client.call('sync.add', { account: 'community', dir: join(allowed, 'linkdir') });
    expect(watch).toMatchObject({ ok: false, error: { message: expect.stringMatching(/not inside a folder/) } });
    expect(served.queue.jobs.list({})).toEqual([]);

    // Inside: the file, a subfolder, the folder through its symlinked name, and URLs are untouched.
    const ok = await client.call('jobs.enqueue', {
      account: 'community',
      paths: [join(allowed, 'photo.png'), join(root, 'allowed-link', 'sub')],
    });
    expect(ok, JSON.stringify(ok)).toMatchObject({ ok: true });
    expect(
      served.queue.jobs
        .list({})
        .map((job) => job.name)
        .sort(),
    ).toEqual(['deep.png', 'photo.png']);
    // Files dropped onto the page are staged by the server itself and need no allowed folder.
    const staged = await http(served.base, `/api/stage?token=${served.token}&account=community&name=dropped.png`, {
      method: 'POST',
      body: randomBytes(100),
    });
    expect(staged.status, staged.body).toBe(201);
  });
});

describe('ferry serve: renderer, lock and shutdown', () => {
  it('serves the built renderer, falls back to index.html, and never leaves its folder', async () => {
    const dir = await fixtures.tempDir('ferry-renderer-');
    const rendererDir = join(dir, 'renderer');
    await mkdir(join(rendererDir, 'assets'), { recursive: true });
    await writeFile(join(rendererDir, 'index.html'), '<!doctype html><title>Ferry UI</title>');
    await writeFile(join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
    await writeFile(join(dir, 'secret.txt'), 'outside');
    const served = await serve({ rendererDir });
    const index = await http(served.base, '/');
    expect(index.status).toBe(200);
    expect(index.body).toContain('Ferry UI');
    expect(index.headers['referrer-policy']).toBe('no-referrer');
    const asset = await http(served.base, '/assets/app.js');
    expect(asset.headers['content-type']).toMatch(/javascript/);
    expect((await http(served.base, '/queue/123')).body).toContain('Ferry UI');
    for (const path of ['/../secret.txt', '/..%2Fsecret.txt', '/%2e%2e/secret.txt', '/assets/../../secret.txt']) {
      const answer = await http(served.base, path);
      expect(answer.body, path).not.toContain('outside');
    }
  });

  it('says how to build the renderer when it is missing', async () => {
    const served = await serve();
    const page = await http(served.base, '/');
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/has not been built/);
    expect(page.body).toMatch(/npm run build:renderer/);
  });

  it('serves without running the engine when another process holds the run lock, and says so', async () => {
    const dataDir = join(await fixtures.tempDir('ferry-serve-locked-'), 'data');
    await mkdir(dataDir, { recursive: true });
    // The lock is the operating system's: held here, it is held for the server started below too.
    const other = acquireRunLock(dataDir);
    const served = await serve({ dataDir });
    expect(served.serve.engine).toBeNull();
    const client = await ws(served);
    const status = await client.call('app.status');
    expect(status).toMatchObject({
      ok: true,
      value: { engineRunning: false, engineNote: expect.stringMatching(/Another Ferry/) },
    });
    await waitFor('the notice', () => client.events.find((event) => event.event === 'notice'));
    // Changes made by the process that runs the queue reach the UI through the database.
    const added = await client.call('accounts.add', {
      provider: 'selfcommunity',
      name: 'community',
      baseUrl: 'http://127.0.0.1:9',
      secrets: { accessToken: 'tok-1234' },
    });
    expect(added.ok).toBe(true);
    const account = served.queue.accounts.byName('community')!;
    const [row] = new JobsRepository(served.db).insert([
      {
        accountId: account.id,
        sourceKind: 'file',
        source: '/tmp/z.png',
        name: 'z.png',
        mime: 'image/png',
        size: 1,
        mtimeMs: 1,
        edgeHash: 'x',
        options: {},
      },
    ]);
    await waitFor('the followed change', () =>
      client.events.some(
        (event) => event.event === 'jobs.changed' && event.payload.jobs.some((job) => job.id === row!.id),
      ),
    );
    // The other holder's lock is left alone.
    expect(() => acquireRunLock(dataDir)).toThrow(LockedError);
    expect(readFileSync(join(dataDir, PID_FILE), 'utf8')).toBe(String(process.pid));
    other.release();
  });

  it('applies a new global concurrency and bandwidth limit to the running engine', async () => {
    const served = await serve();
    const client = await ws(served);
    const before = served.serve.engine;
    expect(await client.call('settings.set', { globalConcurrency: 2, bwlimit: '512K' })).toMatchObject({
      ok: true,
      value: { globalConcurrency: 2 },
    });
    // The limit changes in place: uploads in flight are not stopped and restarted.
    await waitFor('the new limit', () => served.serve.engine?.maxJobsInFlight === 2);
    expect(served.serve.engine).toBe(before);
    const notices = await waitFor('two notices', () => {
      const found = client.events.filter((event) => event.event === 'notice');
      return found.length >= 2 ? found : null;
    });
    expect(notices.map((event) => (event.payload as { message: string }).message).join(' | ')).toMatch(
      /Upload limit: 512K.*\| Up to 2 uploads/,
    );
    expect(served.serve.engine?.bandwidth.global.rate).toBe(512 * 1024);
    expect(client.events.some((event) => event.event === 'settings.changed')).toBe(true);
  });

  it('stops gracefully on SIGTERM and releases the run lock', async () => {
    const dataDir = join(await fixtures.tempDir('ferry-serve-cli-'), 'data');
    const child = fixtures.spawnFerry(dataDir, ['serve', '--port', '0'], { timeoutMs: 20_000 });
    const url = await waitFor('the address', () => /Ferry is at (http:\/\/\S+)/.exec(child.stdout)?.[1], 15_000);
    const parsed = new URL(url);
    expect(parsed.hostname).toBe('127.0.0.1');
    const answer = await http(parsed.origin, `/api/call?token=${parsed.searchParams.get('token')}`, {
      method: 'POST',
      body: callBody('app.status'),
    });
    expect(JSON.parse(answer.body)).toMatchObject({ ok: true, value: { engineRunning: true } });
    expect(() => acquireRunLock(dataDir)).toThrow(LockedError);
    expect(readFileSync(join(dataDir, PID_FILE), 'utf8')).toBe(String(child.child.pid));
    child.child.kill('SIGTERM');
    const result = await child.exited;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/Stopping Ferry/);
    expect(existsSync(join(dataDir, PID_FILE))).toBe(false);
    acquireRunLock(dataDir).release();
  });
});
