/**
 * Clipboard uploads (main/app/clipboardUpload.ts), the global hotkey (hotkey.ts) and auto-copy of
 * finished links (desktopCore.ts) — Electron's clipboard and globalShortcut are fakes; the queue,
 * the staging folder, the engine and the SelfCommunity emulator are real, and what the emulator
 * received is what is checked.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiResult, JobView } from '../../main/api/contract.ts';
import { INPUT_SCHEMAS } from '../../main/api/schemas.ts';
import {
  clipboardFilePaths,
  clipboardImageName,
  osFormat,
  uploadClipboard,
  type ClipboardLike,
  type ClipboardUploadDeps,
} from '../../main/app/clipboardUpload.ts';
import { startDesktopCore, type DesktopShell } from '../../main/app/desktopCore.ts';
import { Hotkey } from '../../main/app/hotkey.ts';
import type { BatchedNotification } from '../../main/app/notificationBatcher.ts';
import { stageAndEnqueue } from '../../main/app/stageBytes.ts';
import { startSelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { Fixtures, waitFor } from '../support/ferryHarness.ts';
import { openTestQueue } from '../support/testQueue.ts';

const fixtures = new Fixtures();
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await fixtures.cleanup();
});

/** A clipboard holding one item with the given types (as Electron 45's `clipboard.read()` gives them). */
function fakeClipboard(content: {
  formats?: Record<string, string | Buffer>;
  image?: Buffer | null;
  text?: string;
}): ClipboardLike {
  const formats: Record<string, string | Buffer> = { ...content.formats };
  if (content.image) formats['image/png'] = content.image;
  if (content.text !== undefined) formats['text/plain'] = content.text;
  const item = {
    types: Object.keys(formats),
    getType: async (type: string) => {
      const value = formats[type];
      if (value === undefined) throw new Error(`NotFoundError: no ${type}`);
      return new Blob([typeof value === 'string' ? value : new Uint8Array(value)]);
    },
  };
  return { read: async () => (item.types.length > 0 ? [item] : []), readText: async () => content.text ?? '' };
}

// A small valid PNG header followed by bytes: the emulator files it by its name.
const PNG = Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), Buffer.alloc(5000, 3)]);
const md5 = (bytes: Buffer): string => createHash('md5').update(bytes).digest('hex');

