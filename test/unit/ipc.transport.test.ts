/**
 * The Electron IPC transport with a fake ipcMain and fake webContents around the real API table on a
 * temporary data folder: one channel, calls only from the main frame of a trusted window showing
 * Ferry's page, unknown commands answered with NOT_FOUND, events pushed to each attached window.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiEvent, ApiResult } from '../../main/api/contract.ts';
import { FerryApi } from '../../main/api/ferryApi.ts';
import type { Db } from '../../main/db/database.ts';
import { CALL_CHANNEL, EVENT_CHANNEL, REVEAL_CHANNEL } from '../../main/ipc/channels.ts';
import { IpcTransport, type EventTargetContents, type IpcMainLike } from '../../main/ipc/ipcTransport.ts';
import { revealJobInFolder, type RevealDeps } from '../../main/ipc/revealInFolder.ts';
import type { IpcSenderInfo } from '../../main/ipc/senderCheck.ts';
import { Fixtures, waitFor } from '../support/ferryHarness.ts';
import { openTestQueue } from '../support/testQueue.ts';

type Handler = (event: IpcSenderInfo, ...args: unknown[]) => Promise<unknown>;

class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, Handler>();
  handle(channel: string, listener: Handler): void {
    if (this.handlers.has(channel)) throw new Error(`a second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  /** What ipcRenderer.invoke does: no handler for the channel rejects. */
  invoke(event: IpcSenderInfo, channel: string, ...args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) return Promise.reject(new Error(`No handler registered for '${channel}'`));
    return handler(event, ...args);
  }
}

class FakeContents implements EventTargetContents {
  readonly sent: Array<[string, unknown]> = [];
  destroyed = false;
  #onDestroyed: Array<() => void> = [];
  readonly id: number;
  constructor(id: number) {
    this.id = id;
  }
  send(channel: string, ...args: unknown[]): void {
    this.sent.push([channel, args[0]]);
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  once(_event: 'destroyed', listener: () => void): this {
    this.#onDestroyed.push(listener);
    return this;
  }
  destroy(): void {
    this.destroyed = true;
    for (const listener of this.#onDestroyed.splice(0)) listener();
  }
}

const mainFrame = { url: 'app://ferry/index.html', parent: null };
const fromWindow = (id = 1, frame: IpcSenderInfo['senderFrame'] = mainFrame): IpcSenderInfo => ({
  sender: { id },
  senderFrame: frame,
});

const fixtures = new Fixtures();
let api: FerryApi;
let db: Db;
let ipcMain: FakeIpcMain;
let transport: IpcTransport;
let window: FakeContents;
const logged: string[] = [];

beforeEach(async () => {
  const dir = await fixtures.tempDir('ferry-ipc-');
  const opened = openTestQueue(dir);
  db = opened.db;
  api = new FerryApi({ queue: opened.queue, db, dataDir: dir, version: '9.9.9', jobsChangedDelayMs: 1 });
  await api.start();
  ipcMain = new FakeIpcMain();
  transport = new IpcTransport({
    ipcMain,
    call: (command, input) => api.call(command, input),
    subscribe: (listener) => api.subscribe(listener),
    log: (message) => logged.push(message),
  });
  window = new FakeContents(1);
  transport.attach(window);
  logged.length = 0;
});

afterEach(async () => {
  transport.close();
  api.close();
  db.close();
  await fixtures.cleanup();
});

describe('the IPC transport', () => {
  it('registers one channel, and only that one answers', async () => {
    expect([...ipcMain.handlers.keys()]).toEqual([CALL_CHANNEL]);
    await expect(ipcMain.invoke(fromWindow(), 'ferry:shell', 'rm -rf /')).rejects.toThrow(/No handler/);
  });

  it('answers a known command from the window with the envelope', async () => {
    const result = (await ipcMain.invoke(fromWindow(), CALL_CHANNEL, 'app.status', undefined)) as ApiResult<{
      version: string;
    }>;
    expect(result).toEqual({ ok: true, value: expect.objectContaining({ version: '9.9.9' }) });
    const settings = (await ipcMain.invoke(fromWindow(), CALL_CHANNEL, 'settings.set', {
      notifications: false,
    })) as ApiResult<{ notifications: boolean }>;
    expect(settings.ok && settings.value.notifications).toBe(false);
  });

  it('answers an unknown command with NOT_FOUND and malformed input with INVALID_INPUT', async () => {
    expect(await ipcMain.invoke(fromWindow(), CALL_CHANNEL, 'fs.readFile', { path: '/etc/passwd' })).toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'Ferry has no command "fs.readFile"' },
    });
    expect(await ipcMain.invoke(fromWindow(), CALL_CHANNEL, 42, null)).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    expect(await ipcMain.invoke(fromWindow(), CALL_CHANNEL, 'jobs.get', { id: 'one' })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT' },
    });
  });

  it('refuses a subframe, a foreign page, a gone frame and an unknown webContents', async () => {
    const refused: IpcSenderInfo[] = [
      fromWindow(1, { url: 'app://ferry/index.html', parent: mainFrame }),
      fromWindow(1, { url: 'https://evil.example/', parent: null }),
      fromWindow(1, { url: 'file:///home/me/page.html', parent: null }),
      fromWindow(1, null),
      fromWindow(99),
    ];
    for (const event of refused) {
      await expect(ipcMain.invoke(event, CALL_CHANNEL, 'app.status', undefined)).rejects.toThrow(
        /did not come from the Ferry window/,
      );
    }
    expect(logged).toHaveLength(refused.length);
    expect(logged[0]).toMatch(/subframe/);
    expect(logged[4]).toMatch(/not a Ferry window/);
  });

  it('stops trusting a window once it is destroyed', async () => {
    window.destroy();
    await expect(ipcMain.invoke(fromWindow(), CALL_CHANNEL, 'app.status', undefined)).rejects.toThrow(
      /did not come from the Ferry window/,
    );
  });

  it('pushes events to each attached window on the event channel, until it is destroyed', async () => {
    const second = new FakeContents(2);
    transport.attach(second);
    api.notice('info', 'hello windows');
    for (const contents of [window, second]) {
      expect(contents.sent).toContainEqual([
        EVENT_CHANNEL,
        { event: 'notice', payload: expect.objectContaining({ message: 'hello windows' }) },
      ]);
    }
    second.destroy();
    api.notice('info', 'only the first');
    expect(window.sent.map(([, event]) => (event as ApiEvent).payload)).toContainEqual(
      expect.objectContaining({ message: 'only the first' }),
    );
    expect(second.sent.map(([, event]) => (event as ApiEvent).payload)).not.toContainEqual(
      expect.objectContaining({ message: 'only the first' }),
    );
  });

  it('forwards events caused by calls (settings.changed after settings.set)', async () => {
    await ipcMain.invoke(fromWindow(), CALL_CHANNEL, 'settings.set', { theme: 'dark' });
    await waitFor('settings.changed', () =>
      window.sent.find(([, event]) => (event as ApiEvent).event === 'settings.changed'),
    );
  });

  it('removes its handler and streams when closed', async () => {
    transport.close();
    expect(ipcMain.handlers.size).toBe(0);
    api.notice('info', 'after close');
    expect(window.sent.map(([, event]) => (event as ApiEvent).payload)).not.toContainEqual(
      expect.objectContaining({ message: 'after close' }),
    );
  });
});

