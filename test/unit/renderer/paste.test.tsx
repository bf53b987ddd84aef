// @vitest-environment happy-dom
import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { formatCopiedLink, type JobView } from '../../../main/api/contract.ts';
import { AccountPicker } from '../../../renderer/components/AccountPicker.tsx';
import { DropZone } from '../../../renderer/components/DropZone.tsx';
import { commandsFor } from '../../../renderer/components/jobCommands.ts';
import { pastedName, readPaste } from '../../../renderer/lib/paste.ts';
import { setTransport } from '../../../renderer/store/api.ts';
import { connectEvents } from '../../../renderer/store/connectEvents.ts';
import { ferryStore, resetFerryStore } from '../../../renderer/store/store.ts';
import { account, fakeTransport, job, SELFCOMMUNITY, SETTINGS } from './fakeTransport.tsx';

const ACCOUNT = account(1, { baseUrl: 'https://c.example', secrets: { accessToken: 'set' } });

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);

/** A paste event as the browser fires it, with a clipboard holding these files and this text. */
function paste(target: EventTarget, files: File[], text = ''): ClipboardEvent {
  const data = new DataTransfer();
  for (const file of files) data.items.add(file);
  if (text) data.setData('text/plain', text);
  const event = new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: data });
  act(() => {
    target.dispatchEvent(event);
  });
  return event;
}

beforeEach(() => {
  resetFerryStore();
  localStorage.clear();
  ferryStore.setState({ accounts: [ACCOUNT], providers: [SELFCOMMUNITY], settings: { ...SETTINGS } });
});

afterEach(() => {
  cleanup();
  setTransport(null);
  vi.restoreAllMocks();
});

describe('pasting into the window', () => {
  it('names a clipboard image by when it was pasted and keeps a copied file its name', () => {
    const at = new Date(2026, 11, 4, 9, 5, 7);
    expect(pastedName('image/png', at)).toBe('Pasted image 2026-12-04 09.05.07.png');
    expect(pastedName('image/jpeg', at)).toBe('Pasted image 2026-12-04 09.05.07.jpg');
    const data = new DataTransfer();
    data.items.add(new File([PNG], 'image.png', { type: 'image/png' }));
    data.items.add(new File(['%PDF'], 'report.pdf', { type: 'application/pdf' }));
    const { files, urls } = readPaste(data, at);
    expect(files.map((f) => f.name)).toEqual(['Pasted image 2026-12-04 09.05.07.png', 'report.pdf']);
    expect(urls).toEqual([]);
  });

  it('opens the picker with a pasted image, its bytes intact, for the last-used account', async () => {
    setTransport(fakeTransport({}));
    render(
      <>
        <DropZone />
        <AccountPicker />
      </>,
    );
    const event = paste(document.body, [new File([PNG], 'image.png', { type: 'image/png' })]);
    expect(event.defaultPrevented).toBe(true);
    const picker = ferryStore.getState().picker!;
    expect(picker.accountName).toBe('community');
    expect(picker.items).toHaveLength(1);
    expect(picker.items[0]!.name).toMatch(/^Pasted image \d{4}-\d\d-\d\d \d\d\.\d\d\.\d\d\.png$/);
    expect(new Uint8Array(await picker.items[0]!.file!.arrayBuffer())).toEqual(PNG);
    expect(screen.getByRole('dialog', { name: 'Upload 1 file' })).toBeTruthy();
  });

  it('still takes links from pasted text, and leaves a paste into a text field alone', () => {
    setTransport(fakeTransport({}));
    render(<DropZone />);
    paste(document.body, [], 'https://cdn.example/clip.mp4');
    expect(ferryStore.getState().picker?.items.map((i) => i.url)).toEqual(['https://cdn.example/clip.mp4']);
    ferryStore.setState({ picker: null });

    const input = document.createElement('input');
    document.body.append(input);
    const event = paste(input, [new File([PNG], 'image.png', { type: 'image/png' })]);
    expect(event.defaultPrevented).toBe(false);
    expect(ferryStore.getState().picker).toBeNull();
    input.remove();
  });

  it('sends a pasted image without a path through the desktop bytes path when the preload has one', async () => {
    const enqueued: unknown[] = [];
    const transport = fakeTransport({ 'jobs.enqueue': (input) => (enqueued.push(input), []) }, 'electron');
    const staged: Array<{ name: string; account: string; bytes: Uint8Array }> = [];
    setTransport({
      ...transport,
      // A pasted screenshot has no path on disk.
      pathForFile: () => null,
      stageFile: async (file, account) => {
        staged.push({ name: file.name, account, bytes: new Uint8Array(await file.arrayBuffer()) });
        return [7];
      },
    });
    render(
      <>
        <DropZone />
        <AccountPicker />
      </>,
    );
    paste(document.body, [new File([PNG], 'image.png', { type: 'image/png' })]);
    await act(async () => screen.getByRole('button', { name: /Upload 1 file/ }).click());
    await act(async () => new Promise((resolve) => setTimeout(resolve, 20)));
    expect(enqueued).toEqual([]);
    expect(staged).toHaveLength(1);
    expect(staged[0]!.account).toBe('community');
    expect(staged[0]!.bytes).toEqual(PNG);
  });
});

