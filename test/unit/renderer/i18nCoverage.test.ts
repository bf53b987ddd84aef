/**
 * The renderer's translations are complete: English and German have the same keys, every key the
 * code asks for exists, and no user-visible text is left as a literal in the JSX (text between tags,
 * or a title / aria-label / placeholder / alt / label prop given as a plain string). The JSX scan uses
 * the TypeScript compiler API, so it sees the same syntax tree tsc does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');
const RENDERER = join(ROOT, 'renderer');

type Tree = { [key: string]: string | Tree };

function keysOf(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) =>
    typeof value === 'string' ? [`${prefix}${key}`] : keysOf(value, `${prefix}${key}.`),
  );
}

function valueAt(tree: Tree, key: string): string | undefined {
  let node: string | Tree | undefined = tree;
  for (const part of key.split('.')) node = typeof node === 'object' ? node[part] : undefined;
  return typeof node === 'string' ? node : undefined;
}

function sources(dir: string, ext: RegExp): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && ext.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

const en = JSON.parse(readFileSync(join(RENDERER, 'locales/en.json'), 'utf8')) as Tree;
const de = JSON.parse(readFileSync(join(RENDERER, 'locales/de.json'), 'utf8')) as Tree;

/** Props whose string value a person reads or a screen reader speaks. */
const TEXT_PROPS = new Set(['title', 'aria-label', 'placeholder', 'alt', 'label', 'hint', 'aria-valuetext']);
/** Text that is not language: symbols, numbers, punctuation, brand and format names, rclone's `off`. */
const NEUTRAL = /^[\s\d\p{P}\p{S}×…—–·]*$|^(Ferry|URL|HTML|Markdown|JSON|ID|OK|off)$/u;

/** Examples rather than words: every token is code-like (a URL, a path, a glob, a key combination). */
function isExample(text: string): boolean {
  return text.split(/[\s,]+/).every((token) => token === '' || /[./*:+\\]/.test(token));
}

function hasLetters(text: string): boolean {
  const trimmed = text.replace(/\s+/g, ' ').trim();
  return trimmed !== '' && !NEUTRAL.test(trimmed) && !isExample(trimmed);
}

/** Literal user-visible text in one .tsx file, as `file:line text`. */
export function untranslated(file: string, text = readFileSync(file, 'utf8')): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const found: string[] = [];
  const report = (node: ts.Node, what: string): void => {
    const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
    found.push(`${relative(ROOT, file)}:${line + 1} ${what.replace(/\s+/g, ' ').trim()}`);
  };
  /** A string literal or template (with letters outside its placeholders) given where text goes. */
  const literalText = (expr: ts.Expression | undefined): string | null => {
    if (!expr) return null;
    if (ts.isStringLiteral(expr) || ts.isNoSubstitutionTemplateLiteral(expr))
      return hasLetters(expr.text) ? expr.text : null;
    if (ts.isTemplateExpression(expr)) {
      const parts = [expr.head.text, ...expr.templateSpans.map((span) => span.literal.text)].join(' ');
      return hasLetters(parts) ? expr.getText(source) : null;
    }
    if (ts.isConditionalExpression(expr)) return literalText(expr.whenTrue) ?? literalText(expr.whenFalse);
    if (ts.isBinaryExpression(expr) && expr.operatorToken.kind === ts.SyntaxKind.BarBarToken)
      return literalText(expr.right);
    if (ts.isParenthesizedExpression(expr)) return literalText(expr.expression);
    return null;
  };
  const visit = (node: ts.Node): void => {
    if (ts.isJsxText(node) && hasLetters(node.text)) report(node, node.text);
    else if (ts.isJsxExpression(node) && node.expression && ts.isJsxElement(node.parent)) {
      const text = literalText(node.expression);
      if (text) report(node, text);
    } else if (ts.isJsxAttribute(node) && TEXT_PROPS.has(node.name.getText(source))) {
      const init = node.initializer;
      const text = !init
        ? null
        : ts.isStringLiteral(init)
          ? hasLetters(init.text)
            ? init.text
            : null
          : ts.isJsxExpression(init)
            ? literalText(init.expression)
            : null;
      if (text) report(node, `${node.name.getText(source)}=${text}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('translations', () => {
  it('has the same keys in English and German, none empty', () => {
    const enKeys = keysOf(en).sort();
    const deKeys = keysOf(de).sort();
    expect(
      deKeys.filter((k) => !enKeys.includes(k)),
      'keys only in de.json',
    ).toEqual([]);
    expect(
      enKeys.filter((k) => !deKeys.includes(k)),
      'keys missing in de.json',
    ).toEqual([]);
    expect(enKeys.filter((k) => !valueAt(en, k)?.trim() || !valueAt(de, k)?.trim())).toEqual([]);
  });

  it('uses the same {{placeholders}} in both languages', () => {
    const names = (text: string | undefined): string[] =>
      [...(text ?? '').matchAll(/\{\{(\w+)/g)].map((m) => m[1]!).sort();
    const differing = keysOf(en).filter((k) => names(valueAt(en, k)).join() !== names(valueAt(de, k)).join());
    expect(differing).toEqual([]);
  });

  it('has every key the renderer asks for', () => {
    const missing: string[] = [];
    for (const file of sources(RENDERER, /\.tsx?$/)) {
      const text = readFileSync(file, 'utf8');
      // t('a.b'), i18nKey="a.b", and the row texts' fixedText('a.b') / namedText('a.b', name) of
      // lib/cachedText.ts: literal keys (plural forms resolve to key_one / key_other).
      for (const match of text.matchAll(/\b(?:t|fixedText|namedText)\(\s*'([\w.]+)'|i18nKey="([\w.]+)"/g)) {
        const key = match[1] ?? match[2]!;
        if (valueAt(en, key) === undefined && valueAt(en, `${key}_other`) === undefined)
          missing.push(`${relative(ROOT, file)} ${key}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('gives the cached row texts only the placeholders they fill', () => {
    // fixedText caches a key's text as it is and namedText fills {{name}} alone: any other placeholder
    // would show as "{{count}}" in the window.
    const wrong: string[] = [];
    for (const file of sources(RENDERER, /\.tsx?$/)) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/\b(fixedText|namedText)\(\s*'([\w.]+)'/g)) {
        const expected = match[1] === 'namedText' ? 'name' : '';
        for (const lang of [en, de]) {
          const value = valueAt(lang, match[2]!);
          const found = [...(value ?? '').matchAll(/\{\{(\w+)/g)].map((m) => m[1]).join();
          if (found !== expected) wrong.push(`${relative(ROOT, file)} ${match[2]}: {{${found}}}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('leaves no user-visible literal text in the JSX', () => {
    const found = sources(RENDERER, /\.tsx$/).flatMap((file) => untranslated(file));
    expect(found).toEqual([]);
  });

  it('the scan catches literal text, literal props and string conditionals', () => {
    const sample = `const a = <p title="Close it" aria-label={\`Copy \${n}\`}>Hello {ok ? 'Yes' : t('x')} {t('y')} · {n}</p>;`;
    expect(untranslated(join(RENDERER, 'sample.tsx'), sample)).toHaveLength(4);
  });
});
