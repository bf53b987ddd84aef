/**
 * Files handed to Ferry from outside the window: launch arguments (first launch and a second one
 * forwarded by the single-instance lock), and where they are queued — the account last used from the
 * window, remembered in the settings table — on a real queue in a temporary data folder. Also the
 * desktop core around it (API, engine with the run lock, tray status, start at login) with a fake
 * shell, and the Linux autostart entry.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiResult, JobView } from '../../main/api/contract.ts';
import { FerryApi } from '../../main/api/ferryApi.ts';
import { startDesktopCore, type DesktopShell } from '../../main/app/desktopCore.ts';
import { FileIntake } from '../../main/app/fileIntake.ts';
import { LastAccountStore } from '../../main/app/lastAccount.ts';
import { parseLaunchArgs } from '../../main/app/launchArgs.ts';
import { autostartDesktopEntry, quoteExecArgument, setLinuxAutostart } from '../../main/app/loginItem.ts';
import type { BatchedNotification } from '../../main/app/notificationBatcher.ts';
import type { TrayView } from '../../main/app/overallProgress.ts';
import { openDatabase, type Db } from '../../main/db/database.ts';
import type { Queue } from '../../main/engine/queue.ts';
import { acquireRunLock } from '../../main/engine/runLock.ts';
import { startSelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { Fixtures, waitFor } from '../support/ferryHarness.ts';
import { openTestQueue } from '../support/testQueue.ts';

const fixtures = new Fixtures();
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await fixtures.cleanup();
});

describe('launch arguments', () => {
  const packaged = { defaultApp: false, cwd: '/home/me/Videos', appPath: '/opt/Ferry/resources/app.asar' };
  const unpackaged = { defaultApp: true, cwd: '/home/me/Videos', appPath: '/work/ferry' };

  it('takes files after the executable, resolved against the launch folder', () => {
    expect(parseLaunchArgs(['/opt/Ferry/ferry', 'clip.mp4', '/tmp/a b.png'], packaged)).toEqual({
      files: ['/home/me/Videos/clip.mp4', '/tmp/a b.png'],
      hidden: false,
      dataDir: null,
      links: [],
    });
  });

  it('skips the app folder of `electron .`, Chromium switches and our own flags', () => {
    const argv = [
      '/x/electron',
      '--inspect=9229',
      '.',
      '--hidden',
      '--original-process-start-time=1337',
      'clip.mp4',
      '--data-dir',
      '../data',
      '-psn_0_42',
    ];
    // cwd is the app folder here, as with `npm start`.
    expect(parseLaunchArgs(argv, { ...unpackaged, cwd: '/work/ferry' })).toEqual({
      files: ['/work/ferry/clip.mp4'],
      hidden: true,
      dataDir: '/work/data',
      links: [],
    });
  });

  it('never takes the app itself for a file, and takes everything after -- as files', () => {
    expect(
      parseLaunchArgs(['/opt/Ferry/ferry', '/opt/Ferry/resources/app.asar', '--', '--weird-name.png'], packaged).files,
    ).toEqual(['/home/me/Videos/--weird-name.png']);
    expect(parseLaunchArgs(['/opt/Ferry/ferry', '--data-dir=/srv/ferry'], packaged)).toEqual({
      files: [],
      hidden: false,
      dataDir: '/srv/ferry',
      links: [],
    });
  });
});

/** A queue with a SelfCommunity account (and its API) in a temporary data folder. */
async function openQueue(): Promise<{ dir: string; api: FerryApi; db: Db; queue: Queue }> {
  const dir = await fixtures.tempDir('ferry-app-');
  const { db, queue } = openTestQueue(dir);
  const api = new FerryApi({ queue, db, dataDir: dir });
  await api.start();
  closers.push(() => {
    api.close();
    db.close();
  });
  return { dir, api, db, queue };
}

async function addAccount(api: FerryApi, name: string): Promise<void> {
  const added = await api.invoke('accounts.add', {
    provider: 'selfcommunity',
    name,
    baseUrl: 'http://127.0.0.1:9',
    secrets: { accessToken: `token-of-${name}` },
  });
  expect(added.ok).toBe(true);
  // Nothing should really upload here: the lane is paused.
  expect((await api.invoke('accounts.pause', { account: name })).ok).toBe(true);
}

