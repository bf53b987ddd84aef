// @vitest-environment happy-dom
/**
 * The window's language as the renderer's code loads (renderer/i18n.ts), before React renders anything:
 * a file of its own, because each case loads the module afresh.
 */
import { afterEach, expect, it, vi } from 'vitest';

afterEach(() => {
  localStorage.clear();
  vi.resetModules();
});

it('puts the last session’s language on <html lang> before anything renders', async () => {
  localStorage.setItem('ferry.language', 'de');
  document.documentElement.lang = 'en';
  const { i18n } = await import('../../../renderer/i18n.ts');
  expect(i18n.language).toBe('de');
  expect(document.documentElement.lang).toBe('de');
});

it('leaves <html lang> untouched when it already names the language', async () => {
  localStorage.setItem('ferry.language', 'en');
  document.documentElement.lang = 'en';
  const writes: MutationRecord[] = [];
  const watch = new MutationObserver((records) => writes.push(...records));
  watch.observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
  await import('../../../renderer/i18n.ts');
  await Promise.resolve();
  watch.disconnect();
  expect(writes).toEqual([]);
});
