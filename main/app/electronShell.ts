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
import type { TrayText } from './trayText.ts';

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
  /**
   * Items of the tray menu beyond the queue's, shown above Quit ("Restart to update", "Open log
   * folder"); read each time the menu is rebuilt (see `refreshMenu`).
   */
  menuExtras?: () => MenuItemConstructorOptions[];
  /** The tray's words in the person's language (trayText.ts); English as computed without it. */
  text?: TrayText;
}

export class ElectronShell implements DesktopShell {
  readonly #deps: ElectronShellDeps;
  readonly #powerSave: PowerSaveSwitch;
  #tray: Tray | null = null;
  #tooltip = '';
  #menuKey = '';
  #state: TrayState = 'idle';
  #progress = Number.NaN;
  #lastView: TrayView | null = null;

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
    this.#lastView = view;
    if (this.#tray) {
      const tooltip = this.#deps.text?.tooltip(view.tooltip) ?? view.tooltip;
      if (tooltip !== this.#tooltip) {
        this.#tooltip = tooltip;
        this.#tray.setToolTip(tooltip);
      }
      if (view.state !== this.#state) {
        this.#state = view.state;
        this.#tray.setImage(this.#deps.trayIcons?.[view.state] ?? this.#deps.trayIcon);
      }
      const items = trayMenu(view);
      const extras = this.#deps.menuExtras?.() ?? [];
      const key = JSON.stringify([
        this.#deps.text?.language,
        items,
        extras.map((extra) => [extra.label, extra.enabled, extra.type]),
      ]);
      if (key !== this.#menuKey) {
        this.#menuKey = key;
        const template = items.map((item) => this.#menuItem(item));
        // Above the separator and Quit at the end.
        if (extras.length > 0) template.splice(Math.max(0, template.length - 1), 0, ...extras, { type: 'separator' });
        this.#tray.setContextMenu(this.#deps.Menu.buildFromTemplate(template));
      }
    }
    // Fractions that round to the same pixel are not worth a call to the OS.
    if (Math.abs(view.progressBar - this.#progress) >= 0.002 || (view.progressBar === -1) !== (this.#progress === -1)) {
      this.#progress = view.progressBar;
      this.#deps.window.setProgress(view.progressBar);
    }
  }

  /** Rebuilds the tray menu now (its extras changed: an update is ready, the language changed). */
  refreshMenu(): void {
    if (this.#lastView) this.showStatus(this.#lastView);
  }

  #menuItem(item: TrayMenuItem): MenuItemConstructorOptions {
    switch (item.kind) {
      case 'separator':
        return { type: 'separator' };
      case 'submenu':
        return {
          label: this.#deps.text?.menuLabel(item) ?? item.label,
          enabled: item.enabled,
          submenu: item.items.map((child) => this.#menuItem(child)),
        };
      case 'item':
        return {
          label: this.#deps.text?.menuLabel(item) ?? item.label,
          enabled: item.enabled,
          click: () => this.#deps.onTrayAction(item.action),
        };
      default: {
        const unreachable: never = item;
        throw new Error(`Unknown tray menu item ${JSON.stringify(unreachable)}`);
      }
    }
  }

  async copyText(text: string): Promise<void> {
    await this.#deps.clipboard.writeText(text);
  }

  /** Shows a notification; a click runs `onClick`, or brings the window up. */
  notify(notification: BatchedNotification, onClick?: () => void): void {
    const { Notification } = this.#deps;
    if (!Notification.isSupported()) return;
    const shown = new Notification({
      title: notification.title,
      body: notification.body,
      ...(this.#deps.notificationIcon ? { icon: this.#deps.notificationIcon } : {}),
    });
    shown.on('click', () => (onClick ? onClick() : this.#deps.window.show()));
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
