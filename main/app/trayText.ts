/**
 * The tray's and the notifications' words in the person's language, through i18next (the same
 * library as the window), from `locales/en.json` and `locales/de.json`. The language is the
 * `language` setting, or the system's (`app.getLocale()`) when it says `system`; languages Ferry
 * has no words for fall back to English.
 *
 * The tray's state is computed in English by overallProgress.ts (which tests read); its menu is
 * translated here by what each item does, and its tooltip part by part, by the shape of each part
 * (`uploading 45%`, `3 of 10 uploads done`, …). A part this file does not know — a watched folder's
 * own error message — is shown as it is.
 */
import i18next, { type i18n } from 'i18next';
import type { MenuItemConstructorOptions } from 'electron';
import type { Language } from '../api/contract.ts';
import de from './locales/de.json' with { type: 'json' };
import en from './locales/en.json' with { type: 'json' };
import type { BatchedNotification, FinishedJob } from './notificationBatcher.ts';
import type { TrayMenuItem } from './overallProgress.ts';

export const TRAY_LANGUAGES = ['en', 'de'] as const;
export type TrayLanguage = (typeof TRAY_LANGUAGES)[number];

/** The language of the tray for a setting and the system's locale (`de-AT` → `de`). */
export function trayLanguage(setting: Language, systemLocale: string): TrayLanguage {
  if (setting !== 'system') return setting;
  const base = systemLocale.toLowerCase().split(/[-_]/)[0] ?? '';
  return (TRAY_LANGUAGES as readonly string[]).includes(base) ? (base as TrayLanguage) : 'en';
}

export type Translate = (key: string, values?: Record<string, unknown>) => string;

export class TrayText {
  readonly #i18n: i18n;

  constructor(language: TrayLanguage) {
    this.#i18n = i18next.createInstance();
    void this.#i18n.init({
      lng: language,
      fallbackLng: 'en',
      resources: { en: { tray: en }, de: { tray: de } },
      ns: ['tray'],
      defaultNS: 'tray',
      interpolation: { escapeValue: false },
      // Resources are here already: ready when init returns, no promise to wait for.
      initAsync: false,
    });
  }

  get language(): string {
    return this.#i18n.language;
  }

  setLanguage(language: TrayLanguage): void {
    void this.#i18n.changeLanguage(language);
  }

  readonly t: Translate = (key, values) => this.#i18n.t(key, values ?? {});

  /** The label of a tray menu item (see overallProgress.ts `trayMenu`), in this language. */
  menuLabel(item: Exclude<TrayMenuItem, { kind: 'separator' }>): string {
    if (item.kind === 'submenu') return this.t('menu.recentUploads');
    const { action } = item;
    switch (action.type) {
      case 'open': {
        // The only disabled "open" is a recent upload without a link: "name (no link)".
        const name = /^(.*) \(no link\)$/.exec(item.label)?.[1];
        return name !== undefined && !item.enabled ? this.t('menu.noLink', { name }) : this.t('menu.open');
      }
      case 'pause-all':
        return this.t('menu.pauseAll');
      case 'resume-all':
        return this.t('menu.resumeAll');
      case 'pause-sync':
        return this.t('menu.pauseSync');
      case 'resume-sync':
        return this.t('menu.resumeSync');
      case 'copy-link':
        return this.t('menu.copyLink', { name: action.name });
      case 'quit':
        return this.t('menu.quit');
      default:
        return item.label;
    }
  }

  /** The tooltip of overallProgress.ts, translated part by part. */
  tooltip(english: string): string {
    const body = english.replace(/^Ferry: /, '');
    if (body === english) return english;
    const parts = body.split(' · ').map((part) => this.#tooltipPart(part));
    return this.t('tooltip.prefix', { parts: parts.join(' · ') });
  }

  #tooltipPart(part: string): string {
    const rules: Array<[RegExp, (m: RegExpExecArray) => string]> = [
      [/^uploading (\d+)%$/, (m) => this.t('tooltip.uploadingPercent', { percent: Number(m[1]) })],
      [/^(\d+) of (\d+) uploads? done$/, (m) => this.t('tooltip.doneOf', { done: Number(m[1]), count: Number(m[2]) })],
      [/^(\d+) uploads? failed$/, (m) => this.t('tooltip.uploadsFailed', { count: Number(m[1]) })],
      [/^(\d+) failed$/, (m) => this.t('tooltip.failedCount', { count: Number(m[1]) })],
      [/^(\d+) uploads? paused$/, (m) => this.t('tooltip.uploadsPaused', { count: Number(m[1]) })],
      [/^(\d+) paused$/, (m) => this.t('tooltip.pausedCount', { count: Number(m[1]) })],
      [/^sync paused$/, () => this.t('tooltip.syncPaused')],
      [/^idle$/, () => this.t('tooltip.idle')],
      [/^no uploads running$/, () => this.t('tooltip.noUploads')],
      [/^watching (\d+) folders?$/, (m) => this.t('tooltip.watching', { count: Number(m[1]) })],
      [/^(\d+) folders? cannot be watched$/, (m) => this.t('tooltip.foldersUnwatchable', { count: Number(m[1]) })],
      [/^Waiting for network \((\d+) hosts\)$/, (m) => this.t('tooltip.waitingHosts', { count: Number(m[1]) })],
      [/^Waiting for network \((.+)\)$/, (m) => this.t('tooltip.waitingHost', { host: m[1] })],
    ];
    for (const [pattern, translate] of rules) {
      const match = pattern.exec(part);
      if (match) return translate(match);
    }
    return part;
  }

  /** The notification for a batch of finished uploads (notificationBatcher.ts `describeBatch`), in this language. */
  describeBatch(jobs: readonly FinishedJob[]): BatchedNotification {
    const failed = jobs.filter((job) => job.state === 'failed').length;
    const completed = jobs.length - failed;
    if (jobs.length === 1) {
      const job = jobs[0]!;
      return job.state === 'completed'
        ? { title: this.t('notification.finishedTitle'), body: this.t('notification.finishedBody', { name: job.name }) }
        : { title: this.t('notification.failedTitle'), body: this.t('notification.failedBody', { name: job.name }) };
    }
    if (failed === 0)
      return {
        title: this.t('notification.manyFinishedTitle'),
        body: this.t('notification.manyFinished', { count: completed }),
      };
    if (completed === 0)
      return {
        title: this.t('notification.manyFailedTitle'),
        body: this.t('notification.manyFailed', { count: failed }),
      };
    return {
      title: this.t('notification.manyFinishedTitle'),
      body: this.t('notification.mixed', { count: completed, failed }),
    };
  }

  /** A menu item of Ferry's own beyond the queue's (see ElectronShell `menuExtras`). */
  item(key: string, click: () => void, values?: Record<string, unknown>): MenuItemConstructorOptions {
    return { label: this.t(key, values), click };
  }
}