describe('what is on the clipboard', () => {
  it('reads copied files the way each system puts them there', async () => {
    const paths = async (clipboard: ClipboardLike, platform: NodeJS.Platform) =>
      clipboardFilePaths(await clipboard.read(), platform);
    const linux = fakeClipboard({
      formats: { 'text/uri-list': 'file:///home/me/a%20b.png\r\nfile:///home/me/c.mp4\r\n# comment\n' },
    });
    expect(await paths(linux, 'linux')).toEqual(['/home/me/a b.png', '/home/me/c.mp4']);
    const gnome = fakeClipboard({
      formats: { [osFormat('x-special/gnome-copied-files')]: 'copy\nfile:///home/me/d.png' },
    });
    expect(await paths(gnome, 'linux')).toEqual(['/home/me/d.png']);
    const mac = fakeClipboard({ formats: { [osFormat('public.file-url')]: 'file:///Users/me/Movies/clip.mov' } });
    expect(await paths(mac, 'darwin')).toEqual(['/Users/me/Movies/clip.mov']);
    const windows = fakeClipboard({
      formats: { [osFormat('FileNameW')]: Buffer.from('C:\\Users\\me\\x.png\0', 'utf16le') },
    });
    expect(await paths(windows, 'win32')).toEqual(['C:\\Users\\me\\x.png']);
    expect(await paths(fakeClipboard({ text: 'hello' }), 'linux')).toEqual([]);
  });

  it('names a clipboard image by its time, in a name every system accepts', () => {
    expect(clipboardImageName(new Date(2026, 11, 4, 9, 5, 7))).toBe('Clipboard 2026-12-04 09.05.07.png');
  });

  it('says why nothing was uploaded: an empty clipboard, no account, the wrong kind of provider', async () => {
    const told: string[] = [];
    const deps = (clipboard: ClipboardLike, account: string | null, sources: 'file' | 'url'): ClipboardUploadDeps => ({
      clipboard,
      platform: 'linux',
      targetAccount: () => account,
      sourcesOf: () => sources,
      enqueue: () => Promise.reject(new Error('must not enqueue')),
      stage: () => Promise.reject(new Error('must not stage')),
      tell: (level, message) => told.push(`${level}: ${message}`),
    });
    expect(await uploadClipboard(deps(fakeClipboard({ text: 'just words' }), 'main', 'file'))).toEqual({
      kind: 'empty',
    });
    expect(await uploadClipboard(deps(fakeClipboard({ image: PNG }), null, 'file'))).toEqual({ kind: 'no-account' });
    expect(await uploadClipboard(deps(fakeClipboard({ image: PNG }), 'links', 'url'))).toEqual({
      kind: 'wrong-provider',
    });
    expect(await uploadClipboard(deps(fakeClipboard({ text: 'https://x.example/v.mp4' }), 'main', 'file'))).toEqual({
      kind: 'wrong-provider',
    });
    expect(told).toEqual([
      'info: The clipboard holds no file, image or link to upload',
      'warning: Ferry does not know which account to upload the clipboard to: upload once from the window first',
      'warning: links imports files from a public URL: copy a link to upload it there',
      'warning: main takes files, not links: copy the file itself to upload it',
    ]);
  });

  it('queues a URL for a provider that fetches files itself', async () => {
    const queued: Array<[string, string[]]> = [];
    const outcome = await uploadClipboard({
      clipboard: fakeClipboard({ text: '  https://cdn.example/talk.mp4\n' }),
      platform: 'darwin',
      targetAccount: () => 'social',
      sourcesOf: () => 'url',
      enqueue: async (account, paths) => {
        queued.push([account, paths]);
        return { ok: true, value: [{ id: 1 } as JobView] };
      },
      stage: () => Promise.reject(new Error('must not stage')),
      tell: () => undefined,
    });
    expect(outcome).toEqual({ kind: 'url', account: 'social', jobs: 1 });
    expect(queued).toEqual([['social', ['https://cdn.example/talk.mp4']]]);
  });
});

describe('the hotkey', () => {
  it('registers the setting, re-registers on change, says when another app holds it, and releases it', () => {
    const registered = new Map<string, () => void>();
    const taken = new Set(['Alt+Space']);
    const told: string[] = [];
    let presses = 0;
    const hotkey = new Hotkey({
      globalShortcut: {
        register: (accelerator, callback) => {
          if (accelerator === 'Nonsense+') throw new TypeError('conversion failure');
          if (taken.has(accelerator)) return false;
          registered.set(accelerator, callback);
          return true;
        },
        unregister: (accelerator) => registered.delete(accelerator),
      },
      onPress: () => (presses += 1),
      tell: (level, message) => told.push(`${level}: ${message}`),
      log: () => undefined,
    });
    expect(hotkey.set('')).toBe(false);
    expect(registered.size).toBe(0);
    expect(hotkey.set('CommandOrControl+Shift+U')).toBe(true);
    registered.get('CommandOrControl+Shift+U')!();
    expect(presses).toBe(1);
    expect(hotkey.set('CommandOrControl+Shift+Y')).toBe(true);
    expect([...registered.keys()]).toEqual(['CommandOrControl+Shift+Y']);
    expect(hotkey.set('Alt+Space')).toBe(false);
    expect(registered.size).toBe(0);
    expect(told).toEqual([
      'warning: Another app already uses Alt+Space: choose another hotkey in Settings to upload the clipboard',
    ]);
    expect(hotkey.set('Nonsense+')).toBe(false);
    expect(told[1]).toMatch(/^error: Ferry cannot use Nonsense\+ as a hotkey/);
    expect(hotkey.set('F9')).toBe(true);
    hotkey.release();
    expect(registered.size).toBe(0);
    expect(hotkey.current).toBe('');
  });

  it('is validated as an accelerator when saved (the update feed as an http(s) URL)', () => {
    const settings = INPUT_SCHEMAS['settings.set'];
    for (const good of ['', 'CommandOrControl+Shift+U', 'Alt+F12', 'PrintScreen', 'Ctrl+Alt+num5'])
      expect(settings.safeParse({ clipboardHotkey: good }).success, good).toBe(true);
    for (const bad of ['Ctrl+', 'Shift+Banana', 'Ctrl Shift U', 'U+Ctrl'])
      expect(settings.safeParse({ clipboardHotkey: bad }).success, bad).toBe(false);
    expect(settings.safeParse({ updateUrl: 'https://downloads.example/ferry/' }).success).toBe(true);
    expect(settings.safeParse({ updateUrl: '' }).success).toBe(true);
    expect(settings.safeParse({ updateUrl: 'ftp://downloads.example/' }).success).toBe(false);
    expect(settings.safeParse({ updateUrl: 'downloads.example' }).success).toBe(false);
  });
});