async function mediaFiles(dir: string, names: string[]): Promise<string[]> {
  const paths = names.map((name) => join(dir, name));
  for (const path of paths) await writeFile(path, Buffer.alloc(2048, 1));
  return paths;
}

function intakeFor(api: FerryApi, queue: Queue, db: Db, lastAccount = new LastAccountStore(db)) {
  const notices: string[] = [];
  let shown = 0;
  const intake = new FileIntake({
    queue,
    enqueue: (account, paths) => api.invoke('jobs.enqueue', { account, paths }),
    lastAccount,
    notice: (level, message) => notices.push(`${level}: ${message}`),
    showWindow: () => (shown += 1),
  });
  return { intake, notices, shown: () => shown, lastAccount };
}

describe('files from a second launch', () => {
  it('are queued for the account last used, remembered in the settings', async () => {
    const { dir, api, db, queue } = await openQueue();
    await addAccount(api, 'community');
    await addAccount(api, 'backup');
    const files = await mediaFiles(dir, ['one.png', 'two.pdf']);
    const { intake, notices, shown, lastAccount } = intakeFor(api, queue, db);
    lastAccount.set('backup');

    const args = parseLaunchArgs(['/opt/Ferry/ferry', 'one.png', 'two.pdf', '--original-process-start-time=5'], {
      defaultApp: false,
      cwd: dir,
      appPath: '/opt/Ferry/resources/app.asar',
    });
    const outcome = await intake.receive(args.files);

    expect(outcome).toEqual({ kind: 'queued', account: 'backup', jobs: 2, missing: [] });
    const jobs = queue.jobs.list({});
    expect(jobs.map((job) => [job.source, queue.accounts.get(job.accountId)?.name, job.state])).toEqual([
      [files[0], 'backup', 'queued'],
      [files[1], 'backup', 'queued'],
    ]);
    expect(shown()).toBe(1);
    expect(notices).toEqual(['info: Queued 2 files for backup (one.png, two.pdf)']);
    // Remembered in the database: a new store (a restart) knows it.
    expect(new LastAccountStore(db).get()).toBe('backup');
  });

  it('go to the only account when none was used yet', async () => {
    const { dir, api, db, queue } = await openQueue();
    await addAccount(api, 'community');
    const [file] = await mediaFiles(dir, ['solo.png']);
    const { intake } = intakeFor(api, queue, db);
    expect(await intake.receive([file!])).toMatchObject({ kind: 'queued', account: 'community', jobs: 1 });
  });

  it('bring the window up with a notice when there is no account to choose', async () => {
    const { dir, api, db, queue } = await openQueue();
    await addAccount(api, 'community');
    await addAccount(api, 'backup');
    const files = await mediaFiles(dir, ['a.png']);
    const { intake, notices, shown, lastAccount } = intakeFor(api, queue, db);
    lastAccount.set('removed-account');
    expect(await intake.receive([...files, join(dir, 'gone.png')])).toEqual({
      kind: 'no-account',
      files,
      missing: [join(dir, 'gone.png')],
    });
    expect(queue.jobs.list({})).toEqual([]);
    expect(shown()).toBe(1);
    expect(notices).toEqual([
      'warning: Ferry was given gone.png, which does not exist',
      'info: Ferry was given a.png but does not know which account to upload to: choose an account and drop the files on the window',
    ]);
  });

  it('report why the provider refused them', async () => {
    const { api, db, queue } = await openQueue();
    await addAccount(api, 'community');
    const { intake, notices } = intakeFor(api, queue, db);
    const outcome = await intake.receive([await fixtures.tempDir('ferry-empty-')]);
    expect(outcome.kind).toBe('refused');
    expect(notices[0]).toMatch(/^error: Could not queue .* for community: Nothing to upload/);
  });
});

