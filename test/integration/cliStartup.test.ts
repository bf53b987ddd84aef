/**
 * What the `ferry` command loads before it answers. Commands that need neither the queue nor the API
 * (`ferry providers`, `--help`) must not load the adapters, the HTTP client, zod or SQLite: those are
 * most of its start-up time (docs/performance.md, "Round two"). Checked by module, not by the clock:
 * the child records every module it loaded (test/support/loadedModules.ts). `ferry accounts list`,
 * which does need the API, is the control that shows the recording sees those modules.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../main/cli/main.ts';
import { FerryApi } from '../../main/api/ferryApi.ts';
import { openDatabase } from '../../main/db/database.ts';
import { Queue } from '../../main/engine/queue.ts';
import { getAdapter } from '../../main/providers/registry.ts';
import { FileSecretStore } from '../../main/secrets/fileSecretStore.ts';
import { Fixtures, REPO_ROOT, childEnv, runFerry } from '../support/ferryHarness.ts';
import { Writable } from 'node:stream';

const fixtures = new Fixtures();
afterEach(async () => {
  await fixtures.cleanup();
});

const HOOK = join(REPO_ROOT, 'test', 'support', 'loadedModules.ts');
const run = promisify(execFile);
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

/** Runs `ferry ARGS` exactly as given (runFerry puts `--data-dir DIR` first). */
async function asTyped(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const node = join(REPO_ROOT, 'node_modules', '.bin', 'node');
  try {
    const { stdout, stderr } = await run(node, [join(REPO_ROOT, 'bin', 'ferry.js'), ...args], {
      env: childEnv(env),
      timeout: 25_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? null, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
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
      // As typed (no --data-dir first), answered before the command-line parser loads (cli/fastPath.ts).
      const list = join(await fixtures.tempDir('ferry-startup-list-'), 'modules.txt');
      const quick = await asTyped(['providers', '--json'], {
        NODE_OPTIONS: `--import=${HOOK}`,
        FERRY_TEST_LOADED_MODULES: list,
      });
      expect(quick.code).toBe(0);
      expect(quick.stdout).toBe(providers.stdout);
      const quickModules = (await readFile(list, 'utf8')).split('\n').filter((line) => line !== '');
      expect(quickModules.join('\n')).toContain('/main/cli/fastPath.');
      expect(heavyIn(quickModules)).toEqual([]);
      expect(quickModules.filter((url) => /\/node_modules\/commander\/|\/main\/cli\/main\.[jt]s$/.test(url))).toEqual(
        [],
      );

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
    '"ferry list" and "ferry pause --all" answer through the API without the adapters, HTTP client, proxy agents or media-type table',
    async () => {
      const adapterCode = [
        /\/node_modules\/got\//,
        /\/node_modules\/https?-proxy-agent\//,
        /\/node_modules\/cli-progress\//,
        /\/main\/providers\/registry\.[jt]s$/,
        /\/main\/providers\/\w+\/\w+Adapter\.[jt]s$/,
        /\/main\/providers\/http\.[jt]s$/,
        /\/main\/api\/connectionTest\.[jt]s$/,
        // Only an enqueue looks up media types (engine/queue.ts loads the table then).
        /\/node_modules\/mime-(types|db)\//,
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

  it('"ferry providers" prints the same bytes before and through the command-line parser', async () => {
    const dataDir = join(await fixtures.tempDir('ferry-startup-same-'), 'data');
    for (const json of [false, true]) {
      const flags = json ? ['--json'] : [];
      // As typed: bin/ferry.js answers. With --data-dir first: commander parses and main.ts answers.
      const quick = await asTyped(['providers', ...flags]);
      const parsed = await runFerry(dataDir, ['--data-dir', dataDir, 'providers', ...flags], { timeoutMs: 25_000 });
      let inProcess = '';
      const out = new Writable({
        write(chunk: Buffer, _encoding, done) {
          inProcess += chunk.toString();
          done();
        },
      });
      expect(await main(['providers', ...flags], { out })).toBe(0);
      expect([quick.code, parsed.code]).toEqual([0, 0]);
      expect(quick.stderr + parsed.stderr).toBe('');
      expect(quick.stdout).toContain(json ? '"id":"selfcommunity"' : 'selfcommunity');
      expect(quick.stdout).toBe(parsed.stdout);
      expect(quick.stdout).toBe(inProcess);
    }
  });

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
