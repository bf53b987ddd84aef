/**
 * The `ferry` command as scripts use it: `node bin/ferry.js --data-dir DIR ...` in a child process,
 * against the provider emulators over loopback HTTP. Assertions are on exit codes, on stdout/stderr
 * as the contract in docs/architecture.md ("The ferry command") describes them, and on what the emulators
 * received.
 */
import { randomBytes } from 'node:crypto';
import { readFile, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { SettingsStore } from '../../main/api/settingsStore.ts';
import { main } from '../../main/cli/main.ts';
import { openDatabase } from '../../main/db/database.ts';
import { getAdapter } from '../../main/providers/registry.ts';
import { startSelfCommunitySandbox, type SelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { startTwentyThreeSandbox, type TwentyThreeSandbox } from '../sandbox/twentythree.ts';
import {
  Fixtures,
  jsonLines,
  randomFile,
  resentCount,
  runFerry,
  sleep,
  waitFor,
  type FerryProcessResult,
} from '../support/ferryHarness.ts';

const SC_CHUNK = 204_800;
const SC_CHUNK_PATH = '/api/v2/media/upload/chunk/';
const T23_REDEEM_PATH = '/api/photo/redeem-upload-token';
/** Each test starts several processes (about half a second each); a busy machine needs more room. */
const CLI_TEST_TIMEOUT_MS = 90_000;
const JOB_FIELDS = [
  'event',
  'id',
  'account',
  'provider',
  'source',
  'name',
  'size',
  'status',
  'attempts',
  'result',
  'error',
];

const fixtures = new Fixtures();

afterEach(async () => {
  await fixtures.cleanup();
});

interface Cli {
  data: string;
  files: string;
  secret: string;
  /** Every stdout and stderr so far, to check that the secret never appears. */
  outputs: string[];
  ferry(...args: string[]): Promise<FerryProcessResult>;
}

async function cli(): Promise<Cli> {
  const data = await fixtures.tempDir('ferry-cli-data-');
  const files = await fixtures.tempDir('ferry-cli-files-');
  const outputs: string[] = [];
  return {
    data,
    files,
    secret: `sc-secret-${randomBytes(12).toString('hex')}`,
    outputs,
    async ferry(...args) {
      const result = await runFerry(data, args, { timeoutMs: 25_000 });
      outputs.push(result.stdout, result.stderr);
      return result;
    },
  };
}

async function communityAccount(c: Cli, name = 'community'): Promise<SelfCommunitySandbox> {
  const sandbox = fixtures.track(await startSelfCommunitySandbox({ token: c.secret }));
  const added = await c.ferry(
    'accounts',
    'add',
    'selfcommunity',
    '--name',
    name,
    '--base-url',
    sandbox.url,
    '--secret',
    `accessToken=${c.secret}`,
  );
  expect(added.stderr).toBe('');
  expect(added.code).toBe(0);
  return sandbox;
}

/** The secret is in the owner-only secrets file and nowhere else: not in any output, not in the database. */
async function expectSecretKept(c: Cli): Promise<void> {
  for (const text of c.outputs) expect(text).not.toContain(c.secret);
  const names = await readdir(c.data);
  expect(names).toContain('ferry.db');
  for (const name of names.filter((n) => n.startsWith('ferry.db'))) {
    expect((await readFile(join(c.data, name))).includes(c.secret), name).toBe(false);
  }
  const secrets = join(c.data, 'secrets.json');
  expect(await readFile(secrets, 'utf8')).toContain(c.secret);
  expect((await stat(secrets)).mode & 0o077).toBe(0);
}

function oneLine(text: string): string {
  const lines = text.split('\n').filter((line) => line !== '');
  expect(lines, text).toHaveLength(1);
  return lines[0]!;
}

describe('ferry command', () => {
  it(
    'lists the providers as JSON lines',
    async () => {
      const c = await cli();
      const result = await c.ferry('providers', '--json');
      expect(result.code).toBe(0);
      const providers = jsonLines(result.stdout);
      expect(providers.map((p) => p.id)).toEqual(expect.arrayContaining(['selfcommunity', 'twentythree']));
      expect(providers.every((p) => p.event === 'provider')).toBe(true);
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    'adds an account and lists its secrets only as "set"',
    async () => {
      const c = await cli();
      const sandbox = await communityAccount(c);
      const listed = await c.ferry('accounts', 'list', '--json');
      expect(listed.code).toBe(0);
      expect(jsonLines(listed.stdout)).toEqual([
        expect.objectContaining({
          event: 'account',
          name: 'community',
          provider: 'selfcommunity',
          baseUrl: sandbox.url,
          secrets: { accessToken: 'set' },
        }),
      ]);
      await expectSecretKept(c);
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    'uploads with --wait --json, prints the contract line of the finished job and exits 0',
    async () => {
      const c = await cli();
      const sandbox = await communityAccount(c);
      const file = await randomFile(c.files, 'cli-photo.png', 2 * SC_CHUNK + 5);

      const result = await c.ferry('upload', '--account', 'community', '--wait', '--json', file.path);

      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const finished = jsonLines(result.stdout).filter((line) => line.event === 'job');
      expect(finished).toHaveLength(1);
      const line = finished[0]!;
      expect(Object.keys(line).sort()).toEqual([...JOB_FIELDS].sort());
      expect(line).toMatchObject({
        account: 'community',
        provider: 'selfcommunity',
        source: file.path,
        name: 'cli-photo.png',
        size: file.bytes.length,
        status: 'completed',
        attempts: 1,
        error: null,
      });
      const outcome = line.result as Record<string, unknown>;
      expect(Object.keys(outcome).sort()).toEqual(['details', 'remoteId', 'url']);
      expect(sandbox.media).toHaveLength(1);
      expect(outcome.remoteId).toBe(String(sandbox.media[0]!.id));
      expect(sandbox.media[0]!.sha256).toBe(file.sha256);

      const completed = await c.ferry('list', '--json', '--status', 'completed');
      expect(completed.code).toBe(0);
      expect(jsonLines(completed.stdout)).toEqual([
        expect.objectContaining({ id: line.id, status: 'completed', bytesConfirmed: file.bytes.length }),
      ]);
      await expectSecretKept(c);
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    'runs the queue within the global limit of uploads at once that the window set (Settings)',
    async () => {
      const c = await cli();
      const sandbox = await communityAccount(c, 'first');
      for (const name of ['second', 'third']) {
        const added = await c.ferry(
          'accounts',
          'add',
          'selfcommunity',
          '--name',
          name,
          '--base-url',
          sandbox.url,
          '--secret',
          `accessToken=${c.secret}`,
        );
        expect(added.code, added.stderr).toBe(0);
      }
      const db = openDatabase(c.data);
      new SettingsStore(db).set({ globalConcurrency: 1 });
      db.close();
      // A slow server: three accounts' uploads would overlap if more than one ran at once.
      sandbox.fault({
        method: 'POST',
        path: '/api/v2/media/upload/chunk/',
        times: 100,
        action: { type: 'delay', ms: 100 },
      });
      for (const [i, name] of ['first', 'second', 'third'].entries()) {
        const file = await randomFile(c.files, `${name}.png`, 2 * SC_CHUNK + i);
        const queued = await c.ferry('upload', '--account', name, file.path);
        expect(queued.code, queued.stderr).toBe(0);
      }
      const ran = await c.ferry('run', '--until-idle');
      expect(ran.code, ran.stderr).toBe(0);
      expect(sandbox.media).toHaveLength(3);
      expect(sandbox.maxInFlight).toBe(1);
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    'exits 1 with a failed job line when an upload fails',
    async () => {
      const c = await cli();
      const sandbox = await communityAccount(c);
      const file = await randomFile(c.files, 'refused.png', 1_000);
      sandbox.fault({
        method: 'POST',
        path: SC_CHUNK_PATH,
        action: { type: 'status', status: 401, body: '{"detail":"Invalid token."}' },
      });

      const result = await c.ferry('upload', '--account', 'community', '--wait', '--json', file.path);

      expect(result.code).toBe(1);
      const line = jsonLines(result.stdout).find((l) => l.event === 'job')!;
      expect(line).toMatchObject({ status: 'failed', result: null, error: { kind: 'auth' } });
      expect(sandbox.media).toHaveLength(0);
      await expectSecretKept(c);
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    'refuses an unknown account, a missing file, a file over the limit and a malformed command line with exit 2',
    async () => {
      const c = await cli();
      const sandbox = await communityAccount(c);
      const file = await randomFile(c.files, 'ok.png', 10);

      const missingPath = join(c.files, 'missing.png');
      const big = join(c.files, 'huge.png');
      await writeFile(big, '');
      await truncate(big, 5_000_001);
      // Refused commands change nothing, so they can run side by side.
      const [unknown, missing, tooLarge, malformed, badStatus] = await Promise.all([
        c.ferry('upload', '--account', 'nobody', '--wait', file.path),
        c.ferry('upload', '--account', 'community', missingPath),
        c.ferry('upload', '--account', 'community', file.path, big),
        c.ferry('list', '--bogus'),
        c.ferry('list', '--status', 'sleeping'),
      ]);
      expect(unknown!.code).toBe(2);
      expect(oneLine(unknown!.stderr)).toMatch(/No account named "nobody"/);
      expect(missing!.code).toBe(2);
      expect(oneLine(missing!.stderr)).toContain(missingPath);
      expect(tooLarge!.code).toBe(2);
      expect(oneLine(tooLarge!.stderr)).toMatch(/huge\.png.*5,000,000 bytes/);
      expect(malformed!.code).toBe(2);
      expect(malformed!.stderr.split('\n')[0]).toMatch(/unknown option '--bogus'/);
      expect(badStatus!.code).toBe(2);

      // Nothing was queued by the refused commands (all or none), and nothing was sent.
      const listed = await c.ferry('list', '--json');
      expect(listed.code).toBe(0);
      expect(listed.stdout).toBe('');
      expect(sandbox.requests).toHaveLength(0);
      await expectSecretKept(c);
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    'exits 1 with a one-line message, not 70 and not a stack, when a command fails unexpectedly',
    async () => {
      const dir = await fixtures.tempDir('ferry-cli-odd-');
      // A data folder that is a file: nothing the API refuses, an error nobody planned for.
      const notAFolder = join(dir, 'data');
      await writeFile(notAFolder, 'x');
      let err = '';
      const sink = new Writable({
        write: (chunk: Buffer, _encoding, done) => {
          err += String(chunk);
          done();
        },
      });
      const code = await main(['--data-dir', notAFolder, 'accounts', 'list'], {
        out: sink as never,
        err: sink,
        env: {},
      });
      expect(code).toBe(1);
      expect(oneLine(err)).toMatch(/^ferry: unexpected error: .*data/);
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    'pauses, resumes, cancels and retries jobs by id and with --all, then runs the queue',
    async () => {
      const c = await cli();
      const sandbox = await communityAccount(c);
      const files = await Promise.all(
        ['one.png', 'two.png', 'three.png'].map((name, i) => randomFile(c.files, name, 1_000 * (i + 1))),
      );
      const queued = await c.ferry('upload', '--account', 'community', ...files.map((f) => f.path));
      expect(queued.code).toBe(0);
      const ids = jsonLines((await c.ferry('list', '--json')).stdout).map((job) => Number(job.id));
      expect(ids).toHaveLength(3);
      const [first, second] = ids as [number, number, number];

      // By id: one job paused and another canceled (side by side: they touch different jobs), then
      // resumed and retried.
      const [paused, canceled] = await Promise.all([
        c.ferry('pause', String(first)),
        c.ferry('cancel', String(second)),
      ]);
      expect(paused!.code).toBe(0);
      expect(paused!.stdout).toMatch(new RegExp(`#${first} one\\.png: paused`));
      expect(canceled!.stdout).toMatch(new RegExp(`#${second} two\\.png: canceled`));
      const listed = jsonLines((await c.ferry('list', '--json')).stdout);
      expect(listed.map((job) => job.status)).toEqual(['paused', 'canceled', 'queued']);
      const [resumed, retried] = await Promise.all([
        c.ferry('resume', String(first)),
        c.ferry('retry', String(second)),
      ]);
      expect(resumed!.stdout).toMatch(new RegExp(`#${first} one\\.png: queued`));
      expect(retried!.stdout).toMatch(new RegExp(`#${second} two\\.png: queued`));
      // Each --all count below shows that the command before it reached every job.
      expect((await c.ferry('pause', '--all')).stdout).toMatch(/^3 job\(s\) paused/);
      expect((await c.ferry('resume', '--all')).stdout).toMatch(/^3 job\(s\) resumed/);
      expect((await c.ferry('cancel', '--all')).stdout).toMatch(/^3 job\(s\) canceled/);
      expect((await c.ferry('retry', '--all')).stdout).toMatch(/^3 job\(s\) queued again/);

      const [noIds, unknownJob, both] = await Promise.all([
        c.ferry('pause'),
        c.ferry('cancel', '999'),
        c.ferry('pause', String(first), '--all'),
      ]);
      expect(noIds!.code).toBe(2);
      oneLine(noIds!.stderr);
      expect(unknownJob!.code).toBe(2);
      expect(oneLine(unknownJob!.stderr)).toMatch(/No job 999/);
      expect(both!.code).toBe(2);
      expect(sandbox.requests).toHaveLength(0);

      const ran = await c.ferry('run', '--until-idle', '--json');
      expect(ran.code).toBe(0);
      const finished = jsonLines(ran.stdout).filter((line) => line.event === 'job');
      expect(finished.map((line) => [line.id, line.status])).toEqual(
        expect.arrayContaining(ids.map((id) => [id, 'completed'])),
      );
      expect(finished).toHaveLength(3);
      expect(sandbox.media.map((m) => m.sha256).sort()).toEqual(files.map((f) => f.sha256).sort());

      const [completed, again] = await Promise.all([
        c.ferry('list', '--json', '--status', 'completed'),
        c.ferry('retry', String(first)),
      ]);
      expect(jsonLines(completed!.stdout).map((job) => job.id)).toEqual(ids);
      expect(again!.code).toBe(2);
      expect(oneLine(again!.stderr)).toMatch(/completed and cannot be retried/);
      await expectSecretKept(c);
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    'finishes a SelfCommunity upload after the process was killed mid-file, re-sending at most one chunk',
    async () => {
      const c = await cli();
      const sandbox = await communityAccount(c);
      const file = await randomFile(c.files, 'killed.png', 3_000_000);
      expect((await c.ferry('upload', '--account', 'community', file.path)).code).toBe(0);
      sandbox.fault({ method: 'POST', path: SC_CHUNK_PATH, times: 1_000, action: { type: 'delay', ms: 150 } });

      const running = fixtures.spawnFerry(c.data, ['run', '--until-idle', '--json'], { timeoutMs: 25_000 });
      await waitFor(
        'three accepted chunks',
        () => sandbox.chunkLog.filter((chunk) => chunk.status === 201).length >= 3,
        15_000,
      );
      running.child.kill('SIGKILL');
      const killed = await running.exited;
      expect(killed.signal).toBe('SIGKILL');
      c.outputs.push(killed.stdout, killed.stderr);
      expect(sandbox.media).toHaveLength(0);
      sandbox.clearFaults();
      const stored = jsonLines((await c.ferry('list', '--json')).stdout)[0]!;
      // SelfCommunity's acknowledgements are committed in batches after the first (ProviderCapabilities
      // .ackBatch): the kill may have forgotten the open batch, never the first chunk (its upload_id).
      expect(stored.bytesConfirmed).toBeGreaterThanOrEqual(SC_CHUNK);
      // A request the killed process had written may still be arriving; the rest come from the new run.
      await sleep(100);
      const before = sandbox.requests.length;

      const resumed = await c.ferry('run', '--until-idle', '--json');

      expect(resumed.code).toBe(0);
      expect(jsonLines(resumed.stdout).find((line) => line.event === 'job')).toMatchObject({ status: 'completed' });
      expect(sandbox.media).toHaveLength(1);
      expect(sandbox.media[0]!.sha256).toBe(file.sha256);
      expect(sandbox.completeCalls.filter((call) => call.status === 201)).toHaveLength(1);
      expect(sandbox.uploads.size).toBe(1);
      // The new run went on from the acknowledged offset, not from the start of the file.
      expect(sandbox.requests[before]?.headers['content-range']).toMatch(
        new RegExp(`^bytes ${String(stored.bytesConfirmed)}-`),
      );
      expect(resentCount(sandbox.chunkLog.map((chunk) => chunk.start))).toBeLessThanOrEqual(1);
      await expectSecretKept(c);
    },
    CLI_TEST_TIMEOUT_MS,
  );

  it(
    'finishes a TwentyThree upload after the process was killed mid-file, re-sending only chunks in flight or in the open batch',
    async () => {
      const c = await cli();
      const sandbox: TwentyThreeSandbox = fixtures.track(await startTwentyThreeSandbox());
      const added = await c.ferry(
        'accounts',
        'add',
        'twentythree',
        '--name',
        'videos',
        '--base-url',
        sandbox.url,
        '--secret',
        'consumerKey=ck',
        '--secret',
        'consumerSecret=cs',
        '--secret',
        'accessToken=at',
        '--secret',
        'accessTokenSecret=as',
        '--set',
        'chunkSize=65536',
      );
      expect(added.code).toBe(0);
      const file = await randomFile(c.files, 'killed.mp4', 3_000_000);
      expect((await c.ferry('upload', '--account', 'videos', file.path)).code).toBe(0);
      sandbox.fault({ method: 'POST', path: T23_REDEEM_PATH, times: 1_000, action: { type: 'delay', ms: 150 } });

      const running = fixtures.spawnFerry(c.data, ['run', '--until-idle', '--json'], { timeoutMs: 25_000 });
      await waitFor(
        'six accepted chunks',
        () => sandbox.chunks.filter((chunk) => chunk.status === 200).length >= 6,
        15_000,
      );
      running.child.kill('SIGKILL');
      expect((await running.exited).signal).toBe('SIGKILL');
      expect(sandbox.photos).toHaveLength(0);
      sandbox.clearFaults();

      const resumed = await c.ferry('run', '--until-idle', '--json');

      expect(resumed.code).toBe(0);
      expect(jsonLines(resumed.stdout).find((line) => line.event === 'job')).toMatchObject({ status: 'completed' });
      expect(sandbox.photos).toHaveLength(1);
      expect(sandbox.photos[0]!.sha256).toBe(file.sha256);
      expect(sandbox.completions).toBe(1);
      // One token, one file on the server; chunks go three at a time, so up to three were in flight, and
      // acknowledgements are committed in batches (ProviderCapabilities.ackBatch): a kill may forget
      // the open batch too, which is sent again and overwrites the same chunk numbers.
      expect(sandbox.tokens).toHaveLength(1);
      expect(new Set(sandbox.chunks.map((chunk) => chunk.identifier)).size).toBe(1);
      const batch = getAdapter('twentythree').capabilities.ackBatch?.parts ?? 0;
      expect(resentCount(sandbox.chunks.map((chunk) => chunk.number))).toBeLessThanOrEqual(3 + batch + 3);
    },
    CLI_TEST_TIMEOUT_MS,
  );
});