class FakeShell implements DesktopShell {
  windowShown = 0;
  statuses: TrayView[] = [];
  notifications: BatchedNotification[] = [];
  copied: string[] = [];
  uploading: boolean[] = [];
  startAtLogin: boolean[] = [];
  showWindow(): void {
    this.windowShown += 1;
  }
  showStatus(view: TrayView): void {
    this.statuses.push(view);
  }
  notify(notification: BatchedNotification): void {
    this.notifications.push(notification);
  }
  copyText(text: string): Promise<void> {
    if (text.includes('refused-by-clipboard')) return Promise.reject(new Error('the clipboard is locked'));
    this.copied.push(text);
    return Promise.resolve();
  }
  setUploading(uploading: boolean): void {
    this.uploading.push(uploading);
  }
  setStartAtLogin(enabled: boolean): void {
    this.startAtLogin.push(enabled);
  }
}

describe('the desktop core', () => {
  async function startCore(dir: string) {
    const { db, queue } = openTestQueue(dir);
    const shell = new FakeShell();
    const core = await startDesktopCore({
      dataDir: dir,
      db,
      queue,
      shell,
      version: '1.2.3',
      log: () => undefined,
      statusDelayMs: 5,
      syncOptions: {
        rulesPollMs: 50,
        rescanIntervalMs: 1_000,
        stableChecks: 2,
        stableIntervalMs: 50,
        batchDelayMs: 20,
      },
      notifications: { quietMs: 20, maxWaitMs: 200 },
    });
    closers.push(async () => {
      await core.close();
      db.close();
    });
    return { core, queue, shell };
  }

  it('remembers the account of uploads from the window and sends files of a second launch there', async () => {
    const dir = await fixtures.tempDir('ferry-core-');
    const { core, queue, shell } = await startCore(dir);
    expect(core.engine).not.toBeNull();
    const call = (command: string, input: unknown): Promise<ApiResult<unknown>> => core.call(command, input);
    for (const name of ['community', 'backup']) {
      expect(
        (
          await call('accounts.add', {
            provider: 'selfcommunity',
            name,
            baseUrl: 'http://127.0.0.1:9',
            secrets: { accessToken: 't' },
          })
        ).ok,
      ).toBe(true);
      expect((await call('accounts.pause', { account: name })).ok).toBe(true);
    }
    const [first, second] = await mediaFiles(dir, ['first.png', 'second.png']);
    const viaWindow = (await call('jobs.enqueue', { account: 'community', paths: [first] })) as ApiResult<JobView[]>;
    expect(viaWindow.ok).toBe(true);

    const args = parseLaunchArgs(['/opt/Ferry/ferry', 'second.png'], {
      defaultApp: false,
      cwd: dir,
      appPath: '/opt/Ferry/resources/app.asar',
    });
    expect(await core.receiveFiles(args.files)).toMatchObject({ kind: 'queued', account: 'community', jobs: 1 });
    const jobs = queue.jobs.list({});
    expect(jobs.map((job) => [job.source, queue.accounts.get(job.accountId)?.name])).toEqual([
      [first, 'community'],
      [second, 'community'],
    ]);
    expect(shell.windowShown).toBe(1);

    // Both wait on a paused account: the tray says so, the computer may sleep.
    await waitFor('tray status', () => shell.statuses.at(-1)?.tooltip === 'Ferry: 2 uploads paused');
    expect(shell.uploading.at(-1)).toBe(false);
    expect(core.status().canResumeAll).toBe(true);
  });

  it('runs watched folders: their uploads reach the tray, its recent uploads and the batched notifications', async () => {
    const sandbox = fixtures.track(await startSelfCommunitySandbox());
    const dir = await fixtures.tempDir('ferry-core-');
    const watched = await fixtures.tempDir('ferry-core-watched-');
    const { core, shell } = await startCore(dir);
    const call = async <T>(command: string, input: unknown): Promise<T> => {
      const result = await core.call(command, input);
      if (!result.ok) throw new Error(result.error.message);
      return result.value as T;
    };
    await call('accounts.add', {
      provider: 'selfcommunity',
      name: 'community',
      baseUrl: sandbox.url,
      secrets: { accessToken: sandbox.token },
    });
    await call('sync.add', { account: 'community', dir: watched });
    await waitFor(
      'the tray to say it watches the folder',
      () => shell.statuses.at(-1)?.tooltip === 'Ferry: idle · watching 1 folder',
    );
    expect(core.status()).toMatchObject({ state: 'idle', sync: 'active' });

    await writeFile(join(watched, 'harbour.png'), Buffer.alloc(3000, 9));
    await waitFor('the upload to finish', () => sandbox.media.length === 1, 15_000);
    await waitFor('the recent upload in the tray', () => core.status().recent[0]?.name === 'harbour.png');
    await waitFor('the notification', () => shell.notifications.length === 1);
    expect(shell.notifications[0]).toEqual({ title: 'Upload finished', body: 'harbour.png was uploaded' });

    // The tray copies the link of a recent upload, and pauses or resumes every watched folder.
    const recent = core.status().recent[0]!;
    expect(recent.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/media\/\d+\/harbour\.png$/);
    await core.trayAction({ type: 'copy-link', url: recent.url!, name: recent.name });
    expect(shell.copied).toEqual([recent.url]);
    // Electron's clipboard answers with a promise: a refusal is said, not left unhandled.
    await expect(
      core.trayAction({ type: 'copy-link', url: 'https://x.example/refused-by-clipboard', name: 'x.png' }),
    ).resolves.toBeUndefined();
    expect(shell.copied).toEqual([recent.url]);
    await core.trayAction({ type: 'pause-sync' });
    await waitFor(
      'the tray to show sync paused',
      () => core.status().state === 'paused' && core.status().sync === 'paused',
    );
    expect(core.status().tooltip).toBe('Ferry: sync paused');
    await core.trayAction({ type: 'resume-sync' });
    await waitFor('the tray to show sync active', () => core.status().sync === 'active');
  });

  it('applies start at login at start and when the setting changes, and quits cleanly', async () => {
    const dir = await fixtures.tempDir('ferry-core-');
    const { core, shell } = await startCore(dir);
    expect(shell.startAtLogin).toEqual([false]);
    expect((await core.call('settings.set', { startAtLogin: true })).ok).toBe(true);
    expect(shell.startAtLogin).toEqual([false, true]);
    await core.close();
    // The run lock is free again: a `ferry run` could take over now.
    acquireRunLock(dir).release();
  });

  it('leaves the uploading to another process that holds the run lock, and says so', async () => {
    const dir = await fixtures.tempDir('ferry-core-');
    openDatabase(dir).close();
    // The lock is the operating system's: a second holder is refused even inside this process.
    const other = acquireRunLock(dir);
    closers.push(() => other.release());
    const { core } = await startCore(dir);
    expect(core.engine).toBeNull();
    expect(core.engineNote).toMatch(/already uploading.*this window shows and changes the queue/);
    const status = (await core.call('app.status', undefined)) as ApiResult<{ engineRunning: boolean }>;
    expect(status.ok && status.value.engineRunning).toBe(false);
  });
});

describe('the Linux autostart entry', () => {
  it('starts Ferry hidden, with its path quoted when needed', async () => {
    expect(quoteExecArgument('/opt/Ferry/ferry')).toBe('/opt/Ferry/ferry');
    expect(quoteExecArgument('/home/me/Apps/Ferry 1.0.AppImage')).toBe('"/home/me/Apps/Ferry 1.0.AppImage"');
    expect(quoteExecArgument('/x/$HOME`"\\')).toBe('"/x/\\$HOME\\`\\"\\\\"');
    expect(autostartDesktopEntry('/opt/Ferry/ferry')).toContain('\nExec=/opt/Ferry/ferry --hidden\n');
    const dir = await fixtures.tempDir('ferry-autostart-');
    const path = join(dir, 'autostart', 'ferry.desktop');
    await setLinuxAutostart(true, '/opt/Ferry/ferry', path);
    expect(await readFile(path, 'utf8')).toMatch(/^\[Desktop Entry\]\nType=Application\nName=Ferry\n/);
    await setLinuxAutostart(false, '/opt/Ferry/ferry', path);
    await expect(readFile(path)).rejects.toThrow(/ENOENT/);
  });
});
