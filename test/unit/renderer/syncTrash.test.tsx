// @vitest-environment happy-dom
/**
 * The Sync view's trash: files a "delete" rule moved into Ferry's trash, each with Restore, against a
 * scripted transport. What the main process does on restore (never over an existing file) is
 * specified in test/integration/syncSafety.test.ts.
 */
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SyncTrashEntry } from '../../../main/api/contract.ts';
import { setTransport } from '../../../renderer/store/api.ts';
import { ferryStore, resetFerryStore } from '../../../renderer/store/store.ts';
import { SyncView } from '../../../renderer/views/SyncView.tsx';
import { fakeTransport, listOf, SELFCOMMUNITY, type FakeTransport, type Handlers } from './fakeTransport.tsx';

const DAY = 86_400_000;

function entry(id: number, patch: Partial<SyncTrashEntry> = {}): SyncTrashEntry {
  return {
    id,
    path: `/home/me/Camera/IMG_${id}.jpg`,
    trashPath: `/data/trash/${id}/IMG_${id}.jpg`,
    size: 1000,
    sha256: 'a'.repeat(64),
    ruleId: 1,
    jobId: id,
    trashedAt: Date.now(),
    expiresAt: Date.now() + 30 * DAY,
    present: true,
    restoredAt: null,
    ...patch,
  };
}

let transport: FakeTransport;
let trash: SyncTrashEntry[];

function start(handlers: Handlers = {}): void {
  transport = fakeTransport({
    'jobs.list': listOf(0),
    'sync.list': () => [],
    'sync.trashList': () => trash,
    'sync.trashRestore': ({ id }) => {
      const found = trash.find((e) => e.id === id)!;
      trash = trash.filter((e) => e.id !== id);
      return { ...found, restoredAt: Date.now(), present: false };
    },
    ...handlers,
  });
  setTransport(transport);
}

beforeEach(() => {
  resetFerryStore();
  trash = [];
  ferryStore.setState({ accounts: [], providers: [SELFCOMMUNITY], booted: true });
  start();
});

afterEach(() => {
  cleanup();
  setTransport(null);
});

describe("the Sync view's trash", () => {
  it('is not shown while the trash is empty', async () => {
    render(<SyncView />);
    await screen.findByRole('heading', { name: 'No watched folders yet' });
    expect(screen.queryByRole('heading', { name: 'Trash' })).toBeNull();
  });

  it('lists trashed files and restores one on request', async () => {
    trash = [entry(7), entry(8)];
    render(<SyncView />);
    expect(await screen.findByRole('heading', { name: 'Trash' })).toBeTruthy();
    expect(screen.getByText('/home/me/Camera/IMG_7.jpg')).toBeTruthy();
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Restore /home/me/Camera/IMG_7.jpg' })));
    expect(transport.calls.filter((c) => c.command === 'sync.trashRestore').map((c) => c.input)).toEqual([{ id: 7 }]);
    expect(screen.queryByText('/home/me/Camera/IMG_7.jpg')).toBeNull();
    expect(screen.getByText('/home/me/Camera/IMG_8.jpg')).toBeTruthy();
    expect(ferryStore.getState().toasts.map((t) => t.message)).toContain('Restored /home/me/Camera/IMG_7.jpg');
  });

  it('keeps the entry and shows the refusal when a file is back at that path', async () => {
    trash = [entry(9)];
    start({
      'sync.trashRestore': () => {
        throw new Error(
          'Cannot restore trash entry #9: /home/me/Camera/IMG_9.jpg exists again and Ferry never restores over a file',
        );
      },
    });
    render(<SyncView />);
    await screen.findByRole('heading', { name: 'No watched folders yet' });
    await act(async () =>
      fireEvent.click(await screen.findByRole('button', { name: 'Restore /home/me/Camera/IMG_9.jpg' })),
    );
    expect(screen.getByText('/home/me/Camera/IMG_9.jpg')).toBeTruthy();
    expect(ferryStore.getState().toasts.map((t) => t.message)).toEqual([
      expect.stringMatching(/exists again and Ferry never restores over a file/),
    ]);
  });

  it('cannot restore an entry whose copy is missing from the trash folder', async () => {
    trash = [entry(3, { present: false })];
    render(<SyncView />);
    const button = await screen.findByRole('button', { name: 'Restore /home/me/Camera/IMG_3.jpg' });
    expect((button as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByText('missing from the trash folder')).toBeTruthy();
  });
});
