/**
 * `ferry sync ...` and `ferry run` with watched folders, as scripts use them: the command in a child
 * process on a temporary data folder, against the SelfCommunity emulator. Assertions are on exit
 * codes, stdout/stderr and what the emulator received.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSelfCommunitySandbox, type SelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { Fixtures, jsonLines, runFerry, sha256, waitFor, type FerryProcessResult } from '../support/ferryHarness.ts';

const fixtures = new Fixtures();

afterEach(async () => {
  await fixtures.cleanup();
});

/** Short stability checks so that `run --until-idle` does not wait a second per scan. */
const SYNC_ENV = {
  FERRY_SYNC_STABLE_CHECKS: '2',
  FERRY_SYNC_STABLE_INTERVAL_MS: '100',
  FERRY_MAX_JOBS: '8',
  FERRY_SYNC_QUIET_MS: '200',
};

interface Cli {
  data: string;
  watched: string;
  ferry(...args: string[]): Promise<FerryProcessResult>;
}

async function cli(): Promise<Cli> {
  const data = await fixtures.tempDir('ferry-synccli-data-');
  const watched = await fixtures.tempDir('ferry-synccli-watched-');
  return {
    data,
    watched,
    ferry: (...args) => runFerry(data, args, { timeoutMs: 30_000, env: SYNC_ENV }),
  };
}

async function account(c: Cli): Promise<SelfCommunitySandbox> {
  const sandbox = fixtures.track(await startSelfCommunitySandbox());
  const added = await c.ferry(
    'accounts',
    'add',
    'selfcommunity',
    '--name',
    'community',
    '--base-url',
    sandbox.url,
    '--secret',
    `accessToken=${sandbox.token}`,
  );
  expect(added.code).toBe(0);
  return sandbox;
}

async function drop(dir: string, name: string, size = 1_000): Promise<string> {
  const bytes = randomBytes(size);
  await writeFile(join(dir, name), bytes);
  return sha256(bytes);
}

function oneLine(text: string): string {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  expect(lines, `one line on stderr, got: ${text}`).toHaveLength(1);
  return lines[0]!;
}

