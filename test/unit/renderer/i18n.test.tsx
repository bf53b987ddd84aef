// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AccountInfo, Settings } from '../../../main/api/contract.ts';
import { App } from '../../../renderer/App.tsx';
import { preloadLazyParts } from '../../../renderer/lazyViews.tsx';
import { DetailsPanel } from '../../../renderer/components/DetailsPanel.tsx';
import { commandsFor } from '../../../renderer/components/jobCommands.ts';
import { applyLanguage, resolveLanguage } from '../../../renderer/i18n.ts';
import de from '../../../renderer/locales/de.json';
import en from '../../../renderer/locales/en.json';
import { formatBytes, formatDate, formatDuration, formatRelative, formatSpeed } from '../../../renderer/lib/format.ts';
import { setTransport } from '../../../renderer/store/api.ts';
import { ferryStore, resetFerryStore } from '../../../renderer/store/store.ts';
import type { ViewName } from '../../../renderer/store/slices.ts';
import { fakeTransport, job, listOf, SELFCOMMUNITY, SETTINGS } from './fakeTransport.tsx';

const ACCOUNT: AccountInfo = {
  id: 1,
  name: 'community',
  provider: 'selfcommunity',
  providerName: 'SelfCommunity',
  baseUrl: 'https://c.example',
  settings: {},
  secrets: { accessToken: 'set' },
  concurrency: 2,
  paused: false,
  createdAt: 0,
};

type Tree = { [key: string]: string | Tree };
function values(tree: Tree): string[] {
  return Object.values(tree).flatMap((v) => (typeof v === 'string' ? [v] : values(v)));
}

/** A store with settings, an account and a few jobs in several states, on a fake server that keeps settings. */
function boot(patch: Partial<Settings> = {}, kind: 'serve' | 'electron' = 'serve') {
  let settings = { ...SETTINGS, ...patch };
  const jobs = [
    job(1, { state: 'uploading', bytesConfirmed: 250_000 }),
    job(2, { state: 'failed', error: { kind: 'network', message: 'socket hang up', retryable: true } as never }),
    job(3, { state: 'completed', result: { remoteId: 'r3', url: 'https://c.example/f3.png', details: {} } }),
    job(4, { state: 'paused' }),
  ];
  const transport = fakeTransport(
    {
      'jobs.list': listOf(jobs.length, (id) => jobs[id - 1]!),
      'history.list': () => ({ items: [jobs[2]!], total: 1 }),
      'sync.list': () => [],
      'sync.trashList': () => [],
      'settings.get': () => settings,
      'settings.set': (input) => {
        if (input.bwlimit !== undefined && !/^(off|\d+[KMG]?)$/.test(input.bwlimit))
          throw new Error(
            `Bandwidth limit "${input.bwlimit}" is not understood; use off, a rate like 2M or a timetable`,
          );
        settings = { ...settings, ...input };
        return settings;
      },
    },
    kind,
  );
  setTransport(transport);
  ferryStore.setState({
    settings,
    accounts: [ACCOUNT],
    providers: [SELFCOMMUNITY],
    booted: true,
    transportKind: kind,
    connection: 'open',
    jobs: new Map(jobs.map((j) => [j.id, j])),
    queue: {
      total: jobs.length,
      pages: { 0: jobs.map((j) => j.id) },
      generation: 0,
      ready: true,
      range: { start: 0, end: 4 },
    },
  });
  return transport;
}

async function show(view: ViewName): Promise<void> {
  // The views other than the queue load their code on first use (lazyViews.tsx).
  await preloadLazyParts();
  await act(async () => {
    ferryStore.setState({ view });
    await new Promise((resolve) => setTimeout(resolve, 10));
  });
}

beforeEach(() => {
  resetFerryStore();
  localStorage.clear();
  applyLanguage('en');
});

afterEach(() => {
  cleanup();
  setTransport(null);
  applyLanguage('en');
  localStorage.clear();
  vi.restoreAllMocks();
});

