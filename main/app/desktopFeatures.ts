/**
 * The desktop app's everyday extras around the core, put together once the core runs: the clipboard
 * hotkey (hotkey.ts + clipboardUpload.ts), ferry:// links (ferryLink.ts), updates (updates.ts), the
 * tray's language (trayText.ts) and the tray items of Ferry's own ("Upload clipboard", "Open log
 * folder", "Restart to update"). Each follows its setting as it changes. Electron's objects come in
 * from main/index.ts through the small interfaces of those files.
 */
import type { MenuItemConstructorOptions } from 'electron';
import type { ApiResult, JobView } from '../api/contract.ts';
import { findAdapter } from '../providers/registry.ts';
import { uploadClipboard, type ClipboardLike } from './clipboardUpload.ts';
import type { DesktopCore } from './desktopCore.ts';
import { handleFerryLink } from './ferryLink.ts';
import { Hotkey, type GlobalShortcutLike } from './hotkey.ts';
import type { BatchedNotification } from './notificationBatcher.ts';
import { stageAndEnqueue } from './stageBytes.ts';
import { trayLanguage, type TrayText } from './trayText.ts';
import { UpdateManager, type UpdaterLike } from './updates.ts';

export interface DesktopFeaturesDeps {
  core: DesktopCore;
  shell: {
    notify(notification: BatchedNotification, onClick?: () => void): void;
    refreshMenu(): void;
    showWindow(): void;
  };
  text: TrayText;
  /** `app.getLocale()`, for the language setting `system`. */
  systemLocale: () => string;
  clipboard: ClipboardLike;
  globalShortcut: GlobalShortcutLike;
  updater: UpdaterLike;
  packaged: boolean;
  platform: NodeJS.Platform;
  openLogFolder: () => void;
  log: (message: string, error?: unknown) => void;
}

export interface DesktopFeatures {
  /** A ferry:// link from the command line, a second launch or macOS `open-url`. */
  handleLink(link: string): Promise<void>;
  /** Ferry's own tray items, in the tray's language. */
  menuExtras(): MenuItemConstructorOptions[];
  uploadClipboard(): Promise<void>;
  close(): void;
}

export function startDesktopFeatures(deps: DesktopFeaturesDeps): DesktopFeatures {
  const { core, shell, text, log } = deps;
  const api = core.api;
  const sourcesOf = (account: string): 'file' | 'url' | null => {
    const found = core.queue.accounts.list().find((candidate) => candidate.name === account);
    return found ? (findAdapter(found.provider)?.capabilities.sources ?? null) : null;
  };
  const enqueue = (account: string, paths: string[]): Promise<ApiResult<JobView[]>> =>
    core.call('jobs.enqueue', { account, paths }) as Promise<ApiResult<JobView[]>>;

  /** The window may be hidden: a notification too (when notifications are on), besides the window's notice. */
  const tell = (level: 'info' | 'warning' | 'error', message: string): void => {
    api.notice(level, message);
    if (api.settings.get().notifications) shell.notify({ title: text.t('notification.clipboardTitle'), body: message });
  };

  let clipboardRun: Promise<void> = Promise.resolve();
  const clipboard = (): Promise<void> => {
    // One at a time: a held-down hotkey must not queue the same screenshot ten times over.
    clipboardRun = clipboardRun.then(async () => {
      try {
        await uploadClipboard({
          clipboard: deps.clipboard,
          platform: deps.platform,
          targetAccount: () => core.intake.targetAccount(),
          sourcesOf,
          enqueue,
          stage: (account, name, bytes) => stageAndEnqueue(api, { account, name, bytes }, log),
          tell,
        });
      } catch (error) {
        log('Could not upload the clipboard', error);
        tell('error', 'Ferry could not upload the clipboard; the details are in its log');
      }
    });
    return clipboardRun;
  };

  const hotkey = new Hotkey({ globalShortcut: deps.globalShortcut, onPress: () => void clipboard(), tell, log });
  const updates = new UpdateManager({
    updater: deps.updater,
    settings: () => api.settings.get(),
    packaged: deps.packaged,
    log,
    onReady: (version) => {
      shell.refreshMenu();
      // The tray item stays either way; the notification follows the notifications setting.
      if (!api.settings.get().notifications) return;
      shell.notify(
        { title: text.t('notification.updateTitle'), body: text.t('notification.updateBody', { version }) },
        () => updates.restart(),
      );
    },
  });

  const applySettings = (): void => {
    const settings = api.settings.get();
    hotkey.set(settings.clipboardHotkey);
    updates.apply();
    const language = trayLanguage(settings.language, deps.systemLocale());
    if (language !== text.language) {
      text.setLanguage(language);
      shell.refreshMenu();
    }
  };
  applySettings();
  const stopSettings = api.onSettingsChanged((next, previous) => {
    if (
      next.clipboardHotkey !== previous.clipboardHotkey ||
      next.autoUpdate !== previous.autoUpdate ||
      next.updateUrl !== previous.updateUrl ||
      next.language !== previous.language
    )
      applySettings();
  });
  shell.refreshMenu();

  return {
    async handleLink(link) {
      try {
        await handleFerryLink(link, {
          showWindow: () => shell.showWindow(),
          notice: (level, message) => api.notice(level, message),
          targetAccount: () => core.intake.targetAccount(),
          sourcesOf,
          enqueue,
        });
      } catch (error) {
        log('Could not follow a ferry:// link', error);
      }
    },
    menuExtras() {
      const items: MenuItemConstructorOptions[] = [
        text.item('menu.uploadClipboard', () => void clipboard()),
        text.item('menu.openLogFolder', () => deps.openLogFolder()),
      ];
      const ready = updates.ready;
      if (ready !== null) items.unshift(text.item('menu.restartToUpdate', () => updates.restart(), { version: ready }));
      return items;
    },
    uploadClipboard: clipboard,
    close() {
      stopSettings();
      hotkey.release();
      updates.close();
    },
  };
}