describe('ferry sync', () => {
  it('adds, lists and removes watched folders, with exit code 2 and a one-line reason for bad input', async () => {
    const c = await cli();
    await account(c);
    const file = join(c.watched, 'not-a-folder.png');
    await writeFile(file, 'x');

    const [unknownAccount, missing, notFolder, badAction, noRule, badId] = await Promise.all([
      c.ferry('sync', 'add', '--account', 'nobody', c.watched),
      c.ferry('sync', 'add', '--account', 'community', join(c.watched, 'missing')),
      c.ferry('sync', 'add', '--account', 'community', file),
      c.ferry('sync', 'add', '--account', 'community', c.watched, '--after', 'shred'),
      c.ferry('sync', 'remove', '42'),
      c.ferry('sync', 'remove', 'first'),
    ]);
    expect(unknownAccount.code).toBe(2);
    expect(oneLine(unknownAccount.stderr)).toMatch(/No account named "nobody"/);
    expect(missing.code).toBe(2);
    expect(oneLine(missing.stderr)).toMatch(/no such folder/);
    expect(notFolder.code).toBe(2);
    expect(oneLine(notFolder.stderr)).toMatch(/not a folder/);
    expect(badAction.code).toBe(2);
    expect(badAction.stderr.split('\n')[0]).toMatch(/--after/);
    expect(noRule.code).toBe(2);
    expect(oneLine(noRule.stderr)).toMatch(/No sync rule #42/);
    expect(badId.code).toBe(2);

    const added = await c.ferry(
      'sync',
      'add',
      '--account',
      'community',
      c.watched,
      '--include',
      '*.png',
      '--include',
      '*.jpg',
      '--exclude',
      'raw/**',
      '--no-recursive',
      '--after',
      'move',
    );
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(/Added sync rule #1/);
    const twice = await c.ferry('sync', 'add', '--account', 'community', c.watched);
    expect(twice.code).toBe(2);
    expect(oneLine(twice.stderr)).toMatch(/already watched/);

    const listed = await c.ferry('sync', 'list', '--json');
    expect(listed.code).toBe(0);
    expect(jsonLines(listed.stdout)).toEqual([
      {
        event: 'sync-rule',
        id: 1,
        account: 'community',
        provider: 'selfcommunity',
        dir: c.watched,
        include: ['*.png', '*.jpg'],
        exclude: ['raw/**'],
        recursive: false,
        after: 'move',
        moveTo: 'uploaded',
        paused: false,
        createdAt: expect.any(Number),
        counts: { pending: 0, queued: 0, uploaded: 0, duplicate: 0, refused: 0, failed: 0 },
        problems: [],
      },
    ]);
    const human = await c.ferry('sync', 'list');
    expect(human.stdout).toContain(c.watched);

    const removed = await c.ferry('sync', 'remove', '1');
    expect(removed.code).toBe(0);
    const empty = await c.ferry('sync', 'list', '--json');
    expect(empty.code).toBe(0);
    expect(empty.stdout).toBe('');
  }, 60_000);

  it('"run --until-idle" uploads what was dropped in a watched folder while no Ferry ran, and only that', async () => {
    const c = await cli();
    const sandbox = await account(c);
    expect((await c.ferry('sync', 'add', '--account', 'community', c.watched)).code).toBe(0);
    const first = await Promise.all(['a.png', 'b.png', 'c.png'].map((name) => drop(c.watched, name)));

    const run1 = await c.ferry('run', '--until-idle', '--json');
    expect(run1.stderr).toBe('');
    expect(run1.code).toBe(0);
    const done1 = jsonLines(run1.stdout).filter((line) => line.event === 'job');
    expect(done1.map((line) => line.name).sort()).toEqual(['a.png', 'b.png', 'c.png']);
    expect(done1.every((line) => line.status === 'completed')).toBe(true);
    expect(sandbox.media.map((m) => m.sha256).sort()).toEqual([...first].sort());

    // While nothing runs: two new files, one in a new subfolder, and a rename of an uploaded one.
    await mkdir(join(c.watched, 'later'));
    const second = [await drop(c.watched, 'd.png'), await drop(join(c.watched, 'later'), 'e.png')];
    await rename(join(c.watched, 'a.png'), join(c.watched, 'a-renamed.png'));

    const run2 = await c.ferry('run', '--until-idle', '--json');
    expect(run2.code).toBe(0);
    expect(
      jsonLines(run2.stdout)
        .filter((line) => line.event === 'job')
        .map((line) => line.name)
        .sort(),
    ).toEqual(['d.png', 'e.png']);
    expect(sandbox.media).toHaveLength(5);
    expect(sandbox.media.map((m) => m.sha256).sort()).toEqual([...first, ...second].sort());

    const run3 = await c.ferry('run', '--until-idle', '--json');
    expect(run3.code).toBe(0);
    expect(jsonLines(run3.stdout).filter((line) => line.event === 'job')).toHaveLength(0);
    expect(sandbox.media).toHaveLength(5);

    const listed = jsonLines((await c.ferry('sync', 'list', '--json')).stdout);
    expect(listed[0]!.counts).toMatchObject({ uploaded: 5, duplicate: 1, queued: 0, pending: 0 });
  }, 60_000);

  it('"run" watches in the foreground and moves what it uploaded', async () => {
    const c = await cli();
    const sandbox = await account(c);
    expect((await c.ferry('sync', 'add', '--account', 'community', c.watched, '--after', 'move')).code).toBe(0);
    const running = fixtures.spawnFerry(c.data, ['run', '--json'], { env: SYNC_ENV, timeoutMs: 30_000 });

    const hash = await drop(c.watched, 'live.png');
    await waitFor(
      'the dropped file to be uploaded and moved',
      async () => {
        const moved = await stat(join(c.watched, 'uploaded', 'live.png')).catch(() => null);
        return sandbox.media.length === 1 && moved !== null;
      },
      20_000,
      50,
    );
    expect(sandbox.media[0]!.sha256).toBe(hash);

    running.child.kill('SIGTERM');
    const result = await running.exited;
    expect(result.code).toBe(0);
    expect(jsonLines(result.stdout).filter((line) => line.event === 'job')).toEqual([
      expect.objectContaining({ name: 'live.png', status: 'completed' }),
    ]);
  }, 60_000);

  it('"--after delete" puts uploaded files in Ferry\'s trash; "sync trash list" shows them and "sync trash restore" puts one back, never over a file', async () => {
    const c = await cli();
    const sandbox = await account(c);
    expect((await c.ferry('sync', 'add', '--account', 'community', c.watched, '--after', 'delete')).code).toBe(0);
    const hash = await drop(c.watched, 'gone.png');
    const run = await c.ferry('run', '--until-idle', '--json');
    expect(run.code).toBe(0);
    expect(sandbox.media.map((m) => m.sha256)).toEqual([hash]);
    await expect(stat(join(c.watched, 'gone.png'))).rejects.toThrow();

    const listed = await c.ferry('sync', 'trash', 'list', '--json');
    expect(listed.code).toBe(0);
    const [entry] = jsonLines(listed.stdout);
    expect(entry).toMatchObject({
      event: 'sync-trash',
      id: 1,
      path: join(c.watched, 'gone.png'),
      size: 1_000,
      sha256: hash,
      present: true,
    });
    expect(String(entry!.trashPath).startsWith(join(c.data, 'trash'))).toBe(true);
    expect((await c.ferry('sync', 'trash', 'list')).stdout).toContain(join(c.watched, 'gone.png'));

    await writeFile(join(c.watched, 'gone.png'), 'a new file with that name');
    const refused = await c.ferry('sync', 'trash', 'restore', '1');
    expect(refused.code).toBe(2);
    expect(oneLine(refused.stderr)).toMatch(/exists again and Ferry never restores over a file/);
    expect(await readFile(join(c.watched, 'gone.png'), 'utf8')).toBe('a new file with that name');

    await unlink(join(c.watched, 'gone.png'));
    const restored = await c.ferry('sync', 'trash', 'restore', '1');
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(sha256(await readFile(join(c.watched, 'gone.png')))).toBe(hash);
    expect((await c.ferry('sync', 'trash', 'list', '--json')).stdout).toBe('');
    const unknown = await c.ferry('sync', 'trash', 'restore', '7');
    expect(unknown.code).toBe(2);
    expect(oneLine(unknown.stderr)).toMatch(/No trash entry #7/);

    // The restored file is not uploaded or deleted again.
    const again = await c.ferry('run', '--until-idle', '--json');
    expect(again.code).toBe(0);
    expect(sha256(await readFile(join(c.watched, 'gone.png')))).toBe(hash);
    expect(sandbox.media).toHaveLength(1);
  }, 60_000);

  it('refuses a deleting rule over a folder another rule watches, with the reason', async () => {
    const c = await cli();
    await account(c);
    await mkdir(join(c.watched, 'inner'));
    expect((await c.ferry('sync', 'add', '--account', 'community', c.watched)).code).toBe(0);
    const refused = await c.ferry(
      'sync',
      'add',
      '--account',
      'community',
      join(c.watched, 'inner'),
      '--after',
      'delete',
    );
    expect(refused.code).toBe(2);
    expect(oneLine(refused.stderr)).toMatch(
      /is inside the folder of sync rule #1 .* this rule would delete its files, so a file could be gone before the other rule uploads it/,
    );
  }, 30_000);

  it('"sync settings" shows and changes the quiet period and the days in the trash, refusing bad values', async () => {
    const c = await cli();
    const shown = await c.ferry('sync', 'settings');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/syncQuietSeconds 60 /);
    expect(shown.stdout).toMatch(/syncTrashDays 30 /);
    const changed = await c.ferry('sync', 'settings', '--quiet-seconds', '120', '--trash-days', '7');
    expect(changed.code).toBe(0);
    expect((await c.ferry('sync', 'settings')).stdout).toMatch(/syncQuietSeconds 120 [\s\S]*syncTrashDays 7 /);
    const refused = await c.ferry('sync', 'settings', '--quiet-seconds', '0');
    expect(refused.code).toBe(2);
    // The API's settings.set refuses it, naming the setting (the option's help names it too).
    expect(oneLine(refused.stderr)).toMatch(/syncQuietSeconds: must be at least 1 second/);
  }, 30_000);
});
