/**
 * The desktop window through its seams: the BrowserWindow options, the navigation guards, the
 * permission handler, close-to-tray, and the `app://ferry/` scheme that serves the renderer with its
 * Content-Security-Policy. BrowserWindow, WebContents and Session are fakes; Electron is not run.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BrowserWindowConstructorOptions } from 'electron';
import {
  APP_INDEX_URL,
  CONTENT_SECURITY_POLICY,
  isAppUrl,
  rendererPathFor,
  serveRendererRequest,
} from '../../main/app/appProtocol.ts';
import { MainWindow, mainWindowOptions, type WindowLike } from '../../main/app/mainWindow.ts';
import {
  guardNavigation,
  guardPermissions,
  type NavigationDetails,
  type WindowOpenDetails,
} from '../../main/app/navigationGuard.ts';
import { Fixtures } from '../support/ferryHarness.ts';

const fixtures = new Fixtures();
afterEach(() => fixtures.cleanup());

type Handler = (...args: never[]) => unknown;

class FakeContents {
  readonly id = 7;
  readonly handlers = new Map<string, Handler[]>();
  openHandler: ((details: WindowOpenDetails) => { action: 'deny' }) | null = null;
  loaded: string[] = [];
  sent: unknown[][] = [];
  on(event: string, listener: Handler): this {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), listener]);
    return this;
  }
  once(event: string, listener: Handler): this {
    return this.on(event, listener);
  }
  setWindowOpenHandler(handler: (details: WindowOpenDetails) => { action: 'deny' }): void {
    this.openHandler = handler;
  }
  async loadURL(url: string): Promise<void> {
    this.loaded.push(url);
  }
  send(...args: unknown[]): void {
    this.sent.push(args);
  }
  isDestroyed(): boolean {
    return false;
  }
  /** Emits a navigation the way Electron does; returns whether it was prevented. */
  navigate(event: 'will-navigate' | 'will-redirect', url: string): boolean {
    let prevented = false;
    const details: NavigationDetails = { url, preventDefault: () => (prevented = true) };
    for (const handler of this.handlers.get(event) ?? []) (handler as (details: NavigationDetails) => void)(details);
    return prevented;
  }
}

class FakeWindow implements WindowLike {
  readonly webContents = new FakeContents();
  readonly handlers = new Map<string, Handler[]>();
  visible = false;
  destroyed = false;
  progress: number[] = [];
  readonly options: BrowserWindowConstructorOptions;
  constructor(options: BrowserWindowConstructorOptions) {
    this.options = options;
  }
  on(event: string, listener: Handler): this {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), listener]);
    return this;
  }
  once(event: string, listener: Handler): this {
    return this.on(event, listener);
  }
  emit(event: string): boolean {
    let prevented = false;
    for (const handler of this.handlers.get(event) ?? [])
      (handler as (event: { preventDefault(): void }) => void)({ preventDefault: () => (prevented = true) });
    return prevented;
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
    return this.destroyed;
  }
  setProgressBar(progress: number): void {
    this.progress.push(progress);
  }
}

function guardedContents(): { contents: FakeContents; opened: string[] } {
  const contents = new FakeContents();
  const opened: string[] = [];
  guardNavigation(contents, {
    openExternal: async (url) => {
      opened.push(url);
    },
  });
  return { contents, opened };
}

describe('the window options', () => {
  it('isolate the page, sandbox it, keep Node out and web security on', () => {
    const options = mainWindowOptions({ preload: '/app/dist/preload/index.cjs' });
    expect(options.webPreferences).toMatchObject({
      preload: '/app/dist/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
    });
    expect(options.show).toBe(false);
  });

  it('are the ones the window is created with, and the window loads the app page', () => {
    const created: FakeWindow[] = [];
    const window = new MainWindow({
      createWindow: (options) => {
        const fake = new FakeWindow(options);
        created.push(fake);
        return fake;
      },
      preloadPath: '/p.cjs',
      openExternal: async () => undefined,
      hideOnClose: () => false,
      isQuitting: () => false,
    });
    window.show();
    expect(created).toHaveLength(1);
    expect(created[0]!.options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    });
    expect(created[0]!.webContents.loaded).toEqual([APP_INDEX_URL]);
    // The navigation guards are on the window's own contents.
    expect(created[0]!.webContents.navigate('will-navigate', 'https://evil.example/')).toBe(true);
  });
});

