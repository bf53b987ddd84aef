/**
 * Every command validates its input: a table of malformed inputs per command (each must come back as
 * INVALID_INPUT with a one-line message naming the field), and a seeded loop of random JSON values
 * per command (nothing throws, nothing is INTERNAL, every answer is a well-formed envelope).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiResult, CommandName } from '../../main/api/contract.ts';
import { COMMAND_NAMES } from '../../main/api/contract.ts';
import { FerryApi } from '../../main/api/ferryApi.ts';
import type { Db } from '../../main/db/database.ts';
import type { Queue } from '../../main/engine/queue.ts';
import { Fixtures } from '../support/ferryHarness.ts';
import { openTestQueue } from '../support/testQueue.ts';

const fixtures = new Fixtures();
let api: FerryApi;
let db: Db;
let queue: Queue;
let imagePath: string;
const logged: unknown[] = [];

beforeAll(async () => {
  const dir = await fixtures.tempDir('ferry-api-validation-');
  ({ db, queue } = openTestQueue(dir));
  api = new FerryApi({
    queue,
    db,
    dataDir: dir,
    log: (message, error) => logged.push([message, error]),
    // Connection tests would go to the network: the loop only needs them to be reachable.
    testConnection: async () => ({ ok: false, checked: 'nothing (test double)', message: 'not tested' }),
  });
  await api.start();
  imagePath = join(dir, 'photo.png');
  await writeFile(imagePath, Buffer.alloc(1000, 7));
  const added = await api.invoke('accounts.add', {
    provider: 'selfcommunity',
    name: 'community',
    baseUrl: 'http://127.0.0.1:9',
    secrets: { accessToken: 'validation-token-123' },
  });
  expect(added.ok).toBe(true);
});

afterAll(async () => {
  api.close();
  db.close();
  await fixtures.cleanup();
});

function expectEnvelope(result: ApiResult<unknown>): void {
  expect(typeof result.ok).toBe('boolean');
  expect(() => JSON.stringify(result)).not.toThrow();
  if (result.ok) {
    expect(result).toHaveProperty('value');
  } else {
    expect(['INVALID_INPUT', 'NOT_FOUND', 'CONFLICT', 'INTERNAL']).toContain(result.error.code);
    expect(typeof result.error.message).toBe('string');
    expect(result.error.message.length).toBeGreaterThan(0);
    expect(result.error.message).not.toMatch(/[\r\n]/);
    expect(result.error.message).not.toMatch(/\n\s+at |\.ts:\d+:\d+/);
  }
}

/** Malformed inputs per command, each with the field its message must name. */
const MALFORMED: Record<CommandName, Array<[input: unknown, field: string | RegExp]>> = {
  'app.status': [
    [{ verbose: true }, /unknown field "verbose"/],
    [[1], 'input'],
    ['status', 'input'],
  ],
  'providers.list': [
    [{ id: 'ofauth' }, /unknown field "id"/],
    [42, 'input'],
    [[], 'input'],
  ],
  'accounts.list': [
    [{ provider: 'x' }, /unknown field "provider"/],
    [true, 'input'],
  ],
  'accounts.add': [
    [{}, 'provider'],
    [{ provider: 'selfcommunity' }, 'name'],
    [{ provider: 'selfcommunity', name: '   ' }, 'name'],
    [{ provider: 'selfcommunity', name: 'x', concurrency: 0 }, 'concurrency'],
    [{ provider: 'selfcommunity', name: 'x', concurrency: 1.5 }, 'concurrency'],
    [{ provider: 'selfcommunity', name: 'x', secrets: { accessToken: 7 } }, 'secrets.accessToken'],
    [{ provider: 'selfcommunity', name: 'x', settings: { 'bad key': 'v' } }, 'settings'],
    [{ provider: 'selfcommunity', name: 'x', baseUrl: 5 }, 'baseUrl'],
    [{ provider: 'selfcommunity', name: 'x', colour: 'red' }, /unknown field "colour"/],
    [{ provider: 'nope', name: 'x' }, /Unknown provider "nope"/],
    [{ provider: 'selfcommunity', name: 'x', baseUrl: 'http://127.0.0.1:9' }, /Access token/],
    [
      { provider: 'selfcommunity', name: 'x', baseUrl: 'http://127.0.0.1:9', secrets: { apiKey: 'k' } },
      /no secret "apiKey"/,
    ],
    [null, 'input'],
  ],
  'accounts.update': [
    [{}, 'account'],
    [{ account: '' }, 'account'],
    [{ account: 'community', name: '' }, 'name'],
    [{ account: 'community', concurrency: 99 }, 'concurrency'],
    [{ account: 'community', secrets: [] }, 'secrets'],
    [{ account: 'community', settings: { region: 'eu' } }, /no setting "region"/],
    [{ account: 'community', baseUrl: 'ftp://example.com' }, /base URL/],
  ],
  'accounts.remove': [
    [{}, 'account'],
    [{ account: 12 }, 'account'],
    [{ account: 'x', force: true }, /unknown field "force"/],
  ],
  'accounts.test': [
    [{}, 'account'],
    [{ account: ['community'] }, 'account'],
  ],
  'accounts.pause': [
    [{}, 'account'],
    [{ name: 'community' }, /account/],
  ],
  'accounts.resume': [
    [{}, 'account'],
    ['community', 'input'],
  ],
  'accounts.setConcurrency': [
    [{ account: 'community' }, 'concurrency'],
    [{ account: 'community', concurrency: -1 }, 'concurrency'],
    [{ account: 'community', concurrency: '2' }, 'concurrency'],
  ],
  'jobs.enqueue': [
    [{ account: 'community' }, 'paths'],
    [{ account: 'community', paths: [] }, 'paths'],
    [{ account: 'community', paths: [''] }, 'paths[0]'],
    [{ account: 'community', paths: ['a\u0000b'] }, 'paths[0]'],
    [{ account: 'community', paths: 'file.png' }, 'paths'],
    [{ account: 'community', paths: ['/x.png'], options: { title: 1 } }, 'options.title'],
    [{ paths: ['/x.png'] }, 'account'],
  ],
  'jobs.list': [
    [{ limit: 0 }, 'limit'],
    [{ limit: 5000 }, 'limit'],
    [{ offset: -1 }, 'offset'],
    [{ states: ['flying'] }, 'states[0]'],
    [{ states: 'queued' }, 'states'],
    [{ accountId: 'community' }, 'accountId'],
    [{ search: 5 }, 'search'],
    [{ sort: 'name' }, /unknown field "sort"/],
  ],
  'jobs.get': [
    [{}, 'id'],
    [{ id: '1' }, 'id'],
    [{ id: 0 }, 'id'],
    [{ id: 1.5 }, 'id'],
    [{ ids: [1] }, /id/],
  ],
  'jobs.pause': [
    [{}, 'ids'],
    [{ ids: [] }, 'ids'],
    [{ ids: ['1'] }, 'ids[0]'],
    [{ ids: 1 }, 'ids'],
  ],
  'jobs.resume': [
    [{}, 'ids'],
    [{ ids: [-3] }, 'ids[0]'],
  ],
  'jobs.cancel': [
    [{}, 'ids'],
    [{ ids: [null] }, 'ids[0]'],
  ],
  'jobs.retry': [
    [{}, 'ids'],
    [{ ids: [Number.MAX_SAFE_INTEGER + 2] }, 'ids[0]'],
  ],
  'jobs.remove': [
    [{}, 'ids'],
    [{ ids: [{}] }, 'ids[0]'],
  ],
  'jobs.pauseAll': [
    [{ all: true }, /unknown field "all"/],
    [1, 'input'],
  ],
  'jobs.resumeAll': [
    [{ ids: [1] }, /unknown field "ids"/],
    ['all', 'input'],
  ],
  'jobs.moveToTop': [
    [{}, 'ids'],
    [{ ids: [0] }, 'ids[0]'],
  ],
  'jobs.summary': [
    [{ all: true }, /unknown field "all"/],
    [1, 'input'],
  ],
  'history.list': [
    [{ states: ['queued'] }, 'states[0]'],
    [{ limit: 1001 }, 'limit'],
    [{ offset: 0.5 }, 'offset'],
  ],
  'history.export': [
    [{}, 'format'],
    [{ format: 'xml' }, 'format'],
    [{ format: 'csv', states: ['paused'] }, 'states[0]'],
  ],
  'settings.get': [[{ key: 'theme' }, /unknown field "key"/]],
  'settings.set': [
    [{ globalConcurrency: 0 }, 'globalConcurrency'],
    [{ globalConcurrency: 2.5 }, 'globalConcurrency'],
    [{ bandwidthCapKbps: 512 }, /unknown field "bandwidthCapKbps"/],
    [{ bwlimit: '8:0x,512K' }, /bwlimit: "8:0x,512K" — "8:0x" is not a time \(HH:MM\)/],
    [{ bwlimit: '2X' }, /bwlimit: "2X" — "2X" is not a rate/],
    [{ closeToTray: 'yes' }, 'closeToTray'],
    [{ startAtLogin: 1 }, 'startAtLogin'],
    [{ notifications: null }, 'notifications'],
    [{ theme: 'blue' }, 'theme'],
    [{ fontSize: 12 }, /unknown field "fontSize"/],
    [[], 'input'],
  ],
  'sync.list': [
    [{ id: 1 }, /unknown field "id"/],
    ['rules', 'input'],
  ],
  'sync.add': [
    [{}, 'account'],
    [{ account: 'community' }, 'dir'],
    [{ account: 'community', dir: '' }, 'dir'],
    [{ account: 'community', dir: '/tmp/a\u0000b' }, 'dir'],
    [{ account: 'community', dir: '/tmp', include: '*.png' }, 'include'],
    [{ account: 'community', dir: '/tmp', include: ['  '] }, 'include[0]'],
    [{ account: 'community', dir: '/tmp', exclude: [7] }, 'exclude[0]'],
    [{ account: 'community', dir: '/tmp', recursive: 'yes' }, 'recursive'],
    [{ account: 'community', dir: '/tmp', afterUpload: 'shred' }, 'afterUpload'],
    [{ account: 'community', dir: '/tmp', moveTo: '' }, 'moveTo'],
    [{ account: 'community', dir: '/tmp', watch: true }, /unknown field "watch"/],
    [{ account: 'community', dir: 'relative/folder' }, /absolute path/],
    [{ account: 'community', dir: '/no/such/ferry/folder' }, /no such folder/],
    [{ account: 'community', dir: '/tmp', afterUpload: 'move', moveTo: '../elsewhere' }, /plain subfolder name/],
  ],
  'sync.remove': [
    [{}, 'id'],
    [{ id: 'one' }, 'id'],
    [{ id: 0 }, 'id'],
  ],
  'sync.pause': [
    [{}, 'id'],
    [{ id: 1.5 }, 'id'],
  ],
  'sync.resume': [
    [{ ids: [1] }, /unknown field "ids"/],
    [null, 'input'],
  ],
  'sync.pauseAll': [[{ all: true }, /unknown field "all"/]],
  'sync.resumeAll': [['all', 'input']],
  'sync.trashList': [[{ all: true }, /unknown field "all"/]],
  'sync.trashRestore': [
    [{}, 'id'],
    [{ id: 'one' }, 'id'],
    [{ id: -1 }, 'id'],
  ],
};

