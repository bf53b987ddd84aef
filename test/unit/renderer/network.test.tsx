// @vitest-environment happy-dom
/**
 * The window says when Ferry waits for the network: a banner above the views from `app.status`'s
 * offline hosts at start and from `network.changed` events after, gone (with a "Network back" toast)
 * when the engine reaches the host again; rows waiting for a host say so in the window's language.
 */
import { act, cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AppStatus, NetworkChanged, OfflineHostInfo } from '../../../main/api/contract.ts';
import { App } from '../../../renderer/App.tsx';
import { JobRow } from '../../../renderer/components/JobRow.tsx';
import { applyLanguage } from '../../../renderer/i18n.ts';
import { networkWaitOf } from '../../../renderer/lib/networkWait.ts';
import { setTransport } from '../../../renderer/store/api.ts';
import { loadCatalog } from '../../../renderer/store/catalog.ts';
import { connectEvents } from '../../../renderer/store/connectEvents.ts';
import { ferryStore, resetFerryStore } from '../../../renderer/store/store.ts';
import { fakeTransport, job, listOf, SELFCOMMUNITY, SETTINGS, type FakeTransport } from './fakeTransport.tsx';

const STATUS: AppStatus = { engineRunning: true, engineNote: null, version: '0.1.0' };
const SINCE = 1_700_000_000_000;
const host = (name: string, code = 'ECONNREFUSED'): OfflineHostInfo => ({ host: name, code, since: SINCE });

/** The window as it boots: events connected first, then the catalog (with app.status) read, then drawn. */
async function boot(status: AppStatus): Promise<{ transport: FakeTransport; stop: () => void }> {
  const transport = fakeTransport({
    'app.status': () => status,
    'providers.list': () => [SELFCOMMUNITY],
    'accounts.list': () => [],
    'settings.get': () => SETTINGS,
    'jobs.list': listOf(0),
    'sync.list': () => [],
  });
  setTransport(transport);
  const stop = connectEvents(transport);
  await loadCatalog();
  render(<App />);
  return { transport, stop };
}

function change(state: NetworkChanged['state'], name: string, offlineHosts: OfflineHostInfo[]): NetworkChanged {
  return { host: name, state, code: state === 'offline' ? 'ECONNREFUSED' : null, offlineHosts };
}

const banner = (): HTMLElement | null => screen.queryByTestId('network-banner');

beforeEach(() => {
  resetFerryStore();
  localStorage.clear();
  applyLanguage('en');
});

afterEach(() => {
  cleanup();
  setTransport(null);
  applyLanguage('en');
  vi.restoreAllMocks();
});

describe('the offline banner', () => {
  it('shows the hosts app.status names at start, and goes away with a toast when the host is back', async () => {
    const { transport, stop } = await boot({ ...STATUS, offlineHosts: [host('uploads.example:443', 'ENOTFOUND')] });
    expect(banner()?.textContent).toBe(
      'Waiting for network — uploads.example:443 cannot be reached. Uploads continue by themselves when it is back.',
    );
    expect(banner()?.getAttribute('role')).toBe('status');
    expect(banner()?.title).toBe('uploads.example:443: ENOTFOUND');
    expect(screen.queryByText('Network back: uploads.example:443')).toBeNull();

    act(() => transport.emit('network.changed', change('online', 'uploads.example:443', [])));
    expect(banner()).toBeNull();
    expect(screen.getByText('Network back: uploads.example:443')).toBeTruthy();
    expect(ferryStore.getState().status?.offlineHosts).toEqual([]);
    stop();
  });

  it('appears from network.changed events, lists several hosts, and follows each one back', async () => {
    const { transport, stop } = await boot(STATUS);
    expect(banner()).toBeNull();

    act(() => transport.emit('network.changed', change('offline', 'a.example:443', [host('a.example:443')])));
    expect(banner()?.textContent).toContain('a.example:443 cannot be reached.');

    act(() =>
      transport.emit(
        'network.changed',
        change('offline', '127.0.0.1:8080', [host('a.example:443'), host('127.0.0.1:8080')]),
      ),
    );
    expect(banner()?.textContent).toBe(
      'Waiting for network — 2 hosts cannot be reached: a.example:443, 127.0.0.1:8080. Uploads continue by themselves when they are back.',
    );

    act(() => transport.emit('network.changed', change('online', 'a.example:443', [host('127.0.0.1:8080')])));
    expect(banner()?.textContent).toContain('— 127.0.0.1:8080 cannot be reached.');
    expect(screen.getByText('Network back: a.example:443')).toBeTruthy();

    act(() => transport.emit('network.changed', change('online', '127.0.0.1:8080', [])));
    expect(banner()).toBeNull();
    expect(screen.getByText('Network back: 127.0.0.1:8080')).toBeTruthy();
    stop();
  });

  it('is hidden while the window has lost its own connection to Ferry, and speaks German in the Sie-form', async () => {
    const { stop } = await boot({ ...STATUS, offlineHosts: [host('uploads.example:443')] });
    act(() => ferryStore.setState({ connection: 'closed' }));
    expect(banner()).toBeNull();
    act(() => {
      ferryStore.setState({ connection: 'open' });
      applyLanguage('de');
    });
    expect(banner()?.textContent).toBe(
      'Warte auf Netzwerk — uploads.example:443 ist nicht erreichbar. Ihre Uploads werden automatisch fortgesetzt, sobald die Verbindung wieder besteht.',
    );
    stop();
  });
});

