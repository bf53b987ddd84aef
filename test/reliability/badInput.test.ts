/**
 * Bad input: each case gets a clear error and leaves the queue and the database as they were
 * (PRAGMA integrity_check ok, job and account counts unchanged where nothing was meant to change).
 *
 * - refused before queueing: a missing path, an empty folder, a zero-byte file, a file over each
 *   provider's limit (sparse files: no disk is used), a file without read permission, an account
 *   with a malformed base URL, an unknown account;
 * - failing after queueing: a file changed, deleted, replaced by a folder or made unreadable while
 *   queued, and a file that grows while it is being uploaded;
 * - names with spaces, quotes and non-Latin characters reach every file provider byte-exact under
 *   their own name;
 * - an account whose base URL is a closed port fails after bounded retries, naming the refusal;
 * - random, nested, huge and prototype-polluting payloads to every API command;
 * - malformed command lines (seeded fuzz of `main(argv)`, and the real binary for a few): exit 2,
 *   one line on stderr, never a stack trace.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { chmod, mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ApiResult, CommandName } from '../../main/api/contract.ts';
import { COMMAND_NAMES } from '../../main/api/contract.ts';
import { FerryApi } from '../../main/api/ferryApi.ts';
import { main } from '../../main/cli/main.ts';
import type { Db } from '../../main/db/database.ts';
import type { Queue } from '../../main/engine/queue.ts';
import { getAdapter } from '../../main/providers/registry.ts';
import { startOfauthSandbox } from '../sandbox/ofauth.ts';
import { startSelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { startTwentyThreeSandbox } from '../sandbox/twentythree.ts';
import { startXvidSandbox } from '../sandbox/xvid.ts';
import { prng } from '../support/crashHarness.ts';
import { Fixtures, randomFile, runFerry, within, type EngineHandle } from '../support/ferryHarness.ts';
import { openTestQueue } from '../support/testQueue.ts';

const fixtures = new Fixtures();
afterEach(async () => {
  await fixtures.cleanup();
});

/** Chmod cannot stop root from reading (CI runs tests as root): such cases are skipped, and say so. */
const RUNNING_AS_ROOT = process.getuid?.() === 0;

