/**
 * Translations for the queue's rows, cached per language. A row shows about ten translated strings
 * (its state, the labels of its checkbox, progress bar and action buttons) and a list that scrolls a
 * screenful per frame shows a dozen new rows each frame: through i18next each string costs a key
 * lookup and an interpolation pass, which the profile showed as a noticeable share of a frame. The
 * resources are bundled and never change at run time, so a key's text in a language is fixed, and a
 * text whose only placeholder is the file name is its template split at that name.
 *
 * The texts are read from the bundled resources as written, not through i18next: the window's first
 * render asks for each row text once, while i18next's translate and interpolation code is still cold.
 * What i18next would do with such a text is fixed by the options in i18n.ts: English when the language
 * lacks the key (fallbackLng), no escaping (escapeValue: false), and a value put in as it is, never
 * read for placeholders again (skipOnVariables), and a placeholder without a value left as written.
 * Anything else (plurals, nesting, a missing key) still goes through i18next.
 */
import { i18n, locale, TEXTS, type UiLanguage } from '../i18n.ts';

const fixed = new Map<string, string>();
const named = new Map<string, string[]>();

/**
 * The text of `key` as written in `language`'s resources, else in English's; undefined when that is not
 * one string of its own (a plural's forms, a group of keys, a missing key, a `$t()` nesting) or names
 * a namespace (`ns:key`).
 */
function writtenText(language: UiLanguage, key: string): string | undefined {
  if (key.includes(':')) return undefined;
  for (const texts of language === 'en' ? [TEXTS.en] : [TEXTS[language], TEXTS.en]) {
    let node: unknown = texts;
    for (const part of key.split('.'))
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined;
    if (typeof node === 'string') return node.includes('$t(') ? undefined : node;
  }
  return undefined;
}

/** `t(key)` for a key without placeholders. */
export function fixedText(key: string): string {
  const language = locale();
  const id = `${language}|${key}`;
  let text = fixed.get(id);
  if (text === undefined) fixed.set(id, (text = writtenText(language, key) ?? i18n.t(key)));
  return text;
}

// i18next reads `{{ name }}` like `{{name}}`.
const NAME = /\{\{\s*name\s*\}\}/;
// A character no file name or translation holds, to find where i18next put the name.
const MARK = '\u0000';

/** `t(key, { name })` for a key whose only placeholder is `{{name}}`. */
export function namedText(key: string, name: string): string {
  const language = locale();
  const id = `${language}|${key}`;
  let parts = named.get(id);
  if (parts === undefined) {
    parts = writtenText(language, key)?.split(NAME) ?? i18n.t(key, { name: MARK }).split(MARK);
    named.set(id, parts);
  }
  return parts.join(name);
}

/**
 * A `t` for code that takes one (describeState): the cached texts where they apply, i18next for
 * anything with other placeholders (counts, countdowns, messages).
 */
export function rowT(key: string, options?: Record<string, unknown>): string {
  if (options === undefined) return fixedText(key);
  const keys = Object.keys(options);
  if (keys.length === 1 && keys[0] === 'name') return namedText(key, String(options.name));
  return i18n.t(key, options);
}