describe('the navigation guards', () => {
  it('let the window move between its own pages', () => {
    const { contents, opened } = guardedContents();
    expect(contents.navigate('will-navigate', 'app://ferry/index.html#/history')).toBe(false);
    expect(contents.navigate('will-navigate', 'app://ferry/settings')).toBe(false);
    expect(opened).toEqual([]);
  });

  it('prevent navigation to a foreign page and open web links in the browser instead', () => {
    const { contents, opened } = guardedContents();
    expect(contents.navigate('will-navigate', 'https://example.com/help')).toBe(true);
    expect(contents.navigate('will-redirect', 'http://example.com/elsewhere')).toBe(true);
    expect(opened).toEqual(['https://example.com/help', 'http://example.com/elsewhere']);
  });

  it('prevent navigation to other schemes without opening anything', () => {
    const { contents, opened } = guardedContents();
    for (const url of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'app://other/index.html',
      'app://user@ferry/x',
      'smb://host/share',
      'not a url',
    ]) {
      expect(contents.navigate('will-navigate', url)).toBe(true);
    }
    expect(opened).toEqual([]);
  });

  it('deny window.open; http(s) links go to the browser, other schemes nowhere', () => {
    const { contents, opened } = guardedContents();
    expect(contents.openHandler!({ url: 'https://example.com/result/17' })).toEqual({ action: 'deny' });
    expect(contents.openHandler!({ url: 'app://ferry/index.html' })).toEqual({ action: 'deny' });
    expect(contents.openHandler!({ url: 'file:///home/me/secret.txt' })).toEqual({ action: 'deny' });
    expect(contents.openHandler!({ url: 'ms-settings:privacy' })).toEqual({ action: 'deny' });
    expect(opened).toEqual(['https://example.com/result/17']);
  });

  it('refuse <webview> attachment', () => {
    const { contents } = guardedContents();
    let prevented = false;
    for (const handler of contents.handlers.get('will-attach-webview') ?? []) {
      (handler as (event: { preventDefault(): void }) => void)({ preventDefault: () => (prevented = true) });
    }
    expect(prevented).toBe(true);
  });

  it('deny every browser permission but writing to the clipboard', () => {
    let request: ((contents: unknown, permission: string, callback: (granted: boolean) => void) => void) | undefined;
    let check: ((contents: unknown, permission: string, origin: string) => boolean) | undefined;
    guardPermissions({
      setPermissionRequestHandler: (handler) => (request = handler),
      setPermissionCheckHandler: (handler) => (check = handler),
    });
    const answers: Array<[string, boolean]> = [];
    for (const permission of [
      'media',
      'geolocation',
      'notifications',
      'openExternal',
      'clipboard-read',
      'clipboard-sanitized-write',
    ]) {
      request!(null, permission, (granted) => answers.push([permission, granted]));
    }
    expect(answers.filter(([, granted]) => granted).map(([permission]) => permission)).toEqual([
      'clipboard-sanitized-write',
    ]);
    expect(check!(null, 'clipboard-sanitized-write', 'app://ferry')).toBe(true);
    expect(check!(null, 'clipboard-sanitized-write', 'https://example.com')).toBe(false);
  });
});