describe('the language', () => {
  it('follows the system languages unless the setting fixes it', () => {
    expect(resolveLanguage('system', ['de-AT', 'en-US'])).toBe('de');
    expect(resolveLanguage('system', ['fr-FR', 'de'])).toBe('de');
    expect(resolveLanguage('system', ['fr-FR', 'es'])).toBe('en');
    expect(resolveLanguage('en', ['de-DE'])).toBe('en');
    expect(resolveLanguage('de', ['en-GB'])).toBe('de');
  });

  it('writes <html lang> only when the language changes (any write restyles the whole document)', async () => {
    boot({ language: 'en' });
    const writes: string[] = [];
    const watch = new MutationObserver((records) => writes.push(...records.map((r) => String(r.attributeName))));
    watch.observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
    render(<App />);
    await act(async () => undefined);
    applyLanguage('en');
    applyLanguage('system');
    await act(async () => undefined);
    expect(writes).toEqual([]);
    applyLanguage('de');
    await act(async () => undefined);
    expect(writes).toEqual(['lang']);
    expect(document.documentElement.lang).toBe('de');
    watch.disconnect();
  });

  it('switches the whole window live when the setting changes, and back', async () => {
    boot();
    render(<App />);
    await show('settings');
    expect(screen.getByRole('heading', { level: 1, name: 'Settings' })).toBeTruthy();
    const language = screen.getByRole('radiogroup', { name: 'Language' });
    await act(async () => fireEvent.click(within(language).getByRole('radio', { name: 'Deutsch' })));
    expect(screen.getByRole('heading', { level: 1, name: 'Einstellungen' })).toBeTruthy();
    expect(screen.getByRole('button', { name: /Warteschlange/ })).toBeTruthy();
    expect(document.documentElement.lang).toBe('de');
    expect(localStorage.getItem('ferry.language')).toBe('de');
    const sprache = screen.getByRole('radiogroup', { name: 'Sprache' });
    await act(async () => fireEvent.click(within(sprache).getByRole('radio', { name: 'English' })));
    expect(screen.getByRole('heading', { level: 1, name: 'Settings' })).toBeTruthy();
  });

  it("gives a row's actions in the active language, made once per job version", () => {
    boot();
    const paused = job(4, { state: 'paused' });
    const first = commandsFor(paused);
    expect(first.map((c) => c.label)).toContain('Resume file-4.png');
    expect(commandsFor(paused)).toBe(first);
    applyLanguage('de');
    expect(commandsFor(paused).map((c) => c.label)).toContain('file-4.png fortsetzen');
  });

  it('formats sizes, speeds and durations in the active locale', () => {
    expect(formatBytes(1_234_567)).toBe('1.2 MB');
    expect(formatSpeed(2_500_000)).toBe('2.5 MB/s');
    expect(formatDuration(185)).toBe('3m 05s');
    applyLanguage('de');
    expect(formatBytes(1_234_567)).toBe('1,2 MB');
    expect(formatSpeed(2_500_000)).toBe('2,5 MB/s');
    expect(formatDuration(185)).toBe('3:05 min');
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(7_800)).toBe('2:10 h');
    const now = Date.UTC(2026, 11, 4, 12);
    expect(formatRelative(now + 3 * 86_400_000, now)).toBe('in 3 Tagen');
    expect(formatRelative(now - 5 * 60_000, now)).toBe('vor 5 Minuten');
    expect(formatDate(Date.UTC(2026, 11, 4, 12))).toBe('04.12.2026');
    applyLanguage('en');
    expect(formatRelative(now + 86_400_000, now)).toBe('tomorrow');
    expect(formatDate(Date.UTC(2026, 11, 4, 12))).toBe('Dec 4, 2026');
  });

  it('shows no English sentence anywhere in the German window', async () => {
    boot({ language: 'de' });
    const { container } = render(
      <>
        <App />
        <DetailsPanel />
      </>,
    );
    // Strings that read the same in both languages (names, "Ferry", "URL") are not evidence.
    const english = values(en as Tree).filter(
      (text, i) => text !== values(de as Tree)[i] && !text.includes('{{') && text.length >= 6,
    );
    for (const view of ['queue', 'history', 'sync', 'accounts', 'settings'] as const) {
      await show(view);
      if (view === 'queue') await act(async () => ferryStore.setState({ detailsId: 3 }));
      const text = container.textContent ?? '';
      const labels = [...container.querySelectorAll('[aria-label],[title],[placeholder]')]
        .map(
          (el) =>
            `${el.getAttribute('aria-label') ?? ''}|${el.getAttribute('title') ?? ''}|${el.getAttribute('placeholder') ?? ''}`,
        )
        .join('|');
      const leaked = english.filter((s) => text.includes(s) || labels.includes(s));
      expect(leaked, `English in the ${view} view`).toEqual([]);
      expect(text.length).toBeGreaterThan(50);
    }
  });
});

