/**
 * The queue rows' cached texts (renderer/lib/cachedText.ts) are made once per key and language and then
 * reused: what they return must be exactly what i18next returns for the same key, name and language,
 * for every text they may be asked for, whatever the file is called.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { applyLanguage, i18n, type UiLanguage } from '../../../renderer/i18n.ts';
import { fixedText, namedText, rowT } from '../../../renderer/lib/cachedText.ts';
import de from '../../../renderer/locales/de.json';
import en from '../../../renderer/locales/en.json';

type Tree = { [key: string]: string | Tree };
function entries(tree: Tree, prefix = ''): Array<[string, string]> {
  return Object.entries(tree).flatMap(([k, v]) =>
    typeof v === 'string' ? [[prefix + k, v] as [string, string]] : entries(v, `${prefix}${k}.`),
  );
}
const placeholders = (text: string): string[] => [...text.matchAll(/\{\{\s*([-\w]+)/g)].map((m) => m[1]!);

// Names a file may have that i18next or a naive replacement could treat specially.
const NAMES = [
  'holiday.png',
  'a & b <c> "d" \'e\'.png',
  '{{name}} {{count}}.png',
  '$t(nav.queue).png',
  "$1 $& $` $'.png",
  'Ünïcödé ✓ 表.png',
  '',
];

afterEach(() => applyLanguage('en'));

describe.each<UiLanguage>(['en', 'de'])('the row texts in %s', (language) => {
  const texts = entries((language === 'en' ? en : de) as Tree);

  it('fixedText gives i18next’s text for every key without placeholders', () => {
    applyLanguage(language);
    const keys = texts.filter(([, text]) => placeholders(text).length === 0).map(([key]) => key);
    expect(keys.length).toBeGreaterThan(100);
    for (const key of keys) expect(fixedText(key), key).toBe(i18n.t(key));
  });

  it('namedText gives i18next’s text for every key whose only placeholder is the name', () => {
    applyLanguage(language);
    const keys = texts.filter(([, text]) => placeholders(text).join() === 'name').map(([key]) => key);
    expect(keys).toContain('job.cmd.pauseNamed');
    for (const key of keys)
      for (const name of NAMES) expect(namedText(key, name), `${key} ${name}`).toBe(i18n.t(key, { name }));
  });

  it('leaves names unescaped and puts them where the language has them', () => {
    applyLanguage(language);
    expect(namedText('job.cmd.pauseNamed', 'a & <b>.png')).toBe(
      language === 'en' ? 'Pause a & <b>.png' : 'a & <b>.png pausieren',
    );
  });
});

describe('texts that are not one plain string', () => {
  it('go through i18next: plurals, other placeholders and missing keys', () => {
    applyLanguage('de');
    const plural = entries(en as Tree)
      .map(([key]) => key)
      .find((key) => key.endsWith('_other'))!
      .replace(/_other$/, '');
    expect(fixedText(plural)).toBe(i18n.t(plural));
    expect(fixedText('no.such.key')).toBe('no.such.key');
    expect(namedText('no.such.key', 'x.png')).toBe(i18n.t('no.such.key', { name: 'x.png' }));
    const counted = entries(en as Tree).find(([, text]) => placeholders(text).join() === 'count')!;
    expect(rowT(counted[0], { count: 3 })).toBe(i18n.t(counted[0], { count: 3 }));
    // Asked for without their values, other placeholders stay as i18next leaves them.
    expect(fixedText(counted[0])).toBe(i18n.t(counted[0]));
    expect(namedText('linkCopy.copyNamed', 'x.png')).toBe(i18n.t('linkCopy.copyNamed', { name: 'x.png' }));
  });

  it('are cached per language', () => {
    applyLanguage('en');
    expect(fixedText('job.cmd.pause')).toBe('Pause');
    applyLanguage('de');
    expect(fixedText('job.cmd.pause')).toBe(i18n.t('job.cmd.pause'));
    expect(fixedText('job.cmd.pause')).not.toBe('Pause');
  });
});
