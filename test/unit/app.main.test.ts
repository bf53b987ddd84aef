/**
 * The composition root (main/index.ts) run against a fake `electron` module: what happens before
 * `ready`, the window it opens, the IPC channel answering the real API on a temporary data folder,
 * secrets saved through safeStorage, files from a second launch queued for the last account, and
 * the graceful quit (engine stopped, run lock released, database closed) before Electron quits.
 * Electron itself is not run: this checks the wiring, the seams are tested one by one elsewhere.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ApiResult, JobView } from '../../main/api/contract.ts';
import { openDatabase } from '../../main/db/database.ts';
import { LockedError, PID_FILE, acquireRunLock } from '../../main/engine/runLock.ts';
import { Fixtures, waitFor } from '../support/ferryHarness.ts';

type Listener = (...args: never[]) => unknown;

const fake = vi.hoisted(() => {
  class Emitter {
    readonly listeners = new Map<string, Listener[]>();
    on(event: string, listener: Listener): this {
      this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
      return this;
    }
    once(event: string, listener: Listener): this {
      return this.on(event, listener);
    }
    emit(event: string, ...args: unknown[]): boolean {
      let prevented = false;
      const first = { preventDefault: () => (prevented = true) };
      for (const listener of this.listeners.get(event) ?? [])
        (listener as (...a: unknown[]) => unknown)(first, ...args);
      return prevented;
    }
  }
  let nextId = 1;
  class FakeWebContents extends Emitter {
    readonly id = nextId++;
    readonly loaded: string[] = [];
    readonly sent: unknown[][] = [];
    setWindowOpenHandler(): void {}
    async loadURL(url: string): Promise<void> {
      this.loaded.push(url);
    }
    send(...args: unknown[]): void {
      this.sent.push(args);
    }
    isDestroyed(): boolean {
      return false;
    }
  }
  const windows: FakeBrowserWindow[] = [];
  class FakeBrowserWindow extends Emitter {
    readonly webContents = new FakeWebContents();
    visible = false;
    readonly options: Record<string, unknown>;
    constructor(options: Record<string, unknown>) {
      super();
      this.options = options;
      windows.push(this);
    }
    show(): void {
      this.visible = true;
    }
    hide(): void {
      this.visible = false;
    }
    focus(): void {}
    restore(): void {}
    isMinimized(): boolean {
      return false;
    }
    isDestroyed(): boolean {
      return false;
    }
    setProgressBar(): void {}
  }
  const ipcHandlers = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  const calls: string[] = [];
  let readyResolve: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (readyResolve = resolve));
  const appEvents = new Emitter();
  const state = {
    quitted: false,
    exited: null as number | null,
    userData: '',
    schemes: [] as unknown[],
    protocolHandlers: [] as string[],
  };
  const app = Object.assign(appEvents, {
    isPackaged: false,
    getAppPath: () => '/opt/Ferry/resources/app.asar',
    getVersion: () => '0.1.0',
    setName: (name: string) => calls.push(`setName ${name}`),
    setPath: (name: string, value: string) => {
      calls.push(`setPath ${name}`);
      if (name === 'userData') state.userData = value;
    },
    setAppUserModelId: () => undefined,
    requestSingleInstanceLock: () => {
      calls.push('requestSingleInstanceLock');
      return true;
    },
    whenReady: () => ready,
    quit: () => {
      if (!appEvents.emit('before-quit')) state.quitted = true;
    },
    exit: (code: number) => {
      state.exited = code;
    },
    getLoginItemSettings: () => ({ wasOpenedAtLogin: false }),
    // Only used for the default data folder; this test gives --data-dir, so the log is in <dir>/logs.
    getPath: (name: string) => `/nowhere/${name}`,
    getLocale: () => 'de-DE',
    isDefaultProtocolClient: () => false,
    setAsDefaultProtocolClient: () => calls.push('protocol client'),
    setLoginItemSettings: () => undefined,
  });
  const safeStorage = {
    isAsyncEncryptionAvailable: async () => true,
    encryptStringAsync: async (text: string) => Buffer.from(text, 'utf8').map((byte) => byte ^ 0x5a),
    decryptStringAsync: async (bytes: Buffer) => ({
      result: Buffer.from(bytes.map((byte) => byte ^ 0x5a)).toString('utf8'),
      shouldReEncrypt: false,
    }),
    getSelectedStorageBackend: () => 'gnome_libsecret',
  };
  class FakeTray extends Emitter {
    tooltip = '';
    setToolTip(text: string): void {
      this.tooltip = text;
    }
    setContextMenu(): void {}
    setImage(): void {}
    destroy(): void {
      calls.push('tray destroyed');
    }
  }
  const trays: FakeTray[] = [];
  return {
    windows,
    ipcHandlers,
    calls,
    state,
    trays,
    readyResolve: () => readyResolve(),
    app,
    electron: {
      app,
      BrowserWindow: FakeBrowserWindow,
      Menu: { buildFromTemplate: (template: unknown) => ({ template }), setApplicationMenu: () => undefined },
      Notification: Object.assign(
        class {
          on(): void {}
          show(): void {}
        },
        { isSupported: () => false },
      ),
      Tray: class extends FakeTray {
        constructor() {
          super();
          trays.push(this);
        }
      },
      dialog: { showErrorBox: (title: string, message: string) => calls.push(`error box: ${title}: ${message}`) },
      ipcMain: {
        handle: (channel: string, handler: (...args: unknown[]) => Promise<unknown>) =>
          ipcHandlers.set(channel, handler),
        removeHandler: (channel: string) => ipcHandlers.delete(channel),
      },
      nativeImage: { createFromPath: () => ({ setTemplateImage: () => undefined }) },
      powerSaveBlocker: { start: () => 1, stop: () => undefined },
      // Wake hooks (main/app/networkWake.ts): no wake or network change happens in these tests.
      net: { isOnline: () => true },
      powerMonitor: { on: () => undefined, off: () => undefined },
      protocol: {
        registerSchemesAsPrivileged: (schemes: unknown[]) => state.schemes.push(...schemes),
        handle: (scheme: string) => state.protocolHandlers.push(scheme),
      },
      safeStorage,
      session: {
        defaultSession: { setPermissionRequestHandler: () => undefined, setPermissionCheckHandler: () => undefined },
      },
      shell: {
        openExternal: async () => undefined,
        showItemInFolder: (path: string) => calls.push(`reveal ${path}`),
        openPath: async (path: string) => {
          calls.push(`open ${path}`);
          return '';
        },
      },
      clipboard: {
        writeText: async (text: string) => void calls.push(`clipboard ${text}`),
        read: async () => [],
        readText: async () => '',
      },
      globalShortcut: {
        register: (accelerator: string) => {
          calls.push(`hotkey ${accelerator}`);
          return true;
        },
        unregister: (accelerator: string) => calls.push(`hotkey released ${accelerator}`),
      },
    },
  };
});

vi.mock('electron', () => fake.electron);
// electron-updater needs the real Electron: a fake autoUpdater that records what it is asked.
vi.mock('electron-updater', () => ({
  default: {
    autoUpdater: {
      autoDownload: false,
      autoInstallOnAppQuit: false,
      logger: null,
      on: () => undefined,
      setFeedURL: () => fake.calls.push('update feed'),
      checkForUpdates: async () => null,
      quitAndInstall: () => undefined,
    },
  },
}));
// electron-log/main needs the real Electron; its Node flavour is the same logger without it.
vi.mock('electron-log/main', async () => ({ default: (await import('electron-log/node')).default }));

const fixtures = new Fixtures();
let dir: string;
const savedArgv = process.argv;
const signalListeners = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };

beforeAll(async () => {
  dir = await fixtures.tempDir('ferry-desktop-');
  process.argv = ['/opt/Ferry/ferry', '--data-dir', dir];
  await import('../../main/index.ts');
  process.argv = savedArgv;
});

afterAll(async () => {
  process.argv = savedArgv;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    for (const listener of process.listeners(signal))
      if (!signalListeners[signal].includes(listener)) process.off(signal, listener);
  }
  await fixtures.cleanup();
});

function call(command: string, input: unknown, windowIndex = 0): Promise<ApiResult<unknown>> {
  return invoke('ferry:call', [command, input], windowIndex);
}

function invoke(channel: string, args: unknown[], windowIndex = 0): Promise<ApiResult<unknown>> {
  const window = fake.windows[windowIndex]!;
  const handler = fake.ipcHandlers.get(channel)!;
  return handler(
    { sender: { id: window.webContents.id }, senderFrame: { url: 'app://ferry/index.html', parent: null } },
    ...args,
  ) as Promise<ApiResult<unknown>>;
}

describe('the desktop app (main/index.ts) with a fake Electron', () => {
  it('prepares the scheme, the data folder and the single-instance lock before ready', () => {
    expect(fake.state.schemes).toEqual([
      { scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) },
    ]);
    expect(fake.state.userData).toBe(dir);
    expect(fake.calls).toContain('requestSingleInstanceLock');
    expect(fake.windows).toHaveLength(0);
  });

  it('opens the locked-down window on ready and answers the API on ferry:call', async () => {
    fake.readyResolve();
    const window = await waitFor('the window', () => fake.windows[0]);
    expect(window.options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    });
    expect(String((window.options.webPreferences as { preload: string }).preload)).toMatch(/preload[\\/]index\.cjs$/);
    expect(window.webContents.loaded).toEqual(['app://ferry/index.html']);
    window.emit('ready-to-show');
    expect(window.visible).toBe(true);
    expect(fake.state.protocolHandlers).toEqual(['app']);
    await waitFor('the IPC handler', () => fake.ipcHandlers.get('ferry:call'));
    const status = (await call('app.status', undefined)) as ApiResult<{ engineRunning: boolean; version: string }>;
    expect(status).toEqual({ ok: true, value: { engineRunning: true, engineNote: null, version: '0.1.0' } });
    expect(fake.trays).toHaveLength(1);
  });

  it('saves secrets through safeStorage, never in clear', async () => {
    const added = await call('accounts.add', {
      provider: 'selfcommunity',
      name: 'community',
      baseUrl: 'http://127.0.0.1:9',
      secrets: { accessToken: 'desktop-secret-token-42' },
    });
    expect(added.ok).toBe(true);
    expect((await call('accounts.pause', { account: 'community' })).ok).toBe(true);
    const files = await readdir(dir);
    expect(files).toContain('secrets.safestorage');
    expect(files).not.toContain('secrets.json');
    expect((await readFile(join(dir, 'secrets.safestorage'))).includes(Buffer.from('desktop-secret-token-42'))).toBe(
      false,
    );
  });

  it('queues the files of a second launch for the account last used from the window', async () => {
    await writeFile(join(dir, 'first.png'), Buffer.alloc(1000, 1));
    await writeFile(join(dir, 'second.png'), Buffer.alloc(1000, 2));
    const first = (await call('jobs.enqueue', { account: 'community', paths: [join(dir, 'first.png')] })) as ApiResult<
      JobView[]
    >;
    expect(first.ok).toBe(true);
    fake.windows[0]!.hide();
    fake.app.emit('second-instance', ['/opt/Ferry/ferry', 'second.png', '--original-process-start-time=1'], dir, {});
    await waitFor('the second job', async () => {
      const list = (await call('jobs.list', {})) as ApiResult<{ items: JobView[] }>;
      return list.ok && list.value.items.some((job) => job.name === 'second.png' && job.accountName === 'community');
    });
    expect(fake.windows[0]!.visible).toBe(true);
  });

  it("writes the window's errors to logs/desktop.log, redacted, and opens the log folder", async () => {
    const reported = await invoke('ferry:log', [
      { message: 'Uncaught error in the window: token desktop-secret-token-42 refused' },
    ]);
    expect(reported).toEqual({ ok: true, value: null });
    const text = await readFile(join(dir, 'logs', 'desktop.log'), 'utf8');
    expect(text).toMatch(
      /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] \[error\] \(renderer\) Uncaught error in the window: token \[secret\] refused$/m,
    );
    expect(text).not.toContain('desktop-secret-token-42');
    expect(await invoke('ferry:open-log-folder', [])).toEqual({ ok: true, value: null });
    expect(fake.calls).toContain(`open ${join(dir, 'logs')}`);
  });

  it('queues pasted bytes through the staging folder for the account named', async () => {
    const png = Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), Buffer.alloc(2000, 7)]);
    const queued = (await invoke('ferry:stage-bytes', [
      { account: 'community', name: 'pasted.png', bytes: new Uint8Array(png) },
    ])) as ApiResult<JobView[]>;
    expect(queued.ok, JSON.stringify(queued)).toBe(true);
    const job = (queued as { value: JobView[] }).value[0]!;
    expect(job.name).toBe('pasted.png');
    const db = openDatabase(dir);
    try {
      const row = db.prepare('SELECT source FROM jobs WHERE id = ?').get(job.id) as { source: string };
      expect(row.source.startsWith(join(dir, 'staging'))).toBe(true);
      expect(await readFile(row.source)).toEqual(png);
    } finally {
      db.close();
    }
    const refused = await invoke('ferry:stage-bytes', [
      { account: 'community', name: '../x.png', bytes: new Uint8Array(3) },
    ]);
    expect(refused).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(await call('jobs.remove', { ids: [job.id] })).toMatchObject({ ok: true });
    // Like every channel, only Ferry's own window may use it.
    const stranger = fake.ipcHandlers.get('ferry:stage-bytes')!(
      { sender: { id: 9_999 }, senderFrame: { url: 'https://evil.example/', parent: null } },
      { account: 'community', name: 'x.png', bytes: new Uint8Array(3) },
    );
    await expect(stranger).rejects.toThrow(/did not come from the Ferry window/);
  });

  it('registers the clipboard hotkey when it is set, and follows ferry:// links of a second launch', async () => {
    expect((await call('settings.set', { clipboardHotkey: 'CommandOrControl+Shift+U' })).ok).toBe(true);
    expect(fake.calls).toContain('hotkey CommandOrControl+Shift+U');
    fake.windows[0]!.hide();
    fake.app.emit('second-instance', ['/opt/Ferry/ferry', 'ferry://open'], dir, {});
    await waitFor('the window', () => fake.windows[0]!.visible);
  });

  it('keeps running in the tray when the window is closed, if the setting says so', async () => {
    expect((await call('settings.set', { closeToTray: true })).ok).toBe(true);
    expect(fake.windows[0]!.emit('close')).toBe(true);
    expect(fake.windows[0]!.visible).toBe(false);
    expect((await call('settings.set', { closeToTray: false })).ok).toBe(true);
    expect(fake.windows[0]!.emit('close')).toBe(false);
  });

  it('quits gracefully: stops the engine, releases the lock, closes the database, then quits', async () => {
    expect(() => acquireRunLock(dir)).toThrow(LockedError);
    fake.app.quit();
    expect(fake.state.quitted).toBe(false);
    await waitFor('the quit', () => fake.state.quitted);
    expect(fake.state.exited).toBeNull();
    expect(existsSync(join(dir, PID_FILE))).toBe(false);
    acquireRunLock(dir).release();
    expect(fake.ipcHandlers.size).toBe(0);
    expect(fake.calls).toContain('tray destroyed');
    expect(fake.calls).toContain('hotkey released CommandOrControl+Shift+U');
    // The queue is intact for the next start (or for `ferry run`).
    const db = openDatabase(dir);
    try {
      const rows = db.prepare('SELECT name, state FROM jobs ORDER BY id').all();
      expect(rows).toEqual([
        { name: 'first.png', state: 'queued' },
        { name: 'second.png', state: 'queued' },
      ]);
    } finally {
      db.close();
    }
  });
});
