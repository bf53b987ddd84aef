/**
 * Updates of the installed app, through electron-updater (main/index.ts hands in its
 * `autoUpdater`; tests a fake). The feed is the `updateUrl` setting, a folder served over HTTP(S)
 * holding what `npm run dist` produced (latest*.yml and the packages): electron-updater's "generic"
 * provider, set at run time with `setFeedURL`. With `autoUpdate` on and a URL set, Ferry checks when
 * it starts, whenever either setting changes, and once a day; a found update is downloaded in the
 * background, and once it is there the tray and a notification offer "Restart to update"
 * (`quitAndInstall`). Turning `autoUpdate` off stops the checks; an update already downloaded is still
 * installed when Ferry quits (electron-updater's `autoInstallOnAppQuit`), unless it was switched off
 * before the download ended.
 *
 * Checks run only in a packaged app: an unpackaged one (`npm start`) has nothing to replace.
 * A failed check is logged and retried at the next daily check; it is not shown as an error, since a
 * person who did not ask for the check can do nothing about an unreachable server at 3 am.
 */

/** The part of electron-updater's `autoUpdater` used here. */
export interface UpdaterLike {
  autoDownload: boolean;
  autoInstallOnAppQuit: boolean;
  setFeedURL(options: { provider: 'generic'; url: string }): void;
  checkForUpdates(): Promise<unknown>;
  quitAndInstall(isSilent?: boolean, isForceRunAfter?: boolean): void;
  on(event: 'update-downloaded', listener: (info: { version: string }) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface UpdateSettings {
  autoUpdate: boolean;
  updateUrl: string;
}

export interface UpdateManagerOptions {
  updater: UpdaterLike;
  settings: () => UpdateSettings;
  /** `app.isPackaged`. */
  packaged: boolean;
  /** An update was downloaded: offer "Restart to update" (tray item, notification). */
  onReady: (version: string) => void;
  log: (message: string, error?: unknown) => void;
  /** Between two checks (default one day). */
  intervalMs?: number;
}

export const CHECK_INTERVAL_MS = 24 * 60 * 60 * 1000;

export class UpdateManager {
  readonly #options: UpdateManagerOptions;
  #timer: NodeJS.Timeout | undefined;
  #feed = '';
  #ready: string | null = null;
  #checking = false;
  #closed = false;

  constructor(options: UpdateManagerOptions) {
    this.#options = options;
    const { updater } = options;
    updater.autoDownload = true;
    updater.autoInstallOnAppQuit = true;
    updater.on('update-downloaded', (info) => {
      if (this.#closed) return;
      this.#ready = info.version;
      options.log(`Update ${info.version} downloaded; it is installed on restart`);
      options.onReady(info.version);
    });
    updater.on('error', (error) => options.log('The update check failed', error));
  }

  /** The version downloaded and waiting for a restart, or null. */
  get ready(): string | null {
    return this.#ready;
  }

  /** Applies the settings: call at start and whenever they change. Checks now when on and the feed changed. */
  apply(): void {
    if (this.#closed) return;
    const { autoUpdate, updateUrl } = this.#options.settings();
    const url = updateUrl.trim();
    const on = autoUpdate && url !== '' && this.#options.packaged;
    this.#options.updater.autoInstallOnAppQuit = autoUpdate;
    if (!on) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#feed = '';
      if (autoUpdate && url !== '' && !this.#options.packaged)
        this.#options.log('Updates are checked only in a packaged Ferry');
      return;
    }
    if (url === this.#feed && this.#timer) return;
    this.#feed = url;
    this.#options.updater.setFeedURL({ provider: 'generic', url });
    clearInterval(this.#timer);
    this.#timer = setInterval(() => void this.check(), this.#options.intervalMs ?? CHECK_INTERVAL_MS);
    this.#timer.unref?.();
    void this.check();
  }

  /** One check (skipped while one runs or once an update waits for the restart). */
  async check(): Promise<void> {
    if (this.#closed || this.#checking || this.#ready !== null || this.#feed === '') return;
    this.#checking = true;
    try {
      await this.#options.updater.checkForUpdates();
    } catch (error) {
      this.#options.log(`Could not check ${this.#feed} for updates`, error);
    } finally {
      this.#checking = false;
    }
  }

  /** "Restart to update": quits Ferry (its quit handler runs first) and installs the update. */
  restart(): boolean {
    if (this.#ready === null) return false;
    this.#options.updater.quitAndInstall(false, true);
    return true;
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