class FakeShell implements DesktopShell {
  notifications: Array<{ notification: BatchedNotification; click?: () => void }> = [];
  copied: string[] = [];
  showWindow(): void {}
  showStatus(): void {}
  notify(notification: BatchedNotification, onClick?: () => void): void {
    this.notifications.push({ notification, ...(onClick ? { click: onClick } : {}) });
  }
  async copyText(text: string): Promise<void> {
    this.copied.push(text);
  }
  setUploading(): void {}
  setStartAtLogin(): void {}
}

describe('the desktop core with a real queue', () => {
  async function start() {
    const sandbox = fixtures.track(await startSelfCommunitySandbox());
    const dir = await fixtures.tempDir('ferry-clip-');
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
      notifications: { quietMs: 20, maxWaitMs: 200 },
    });
    closers.push(async () => {
      await core.close();
      db.close();
    });
    const added = await core.call('accounts.add', {
      provider: 'selfcommunity',
      name: 'community',
      baseUrl: sandbox.url,
      secrets: { accessToken: sandbox.token },
    });
    expect(added.ok).toBe(true);
    return { sandbox, dir, queue, shell, core };
  }

  it('uploads a clipboard image through the staging folder to the last account, whole', async () => {
    const { sandbox, dir, shell, core } = await start();
    // The account used last from the window.
    await writeFile(join(dir, 'first.png'), PNG);
    expect((await core.call('jobs.enqueue', { account: 'community', paths: [join(dir, 'first.png')] })).ok).toBe(true);
    await waitFor('the first upload', () => sandbox.media.length === 1, 15_000);

    const image = Buffer.concat([PNG, Buffer.from('a different screenshot')]);
    const told: string[] = [];
    const outcome = await uploadClipboard({
      clipboard: fakeClipboard({ image }),
      platform: 'linux',
      targetAccount: () => core.intake.targetAccount(),
      sourcesOf: () => 'file',
      enqueue: (account, paths) => core.api.invoke('jobs.enqueue', { account, paths }) as Promise<ApiResult<JobView[]>>,
      stage: (account, name, bytes) => stageAndEnqueue(core.api, { account, name, bytes }, () => undefined),
      tell: (level, message) => told.push(`${level}: ${message}`),
      now: () => new Date(2026, 11, 4, 10, 31, 7),
    });
    expect(outcome).toEqual({ kind: 'image', account: 'community', jobs: 1 });
    expect(told).toEqual(["info: Uploading the clipboard's image to community as Clipboard 2026-12-04 10.31.07.png"]);
    await waitFor('the clipboard upload', () => sandbox.media.length === 2, 15_000);
    expect(sandbox.media[1]).toMatchObject({ size: image.length, md5: md5(image) });
    // The staged copy is gone once its job completed.
    // The emulator has the bytes a moment before the job is recorded as completed.
    const job = await waitFor('the clipboard job to complete', () =>
      core.queue.jobs.list({ states: ['completed'] }).find((j) => j.name.startsWith('Clipboard')),
    );
    await waitFor('the staged copy to be released', async () => {
      try {
        await readFile(job.source);
        return false;
      } catch {
        return true;
      }
    });
    expect(job.source.startsWith(join(dir, 'staging'))).toBe(true);
    void shell;
  });

  it('queues files copied in a file manager', async () => {
    const { sandbox, dir, core } = await start();
    const path = join(dir, 'copied file.png');
    await writeFile(path, PNG);
    const outcome = await uploadClipboard({
      clipboard: fakeClipboard({ formats: { 'text/uri-list': `${pathToFileURL(path).href}\r\n` }, image: PNG }),
      platform: 'linux',
      targetAccount: () => 'community',
      sourcesOf: () => 'file',
      enqueue: (account, paths) => core.api.invoke('jobs.enqueue', { account, paths }) as Promise<ApiResult<JobView[]>>,
      stage: () => Promise.reject(new Error('files come before the image')),
      tell: () => undefined,
    });
    expect(outcome).toEqual({ kind: 'files', account: 'community', jobs: 1 });
    await waitFor('the upload', () => sandbox.media.length === 1, 15_000);
    expect(sandbox.media[0]).toMatchObject({ size: PNG.length, md5: md5(PNG) });
  });

  it('copies the link of each finished upload in the chosen style, and again when the notification is clicked', async () => {
    const { sandbox, dir, shell, core } = await start();
    expect((await core.call('settings.set', { autoCopyLink: 'markdown' })).ok).toBe(true);
    await writeFile(join(dir, 'harbour.png'), PNG);
    expect((await core.call('jobs.enqueue', { account: 'community', paths: [join(dir, 'harbour.png')] })).ok).toBe(
      true,
    );
    await waitFor('the upload', () => sandbox.media.length === 1, 15_000);
    await waitFor('the link on the clipboard', () => shell.copied.length === 1);
    const url = (await waitFor('the completed job', () => core.queue.jobs.list({ states: ['completed'] })[0])).result!
      .url!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    expect(shell.copied).toEqual([`![harbour.png](${url})`]);
    // Its notification is sent before the next upload starts: one finishing within the batch's quiet
    // time (20 ms here) would join it in one "2 uploads finished", as it did on a fast machine.
    await waitFor('the notification of the first upload', () =>
      shell.notifications.some((n) => n.notification.body === 'harbour.png was uploaded'),
    );

    // Off: nothing is copied by itself, but clicking "Upload finished" copies the plain URL.
    expect((await core.call('settings.set', { autoCopyLink: 'off' })).ok).toBe(true);
    await writeFile(join(dir, 'pier.png'), Buffer.concat([PNG, Buffer.from('pier')]));
    expect((await core.call('jobs.enqueue', { account: 'community', paths: [join(dir, 'pier.png')] })).ok).toBe(true);
    await waitFor('the notification of the second upload', () =>
      shell.notifications.some((n) => n.notification.body === 'pier.png was uploaded'),
    );
    expect(shell.copied).toHaveLength(1);
    const pier = await waitFor('pier.png to complete', () =>
      core.queue.jobs.list({ states: ['completed'] }).find((job) => job.name === 'pier.png'),
    );
    shell.notifications.find((n) => n.notification.body === 'pier.png was uploaded')!.click!();
    await waitFor('the clicked link', () => shell.copied.length === 2);
    expect(shell.copied[1]).toBe(pier.result!.url);
  });
});
