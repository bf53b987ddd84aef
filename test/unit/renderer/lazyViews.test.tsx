// @vitest-environment happy-dom
/**
 * The views other than the queue come from chunks of their own (renderer/lazyViews.tsx). A view
 * opened before its code arrived shows an empty busy frame and then itself; once the code is loaded
 * (the window reads it right after the queue's first rows) a view shows in the same render, with no
 * fallback in between. Keep this file the only one that opens a view before preloading: the loaded
 * parts are module state shared by the tests of one file.
 */
import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../../../renderer/App.tsx';
import { applyLanguage } from '../../../renderer/i18n.ts';
import { lazyParts, preloadLazyParts } from '../../../renderer/lazyViews.tsx';
import { setTransport } from '../../../renderer/store/api.ts';
import { loadCatalog } from '../../../renderer/store/catalog.ts';
import { ferryStore, resetFerryStore } from '../../../renderer/store/store.ts';
import { fakeTransport, listOf, SELFCOMMUNITY, SETTINGS } from './fakeTransport.tsx';

async function boot(): Promise<void> {
  setTransport(
    fakeTransport({
      'app.status': () => ({ engineRunning: true, engineNote: null, version: '0.1.0' }),
      'providers.list': () => [SELFCOMMUNITY],
      'accounts.list': () => [],
      'settings.get': () => SETTINGS,
      'jobs.list': listOf(0),
      'history.list': listOf(0),
      'sync.list': () => [],
    }),
  );
  await loadCatalog();
  render(<App />);
}

beforeEach(() => {
  resetFerryStore();
  applyLanguage('en');
});

afterEach(() => {
  cleanup();
  setTransport(null);
});

describe('views loaded on demand', () => {
  it('shows a busy frame for a view whose code is not there yet, then the view', async () => {
    expect(lazyParts.history.component).toBeNull();
    await boot();
    act(() => ferryStore.setState({ view: 'history' }));
    const busy = document.querySelector('main section.view[aria-busy="true"]');
    expect(busy).not.toBeNull();
    expect(screen.queryByRole('heading', { level: 1 })).toBeNull();
    expect(await screen.findByRole('heading', { level: 1, name: 'History' })).toBeTruthy();
    expect(document.querySelector('[aria-busy="true"]')).toBeNull();
  });

  it('shows a preloaded view in the same render, without the busy frame', async () => {
    await preloadLazyParts();
    for (const part of Object.values(lazyParts)) expect(part.component).not.toBeNull();
    await boot();
    for (const [view, title] of [
      ['settings', 'Settings'],
      ['accounts', 'Accounts'],
      ['sync', 'Sync'],
    ] as const) {
      act(() => ferryStore.setState({ view }));
      expect(document.querySelector('[aria-busy="true"]')).toBeNull();
      expect(screen.getByRole('heading', { level: 1, name: title })).toBeTruthy();
    }
  });
});
