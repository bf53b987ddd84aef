/**
 * What the `ferry` command loads before it answers. Commands that need neither the queue nor the API
 * (`ferry providers`, `--help`) must not load the adapters, the HTTP client, zod or SQLite: those are
 * most of its start-up time (docs/performance.md, "Round two"). Checked by module, not by the clock:
 * the child records every module it loaded (test/support/loadedModules.ts). `ferry accounts list`,
 * which does need the API, is the control that shows the recording sees those modules.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../main/cli/main.ts';
import { FerryApi } from '../../main/api/ferryApi.ts';
import { openDatabase } from '../../main/db/database.ts';
import { Queue } from '../../main/engine/queue.ts';
import { getAdapter } from '../../main/providers/registry.ts';
import { FileSecretStore } from '../../main/secrets/fileSecretStore.ts';
import { Fixtures, REPO_ROOT, runFerry } from '../support/ferryHarness.ts';
import { Writable } from 'node:stream';

const fixtures = new Fixtures();
afterEach(async () => {
  await fixtures.cleanup();
});

const HOOK = join(REPO_ROOT, 'test', 'support', 'loadedModules.ts');
const TIMEOUT_MS = 60_000;

/** Runs `ferry ARGS` on a fresh data folder and returns its exit code and the modules it loaded. */
async function loadedBy(...args: string[]): Promise<{ code: number | null; stdout: string; modules: string[] }> {
  const data = await fixtures.tempDir('ferry-startup-data-');
  const list = join(await fixtures.tempDir('ferry-startup-list-'), 'modules.txt');
  const result = await runFerry(join(data, 'data'), args, {
    env: { NODE_OPTIONS: `--import=${HOOK}`, FERRY_TEST_LOADED_MODULES: list },
    timeoutMs: 25_000,
  });
  const modules = (await readFile(list, 'utf8')).split('\n').filter((line) => line !== '');
  return { code: result.code, stdout: result.stdout, modules };
}

/** Modules that only commands using the queue or the API may load. */
const HEAVY = [
  /\/node_modules\/zod\//,
  /\/node_modules\/got\//,
  /\/node_modules\/cli-progress\//,
  /\/node_modules\/chokidar\//,
  /\/node_modules\/ws\//,
  /\/node_modules\/electron-log\//,
  /\/node_modules\/https?-proxy-agent\//,
  /^node:sqlite$/,
  /\/main\/providers\/registry\.[jt]s$/,
  /\/main\/api\/ferryApi\.[jt]s$/,
  /\/main\/engine\/queue\.[jt]s$/,
];
const heavyIn = (modules: string[]): string[] => modules.filter((url) => HEAVY.some((pattern) => pattern.test(url)));

describe('ferry start-up', () => {
  it(
    '"ferry providers" and "ferry --help" load no adapter, HTTP client, zod or database',
    async () => {
      const providers = await loadedBy('providers', '--json');
      expect(providers.code).toBe(0);
      expect(providers.stdout).toContain('"id":"twentythree"');
      expect(heavyIn(providers.modules)).toEqual([]);

      const help = await loadedBy('--help');
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('providers');
      expect(heavyIn(help.modules)).toEqual([]);

      // The control: a command that answers through the API loads what the two above must not.
      const accounts = await loadedBy('accounts', 'list');
      expect(accounts.code).toBe(0);
      const heavy = heavyIn(accounts.modules).join('\n');
      for (const expected of ['/node_modules/zod/', 'node:sqlite', '/main/providers/registry.', '/main/api/ferryApi.'])
        expect(heavy).toContain(expected);
    },
    TIMEOUT_MS,
  );

  it(
    '"ferry list" and "ferry pause --all" answer through the API without the adapters, HTTP client or proxy agents',
    async () => {
      const adapterCode = [
        /\/node_modules\/got\//,
        /\/node_modules\/https?-proxy-agent\//,
        /\/node_modules\/cli-progress\//,
        /\/main\/providers\/registry\.[jt]s$/,
        /\/main\/providers\/\w+\/\w+Adapter\.[jt]s$/,
        /\/main\/providers\/http\.[jt]s$/,
        /\/main\/api\/connectionTest\.[jt]s$/,
      ];
      for (const args of [['list', '--json'], ['list'], ['pause', '--all']]) {
        const run = await loadedBy(...args);
        expect(run.code, args.join(' ')).toBe(0);
        expect(
          run.modules.filter((url) => adapterCode.some((pattern) => pattern.test(url))),
          args.join(' '),
        ).toEqual([]);
        // It did answer through the API, on the database.
        const loaded = run.modules.join('\n');
        for (const expected of ['/main/api/ferryApi.', '/main/api/commands.', 'node:sqlite'])
          expect(loaded, args.join(' ')).toContain(expected);
      }
    },
    TIMEOUT_MS,
  );

  it('"ferry providers --json" prints what the API\'s providers.list answers', async () => {
    const dataDir = await fixtures.tempDir('ferry-startup-api-');
    const db = openDatabase(dataDir);
    const api = new FerryApi({
      queue: new Queue({ adapterFor: getAdapter, db, secrets: new FileSecretStore(dataDir) }),
      db,
      dataDir,
      engine: { running: false, note: null },
      log: () => undefined,
    });
    let printed = '';
    try {
      const answer = await api.invoke('providers.list', undefined);
      if (!answer.ok) throw new Error(answer.error.message);
      const out = new Writable({
        write(chunk: Buffer, _encoding, done) {
          printed += chunk.toString();
          done();
        },
      });
      expect(await main(['--data-dir', dataDir, 'providers', '--json'], { out })).toBe(0);
      const lines = printed
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      // The command's fields leave out a field's unset parts (default, hint, choices), as it always did.
      expect(lines).toEqual(
        answer.value.map((provider) => ({
          event: 'provider',
          id: provider.id,
          name: provider.name,
          sources: provider.capabilities.sources,
          baseUrlRequired: provider.capabilities.baseUrlRequired,
          defaultBaseUrl: provider.capabilities.defaultBaseUrl,
          fields: provider.fields.map((field) =>
            Object.fromEntries(Object.entries(field).filter(([, value]) => value !== null)),
          ),
        })),
      );
    } finally {
      api.close();
      db.close();
    }
  });
});
