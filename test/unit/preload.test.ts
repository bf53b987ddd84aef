/**
 * The preload, loaded with a fake `electron` module: what it hands to contextBridge is exactly one
 * method per command, `call`, `on` and `pathForFile` — no ipcRenderer, no other channel — and each
 * method invokes `ferry:call` with its own name.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { COMMAND_NAMES, EVENT_NAMES } from '../../main/api/contract.ts';
import type { FerryDesktopBridge } from '../../preload/bridge.ts';

const fake = vi.hoisted(() => {
  const exposed: Array<[string, unknown]> = [];
  const invoked: unknown[][] = [];
  const ipcListeners = new Map<string, Array<(event: unknown, ...args: unknown[]) => void>>();
  // The preload listens on `window` for the page's uncaught errors; Node has no window, so an EventTarget stands in.
  (globalThis as { window?: EventTarget }).window = new EventTarget();
  return {
    exposed,
    invoked,
    ipcListeners,
    electron: {
      contextBridge: {
        exposeInMainWorld: (key: string, api: unknown) => exposed.push([key, api]),
      },
      ipcRenderer: {
        invoke: (...args: unknown[]) => {
          invoked.push(args);
          return Promise.resolve({ ok: true, value: 'answered' });
        },
        on: (channel: string, listener: (event: unknown, ...args: unknown[]) => void) => {
          ipcListeners.set(channel, [...(ipcListeners.get(channel) ?? []), listener]);
        },
      },
      webUtils: {
        getPathForFile: (file: { name: string }) => `/home/me/Videos/${file.name}`,
      },
    },
  };
});

vi.mock('electron', () => fake.electron);

let bridge: FerryDesktopBridge;

beforeAll(async () => {
  await import('../../preload/index.ts');
  expect(fake.exposed).toHaveLength(1);
  expect(fake.exposed[0]![0]).toBe('ferry');
  bridge = fake.exposed[0]![1] as FerryDesktopBridge;
});

function emit(message: unknown): void {
  for (const listener of fake.ipcListeners.get('ferry:event') ?? [])
    listener({ sender: 'the raw ipcRenderer' }, message);
}

describe('the preload', () => {
  it('exposes window.ferry with exactly one method per command, call, on and the desktop helpers', () => {
    expect(Object.keys(bridge).sort()).toEqual(
      [
        ...COMMAND_NAMES,
        'call',
        'on',
        'pathForFile',
        'revealInFolder',
        'openLogFolder',
        'reportError',
        'stageBytes',
      ].sort(),
    );
    for (const value of Object.values(bridge)) expect(typeof value).toBe('function');
  });

  it('listens on the event channel only', () => {
    expect([...fake.ipcListeners.keys()]).toEqual(['ferry:event']);
  });

  it('sends each command method as ferry:call with its own name and input', async () => {
    fake.invoked.length = 0;
    for (const name of COMMAND_NAMES) {
      const method = bridge[name] as (input?: unknown) => Promise<unknown>;
      await expect(method({ probe: name })).resolves.toEqual({ ok: true, value: 'answered' });
    }
    expect(fake.invoked).toEqual(COMMAND_NAMES.map((name) => ['ferry:call', name, { probe: name }]));
    await bridge['settings.get']();
    expect(fake.invoked.at(-1)).toEqual(['ferry:call', 'settings.get', undefined]);
  });

  it('sends call(name, input) for known names and refuses others without touching IPC', async () => {
    fake.invoked.length = 0;
    await bridge.call('jobs.list', { limit: 5 });
    expect(fake.invoked).toEqual([['ferry:call', 'jobs.list', { limit: 5 }]]);
    const refused = await (bridge.call as (name: string, input: unknown) => Promise<unknown>)('ipc.raw', {});
    expect(refused).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: 'Ferry has no command "ipc.raw"' } });
    expect(fake.invoked).toHaveLength(1);
  });

  it('delivers each event payload (never the IPC event) to its listeners until they unsubscribe', () => {
    const notices: unknown[] = [];
    const progress: unknown[] = [];
    const stopNotices = bridge.on('notice', (payload) => notices.push(payload));
    bridge.on('progress', (payload) => progress.push(payload));
    emit({ event: 'notice', payload: { level: 'info', message: 'hi', at: 1 } });
    emit({ event: 'progress', payload: [{ jobId: 1, bytesDone: 5, total: 10, bytesPerSecond: 1 }] });
    stopNotices();
    emit({ event: 'notice', payload: { level: 'info', message: 'after', at: 2 } });
    emit('garbage');
    expect(notices).toEqual([{ level: 'info', message: 'hi', at: 1 }]);
    expect(progress).toEqual([[{ jobId: 1, bytesDone: 5, total: 10, bytesPerSecond: 1 }]]);
  });

  it('accepts every event name of the contract and refuses others', () => {
    for (const name of EVENT_NAMES) bridge.on(name, () => undefined)();
    expect(() =>
      (bridge.on as (name: string, listener: () => void) => () => void)('ipc-message', () => undefined),
    ).toThrow(/no event/);
  });

  it('asks main to reveal a job by id on its own channel', async () => {
    fake.invoked.length = 0;
    await bridge.revealInFolder(12);
    expect(fake.invoked).toEqual([['ferry:reveal', 12]]);
  });

  it('opens the log folder, reports errors and stages bytes, each on its own channel', async () => {
    fake.invoked.length = 0;
    await bridge.openLogFolder();
    await bridge.reportError('boundary caught: boom');
    const bytes = new Uint8Array([137, 80, 78, 71]);
    await bridge.stageBytes({ account: 'main', name: 'shot.png', bytes });
    expect(fake.invoked).toEqual([
      ['ferry:open-log-folder'],
      ['ferry:log', { message: 'boundary caught: boom' }],
      ['ferry:stage-bytes', { account: 'main', name: 'shot.png', bytes }],
    ]);
  });

  it("sends the window's uncaught errors and unhandled rejections to the log", () => {
    fake.invoked.length = 0;
    const error = Object.assign(new Event('error'), {
      message: 'Uncaught TypeError: x is undefined',
      filename: 'app://ferry/assets/index.js',
      lineno: 3,
      colno: 14,
      error: null,
    });
    const page = (globalThis as unknown as { window: EventTarget }).window;
    page.dispatchEvent(error);
    page.dispatchEvent(Object.assign(new Event('unhandledrejection'), { reason: new Error('fetch failed') }));
    expect(fake.invoked).toHaveLength(2);
    expect(fake.invoked[0]).toEqual([
      'ferry:log',
      {
        message: 'Uncaught error in the window: Uncaught TypeError: x is undefined (app://ferry/assets/index.js:3:14)',
      },
    ]);
    expect(fake.invoked[1]![0]).toBe('ferry:log');
    expect((fake.invoked[1]![1] as { message: string }).message).toMatch(
      /^Unhandled rejection in the window: Error: fetch failed\n/,
    );
  });

  it('gives the path of a dropped file through webUtils', () => {
    expect(bridge.pathForFile({ name: 'holiday.mp4' } as File)).toBe('/home/me/Videos/holiday.mp4');
  });
});