describe('every command rejects malformed input with a readable INVALID_INPUT', () => {
  it('covers every command of the contract', () => {
    expect(Object.keys(MALFORMED).sort()).toEqual([...COMMAND_NAMES].sort());
  });

  for (const command of COMMAND_NAMES) {
    for (const [input, field] of MALFORMED[command]) {
      it(`${command} ${JSON.stringify(input)}`, async () => {
        const result = await api.call(command, input);
        expectEnvelope(result);
        expect(result.ok).toBe(false);
        if (result.ok) return;
        expect(result.error.code).toBe('INVALID_INPUT');
        if (typeof field === 'string') expect(result.error.message).toContain(field);
        else expect(result.error.message).toMatch(field);
      });
    }
  }

  it('names the command and the field in one line', async () => {
    const result = await api.call('jobs.list', { limit: 5000 });
    expect(result).toEqual({
      ok: false,
      error: { code: 'INVALID_INPUT', message: 'Invalid input for jobs.list: limit: must be at most 1000' },
    });
  });

  it('refuses an unknown command with NOT_FOUND', async () => {
    for (const command of ['jobs.explode', '__proto__', 'constructor', '']) {
      const result = await api.call(command, {});
      expectEnvelope(result);
      expect(result).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    }
  });
});

describe('base URLs: plain http only to this computer', () => {
  const add = (baseUrl: string, name: string): Promise<ApiResult<unknown>> =>
    api.call('accounts.add', {
      provider: 'selfcommunity',
      name,
      baseUrl,
      secrets: { accessToken: 'validation-token-123' },
    });

  it.each([
    'http://community.example.com',
    'http://community.example.com:8080/api/',
    'http://10.0.0.5',
    'http://192.168.1.20:9000',
    'http://[fe80::1]',
    'http://127.0.0.1.example.com',
    'http://localhost.example.com',
    'http://[::ffff:7f00:1]',
  ])('refuses %s on accounts.add and accounts.update, naming the URL and saying to use https', async (url) => {
    for (const result of [
      await add(url, `insecure ${url}`),
      await api.call('accounts.update', { account: 'community', baseUrl: url }),
    ]) {
      expectEnvelope(result);
      expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
      if (result.ok) return;
      expect(result.error.message).toContain(`"${url}"`);
      expect(result.error.message).toMatch(/unencrypted; use https:\/\//);
    }
    expect(queue.accounts.byName(`insecure ${url}`)).toBeUndefined();
    expect(queue.accounts.byName('community')!.baseUrl).toBe('http://127.0.0.1:9');
  });

  it.each([
    'http://127.0.0.1:9',
    'http://127.1.2.3:9',
    'http://localhost:9',
    'http://[::1]:9',
    'https://community.example.com',
  ])('accepts %s', async (url) => {
    const result = await add(url, `allowed ${url}`);
    expect(result, JSON.stringify(result)).toMatchObject({ ok: true });
    expect(await api.call('accounts.update', { account: `allowed ${url}`, baseUrl: url })).toMatchObject({ ok: true });
    expect(await api.call('accounts.remove', { account: `allowed ${url}` })).toMatchObject({ ok: true });
  });
});

// Seeded random payloads -------------------------------------------------------------------------------

/** mulberry32: a tiny deterministic PRNG, so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = [
  'account',
  'name',
  'provider',
  'baseUrl',
  'settings',
  'secrets',
  'concurrency',
  'paths',
  'options',
  'states',
  'accountId',
  'search',
  'limit',
  'offset',
  'id',
  'ids',
  'format',
  'globalConcurrency',
  'bwlimit',
  'closeToTray',
  'startAtLogin',
  'notifications',
  'theme',
  'accessToken',
  'title',
  '__proto__',
  'constructor',
  'toString',
  'x',
];
const STRINGS = [
  '',
  'a',
  'community',
  'selfcommunity',
  'ofauth',
  'queued',
  'completed',
  'csv',
  'json',
  'dark',
  '../x',
  'a/b',
  '\u0000',
  'ü名前',
  '😀',
  'x'.repeat(5000),
  '__proto__',
  'http://127.0.0.1:9',
  'javascript:alert(1)',
  '%s%n',
  '{"a":1}',
  'null',
  '1e309',
];
const NUMBERS = [
  0,
  -0,
  1,
  -1,
  2,
  7,
  100,
  1001,
  1.5,
  -2.5,
  2 ** 31,
  2 ** 53,
  Number.MAX_SAFE_INTEGER + 2,
  1e308,
  Number.NaN,
  Infinity,
  -Infinity,
];

function randomValue(rand: () => number, depth = 0): unknown {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const kind = Math.floor(rand() * (depth > 2 ? 6 : 10));
  switch (kind) {
    case 0:
      return null;
    case 1:
      return rand() < 0.5;
    case 2:
      return pick(NUMBERS);
    case 3:
      return Math.floor((rand() - 0.5) * 2_000_000);
    case 4:
    case 5:
      return pick(STRINGS);
    case 6:
      return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
    default: {
      // Objects use the contract's own field names most of the time, so that many payloads get past
      // the first check and exercise the deeper ones.
      const object: Record<string, unknown> = {};
      const count = Math.floor(rand() * 5);
      for (let i = 0; i < count; i += 1) {
        Object.defineProperty(object, pick(KEYS), {
          value: randomValue(rand, depth + 1),
          enumerable: true,
          configurable: true,
          writable: true,
        });
      }
      return object;
    }
  }
}

describe('randomized payloads', () => {
  for (const command of COMMAND_NAMES) {
    it(`${command}: 200 random JSON values answer with well-formed envelopes, never INTERNAL`, async () => {
      const seed = [...command].reduce((sum, char) => sum * 31 + char.charCodeAt(0), 7) >>> 0;
      const rand = prng(seed);
      for (let i = 0; i < 200; i += 1) {
        const input = randomValue(rand);
        let result: ApiResult<unknown> | undefined;
        await expect(
          (async () => {
            result = await api.call(command, input);
          })(),
        ).resolves.toBeUndefined();
        expectEnvelope(result!);
        if (!result!.ok)
          expect(result!.error.code, `seed ${seed} #${i}: ${JSON.stringify(input)?.slice(0, 200)}`).not.toBe(
            'INTERNAL',
          );
      }
    });
  }

  it('logged nothing unexpected', () => {
    expect(logged).toEqual([]);
  });
});
