// @vitest-environment happy-dom
/**
 * The Sync view (watched folders), the queue header's exact totals from jobs.summary, and the
 * desktop-only "Show in folder" row action, against a scripted transport.
 */
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobState, JobTally, JobsSummary, SyncAddInput, SyncRuleInfo } from '../../../main/api/contract.ts';
import { JobRow } from '../../../renderer/components/JobRow.tsx';
import { parseGlobs } from '../../../renderer/components/SyncRuleForm.tsx';
import { setTransport } from '../../../renderer/store/api.ts';
import { connectEvents } from '../../../renderer/store/connectEvents.ts';
import { ferryStore, resetFerryStore } from '../../../renderer/store/store.ts';
import { refreshSummary } from '../../../renderer/store/summary.ts';
import { QueueView } from '../../../renderer/views/QueueView.tsx';
import { SyncView } from '../../../renderer/views/SyncView.tsx';
import {
  account,
  fakeTransport,
  job,
  listOf,
  OKTOPOST,
  SELFCOMMUNITY,
  type FakeTransport,
  type Handlers,
} from './fakeTransport.tsx';

const ACCOUNTS = [account(1), account(2, { name: 'social', provider: 'oktopost', providerName: 'Oktopost' })];

function rule(id: number, patch: Partial<SyncRuleInfo> = {}): SyncRuleInfo {
  return {
    id,
    accountId: 1,
    accountName: 'community',
    provider: 'selfcommunity',
    dir: `/home/me/Drop${id}`,
    include: [],
    exclude: [],
    recursive: true,
    afterUpload: 'keep',
    moveTo: null,
    paused: false,
    status: 'watching',
    statusMessage: null,
    counts: { uploaded: 0, queued: 0, pending: 0, refused: 0, failed: 0, duplicate: 0 },
    problems: [],
    createdAt: 0,
    ...patch,
  };
}

let transport: FakeTransport;
let rules: SyncRuleInfo[];

function start(handlers: Handlers = {}, kind: 'serve' | 'electron' = 'serve'): FakeTransport {
  transport = fakeTransport(
    {
      'jobs.list': listOf(0),
      'sync.list': () => rules,
      'sync.pause': ({ id }) => rule(id, { paused: true, status: 'paused' }),
      'sync.resume': ({ id }) => rule(id),
      'sync.pauseAll': () => rules.map((r) => ({ ...r, paused: true, status: 'paused' as const })),
      'sync.remove': ({ id }) => ({ removed: id }),
      ...handlers,
    },
    kind,
  );
  setTransport(transport);
  return transport;
}

beforeEach(() => {
  resetFerryStore();
  rules = [];
  ferryStore.setState({ accounts: ACCOUNTS, providers: [SELFCOMMUNITY, OKTOPOST], booted: true });
  start();
});

afterEach(() => {
  cleanup();
  setTransport(null);
});