describe('copying links', () => {
  const done = (id: number, patch: Partial<JobView> = {}): JobView =>
    job(id, {
      state: 'completed',
      name: `shot ${id}.png`,
      result: { remoteId: `r${id}`, url: `https://c.example/media/${id}`, details: {} },
      ...patch,
    });

  function clipboard(): string[] {
    const written: string[] = [];
    Object.defineProperty(navigator, 'clipboard', {
      configurable: true,
      value: { writeText: async (text: string) => void written.push(text) },
    });
    return written;
  }

  it('copies a completed upload once, in the chosen style, under ferry serve', async () => {
    const written = clipboard();
    const transport = fakeTransport({ 'jobs.list': () => ({ items: [], total: 0 }) });
    setTransport(transport);
    ferryStore.setState({
      settings: { ...SETTINGS, autoCopyLink: 'markdown' },
      jobs: new Map([[5, job(5, { state: 'uploading' })]]),
    });
    const stop = connectEvents(transport);
    await act(async () => {
      transport.emit('jobs.changed', { jobs: [done(5)], removed: [] });
      transport.emit('jobs.changed', { jobs: [done(5)], removed: [] });
      await new Promise((resolve) => setTimeout(resolve, 10));
    });
    expect(written).toEqual(['![shot 5.png](https://c.example/media/5)']);
    expect(written[0]).toBe(
      formatCopiedLink('markdown', { url: 'https://c.example/media/5', name: 'shot 5.png', mime: 'image/png' }),
    );
    stop();
  });

  it('copies nothing when the setting is off, or in the desktop app (main copies there)', async () => {
    const written = clipboard();
    const serve = fakeTransport({ 'jobs.list': () => ({ items: [], total: 0 }) });
    setTransport(serve);
    let stop = connectEvents(serve);
    await act(async () => {
      serve.emit('jobs.changed', { jobs: [done(6)], removed: [] });
      await new Promise((resolve) => setTimeout(resolve, 10));
    });
    stop();
    const desktop = fakeTransport({ 'jobs.list': () => ({ items: [], total: 0 }) }, 'electron');
    setTransport(desktop);
    ferryStore.setState({ settings: { ...SETTINGS, autoCopyLink: 'url' } });
    stop = connectEvents(desktop);
    await act(async () => {
      desktop.emit('jobs.changed', { jobs: [done(8)], removed: [] });
      await new Promise((resolve) => setTimeout(resolve, 10));
    });
    stop();
    expect(written).toEqual([]);
  });

  it('"Copy link" on a finished row uses the auto-copy style, or the URL when that is off', async () => {
    const written = clipboard();
    setTransport(fakeTransport({}));
    const copy = (j: JobView) => commandsFor(j).find((c) => c.id === 'copy')!;
    await act(async () => copy(done(9)).run());
    ferryStore.setState({ settings: { ...SETTINGS, autoCopyLink: 'html' } });
    await act(async () => copy(done(9, { name: 'a&b.png' })).run());
    await act(async () => new Promise((resolve) => setTimeout(resolve, 10)));
    expect(written).toEqual(['https://c.example/media/9', '<img src="https://c.example/media/9" alt="a&amp;b.png">']);
  });
});