function dbState({ db, queue }: { db: Db; queue: Queue }): { integrity: string; jobs: number; accounts: number } {
  return {
    integrity: (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check,
    jobs: queue.jobs.list({}).length,
    accounts: queue.accounts.list().length,
  };
}

async function engineWithCommunity(): Promise<{
  h: EngineHandle;
  files: string;
  sandbox: Awaited<ReturnType<typeof startSelfCommunitySandbox>>;
}> {
  const h = fixtures.openEngine(await fixtures.tempDir('ferry-bad-data-'), {
    stallTimeoutMs: 2_000,
    retry: { baseDelayMs: 10, maxDelayMs: 40 },
  });
  const files = await fixtures.tempDir('ferry-bad-files-');
  const sandbox = fixtures.track(await startSelfCommunitySandbox());
  await h.queue.accounts.add({
    provider: 'selfcommunity',
    name: 'community',
    baseUrl: sandbox.url,
    secrets: { accessToken: sandbox.token },
  });
  return { h, files, sandbox };
}

describe('refused before anything is queued', () => {
  it('missing path, empty folder, zero bytes, unknown account, malformed base URL: a clear error, nothing changed', async () => {
    const { h, files } = await engineWithCommunity();
    await mkdir(join(files, 'empty'));
    await writeFile(join(files, 'zero.png'), '');
    const before = dbState(h);
    const cases: Array<[() => Promise<unknown>, RegExp]> = [
      [() => h.queue.enqueue('community', [join(files, 'nope.png')]), /nope\.png: no such file/],
      [() => h.queue.enqueue('community', [join(files, 'empty')]), /Nothing to upload .*empty/],
      [() => h.queue.enqueue('community', [join(files, 'zero.png')]), /zero\.png.*(empty|0 bytes)/i],
      [() => h.queue.enqueue('nobody', [join(files, 'zero.png')]), /No account named "nobody"/],
      [
        () =>
          h.queue.accounts.add({
            provider: 'selfcommunity',
            name: 'bad',
            baseUrl: 'ht!tp://x',
            secrets: { accessToken: 'abcd' },
          }),
        /base URL "ht!tp:\/\/x" is not a valid address/,
      ],
      [
        () =>
          h.queue.accounts.add({
            provider: 'selfcommunity',
            name: 'bad',
            baseUrl: 'ftp://example.com',
            secrets: { accessToken: 'abcd' },
          }),
        /must start with https:\/\/ or http:\/\//,
      ],
      [
        () =>
          h.queue.accounts.add({
            provider: 'selfcommunity',
            name: 'bad',
            baseUrl: 'javascript:alert(1)',
            secrets: { accessToken: 'abcd' },
          }),
        /base URL/,
      ],
    ];
    for (const [attempt, message] of cases) {
      await expect(attempt()).rejects.toThrow(message);
    }
    expect(dbState(h)).toEqual(before);
  });

  it('a file one byte over each provider’s limit is refused with the limit named (sparse files)', async () => {
    const dir = await fixtures.tempDir('ferry-bad-big-');
    const { db, queue } = openTestQueue(dir);
    fixtures.track({ close: async () => db.close() });
    const limits: Array<[string, string, Record<string, string>]> = [
      ['selfcommunity', 'huge.png', { accessToken: 'abcd' }],
      ['xvid', 'huge.mp4', { clientId: 'abcd', clientSecret: 'abcd' }],
      [
        'twentythree',
        'huge.mp4',
        { consumerKey: 'a', consumerSecret: 'abcd', accessToken: 'a', accessTokenSecret: 'abcd' },
      ],
    ];
    for (const [provider, name, secrets] of limits) {
      const adapter = getAdapter(provider);
      const max = Math.max(...adapter.capabilities.accepts.map((a) => a.maxBytes ?? 0));
      const settings: Record<string, string> = provider === 'xvid' ? { pipelineId: 'p' } : {};
      await queue.accounts.add({ provider, name: provider, baseUrl: 'http://127.0.0.1:9', secrets, settings });
      const path = join(dir, `${provider}-${name}`);
      await writeFile(path, '');
      await truncate(path, max + 1);
      const before = dbState({ db, queue });
      await expect(queue.enqueue(provider, [path]), provider).rejects.toThrow(
        new RegExp(`${max.toLocaleString('en-US')}|${max}|${(max / 1e9).toString()} ?GB|GiB|limit|too large`, 'i'),
      );
      expect(dbState({ db, queue })).toEqual(before);
    }
  });

  it.skipIf(RUNNING_AS_ROOT)('a file without read permission is refused, naming the permission', async () => {
    const { h, files } = await engineWithCommunity();
    const locked = await randomFile(files, 'locked.png', 1000);
    await chmod(locked.path, 0o000);
    const before = dbState(h);
    await expect(h.queue.enqueue('community', [locked.path])).rejects.toThrow(/permission/i);
    expect(dbState(h)).toEqual(before);
  });
});

describe('files that change after they were queued', () => {
  async function runOne(h: EngineHandle, ms = 15_000): Promise<void> {
    h.engine.start();
    await within('the engine to become idle', ms, h.engine.whenIdle());
  }

  it('changed, deleted, replaced by a folder or made unreadable: the job fails saying so, nothing is sent', async () => {
    const { h, files, sandbox } = await engineWithCommunity();
    const changed = await randomFile(files, 'changed.png', 5000);
    const deleted = await randomFile(files, 'deleted.png', 5000);
    const folder = await randomFile(files, 'folder.png', 5000);
    const locked = await randomFile(files, 'locked.png', 5000);
    const jobs = await h.queue.enqueue('community', [changed.path, deleted.path, folder.path, locked.path]);
    await writeFile(changed.path, randomBytes(5000));
    await rm(deleted.path);
    await rm(folder.path);
    await mkdir(folder.path);
    await chmod(locked.path, 0o000);
    await runOne(h);
    const [c, d, f, l] = jobs.map((job) => h.queue.jobs.get(job.id)!);
    expect(c!.state).toBe('failed');
    expect(c!.error).toMatchObject({
      kind: 'local-file',
      message: expect.stringMatching(/changed since it was queued.*Retry the job/),
    });
    expect(d!.error).toMatchObject({
      kind: 'local-file',
      message: expect.stringMatching(/deleted\.png.*does not exist/),
    });
    expect(f!.state).toBe('failed');
    expect(f!.error?.kind).toBe('local-file');
    expect(f!.error?.message).toMatch(/folder\.png/);
    if (RUNNING_AS_ROOT) {
      // Root reads a 0000 file anyway: the upload goes through, which is what root asked for.
      expect(l!.state).toBe('completed');
    } else {
      expect(l!.error).toMatchObject({ kind: 'local-file', message: expect.stringMatching(/permission/) });
    }
    expect(sandbox.media.length).toBe(RUNNING_AS_ROOT ? 1 : 0);
    expect(dbState(h)).toMatchObject({ integrity: 'ok', jobs: 4 });
  });

  it('a file that grows while it is uploaded fails as changed; never a mix of old and new bytes', async () => {
    const { h, files, sandbox } = await engineWithCommunity();
    const growing = await randomFile(files, 'growing.png', 5 * 204_800);
    let appended = false;
    // As the third chunk arrives, something appends to the file (a camera still writing it).
    sandbox.fault({
      method: 'POST',
      path: '/api/v2/media/upload/chunk/',
      when: (request) => {
        if (!appended && String(request.headers['content-range']).startsWith(`bytes ${2 * 204_800}-`)) {
          appended = true;
          appendFileSync(growing.path, randomBytes(1000));
        }
        return false;
      },
      action: { type: 'delay', ms: 0 },
    });
    const [job] = await h.queue.enqueue('community', [growing.path]);
    await runOne(h);
    const done = h.queue.jobs.get(job!.id)!;
    expect(appended).toBe(true);
    expect(done.state).toBe('failed');
    expect(done.error).toMatchObject({ kind: 'local-file', message: expect.stringMatching(/growing\.png.*changed/) });
    expect(sandbox.media).toEqual([]);
    expect(sandbox.completeCalls).toEqual([]);
    expect(dbState(h)).toMatchObject({ integrity: 'ok', jobs: 1 });
  });
});

describe('names with spaces, quotes and non-Latin characters', () => {
  const NAMES = ['my "quoted" \'file\' name', 'фото 写真 صورة ελληνικά', 'emoji 🚀 & percent %20 #hash'];

  it('reach every file provider byte-exact under their own name', async () => {
    const h = fixtures.openEngine(await fixtures.tempDir('ferry-names-data-'));
    const files = await fixtures.tempDir('ferry-names-files-');
    const sc = fixtures.track(await startSelfCommunitySandbox());
    const of = fixtures.track(await startOfauthSandbox({ rateLimit: null, partSize: 65_536 }));
    const t23 = fixtures.track(await startTwentyThreeSandbox());
    const xv = fixtures.track(await startXvidSandbox({ completingPolls: 0 }));
    await h.queue.accounts.add({
      provider: 'selfcommunity',
      name: 'sc',
      baseUrl: sc.url,
      secrets: { accessToken: sc.token },
    });
    await h.queue.accounts.add({
      provider: 'ofauth',
      name: 'of',
      baseUrl: of.url,
      secrets: { apiKey: of.apiKey, connectionId: of.connectionId },
    });
    await h.queue.accounts.add({
      provider: 'twentythree',
      name: 't23',
      baseUrl: t23.url,
      secrets: { consumerKey: 'ck', consumerSecret: 'cs', accessToken: 'at', accessTokenSecret: 'as' },
      settings: { chunkSize: '65536' },
    });
    await h.queue.accounts.add({
      provider: 'xvid',
      name: 'xv',
      baseUrl: xv.apiUrl,
      secrets: { clientId: xv.clientId, clientSecret: xv.clientSecret },
      settings: { pipelineId: xv.pipelineId },
    });
    const made: Record<'sc' | 'of' | 't23' | 'xv', Array<{ name: string; sha256: string }>> = {
      sc: [],
      of: [],
      t23: [],
      xv: [],
    };
    for (const [account, ext] of [
      ['sc', 'png'],
      ['of', 'jpg'],
      ['t23', 'mp4'],
      ['xv', 'mp4'],
    ] as const) {
      // One folder per account: the same name in one folder would be one file, rewritten.
      const folder = join(files, account);
      await mkdir(folder);
      for (const [i, base] of NAMES.entries()) {
        const file = await randomFile(folder, `${base}.${ext}`, 70_000 + i * 70_000);
        made[account]!.push(file);
        await h.queue.enqueue(account, [file.path]);
      }
    }
    h.engine.start();
    await within('the uploads', 30_000, h.engine.whenIdle());
    expect(h.queue.jobs.list({}).map((job) => [job.name, job.state, job.error?.message ?? null])).toEqual(
      Object.values(made)
        .flat()
        .map((file) => [file.name, 'completed', null]),
    );
    const held = {
      // SelfCommunity gets the name in the multipart Content-Disposition the way browsers send it (the
      // WHATWG form encoding: UTF-8 bytes, `"` as %22); the emulator reads it as UTF-8, as Django does.
      sc: sc.media.map((m) => ({
        name: sc.uploads.get(m.uploadId)!.filename.replaceAll('%22', '"'),
        sha256: m.sha256,
      })),
      of: of.media.map((m) => ({ name: m.filename, sha256: m.sha256 })),
      t23: t23.photos.map((p) => ({ name: p.filename, sha256: p.sha256 })),
      xv: [...xv.uploads.values()]
        .filter((u) => u.stored)
        .map((u) => ({ name: u.objectKey.split('/').pop()!, sha256: u.stored!.sha256 })),
    };
    for (const account of Object.keys(made) as Array<keyof typeof made>) {
      const sort = (list: Array<{ name: string; sha256: string }>): string[] =>
        list.map((f) => `${f.name} ${f.sha256}`).sort();
      expect(sort(held[account]), account).toEqual(sort(made[account]!.map(({ name, sha256 }) => ({ name, sha256 }))));
    }
  }, 60_000);
});

describe('an account that cannot be reached', () => {
  it('a closed port fails the job after bounded retries, naming the refusal and the file', async () => {
    const h = fixtures.openEngine(await fixtures.tempDir('ferry-closed-'), {
      retry: { baseDelayMs: 5, maxDelayMs: 20 },
    });
    // A port that was free a moment ago and has nothing listening now.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as { port: number };
        server.close(() => resolve(free));
      });
    });
    await h.queue.accounts.add({
      provider: 'selfcommunity',
      name: 'closed',
      baseUrl: `http://127.0.0.1:${port}`,
      secrets: { accessToken: 'abcd' },
    });
    const file = await randomFile(await fixtures.tempDir('ferry-closed-files-'), 'closed.png', 1000);
    const [job] = await h.queue.enqueue('closed', [file.path]);
    h.engine.start();
    await within('the job to give up', 15_000, h.engine.whenIdle());
    const done = h.queue.jobs.get(job!.id)!;
    expect(done.state).toBe('failed');
    expect(done.attempts).toBe(9);
    expect(done.error).toMatchObject({
      kind: 'network',
      message: expect.stringMatching(/closed\.png.*ECONNREFUSED.*gave up after 9 attempts/),
    });
    expect(dbState(h)).toMatchObject({ integrity: 'ok', jobs: 1 });
  });
});

