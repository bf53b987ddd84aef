/**
 * The Electron side of `DesktopShell`: tray icon and menu, taskbar/dock progress, native
 * notifications, the power-save blocker and the login item. Thin on purpose — what to show and when
 * is decided in plain modules (overallProgress, notificationBatcher, powerSave, loginItem) that are
 * tested without Electron; this file only hands their results to Electron's objects, which it gets
 * from `index.ts`.
 */
import type {
  App,
  Clipboard,
  Menu,
  MenuItemConstructorOptions,
  NativeImage,
  Notification,
  PowerSaveBlocker,
  Tray,
} from 'electron';
import type { DesktopShell } from './desktopCore.ts';
import { HIDDEN_FLAG, setLinuxAutostart } from './loginItem.ts';
import type { MainWindow } from './mainWindow.ts';
import type { BatchedNotification } from './notificationBatcher.ts';
import { trayMenu, type TrayAction, type TrayMenuItem, type TrayState, type TrayView } from './overallProgress.ts';
import { PowerSaveSwitch } from './powerSave.ts';

export interface ElectronShellDeps {
  app: Pick<App, 'isPackaged' | 'setLoginItemSettings'>;
  Tray: new (image: NativeImage) => Tray;
  Menu: { buildFromTemplate(template: MenuItemConstructorOptions[]): Menu };
  Notification: {
    new (options: { title: string; body: string; icon?: NativeImage | string; silent?: boolean }): Notification;
    isSupported(): boolean;
  };
  powerSaveBlocker: Pick<PowerSaveBlocker, 'start' | 'stop'>;
  /** The tray icon, already loaded (a template image on macOS). */
  trayIcon: NativeImage;
  /** The icon of each state other than idle; a state without one shows `trayIcon`. */
  trayIcons?: Partial<Record<TrayState, NativeImage>>;
  clipboard: Pick<Clipboard, 'writeText'>;
  /** Shown in notifications on Linux and Windows. */
  notificationIcon?: string | null;
  window: MainWindow;
  onTrayAction: (action: TrayAction) => void;
  platform: NodeJS.Platform;
  /** The AppImage or installed binary, for the Linux autostart entry. */
  executable: string;
  log: (message: string, error?: unknown) => void;
}

export class ElectronShell implements DesktopShell {
  readonly #deps: ElectronShellDeps;
  readonly #powerSave: PowerSaveSwitch;
  #tray: Tray | null = null;
  #tooltip = '';
  #menuKey = '';
  #state: TrayState = 'idle';
  #progress = Number.NaN;

  constructor(deps: ElectronShellDeps) {
    this.#deps = deps;
    this.#powerSave = new PowerSaveSwitch(deps.powerSaveBlocker);
    try {
      this.#tray = new deps.Tray(deps.trayIcon);
      // Windows and most Linux trays: a click opens the window; the menu is on the other button.
      this.#tray.on('click', () => deps.onTrayAction({ type: 'open' }));
    } catch (error) {
      // Some Linux desktops have no status area: then closing the window quits (see hasTray).
      deps.log('No tray icon on this desktop', error);
      this.#tray = null;
    }
  }

  /** Without a tray, a hidden window could not be brought back: close-to-tray needs one. */
  get hasTray(): boolean {
    return this.#tray !== null;
  }

  showWindow(): void {
    this.#deps.window.show();
  }

  showStatus(view: TrayView): void {
    if (this.#tray) {
      if (view.tooltip !== this.#tooltip) {
        this.#tooltip = view.tooltip;
        this.#tray.setToolTip(view.tooltip);
      }
      if (view.state !== this.#state) {
        this.#state = view.state;
        this.#tray.setImage(this.#deps.trayIcons?.[view.state] ?? this.#deps.trayIcon);
      }
      const items = trayMenu(view);
      const key = JSON.stringify(items);
      if (key !== this.#menuKey) {
        this.#menuKey = key;
        this.#tray.setContextMenu(this.#deps.Menu.buildFromTemplate(items.map((item) => this.#menuItem(item))));
      }
    }
    // Fractions that round to the same pixel are not worth a call to the OS.
    if (Math.abs(view.progressBar - this.#progress) >= 0.002 || (view.progressBar === -1) !== (this.#progress === -1)) {
      this.#progress = view.progressBar;
      this.#deps.window.setProgress(view.progressBar);
    }
  }

  #menuItem(item: TrayMenuItem): MenuItemConstructorOptions {
    switch (item.kind) {
      case 'separator':
        return { type: 'separator' };
      case 'submenu':
        return { label: item.label, enabled: item.enabled, submenu: item.items.map((child) => this.#menuItem(child)) };
      case 'item':
        return { label: item.label, enabled: item.enabled, click: () => this.#deps.onTrayAction(item.action) };
      default: {
        const unreachable: never = item;
        throw new Error(`Unknown tray menu item ${JSON.stringify(unreachable)}`);
      }
    }
  }

  async copyText(text: string): Promise<void> {
    await this.#deps.clipboard.writeText(text);
  }

  notify(notification: BatchedNotification): void {
    const { Notification } = this.#deps;
    if (!Notification.isSupported()) return;
    const shown = new Notification({
      title: notification.title,
      body: notification.body,
      ...(this.#deps.notificationIcon ? { icon: this.#deps.notificationIcon } : {}),
    });
    shown.on('click', () => this.#deps.window.show());
    shown.show();
  }

  setUploading(uploading: boolean): void {
    this.#powerSave.update(uploading);
  }

  setStartAtLogin(enabled: boolean): void {
    const { app, platform, log } = this.#deps;
    if (!app.isPackaged) {
      log(`Start at login ${enabled ? 'on' : 'off'}: not registered, because this is not a packaged Ferry`);
      return;
    }
    if (platform === 'linux') {
      setLinuxAutostart(enabled, this.#deps.executable).catch((error: unknown) =>
        log('Could not write the autostart entry', error),
      );
      return;
    }
    app.setLoginItemSettings({ openAtLogin: enabled, args: [HIDDEN_FLAG] });
  }

  destroy(): void {
    this.#powerSave.update(false);
    this.#tray?.destroy();
    this.#tray = null;
  }
}