describe('close to tray', () => {
  function open(hideOnClose: boolean, quitting = false): FakeWindow {
    let created: FakeWindow | undefined;
    new MainWindow({
      createWindow: (options) => (created = new FakeWindow(options)),
      preloadPath: '/p.cjs',
      openExternal: async () => undefined,
      hideOnClose: () => hideOnClose,
      isQuitting: () => quitting,
    }).show();
    created!.show();
    return created!;
  }

  it('hides the window instead of closing it when the setting is on', () => {
    const window = open(true);
    expect(window.emit('close')).toBe(true);
    expect(window.visible).toBe(false);
  });

  it('closes the window when the setting is off, or when Ferry quits', () => {
    expect(open(false).emit('close')).toBe(false);
    expect(open(true, true).emit('close')).toBe(false);
  });

  it('keeps the taskbar progress for a window created later', () => {
    let created: FakeWindow | undefined;
    const window = new MainWindow({
      createWindow: (options) => (created = new FakeWindow(options)),
      preloadPath: '/p.cjs',
      openExternal: async () => undefined,
      hideOnClose: () => true,
      isQuitting: () => false,
    });
    window.setProgress(0.25);
    window.show();
    expect(created!.progress).toEqual([0.25]);
    window.setProgress(-1);
    expect(created!.progress).toEqual([0.25, -1]);
  });
});

describe('the app:// scheme', () => {
  it('recognises only app://ferry addresses as the app', () => {
    expect(isAppUrl('app://ferry/index.html')).toBe(true);
    expect(isAppUrl('app://ferry')).toBe(true);
    expect(isAppUrl('app://ferry.evil/index.html')).toBe(false);
    expect(isAppUrl('file:///app/dist/renderer/index.html')).toBe(false);
    expect(isAppUrl('https://ferry/index.html')).toBe(false);
  });

  it('maps addresses inside the renderer folder only', () => {
    const root = '/srv/renderer';
    expect(rendererPathFor(root, 'app://ferry/assets/index-abc.js')).toBe('/srv/renderer/assets/index-abc.js');
    expect(rendererPathFor(root, 'app://ferry/')).toBe('/srv/renderer/index.html');
    expect(rendererPathFor(root, 'app://ferry/history')).toBe('/srv/renderer/index.html');
    // The URL parser folds dot segments first: this one stays inside the folder.
    expect(rendererPathFor(root, 'app://ferry/%2e%2e/%2e%2e/etc/passwd.txt')).toBe('/srv/renderer/etc/passwd.txt');
    // Encoded slashes survive the parser; decoded, they would climb out.
    expect(rendererPathFor(root, 'app://ferry/..%2F..%2Fsecrets.json')).toBeNull();
    expect(rendererPathFor(root, 'app://other/index.html')).toBeNull();
  });

  it('serves the renderer with a strict Content-Security-Policy', async () => {
    const dir = await fixtures.tempDir('ferry-renderer-');
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><script type="module" src="./assets/app.js"></script>');
    await writeFile(join(dir, 'assets', 'app.js'), 'console.log("hi")');
    const page = await serveRendererRequest(dir, { url: 'app://ferry/index.html', method: 'GET' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(await page.text()).toContain('<script type="module"');
    const script = await serveRendererRequest(dir, { url: 'app://ferry/assets/app.js', method: 'GET' });
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect((await serveRendererRequest(dir, { url: 'app://ferry/assets/missing.js', method: 'GET' })).status).toBe(404);
    expect((await serveRendererRequest(dir, { url: 'app://ferry/index.html', method: 'POST' })).status).toBe(405);

    const directives = new Map(CONTENT_SECURITY_POLICY.split('; ').map((part) => [part.split(' ')[0], part]));
    expect(directives.get('default-src')).toBe("default-src 'none'");
    expect(directives.get('script-src')).toBe("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval');
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
  });

  it('says how to build the renderer when it is missing', async () => {
    const dir = await fixtures.tempDir('ferry-renderer-');
    const page = await serveRendererRequest(join(dir, 'nothing'), { url: APP_INDEX_URL, method: 'GET' });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('npm run build:renderer');
  });
});