describe('hostile API payloads', () => {
  let api: FerryApi;
  let db: Db;
  let queue: Queue;
  let imagePath: string;

  beforeAll(async () => {
    const dir = await fixtures.tempDir('ferry-api-hostile-');
    ({ db, queue } = openTestQueue(dir));
    api = new FerryApi({
      queue,
      db,
      dataDir: dir,
      log: () => undefined,
      testConnection: async () => ({ ok: false, checked: 'nothing', message: 'not tested' }),
    });
    await api.start();
    imagePath = join(dir, 'photo.png');
    await writeFile(imagePath, Buffer.alloc(1000, 7));
    await api.invoke('accounts.add', {
      provider: 'selfcommunity',
      name: 'community',
      baseUrl: 'http://127.0.0.1:9',
      secrets: { accessToken: 'hostile-token-1234' },
    });
    await api.invoke('accounts.pause', { account: 'community' });
    await api.invoke('jobs.enqueue', { account: 'community', paths: [imagePath] });
  });
  afterAll(() => {
    api.close();
    db.close();
  });

  function deep(depth: number): unknown {
    let value: unknown = { account: 'community' };
    for (let i = 0; i < depth; i += 1) value = i % 2 ? [value] : { ids: value, account: value };
    return value;
  }

  const HOSTILE = (): unknown[] => [
    JSON.parse('{"__proto__":{"polluted":true,"account":"community","paths":["/etc/passwd"]}}'),
    JSON.parse('{"constructor":{"prototype":{"polluted":true}}}'),
    JSON.parse('{"account":"community","__proto__":{"isAdmin":true},"ids":[1]}'),
    JSON.parse(
      '{"settings":{"__proto__":{"polluted":true}},"secrets":{"__proto__":{"polluted":true}},"provider":"selfcommunity","name":"p"}',
    ),
    JSON.parse('{"options":{"__proto__":{"polluted":true}},"account":"community","paths":["/nonexistent.png"]}'),
    { toString: 'x', valueOf: 1, hasOwnProperty: 'y' },
    deep(2_000),
    { ids: Array.from({ length: 100_000 }, (_, i) => i + 1) },
    { account: 'x'.repeat(5_000_000), name: 'y'.repeat(1_000_000) },
    { paths: Array.from({ length: 10_000 }, () => '../../../../etc/passwd'), account: 'community' },
    { search: '%'.repeat(10_000), limit: 10 },
    { search: "' OR 1=1; DROP TABLE jobs; --", limit: 10 },
    { account: "community'; DROP TABLE accounts; --" },
    { name: '\u0000\uFFFF\uD800', account: '\uD800' },
    Object.create(null) as unknown,
    [[[[[[]]]]]],
    'x'.repeat(1_000_000),
    Number.MAX_VALUE,
  ];

  it('every command answers each with a well-formed envelope, never INTERNAL, and nothing is polluted or changed', async () => {
    const before = dbState({ db, queue });
    for (const command of COMMAND_NAMES) {
      // Commands that legitimately change things given a valid payload are fine: none of these is one.
      for (const [i, input] of HOSTILE().entries()) {
        const result = (await within(
          `${command} #${i}`,
          10_000,
          api.call(command as CommandName, input),
        )) as ApiResult<unknown>;
        expect(typeof result.ok, `${command} #${i}`).toBe('boolean');
        expect(JSON.stringify(result).length).toBeLessThan(200_000);
        if (!result.ok) {
          expect(result.error.code, `${command} #${i}: ${result.error.message}`).not.toBe('INTERNAL');
          expect(result.error.message).not.toMatch(/[\r\n]|\n\s+at |\.ts:\d+:\d+/);
        }
        expect(({} as Record<string, unknown>).polluted, `${command} #${i} polluted Object.prototype`).toBeUndefined();
        expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
      }
    }
    const after = dbState({ db, queue });
    expect(after.integrity).toBe('ok');
    expect(after.accounts).toBe(before.accounts);
    expect(after.jobs).toBeLessThanOrEqual(before.jobs);
    expect(queue.accounts.byName('community')).toBeDefined();
  }, 60_000);
});

