/**
 * Translations for the queue's rows, cached per language. A row shows about ten translated strings
 * (its state, the labels of its checkbox, progress bar and action buttons) and a list that scrolls a
 * screenful per frame shows a dozen new rows each frame: through i18next each string costs a key
 * lookup and an interpolation pass, which the profile showed as a noticeable share of a frame. The
 * resources are bundled and never change at run time, so a key's text in a language is fixed, and a
 * text whose only placeholder is the file name is its template split at that name.
 */
import { i18n, locale } from '../i18n.ts';

const fixed = new Map<string, string>();
const named = new Map<string, string[]>();

/** `t(key)` for a key without placeholders. */
export function fixedText(key: string): string {
  const id = `${locale()}|${key}`;
  let text = fixed.get(id);
  if (text === undefined) fixed.set(id, (text = i18n.t(key)));
  return text;
}

// A character no file name or translation holds, to find where the name goes.
const MARK = '\u0000';

/** `t(key, { name })` for a key whose only placeholder is `{{name}}`. */
export function namedText(key: string, name: string): string {
  const id = `${locale()}|${key}`;
  let parts = named.get(id);
  if (parts === undefined) named.set(id, (parts = i18n.t(key, { name: MARK }).split(MARK)));
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
