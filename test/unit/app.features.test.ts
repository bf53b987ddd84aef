/**
 * main/app/desktopFeatures.ts around a real desktop core (temporary data folder), with fakes for
 * Electron's clipboard, globalShortcut and electron-updater: the tray's own items, "Restart to
 * update" once an update is downloaded, the hotkey and the language following their settings.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startDesktopCore, type DesktopShell } from '../../main/app/desktopCore.ts';
import { startDesktopFeatures } from '../../main/app/desktopFeatures.ts';
import type { BatchedNotification } from '../../main/app/notificationBatcher.ts';
import { TrayText } from '../../main/app/trayText.ts';
import type { UpdaterLike } from '../../main/app/updates.ts';
import { Fixtures, waitFor } from '../support/ferryHarness.ts';
import { openTestQueue } from '../support/testQueue.ts';

const fixtures = new Fixtures();
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await fixtures.cleanup();
});

class Shell implements DesktopShell {
  notifications: Array<{ notification: BatchedNotification; click?: () => void }> = [];
  menuRefreshes = 0;
  showWindow(): void {}
  showStatus(): void {}
  notify(notification: BatchedNotification, onClick?: () => void): void {
    this.notifications.push({ notification, ...(onClick ? { click: onClick } : {}) });
  }
  async copyText(): Promise<void> {}
  setUploading(): void {}
  setStartAtLogin(): void {}
  refreshMenu(): void {
    this.menuRefreshes += 1;
  }
}

describe('the desktop extras', () => {
  it('offer Restart to update, follow the hotkey and language settings, and release the hotkey', async () => {
    const dir = await fixtures.tempDir('ferry-features-');
    const { db, queue } = openTestQueue(dir);
    const shell = new Shell();
    const core = await startDesktopCore({ dataDir: dir, db, queue, shell, version: '1.0.0', log: () => undefined });
    closers.push(async () => {
      await core.close();
      db.close();
    });
    const listeners = new Map<string, (arg: never) => void>();
    const installs: unknown[][] = [];
    const feeds: string[] = [];
    const updater: UpdaterLike = {
      autoDownload: false,
      autoInstallOnAppQuit: false,
      setFeedURL: (options) => void feeds.push(options.url),
      checkForUpdates: async () => null,
      quitAndInstall: (...args: unknown[]) => void installs.push(args),
      on: (event: string, listener: (arg: never) => void) => listeners.set(event, listener),
    };
    const shortcuts = new Map<string, () => void>();
    let logFolderOpened = 0;
    const text = new TrayText('en');
    const features = startDesktopFeatures({
      core,
      shell,
      text,
      systemLocale: () => 'en-US',
      clipboard: { read: async () => [], readText: async () => '' },
      globalShortcut: {
        register: (accelerator, callback) => {
          shortcuts.set(accelerator, callback);
          return true;
        },
        unregister: (accelerator) => void shortcuts.delete(accelerator),
      },
      updater,
      packaged: true,
      platform: 'linux',
      openLogFolder: () => (logFolderOpened += 1),
      log: () => undefined,
    });
    closers.push(() => features.close());

    expect(features.menuExtras().map((item) => item.label)).toEqual(['Upload clipboard', 'Open log folder']);
    features.menuExtras()[1]!.click!({} as never, undefined as never, {} as never);
    expect(logFolderOpened).toBe(1);

    // Updates: the feed of the setting is checked; a downloaded update is offered in the tray and a notification.
    expect(
      (await core.call('settings.set', { autoUpdate: true, updateUrl: 'https://updates.example/ferry/' })).ok,
    ).toBe(true);
    expect(feeds).toEqual(['https://updates.example/ferry/']);
    (listeners.get('update-downloaded') as (info: { version: string }) => void)({ version: '1.1.0' });
    expect(features.menuExtras()[0]!.label).toBe('Restart to update to 1.1.0');
    const notice = shell.notifications.find((n) => n.notification.title === 'Update ready')!;
    expect(notice.notification.body).toBe('Ferry 1.1.0 is downloaded. Click to restart and update.');
    notice.click!();
    expect(installs).toEqual([[false, true]]);

    // The hotkey follows its setting; the language switches the tray's words.
    expect((await core.call('settings.set', { clipboardHotkey: 'CommandOrControl+Shift+U' })).ok).toBe(true);
    expect([...shortcuts.keys()]).toEqual(['CommandOrControl+Shift+U']);
    shortcuts.get('CommandOrControl+Shift+U')!();
    await waitFor('the empty-clipboard notice', () =>
      shell.notifications.some((n) => n.notification.body === 'The clipboard holds no file, image or link to upload'),
    );
    const before = shell.menuRefreshes;
    expect((await core.call('settings.set', { language: 'de' })).ok).toBe(true);
    expect(shell.menuRefreshes).toBeGreaterThan(before);
    expect(features.menuExtras().map((item) => item.label)).toEqual([
      'Neu starten und auf 1.1.0 aktualisieren',
      'Zwischenablage hochladen',
      'Protokollordner öffnen',
    ]);
    features.close();
    expect(shortcuts.size).toBe(0);
  });
});
