/**
 * Ferry's one window: locked-down web preferences, the navigation guards, the renderer loaded from
 * `app://ferry/`, close-to-tray, and the taskbar/dock progress bar. The window is created when first
 * shown (a start in the tray creates none) and again after it was closed.
 *
 * BrowserWindow comes in through `createWindow`, typed by the small `WindowLike` interface, so the
 * tests check the options and the guards on a fake.
 */
import type { BrowserWindowConstructorOptions } from 'electron';
import { APP_INDEX_URL } from './appProtocol.ts';
import { guardNavigation, type GuardedContents, type PreventableEvent } from './navigationGuard.ts';
import type { EventTargetContents } from '../ipc/ipcTransport.ts';

export interface WindowContents extends GuardedContents, EventTargetContents {
  loadURL(url: string): Promise<void>;
}

/** The part of `BrowserWindow` used here. */
export interface WindowLike {
  readonly webContents: WindowContents;
  on(event: 'close', listener: (event: PreventableEvent) => void): unknown;
  on(event: 'closed', listener: () => void): unknown;
  once(event: 'ready-to-show', listener: () => void): unknown;
  show(): void;
  hide(): void;
  focus(): void;
  restore(): void;
  isMinimized(): boolean;
  isDestroyed(): boolean;
  setProgressBar(progress: number): void;
}

/**
 * The window's options. Every security-relevant preference is spelled out, defaults included, so
 * that a change of Electron's defaults cannot loosen them: the renderer runs sandboxed, isolated
 * from the preload, without Node, with web security on, without <webview> and without navigation
 * by dropped files (drops are handled by the page itself).
 */
export function mainWindowOptions(paths: { preload: string; icon?: string | null }): BrowserWindowConstructorOptions {
  return {
    width: 1120,
    height: 760,
    minWidth: 720,
    minHeight: 480,
    title: 'Ferry',
    show: false,
    backgroundColor: '#0f2a3d',
    ...(paths.icon ? { icon: paths.icon } : {}),
    webPreferences: {
      preload: paths.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      safeDialogs: true,
    },
  };
}

export interface MainWindowDeps {
  createWindow: (options: BrowserWindowConstructorOptions) => WindowLike;
  preloadPath: string;
  iconPath?: string | null;
  openExternal: (url: string) => Promise<void>;
  /** True when closing the window should keep Ferry running in the tray (setting on, tray present). */
  hideOnClose: () => boolean;
  /** True once the app is quitting: closing then really closes. */
  isQuitting: () => boolean;
  /** Runs for each window created (the IPC transport trusts its webContents). */
  onCreated?: (window: WindowLike) => void;
  log?: (message: string, error?: unknown) => void;
}

export class MainWindow {
  readonly #deps: MainWindowDeps;
  #window: WindowLike | null = null;
  #progress = -1;

  constructor(deps: MainWindowDeps) {
    this.#deps = deps;
  }

  get window(): WindowLike | null {
    return this.#window && !this.#window.isDestroyed() ? this.#window : null;
  }

  /** Shows the window, creating it if needed, and brings it to the front. */
  show(): WindowLike {
    const existing = this.window;
    if (existing) {
      if (existing.isMinimized()) existing.restore();
      existing.show();
      existing.focus();
      return existing;
    }
    return this.#create(true);
  }

  /** Creates the window without showing it (the renderer loads in the background). */
  ensure(): WindowLike {
    return this.window ?? this.#create(false);
  }

  /** The taskbar/dock progress bar: 0..1, or -1 to remove it. Kept for a window created later. */
  setProgress(progress: number): void {
    this.#progress = progress;
    this.window?.setProgressBar(progress);
  }

  #create(showWhenReady: boolean): WindowLike {
    const deps = this.#deps;
    const window = deps.createWindow(mainWindowOptions({ preload: deps.preloadPath, icon: deps.iconPath ?? null }));
    this.#window = window;
    guardNavigation(window.webContents, { openExternal: deps.openExternal, ...(deps.log ? { log: deps.log } : {}) });
    deps.onCreated?.(window);
    window.on('close', (event) => {
      if (deps.isQuitting() || !deps.hideOnClose()) return;
      // Uploads go on in the tray; the window comes back from the tray or a new launch.
      event.preventDefault();
      window.hide();
    });
    window.on('closed', () => {
      if (this.#window === window) this.#window = null;
    });
    if (showWhenReady) window.once('ready-to-show', () => window.show());
    if (this.#progress !== -1) window.setProgressBar(this.#progress);
    window.webContents
      .loadURL(APP_INDEX_URL)
      .catch((error: unknown) => deps.log?.(`Could not load ${APP_INDEX_URL}`, error));
    return window;
  }
}