describe('the Sync view', () => {
  it('tells a new user what a watched folder does', async () => {
    render(<SyncView />);
    expect(await screen.findByRole('heading', { name: 'No watched folders yet' })).toBeTruthy();
    expect(screen.getByText(/uploads on its own/)).toBeTruthy();
    expect(screen.getAllByRole('button', { name: 'Watch a folder' })).toHaveLength(2);
  });

  it('lists each folder with its account, globs, after-upload action, status and counts', async () => {
    rules = [
      rule(1, {
        include: ['*.jpg', '*.png'],
        exclude: ['drafts/**'],
        afterUpload: 'move',
        moveTo: 'done',
        counts: { uploaded: 12, queued: 2, pending: 1, refused: 1, failed: 0, duplicate: 3 },
        problems: [
          {
            path: '/home/me/Drop1/notes.txt',
            state: 'refused',
            reason: 'SelfCommunity does not take text/plain files',
          },
        ],
      }),
      rule(2, { paused: true, status: 'paused', recursive: false }),
      rule(3, {
        status: 'error',
        statusMessage:
          'Cannot watch /home/me/Drop3 (sync rule #3): the folder does not exist (moved or deleted?); will try again',
      }),
    ];
    render(<SyncView />);
    const first = await screen.findByRole('article', { name: '/home/me/Drop1' });
    expect(within(first).getByText('community')).toBeTruthy();
    expect(within(first).getByText('Watching')).toBeTruthy();
    expect(within(first).getByText('*.jpg')).toBeTruthy();
    expect(within(first).getByText('drafts/**')).toBeTruthy();
    expect(within(first).getByText('Move it to done/')).toBeTruthy();
    const counts = within(first).getByRole('list', { name: 'Files of /home/me/Drop1' });
    expect(counts.textContent).toBe('12Uploaded2Queued1Waiting1Refused0Failed');
    expect(within(first).getByText(/3 files were skipped/)).toBeTruthy();
    expect(within(first).getByText('notes.txt')).toBeTruthy();

    const second = screen.getByRole('article', { name: '/home/me/Drop2' });
    expect(within(second).getByText('Paused', { selector: '.chip-label' })).toBeTruthy();
    expect(within(second).getByText('Not watched')).toBeTruthy();
    expect(within(second).getByText('Every file')).toBeTruthy();

    const third = screen.getByRole('article', { name: '/home/me/Drop3' });
    expect(within(third).getByText('Cannot watch')).toBeTruthy();
    expect(within(third).getByRole('status').textContent).toMatch(/the folder does not exist/);
  });

  it('pauses one folder, all folders, and removes one after confirming', async () => {
    rules = [rule(1), rule(2)];
    render(<SyncView />);
    const first = await screen.findByRole('article', { name: '/home/me/Drop1' });
    await act(async () => fireEvent.click(within(first).getByRole('switch', { name: 'Watching /home/me/Drop1' })));
    expect(transport.calls.filter((c) => c.command === 'sync.pause')).toEqual([
      { command: 'sync.pause', input: { id: 1 } },
    ]);
    expect(within(first).getByText('Paused', { selector: '.chip-label' })).toBeTruthy();

    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Pause all' })));
    expect(transport.calls.some((c) => c.command === 'sync.pauseAll')).toBe(true);
    expect(screen.getAllByText('Paused', { selector: '.chip-label' })).toHaveLength(2);

    fireEvent.click(within(first).getByRole('button', { name: 'Remove /home/me/Drop1' }));
    expect(transport.calls.some((c) => c.command === 'sync.remove')).toBe(false);
    await act(async () => fireEvent.click(within(first).getByRole('button', { name: 'Stop watching' })));
    expect(transport.calls.filter((c) => c.command === 'sync.remove')).toEqual([
      { command: 'sync.remove', input: { id: 1 } },
    ]);
    expect(screen.queryByRole('article', { name: '/home/me/Drop1' })).toBeNull();
  });

  it('follows sync.changed events', async () => {
    rules = [rule(1)];
    const stop = connectEvents(transport);
    render(<SyncView />);
    await screen.findByRole('article', { name: '/home/me/Drop1' });
    act(() =>
      transport.emit('sync.changed', [
        rule(1, { counts: { uploaded: 4, queued: 0, pending: 0, refused: 0, failed: 0, duplicate: 0 } }),
        rule(5),
      ]),
    );
    expect(screen.getByRole('list', { name: 'Files of /home/me/Drop1' }).textContent).toMatch(/^4Uploaded/);
    expect(screen.getByRole('article', { name: '/home/me/Drop5' })).toBeTruthy();
    stop();
  });
});