describe('show in folder (ferry:reveal)', () => {
  const jobs: Record<number, ReturnType<RevealDeps['findJob']>> = {
    1: { sourceKind: 'file', source: '/home/me/Pictures/harbour.png', name: 'harbour.png' },
    2: { sourceKind: 'url', source: 'https://cdn.example/clip.mp4', name: 'clip.mp4' },
    3: { sourceKind: 'file', source: '/data/staging/abc/notes.pdf', name: 'notes.pdf' },
    4: { sourceKind: 'file', source: '/home/me/Pictures/gone.png', name: 'gone.png' },
  };
  let revealIpc: FakeIpcMain;
  let revealTransport: IpcTransport;
  let shown: string[];

  beforeEach(() => {
    shown = [];
    const deps: RevealDeps = {
      findJob: (id) => jobs[id],
      isStaged: (path) => path.startsWith('/data/staging/'),
      exists: (path) => !path.endsWith('gone.png'),
      showItemInFolder: (path) => void shown.push(path),
    };
    revealIpc = new FakeIpcMain();
    revealTransport = new IpcTransport({
      ipcMain: revealIpc,
      call: (command, input) => api.call(command, input),
      subscribe: (listener) => api.subscribe(listener),
      reveal: (jobId) => revealJobInFolder(deps, jobId),
      log: (message) => logged.push(message),
    });
    revealTransport.attach(new FakeContents(1));
  });

  afterEach(() => revealTransport.close());

  it('has its own channel beside ferry:call, removed on close', () => {
    expect([...revealIpc.handlers.keys()].sort()).toEqual([CALL_CHANNEL, REVEAL_CHANNEL].sort());
    revealTransport.close();
    expect(revealIpc.handlers.size).toBe(0);
  });

  it('shows the source file of a file job', async () => {
    expect(await revealIpc.invoke(fromWindow(), REVEAL_CHANNEL, 1)).toEqual({ ok: true, value: null });
    expect(shown).toEqual(['/home/me/Pictures/harbour.png']);
  });

  it('refuses a foreign frame or window without showing anything', async () => {
    await expect(
      revealIpc.invoke(fromWindow(1, { url: 'https://evil.example/', parent: null }), REVEAL_CHANNEL, 1),
    ).rejects.toThrow(/did not come from the Ferry window/);
    await expect(
      revealIpc.invoke(fromWindow(1, { url: 'app://ferry/index.html', parent: mainFrame }), REVEAL_CHANNEL, 1),
    ).rejects.toThrow(/did not come from the Ferry window/);
    await expect(revealIpc.invoke(fromWindow(7), REVEAL_CHANNEL, 1)).rejects.toThrow(
      /did not come from the Ferry window/,
    );
    expect(shown).toEqual([]);
    expect(logged.at(-1)).toMatch(/Refused an IPC call \(reveal\)/);
  });

  it('answers unknown jobs, links, browser copies, missing files and bad ids with a reason', async () => {
    expect(await revealIpc.invoke(fromWindow(), REVEAL_CHANNEL, 99)).toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'No job 99: it may have been removed' },
    });
    expect(await revealIpc.invoke(fromWindow(), REVEAL_CHANNEL, 2)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT', message: expect.stringMatching(/clip\.mp4 is a link/) },
    });
    expect(await revealIpc.invoke(fromWindow(), REVEAL_CHANNEL, 3)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_INPUT', message: expect.stringMatching(/through the browser/) },
    });
    expect(await revealIpc.invoke(fromWindow(), REVEAL_CHANNEL, 4)).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND', message: expect.stringMatching(/no longer at/) },
    });
    for (const bad of ['1', 0, -1, 1.5, null, { id: 1 }]) {
      expect(await revealIpc.invoke(fromWindow(), REVEAL_CHANNEL, bad)).toMatchObject({
        ok: false,
        error: { code: 'INVALID_INPUT' },
      });
    }
    expect(shown).toEqual([]);
  });
});
