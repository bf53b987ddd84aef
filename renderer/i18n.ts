/**
 * The renderer's language: one i18next instance, created and initialised when this module loads
 * (the resources are bundled, so it is ready at once), bound to React through react-i18next.
 * Components call `useTranslation()` once and pass `t` down; code outside React (stores, toasts,
 * formatters) uses `t` and `locale()` from here, which always read the active language.
 */
import i18next from 'i18next';
import { initReactI18next } from 'react-i18next';
import type { Language } from '../main/api/contract.ts';
import de from './locales/de.json';
import en from './locales/en.json';

export const UI_LANGUAGES = ['en', 'de'] as const;
export type UiLanguage = (typeof UI_LANGUAGES)[number];

/** The language to show for a setting: a fixed one, or the first system language Ferry speaks. */
export function resolveLanguage(setting: Language | null | undefined, preferred?: readonly string[]): UiLanguage {
  if (setting === 'en' || setting === 'de') return setting;
  const system = preferred ?? (typeof navigator === 'undefined' ? [] : (navigator.languages ?? [navigator.language]));
  for (const tag of system) {
    const base = tag.toLowerCase().split('-')[0];
    if (base === 'en' || base === 'de') return base;
  }
  return 'en';
}

export const LANGUAGE_KEY = 'ferry.language';

/** The language setting of the last session, so that the window starts in it before settings arrive. */
function remembered(): Language | null {
  try {
    const value = localStorage.getItem(LANGUAGE_KEY);
    return value === 'system' || value === 'en' || value === 'de' ? value : null;
  } catch {
    return null;
  }
}

export const i18n = i18next.createInstance();

const first = resolveLanguage(remembered());

void i18n.use(initReactI18next).init({
  resources: { en: { translation: en }, de: { translation: de } },
  lng: first,
  fallbackLng: 'en',
  supportedLngs: [...UI_LANGUAGES],
  // React escapes what it renders; escaping here too would show &amp; in the window.
  interpolation: { escapeValue: false },
  initAsync: false,
  returnNull: false,
});
setDocumentLanguage(first);

/**
 * Puts the language on `<html lang>`, only when it changes: Chromium restyles the document on any
 * write of the root's `lang`, even of the value it has, and lays the text out again when it changes
 * (the text's locale picks fonts). App's effect wrote it right after the first paint of the queue, while
 * that frame was rasterised: a German window spent ~9 ms of CPU on it. Set here, before the first render,
 * the attribute is right from the start.
 */
function setDocumentLanguage(language: UiLanguage): void {
  if (typeof document !== 'undefined' && document.documentElement.lang !== language)
    document.documentElement.lang = language;
}

/**
 * Switches the whole window to the language the setting names (or the system's); null (settings not
 * read yet) keeps the last session's. Components re-render through react-i18next's languageChanged.
 */
export function applyLanguage(setting: Language | null | undefined): void {
  if (setting) {
    try {
      localStorage.setItem(LANGUAGE_KEY, setting);
    } catch {
      // Still applies now; the next start may show the system language until settings arrive.
    }
  }
  const next = resolveLanguage(setting ?? remembered());
  setDocumentLanguage(next);
  if (i18n.language !== next) void i18n.changeLanguage(next);
}

/** The active locale, for `Intl` formatters. */
export function locale(): UiLanguage {
  return (i18n.resolvedLanguage ?? i18n.language ?? 'en') as UiLanguage;
}

/** Translates outside React (stores, toasts); reads the active language at each call. */
export const t: typeof i18n.t = ((...args: Parameters<typeof i18n.t>) => i18n.t(...args)) as typeof i18n.t;
