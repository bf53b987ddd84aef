// @vitest-environment happy-dom
/**
 * The queue's first render, before the browser has laid anything out: it guesses the list's height
 * from the window's less what the view shows above the rows, and renders those rows and the spare
 * ones below, not a whole window's worth.
 */
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setTransport } from '../../../renderer/store/api.ts';
import { ferryStore, resetFerryStore } from '../../../renderer/store/store.ts';
import { QueueView } from '../../../renderer/views/QueueView.tsx';
import { account, fakeTransport, listOf, SELFCOMMUNITY } from './fakeTransport.tsx';

const ACCOUNT = account(1, { baseUrl: 'https://c.example', secrets: { accessToken: 'set' } });

beforeEach(() => {
  resetFerryStore();
  localStorage.clear();
});

afterEach(() => {
  cleanup();
  setTransport(null);
  vi.restoreAllMocks();
});

describe('the queue view’s first render', () => {
  it('renders the rows below its header in a 900-px window and three spare ones, not 20', async () => {
    // happy-dom does no layout and its ResizeObserver never reports: the rows are the first guess's.
    vi.spyOn(window, 'innerHeight', 'get').mockReturnValue(900);
    setTransport(fakeTransport({ 'jobs.list': listOf(100_000) }));
    ferryStore.setState({ booted: true, accounts: [ACCOUNT], providers: [SELFCOMMUNITY] });
    const { container } = render(<QueueView />);
    await screen.findByText('file-1.png');
    const rows = [...container.querySelectorAll('.list-body > .row')].map(
      (row) => Number(row.getAttribute('aria-rowindex')) - 2,
    );
    // 900 px less 240 above: rows 0 to 11 on screen (56 px each), 12 to 14 spare.
    expect(rows.sort((a, b) => a - b)).toEqual(Array.from({ length: 15 }, (_, i) => i));
  });
});