describe('the watch-a-folder form', () => {
  it('offers only accounts that take files, sends the folder with its globs and action', async () => {
    const added: SyncAddInput[] = [];
    start({ 'sync.add': (input) => (added.push(input), rule(9, { dir: input.dir })) });
    ferryStore.setState({ transportKind: 'serve' });
    render(<SyncView />);
    await act(async () => fireEvent.click((await screen.findAllByRole('button', { name: 'Watch a folder' }))[0]!));
    const dialog = screen.getByRole('dialog', { name: 'Watch a folder' });
    expect(within(dialog).getByRole('radio', { name: /community/ })).toBeTruthy();
    expect(within(dialog).queryByRole('radio', { name: /social/ })).toBeNull();
    expect(within(dialog).getByText(/on the computer Ferry runs on/)).toBeTruthy();
    fireEvent.change(within(dialog).getByLabelText(/^Folder/), { target: { value: '/home/me/Exports' } });
    fireEvent.change(within(dialog).getByLabelText('Only files matching'), { target: { value: '*.jpg, *.png' } });
    fireEvent.click(within(dialog).getByLabelText('Include files in subfolders'));
    fireEvent.click(within(dialog).getByRole('radio', { name: /Move it to a subfolder/ }));
    await act(async () => fireEvent.click(within(dialog).getByRole('button', { name: 'Watch folder' })));
    expect(added).toEqual([
      {
        account: 'community',
        dir: '/home/me/Exports',
        include: ['*.jpg', '*.png'],
        exclude: [],
        recursive: false,
        afterUpload: 'move',
        moveTo: 'uploaded',
      },
    ]);
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(screen.getByRole('article', { name: '/home/me/Exports' })).toBeTruthy();
  });

  it('shows the server refusal and stays open', async () => {
    start({
      'sync.add': () => {
        throw new Error('Cannot watch /nope: no such folder');
      },
    });
    render(<SyncView />);
    await act(async () => fireEvent.click((await screen.findAllByRole('button', { name: 'Watch a folder' }))[0]!));
    const dialog = screen.getByRole('dialog', { name: 'Watch a folder' });
    await act(async () => fireEvent.click(within(dialog).getByRole('button', { name: 'Watch folder' })));
    expect(within(dialog).getByRole('alert').textContent).toBe('Give the full path of the folder to watch');
    fireEvent.change(within(dialog).getByLabelText(/^Folder/), { target: { value: '/nope' } });
    await act(async () => fireEvent.click(within(dialog).getByRole('button', { name: 'Watch folder' })));
    expect(within(dialog).getByRole('alert').textContent).toBe('Cannot watch /nope: no such folder');
  });

  it('reads globs separated by commas or lines', () => {
    expect(parseGlobs(' *.jpg,*.png\n raw/** ,, ')).toEqual(['*.jpg', '*.png', 'raw/**']);
  });
});

describe('the queue header', () => {
  it('shows exact totals from jobs.summary, with links of unknown size apart', async () => {
    const tally = (count: number, bytesTotal = 0, bytesConfirmed = 0, sizeUnknown = 0): JobTally => ({
      count,
      bytesTotal,
      bytesConfirmed,
      sizeUnknown,
    });
    const states = Object.fromEntries(
      (
        [
          'queued',
          'uploading',
          'waiting',
          'paused',
          'finalizing',
          'processing',
          'completed',
          'failed',
          'canceled',
        ] as JobState[]
      ).map((state) => [state, tally(0)]),
    ) as JobsSummary['states'];
    states.queued = tally(1500, 3_000_000_000, 0, 2);
    states.uploading = tally(2, 400_000_000, 100_000_000);
    states.paused = tally(3, 600_000_000, 0);
    states.completed = tally(10, 1_000_000, 1_000_000);
    start({ 'jobs.summary': () => ({ states, all: tally(1515) }), 'jobs.list': listOf(1515) });
    await refreshSummary();
    render(<QueueView />);
    const totals = screen.getByLabelText('Queue totals');
    expect(totals.textContent).toContain('1,505 left of 1,515');
    expect(totals.textContent).toContain('100 MB of 4.0 GB + 2 links');
    expect(totals.textContent).not.toContain('at least');
    expect(transport.calls.filter((c) => c.command === 'jobs.summary')).toHaveLength(1);
  });
});

describe('show in folder', () => {
  it('is a row action in the desktop app, asking main by job id', async () => {
    const revealed: number[] = [];
    const desktop = start({}, 'electron');
    setTransport({ ...desktop, revealInFolder: async (id: number) => void revealed.push(id) });
    ferryStore.setState({
      jobs: new Map([
        [1, job(1, { state: 'completed', result: { remoteId: '1', url: null, details: {} } })],
        [2, job(2, { state: 'completed', staged: true })],
      ]),
      queue: { total: 2, pages: { 0: [1, 2] }, generation: 0, ready: true, range: { start: 0, end: 2 } },
    });
    render(
      <>
        <JobRow index={0} top={0} />
        <JobRow index={1} top={56} />
      </>,
    );
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Show file-1.png in its folder' })));
    expect(revealed).toEqual([1]);
    // A copy uploaded through the browser is Ferry's own: nothing to show.
    expect(screen.queryByRole('button', { name: 'Show file-2.png in its folder' })).toBeNull();
  });
});
