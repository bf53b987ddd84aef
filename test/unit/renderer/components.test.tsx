// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { Profiler, type ReactElement } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AccountForm } from '../../../renderer/components/AccountForm.tsx';
import { AccountPicker } from '../../../renderer/components/AccountPicker.tsx';
import { JobRow } from '../../../renderer/components/JobRow.tsx';
import { scrollClock } from '../../../renderer/components/usePagedList.ts';
import { setTransport } from '../../../renderer/store/api.ts';
import { applyProgress } from '../../../renderer/store/connectEvents.ts';
import { openPicker } from '../../../renderer/store/picker.ts';
import { ferryStore, resetFerryStore } from '../../../renderer/store/store.ts';
import { HistoryView } from '../../../renderer/views/HistoryView.tsx';
import { QueueView } from '../../../renderer/views/QueueView.tsx';
import { account, fakeTransport, job, listOf, OKTOPOST, SELFCOMMUNITY } from './fakeTransport.tsx';

const ACCOUNT = account(1, { baseUrl: 'https://c.example', secrets: { accessToken: 'set' } });

function showJobs(...jobs: ReturnType<typeof job>[]): void {
  ferryStore.setState({
    jobs: new Map(jobs.map((j) => [j.id, j])),
    queue: {
      total: jobs.length,
      pages: { 0: jobs.map((j) => j.id) },
      generation: 0,
      ready: true,
      range: { start: 0, end: jobs.length },
    },
  });
}

beforeEach(() => {
  resetFerryStore();
  localStorage.clear();
  setTransport(fakeTransport({ 'jobs.list': listOf(0) }));
});