describe('a row waiting for the network', () => {
  const message = 'Waiting for network: 127.0.0.1:8443 cannot be reached (ECONNREFUSED)';

  function showRows(): void {
    vi.useFakeTimers({ now: 1_000_000 });
    const jobs = [
      job(1, { state: 'waiting', attempts: 0, error: { kind: 'network', message } }),
      job(2, {
        state: 'waiting',
        attempts: 2,
        nextAttemptAt: 1_012_000,
        error: { kind: 'network', message: 'socket hang up' },
      }),
    ];
    ferryStore.setState({
      jobs: new Map(jobs.map((j) => [j.id, j])),
      queue: { total: 2, pages: { 0: [1, 2] }, generation: 0, ready: true, range: { start: 0, end: 2 } },
    });
    setTransport(fakeTransport({ 'jobs.list': listOf(2, (id) => jobs[id - 1]!) }));
  }

  afterEach(() => vi.useRealTimers());

  it('reads the host out of the engine message, and nothing out of other messages', () => {
    expect(networkWaitOf(message)).toEqual({ host: '127.0.0.1:8443', code: 'ECONNREFUSED' });
    expect(networkWaitOf('Waiting for network: [::1]:443 cannot be reached (EHOSTUNREACH)')).toEqual({
      host: '[::1]:443',
      code: 'EHOSTUNREACH',
    });
    expect(networkWaitOf('socket hang up')).toBeNull();
    expect(networkWaitOf(null)).toBeNull();
  });

  it('says "Waiting for network" with the host instead of a retry countdown, in English and German', () => {
    showRows();
    const { rerender } = render(
      <>
        <JobRow index={0} top={0} />
        <JobRow index={1} top={56} />
      </>,
    );
    const row = (id: number): HTMLElement => document.querySelector<HTMLElement>(`[data-job-id="${id}"]`)!;
    expect(within(row(1)).getByText('Waiting for network')).toBeTruthy();
    expect(within(row(1)).getByText('127.0.0.1:8443 cannot be reached').title).toBe(
      'Waiting for network: 127.0.0.1:8443 cannot be reached (ECONNREFUSED)',
    );
    expect(within(row(1)).getByText('Waiting for network').closest('.chip')?.getAttribute('title')).toBe(
      '127.0.0.1:8443 cannot be reached (ECONNREFUSED). The upload continues by itself when it is back, without using up a retry.',
    );
    // A retry after an ordinary failure keeps its countdown and its own message.
    expect(within(row(2)).getByText('Retry 3 in 12s')).toBeTruthy();
    expect(within(row(2)).getByText('socket hang up')).toBeTruthy();

    act(() => applyLanguage('de'));
    rerender(
      <>
        <JobRow index={0} top={0} />
        <JobRow index={1} top={56} />
      </>,
    );
    expect(within(row(1)).getByText('Warte auf Netzwerk')).toBeTruthy();
    expect(within(row(1)).getByText('127.0.0.1:8443 nicht erreichbar').title).toBe(
      'Warte auf Netzwerk: 127.0.0.1:8443 nicht erreichbar (ECONNREFUSED)',
    );
    expect(within(row(2)).getByText(/^Versuch 3 in /)).toBeTruthy();
  });
});