describe('malformed command lines', () => {
  const TOKENS = [
    'providers',
    'accounts',
    'add',
    'list',
    'remove',
    'upload',
    'pause',
    'resume',
    'cancel',
    'retry',
    'sync',
    'bogus',
    '--json',
    '--all',
    '--account',
    '--name',
    '--base-url',
    '--set',
    '--secret',
    '--status',
    '--concurrency',
    '--bogus',
    '-x',
    '--',
    'selfcommunity',
    'ofauth',
    'nope',
    'community',
    '1',
    '0',
    '-1',
    'abc',
    '1.5',
    'a=b',
    '=b',
    'a',
    'ht!tp://x',
    'ftp://x',
    '/nonexistent/file.png',
    '../..',
    '',
    ' ',
    'фото',
    '"quoted"',
    "'",
    '\\',
    '%s%n',
    '$(rm -rf /)',
    'x'.repeat(2000),
    'queued',
    'flying',
  ];

  it('a seeded fuzz of 400 argv: exit 0, 1 or 2, at most one line on stderr, never a stack trace', async () => {
    const dataDir = await fixtures.tempDir('ferry-argv-');
    const rand = prng(20_250_601);
    const pick = (): string => TOKENS[Math.floor(rand() * TOKENS.length)]!;
    for (let i = 0; i < 400; i += 1) {
      const argv = Array.from({ length: Math.floor(rand() * 6) }, pick);
      let out = '';
      let err = '';
      const sink = (write: (text: string) => void): Writable =>
        new Writable({
          write: (chunk: Buffer, _enc, done) => {
            write(String(chunk));
            done();
          },
        });
      const code = await within(
        `ferry ${argv.join(' ')}`,
        5_000,
        main(['--data-dir', dataDir, ...argv], {
          out: sink((t) => (out += t)) as never,
          err: sink((t) => (err += t)),
          env: {},
        }),
      );
      const context = `#${i} ferry ${JSON.stringify(argv)} → ${code}: ${err}`;
      expect([0, 1, 2], context).toContain(code);
      expect(err, context).not.toMatch(/\n\s+at |unexpected error|\.ts:\d+/);
      expect(err.split('\n').filter((line) => line !== '').length, context).toBeLessThanOrEqual(1);
      if (code === 2) expect(err.trim(), context).not.toBe('');
      // No job can be produced by a malformed line: nothing ever starts an upload here.
      void out;
    }
    const { db, queue } = openTestQueue(dataDir);
    expect(dbState({ db, queue }).integrity).toBe('ok');
    db.close();
  }, 60_000);

  it('the real binary: exit 2 with a one-line reason for a missing command, a bad option and a bad value', async () => {
    const dataDir = await fixtures.tempDir('ferry-argv-bin-');
    const results = await Promise.all(
      [['accounts'], ['list', '--status', 'flying'], ['upload', '--account'], ['pause', 'abc']].map((argv) =>
        runFerry(dataDir, argv),
      ),
    );
    for (const result of results) {
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1);
      expect(result.stderr).not.toMatch(/\s+at /);
      expect(result.stdout).toBe('');
    }
    expect(results[0]!.stderr).toMatch(/ferry accounts --help/);
  }, 30_000);

  it('a data folder that cannot be made: exit 2 naming it, instead of hanging (a recursive mkdir loops under /proc on Node 24)', async () => {
    // runFerry's own deadline ends the test if the command hangs again.
    const result = await runFerry('/proc/ferry-cannot-exist/data', ['list'], { timeoutMs: 20_000 });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/Cannot create the data folder \/proc\/ferry-cannot-exist\/data: .*\(ENOENT\)/);
  }, 30_000);
});