describe('the settings view', () => {
  it('shows the refusal of a bandwidth limit at the field, keeps the text, and saves a good one', async () => {
    const transport = boot();
    render(<App />);
    await show('settings');
    const field = screen.getByLabelText('Bandwidth limit') as HTMLInputElement;
    expect(field.value).toBe('off');
    fireEvent.change(field, { target: { value: 'fast' } });
    await act(async () => fireEvent.blur(field));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe('Bandwidth limit "fast" is not understood; use off, a rate like 2M or a timetable');
    expect(field.value).toBe('fast');
    expect(field.getAttribute('aria-invalid')).toBe('true');
    expect(ferryStore.getState().settings?.bwlimit).toBe('off');
    fireEvent.change(field, { target: { value: '2M' } });
    await act(async () => fireEvent.keyDown(field, { key: 'Enter' }));
    expect(screen.queryByRole('alert')).toBeNull();
    expect(ferryStore.getState().settings?.bwlimit).toBe('2M');
    expect(transport.calls.filter((c) => c.command === 'settings.set').map((c) => c.input)).toEqual([
      { bwlimit: 'fast' },
      { bwlimit: '2M' },
    ]);
  });

  it('sets auto-copy, the proxy and the watched-folder times', async () => {
    const transport = boot();
    render(<App />);
    await show('settings');
    const copy = screen.getByRole('radiogroup', { name: 'Copy the link when an upload completes' });
    await act(async () => fireEvent.click(within(copy).getByRole('radio', { name: 'Markdown' })));
    const proxy = screen.getByRole('radiogroup', { name: 'Proxy' });
    await act(async () => fireEvent.click(within(proxy).getByRole('radio', { name: 'None' })));
    await act(async () => fireEvent.click(within(proxy).getByRole('radio', { name: 'Custom' })));
    const url = screen.getByLabelText('Proxy address');
    fireEvent.change(url, { target: { value: 'http://proxy.test:3128' } });
    await act(async () => fireEvent.blur(url));
    const quiet = screen.getByLabelText('Quiet time before moving or deleting');
    fireEvent.change(quiet, { target: { value: '90' } });
    await act(async () => fireEvent.blur(quiet));
    const trash = screen.getByLabelText('Keep deleted files');
    fireEvent.change(trash, { target: { value: '7' } });
    await act(async () => fireEvent.blur(trash));
    expect(transport.calls.filter((c) => c.command === 'settings.set').map((c) => c.input)).toEqual([
      { autoCopyLink: 'markdown' },
      { proxy: 'direct' },
      { proxy: 'http://proxy.test:3128' },
      { syncQuietSeconds: 90 },
      { syncTrashDays: 7 },
    ]);
  });

  it('hides the desktop-only fields under ferry serve and shows them in the desktop app', async () => {
    boot({}, 'serve');
    const { unmount } = render(<App />);
    await show('settings');
    expect(screen.queryByLabelText('Clipboard upload shortcut')).toBeNull();
    expect(screen.queryByRole('switch', { name: 'Update automatically' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Open log folder' })).toBeNull();
    unmount();

    const transport = boot({ clipboardHotkey: 'CommandOrControl+Shift+U' }, 'electron');
    const openLogFolder = vi.fn(async () => undefined);
    setTransport({ ...transport, openLogFolder });
    render(<App />);
    await show('settings');
    expect((screen.getByLabelText('Clipboard upload shortcut') as HTMLInputElement).value).toBe(
      'CommandOrControl+Shift+U',
    );
    expect(screen.getByRole('switch', { name: 'Update automatically' })).toBeTruthy();
    expect(screen.getByLabelText('Update address')).toBeTruthy();
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Open log folder' })));
    expect(openLogFolder).toHaveBeenCalledTimes(1);
  });
});