afterEach(() => {
  cleanup();
  setTransport(null);
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/**
 * Renders a list view (its transport already set) at a window's size, since happy-dom does no layout,
 * once its first job shows; `scrollTo(row)` scrolls it so that `row` is at the top. The list reads
 * scroll speed from `scrollClock`, set here to a clock that `scrollTo` moves by `afterMs` (a second:
 * a slow scroll, unless a test asks for a fling).
 */
async function renderLongList(view: ReactElement) {
  ferryStore.setState({ booted: true, accounts: [ACCOUNT], providers: [SELFCOMMUNITY] });
  vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockReturnValue(720);
  vi.spyOn(HTMLElement.prototype, 'clientWidth', 'get').mockReturnValue(1000);
  let clock = 0;
  vi.spyOn(scrollClock, 'now').mockImplementation(() => clock);
  const { container } = render(view);
  await screen.findByText('file-1.png');
  const scroller = container.querySelector('.list-scroll')!;
  const scrollTo = async (row: number, afterMs = 1000) =>
    act(async () => {
      clock += afterMs;
      scroller.scrollTop = row * 56;
      fireEvent.scroll(scroller);
    });
  return { container, scrollTo };
}

describe('a queue row', () => {
  it('shows progress as a progressbar with its value, speed and time left', () => {
    showJobs(job(1, { state: 'uploading', bytesConfirmed: 250_000 }));
    applyProgress([{ jobId: 1, bytesDone: 500_000, total: 1_000_000, bytesPerSecond: 100_000 }]);
    render(<JobRow index={0} top={0} />);
    const bar = screen.getByRole('progressbar', { name: 'Upload progress of file-1.png' });
    expect(bar.getAttribute('aria-valuenow')).toBe('50');
    expect(screen.getByText('100 kB/s')).toBeTruthy();
    expect(screen.getByText('5s')).toBeTruthy();
    expect(screen.getByText('Uploading')).toBeTruthy();
  });

  it('tells a retry countdown with its attempt from a rate limit, and shows why an upload failed', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    showJobs(
      job(1, {
        state: 'waiting',
        attempts: 2,
        nextAttemptAt: 1_012_000,
        error: { kind: 'network', message: 'socket hang up' },
      }),
      job(2, {
        state: 'waiting',
        attempts: 1,
        nextAttemptAt: 1_030_000,
        error: { kind: 'rate-limited', message: '429' },
      }),
      job(3, { state: 'failed', error: { kind: 'auth', message: 'SelfCommunity refused the access token (401)' } }),
      job(4, { state: 'processing' }),
      job(5, { state: 'paused' }),
      job(6, { state: 'canceled' }),
    );
    render(
      <>
        {[0, 1, 2, 3, 4, 5].map((index) => (
          <JobRow key={index} index={index} top={index * 56} />
        ))}
      </>,
    );
    expect(screen.getByText('Retry 3 in 12s')).toBeTruthy();
    expect(screen.getByText('Rate-limited · 30s')).toBeTruthy();
    expect(screen.getByText('SelfCommunity refused the access token (401)')).toBeTruthy();
    expect(screen.getByText('Access refused')).toBeTruthy();
    expect(screen.getByText('Processing')).toBeTruthy();
    expect(screen.getByText('Paused')).toBeTruthy();
    expect(screen.getByText('Canceled')).toBeTruthy();
    act(() => {
      vi.advanceTimersByTime(2_000);
    });
    expect(screen.getByText('Retry 3 in 10s')).toBeTruthy();
  });

  it("redraws a recycled row's state chip when the new job in the same state has another attempt, countdown or error", () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const waiting = (id: number, attempts: number, next: number, kind: 'network' | 'rate-limited', message: string) =>
      job(id, { state: 'waiting', attempts, nextAttemptAt: next, error: { kind, message } });
    const chip = () => document.querySelector('.chip') as HTMLElement;
    showJobs(waiting(1, 2, 1_012_000, 'network', 'socket hang up'));
    render(<JobRow index={0} top={0} />);
    expect(chip().textContent).toBe('Retry 3 in 12s');
    // The chip skips renders only while what it shows is the same; each field it reads redraws it.
    act(() => showJobs(waiting(2, 4, 1_012_000, 'network', 'socket hang up')));
    expect(chip().textContent).toBe('Retry 5 in 12s');
    act(() => showJobs(waiting(3, 4, 1_030_000, 'network', 'socket hang up')));
    expect(chip().textContent).toBe('Retry 5 in 30s');
    const before = chip().title;
    act(() => showJobs(waiting(4, 4, 1_030_000, 'network', 'ECONNRESET')));
    expect(chip().title).not.toBe(before);
    expect(chip().title).toContain('ECONNRESET');
    act(() => showJobs(waiting(5, 4, 1_030_000, 'rate-limited', 'ECONNRESET')));
    expect(chip().textContent).toBe('Rate-limited · 30s');
    act(() => showJobs(job(6, { state: 'uploading' })));
    expect(chip().textContent).toBe('Uploading');
    // A job in the same state with the same fields (another file): the countdown still ticks.
    act(() => showJobs(waiting(7, 4, 1_030_000, 'rate-limited', 'ECONNRESET')));
    act(() => showJobs(waiting(8, 4, 1_030_000, 'rate-limited', 'ECONNRESET')));
    act(() => {
      vi.advanceTimersByTime(2_000);
    });
    expect(chip().textContent).toBe('Rate-limited · 28s');
  });

  it('offers the actions that fit the state', () => {
    showJobs(
      job(1, { state: 'uploading' }),
      job(2, { state: 'failed', error: { kind: 'server', message: '500' } }),
      job(3, { state: 'completed', result: { remoteId: '7', url: 'https://x/7', details: {} } }),
    );
    render(
      <>
        <JobRow index={0} top={0} />
        <JobRow index={1} top={56} />
        <JobRow index={2} top={112} />
      </>,
    );
    expect(screen.getByRole('button', { name: 'Pause file-1.png' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Cancel file-1.png' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Retry file-2.png' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Copy link to file-3.png' })).toBeTruthy();
    // Reveal in folder needs the desktop app.
    expect(screen.queryByRole('button', { name: /in its folder/ })).toBeNull();
  });

  it('offers what the server says the job allows: no Cancel while processing, Remove while waiting', () => {
    showJobs(job(1, { state: 'processing' }), job(2, { state: 'waiting', actions: ['pause', 'cancel', 'remove'] }));
    render(
      <>
        <JobRow index={0} top={0} />
        <JobRow index={1} top={56} />
      </>,
    );
    expect(screen.queryByRole('button', { name: 'Cancel file-1.png' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Pause file-1.png' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Remove file-2.png from the list' })).toBeTruthy();
  });

  it('re-renders only the row whose progress changed', () => {
    showJobs(job(1, { state: 'uploading' }), job(2, { state: 'uploading' }));
    const renders: Record<string, number> = { a: 0, b: 0 };
    const count = (id: string) => {
      renders[id] = (renders[id] ?? 0) + 1;
    };
    render(
      <>
        <Profiler id="a" onRender={count}>
          <JobRow index={0} top={0} />
        </Profiler>
        <Profiler id="b" onRender={count}>
          <JobRow index={1} top={56} />
        </Profiler>
      </>,
    );
    const before = { ...renders };
    act(() => applyProgress([{ jobId: 1, bytesDone: 10, total: 1_000_000, bytesPerSecond: 10 }]));
    act(() => applyProgress([{ jobId: 1, bytesDone: 20, total: 1_000_000, bytesPerSecond: 10 }]));
    expect(renders.a).toBe(before.a! + 2);
    expect(renders.b).toBe(before.b);
  });
});

describe('the queue view', () => {
  it('tells a new user to add an account first', () => {
    ferryStore.setState({ booted: true, accounts: [] });
    render(<QueueView />);
    expect(screen.getByRole('heading', { name: 'Add an account to start' })).toBeTruthy();
  });

  it('then asks for files', () => {
    ferryStore.setState({
      booted: true,
      accounts: [ACCOUNT],
      providers: [SELFCOMMUNITY],
      queue: { total: 0, pages: {}, generation: 0, ready: true, range: { start: 0, end: 0 } },
    });
    render(<QueueView />);
    expect(screen.getByRole('heading', { name: 'Drop files here' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Choose files…' })).toBeTruthy();
  });

  it('renders a window of rows, not all of a 100,000-job queue', async () => {
    const transport = fakeTransport({ 'jobs.list': listOf(100_000) });
    setTransport(transport);
    ferryStore.setState({ booted: true, accounts: [ACCOUNT], providers: [SELFCOMMUNITY] });
    // happy-dom does no layout: give the scroll box the size a window would.
    vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockReturnValue(720);
    vi.spyOn(HTMLElement.prototype, 'clientWidth', 'get').mockReturnValue(1000);
    render(<QueueView />);
    await screen.findByText('file-1.png');
    const grid = screen.getByRole('grid', { name: 'Uploads' });
    expect(grid.getAttribute('aria-rowcount')).toBe('100001');
    const rows = within(grid).getAllByRole('row');
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.length).toBeLessThan(60);
    expect(transport.calls.filter((c) => c.command === 'jobs.list').length).toBeLessThanOrEqual(2);
  });

  it('scrolls by reusing its row elements: the rows show other jobs, none is created or removed', async () => {
    setTransport(fakeTransport({ 'jobs.list': listOf(100_000) }));
    const { container, scrollTo } = await renderLongList(<QueueView />);
    await scrollTo(40);
    await screen.findByText('file-45.png');
    const before = [...container.querySelectorAll('.list-body > .row')];
    // Forty rows further: past every row shown before, overscan included.
    await scrollTo(80);
    await screen.findByText('file-85.png');
    expect(screen.queryByText('file-45.png')).toBeNull();
    const after = [...container.querySelectorAll('.list-body > .row')];
    expect(after.length).toBe(before.length);
    expect(after.filter((row) => before.includes(row)).length).toBe(after.length);
  });

  it('renders its spare rows ahead of the scroll: three in the direction it moves, one behind', async () => {
    setTransport(fakeTransport({ 'jobs.list': listOf(100_000) }));
    const { container, scrollTo } = await renderLongList(<QueueView />);
    const rows = () =>
      [...container.querySelectorAll('.list-body > .row')]
        .map((row) => Number(row.getAttribute('aria-rowindex')) - 2)
        .sort((a, b) => a - b);
    const span = (first: number, last: number) => Array.from({ length: last - first + 1 }, (_, i) => first + i);
    // 720 px of 56 px rows: at row 40 the screen shows rows 40 to 52.
    await scrollTo(40);
    await screen.findByText('file-41.png');
    expect(rows()).toEqual(span(39, 55));
    // Up to row 30 (rows 30 to 42 on screen): the spare rows go above, one stays below.
    await scrollTo(30);
    await screen.findByText('file-31.png');
    expect(rows()).toEqual(span(27, 43));
  });

  it('keeps every row element in place when more than half the rows change, and the focused row with its job', async () => {
    setTransport(fakeTransport({ 'jobs.list': listOf(100_000) }));
    const { container, scrollTo } = await renderLongList(<QueueView />);
    await scrollTo(40);
    await screen.findByText('file-45.png');
    const before = [...container.querySelectorAll('.list-body > .row')];
    // Twelve rows down: most rows on screen are new.
    await scrollTo(52);
    await screen.findByText('file-64.png');
    // The same elements in the same order: nothing was moved in the DOM, only what they show changed.
    expect([...container.querySelectorAll('.list-body > .row')]).toEqual(before);
    // Twelve more with a button of row 66 focused, a row that stays on screen: it keeps its job and the focus.
    const focusedRow = screen.getByText('file-66.png').closest('.row') as HTMLElement;
    const button = within(focusedRow).getByRole('button', { name: 'Pause file-66.png' });
    button.focus();
    await scrollTo(64);
    await screen.findByText('file-76.png');
    expect(document.activeElement).toBe(button);
    expect(button.closest('.row')!.textContent).toContain('file-66.png');
    expect(new Set(container.querySelectorAll('.list-body > .row'))).toEqual(new Set(before));
  });

  it('draws light rows during a fast scroll, full rows once it slows or stops, and keeps focused and selected rows full', async () => {
    setTransport(fakeTransport({ 'jobs.list': listOf(100_000) }));
    const { container, scrollTo } = await renderLongList(<QueueView />);
    const rowOf = (name: string) => screen.getByText(name).closest('.row') as HTMLElement;
    const rowIndexes = () =>
      [...container.querySelectorAll('.list-body > .row')]
        .map((row) => Number(row.getAttribute('aria-rowindex')) - 2)
        .sort((a, b) => a - b);
    const span = (first: number, last: number) => Array.from({ length: last - first + 1 }, (_, i) => first + i);
    const lightRows = () => [...container.querySelectorAll('.list-body > .row.is-light')];
    // Full rows show each job's account, sub-line and buttons, all named after the job.
    const expectFull = (index: number) => {
      const row = rowOf(`file-${index + 1}.png`);
      expect(row.classList.contains('is-light')).toBe(false);
      within(row).getByRole('button', { name: `Pause file-${index + 1}.png` });
      within(row).getByText('community');
      within(row).getByText('image/png');
    };
    // The first move after a pause is never a fling (one Page Down, a jump): full rows.
    await scrollTo(13, 16);
    await screen.findByText('file-14.png');
    expect(lightRows()).toEqual([]);
    // A row holding the focus, and a selected row, both still on screen after the next move.
    const focused = within(rowOf('file-25.png')).getByRole('button', { name: 'Pause file-25.png' });
    focused.focus();
    fireEvent.click(within(rowOf('file-24.png')).getByRole('checkbox', { name: 'Select file-24.png' }));
    // Seven rows (392 px of a 720 px list) 16 ms later: faster than half the list a frame.
    await scrollTo(20, 16);
    await screen.findByText('file-33.png');
    const shown = [...container.querySelectorAll('.list-body > .row[data-job-id]')];
    expect(lightRows().length).toBe(shown.length - 2);
    // Rows 20 to 32 on screen, and no spare row on either side while the fling lasts; but row 33, which
    // an offset a little further shows too, is drawn, so that the rows' count stays the same.
    expect(rowIndexes()).toEqual(span(20, 33));
    // What the light form still shows is the row's own job: name, size, progress and state.
    const light = rowOf('file-30.png');
    expect(light.classList.contains('is-light')).toBe(true);
    within(light).getByRole('progressbar', { name: 'Upload progress of file-30.png' });
    within(light).getByRole('checkbox', { name: 'Select file-30.png' });
    within(light).getByText('1.0 MB');
    within(light).getByText('Queued');
    // Its account, sub-line and buttons were left as the job it showed before drew them (CSS hides them).
    expect(within(light).queryByRole('button', { name: 'Pause file-30.png' })).toBeNull();
    expect(document.activeElement).toBe(focused);
    expectFull(24);
    expectFull(23);
    // Another fast move, then a slow one: the slow one brings every full row back at once.
    await scrollTo(27, 16);
    await screen.findByText('file-40.png');
    expect(lightRows().length).toBeGreaterThan(10);
    await scrollTo(28, 200);
    expect(lightRows()).toEqual([]);
    // Slow again: three spare rows ahead.
    expect(rowIndexes()).toEqual(span(27, 43));
    for (let index = 28; index <= 40; index += 1) expectFull(index);
    // A fling that just stops: the full rows come back shortly after its last move.
    await scrollTo(36, 16);
    await scrollTo(44.5, 16);
    await screen.findByText('file-50.png');
    const flingRows = [...container.querySelectorAll('.list-body > .row')];
    // Rows 44 and 57 are cut at that offset, and none at row 52 (rows 52 to 64 on screen): the fling
    // still draws as many rows, in the same elements, so that none is created or removed in its frames.
    await scrollTo(52, 16);
    await screen.findByText('file-60.png');
    expect(rowIndexes()).toEqual(span(52, 65));
    expect([...container.querySelectorAll('.list-body > .row')]).toEqual(flingRows);
    expect(lightRows().length).toBeGreaterThan(10);
    await waitFor(() => expect(lightRows()).toEqual([]), { timeout: 5000 });
    for (let index = 52; index <= 64; index += 1) expectFull(index);
    // A jump far down after a pause (the End key, a click on the scrollbar's track) is no fling either.
    await scrollTo(5000, 200);
    await screen.findByText('file-5001.png');
    expect(lightRows()).toEqual([]);
    expectFull(5000);
  });

  it("keeps a waiting row's elements hidden under the placeholder bar, then fills them when the page arrives", async () => {
    const pages = listOf(100_000)!;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    setTransport(
      fakeTransport({
        'jobs.list': async (input) => {
          // Pages far down wait until the test lets them through.
          if ((input.offset ?? 0) >= 50_000) await gate;
          return pages(input);
        },
      }),
    );
    const { container, scrollTo: jump } = await renderLongList(<QueueView />);
    await jump(10);
    const before = [...container.querySelectorAll('.list-body > .row')];
    await jump(60_000);
    const waiting = [...container.querySelectorAll('.list-body > .row')];
    expect(waiting.length).toBe(before.length);
    expect(waiting.every((row) => before.includes(row))).toBe(true);
    expect(waiting.every((row) => row.classList.contains('is-loading') && !row.hasAttribute('data-job-id'))).toBe(true);
    // A click on a waiting row acts on nothing (its hidden elements belong to the job it showed before).
    fireEvent.click(waiting[0]!);
    expect(ferryStore.getState().selection).toEqual({});
    expect(ferryStore.getState().detailsId).toBeNull();
    await act(async () => release());
    await screen.findByText('file-60001.png');
    const filled = [...container.querySelectorAll('.list-body > .row')];
    expect(filled.every((row) => before.includes(row) && !row.classList.contains('is-loading'))).toBe(true);
    expect(filled.every((row) => row.hasAttribute('data-job-id'))).toBe(true);
  });

  it('scrolls the history by reusing its row elements too, and takes the focus out of a recycled row', async () => {
    const finished = (id: number) =>
      job(id, {
        state: 'completed',
        finishedAt: 1_700_000_000_000,
        result: { url: `https://x.example/${id}`, remoteId: String(id), details: {} },
      });
    setTransport(fakeTransport({ 'history.list': listOf(100_000, finished) }));
    const { container, scrollTo } = await renderLongList(<HistoryView />);
    await scrollTo(40);
    const first = (await screen.findByText('file-45.png')).closest('.row')!;
    first.querySelector('button')!.focus();
    expect(first.contains(document.activeElement)).toBe(true);
    const before = [...container.querySelectorAll('.list-body > .row')];
    await scrollTo(80);
    await screen.findByText('file-85.png');
    expect(screen.queryByText('file-45.png')).toBeNull();
    const after = [...container.querySelectorAll('.list-body > .row')];
    expect(after.length).toBe(before.length);
    expect(after.filter((row) => before.includes(row)).length).toBe(after.length);
    expect(first.isConnected).toBe(true);
    expect(first.contains(document.activeElement)).toBe(false);
  });

  it('takes the focus out of a recycled row, so a focused button never acts on another job', async () => {
    setTransport(fakeTransport({ 'jobs.list': listOf(100_000) }));
    const { scrollTo } = await renderLongList(<QueueView />);
    const row = screen.getByText('file-1.png').closest('.row')!;
    const button = row.querySelector('button')!;
    button.focus();
    expect(document.activeElement).toBe(button);
    await scrollTo(80);
    await screen.findByText('file-85.png');
    // The element now shows another job (it was reused), and nothing in it keeps the focus.
    expect(row.isConnected).toBe(true);
    expect(row.textContent).not.toContain('file-1.png');
    expect(row.contains(document.activeElement)).toBe(false);
  });

  it('selects every upload with Ctrl+A in the app shortcuts', async () => {
    const { useKeyboardShortcuts } = await import('../../../renderer/components/useKeyboardShortcuts.ts');
    function Keys() {
      useKeyboardShortcuts();
      return null;
    }
    showJobs(job(1), job(2));
    render(
      <>
        <Keys />
        <QueueView />
      </>,
    );
    fireEvent.keyDown(window, { key: 'a', ctrlKey: true });
    expect(ferryStore.getState().selectAll).toBe(true);
    expect(screen.getByRole('toolbar', { name: 'Selected uploads' }).textContent).toContain('2 uploads selected');
  });
});

describe('the account form', () => {
  it('is generated from the provider fields, with secrets masked', () => {
    ferryStore.setState({ providers: [SELFCOMMUNITY, OKTOPOST] });
    render(<AccountForm account={null} onClose={() => undefined} />);
    fireEvent.click(screen.getByRole('radio', { name: /Oktopost/ }));
    expect((screen.getByLabelText(/API key/) as HTMLInputElement).type).toBe('password');
    const region = screen.getByLabelText('Data centre') as HTMLSelectElement;
    expect([...region.options].map((o) => o.value)).toEqual(['us', 'eu']);
    fireEvent.click(screen.getByRole('radio', { name: /SelfCommunity/ }));
    expect(screen.getByLabelText(/Site address/)).toBeTruthy();
  });

  it('shows stored secrets as set, never their value, and keeps them when left empty', async () => {
    const transport = fakeTransport({ 'accounts.update': () => ACCOUNT });
    setTransport(transport);
    ferryStore.setState({ providers: [SELFCOMMUNITY], accounts: [ACCOUNT] });
    const onClose = vi.fn();
    render(<AccountForm account={ACCOUNT} onClose={onClose} />);
    const token = screen.getByLabelText(/Access token/) as HTMLInputElement;
    expect(token.value).toBe('');
    expect(token.placeholder).toContain('leave empty to keep');
    expect(screen.getByText('set')).toBeTruthy();
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Save changes' }));
    });
    expect(transport.calls[0]).toEqual({
      command: 'accounts.update',
      input: { account: 'community', baseUrl: 'https://c.example', settings: {}, secrets: {}, concurrency: 2 },
    });
    expect(onClose).toHaveBeenCalled();
  });

  it('shows the server refusal in the form', async () => {
    setTransport(
      fakeTransport({
        'accounts.add': () => {
          throw new Error('SelfCommunity needs Access token (accessToken)');
        },
      }),
    );
    ferryStore.setState({ providers: [SELFCOMMUNITY] });
    render(<AccountForm account={null} onClose={() => undefined} />);
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Add account' }));
    });
    expect(screen.getByRole('alert').textContent).toBe('SelfCommunity needs Access token (accessToken)');
  });
});

describe('the account picker', () => {
  it('lists refused files with the reason and uploads only the rest (desktop: by path)', async () => {
    const transport = fakeTransport({ 'jobs.enqueue': () => [], 'jobs.list': listOf(0) }, 'electron');
    setTransport(transport);
    ferryStore.setState({ accounts: [ACCOUNT], providers: [SELFCOMMUNITY] });
    openPicker({
      files: [new File(['x'], 'a.png', { type: 'image/png' }), new File(['x'], 'b.zip')],
      urls: [],
      skipped: 1,
    });
    render(<AccountPicker />);
    const dialog = screen.getByRole('dialog', { name: 'Upload 2 files' });
    expect(within(dialog).getByText(/SelfCommunity takes images/)).toBeTruthy();
    expect(within(dialog).getByText(/1 system file skipped/)).toBeTruthy();
    await act(async () => {
      fireEvent.click(within(dialog).getByRole('button', { name: 'Upload 1 file' }));
    });
    expect(transport.calls.find((c) => c.command === 'jobs.enqueue')?.input).toEqual({
      account: 'community',
      paths: ['/home/me/a.png'],
    });
    expect(ferryStore.getState().picker).toBeNull();
  });
});

describe('the details panel', () => {
  it("reads a provider's result: Oktopost's per-network check, OFAuth's media state, the attempts timeline", async () => {
    const { DetailsPanel } = await import('../../../renderer/components/DetailsPanel.tsx');
    const oktopost = job(1, {
      provider: 'oktopost',
      sourceKind: 'url',
      state: 'completed',
      mime: 'video/mp4',
      result: {
        remoteId: 'med_1',
        url: null,
        details: {
          mediaId: 'med_1',
          validations: {
            LinkedIn: { isValid: true, errors: [] },
            Twitter: { isValid: false, errors: ['Video longer than 140 s'] },
          },
        },
      },
    });
    ferryStore.setState({
      detailsId: 1,
      jobs: new Map([[1, oktopost]]),
      detail: {
        job: oktopost,
        partsAcknowledged: 0,
        resumeNote: null,
        timeline: [
          {
            id: 1,
            at: 1_700_000_000_000,
            type: 'error',
            state: null,
            attempt: 1,
            errorKind: 'network',
            message: 'socket hang up; retrying in 2s',
          },
          {
            id: 2,
            at: 1_700_000_005_000,
            type: 'state',
            state: 'completed',
            attempt: 2,
            errorKind: null,
            message: 'Completed',
          },
        ],
      },
    });
    const { unmount } = render(<DetailsPanel />);
    const table = screen.getByRole('table', { name: 'Video check per network' });
    expect(within(table).getByRole('row', { name: /Twitter/ }).textContent).toContain('Video longer than 140 s');
    expect(within(table).getByRole('row', { name: /LinkedIn/ }).textContent).toContain('Valid');
    expect(screen.getByText('socket hang up; retrying in 2s')).toBeTruthy();
    expect(screen.getByText('network')).toBeTruthy();
    unmount();

    const vault = job(2, {
      provider: 'ofauth',
      state: 'completed',
      result: {
        remoteId: '42',
        url: 'https://cdn.example/42.jpg',
        details: { isReady: false, note: 'OnlyFans is still processing' },
      },
    });
    ferryStore.setState({ detailsId: 2, jobs: new Map([[2, vault]]), detail: null });
    render(<DetailsPanel />);
    expect(screen.getByText('Processing on the server')).toBeTruthy();
    expect(screen.getByText(/OnlyFans is still processing/)).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Copy Markdown link to file-2.png' })).toBeTruthy();
  });
});
