// @vitest-environment happy-dom
/**
 * The early socket of `ferry serve` (renderer/public/early-socket.js): the script asks for the window's
 * first data while the bundle loads, and the transport (pickTransport → createWsTransport) takes over
 * its socket and answers. The socket here is scripted (the real server is in the e2e test
 * earlySocket.spec.ts): each test opens, answers and drops it when it wants to.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import earlyScript from '../../../renderer/public/early-socket.js?raw';
import type { JobState, JobsSummary } from '../../../main/api/contract.ts';
import { setTransport } from '../../../renderer/store/api.ts';
import { loadCatalog } from '../../../renderer/store/catalog.ts';
import { connectEvents } from '../../../renderer/store/connectEvents.ts';
import { jobIdAt, showRange } from '../../../renderer/store/lists.ts';
import { ferryStore, resetFerryStore } from '../../../renderer/store/store.ts';
import { refreshSummary } from '../../../renderer/store/summary.ts';
import { loadSyncRules } from '../../../renderer/store/sync.ts';
import { pickTransport } from '../../../renderer/transport/pickTransport.ts';
import type { Transport } from '../../../renderer/transport/types.ts';
import { account, job, SELFCOMMUNITY, SETTINGS } from './fakeTransport.tsx';

interface Frame {
  id: number;
  command: string;
  input?: unknown;
}

/** A WebSocket the test drives: what the page sent is in `sent`; `open`, `answer` and `drop` act as the server. */
class ScriptedSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static made: ScriptedSocket[] = [];
  readyState = ScriptedSocket.CONNECTING;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  readonly sent: Frame[] = [];
  private answered = new Set<number>();

  readonly url: string;

  constructor(url: string) {
    this.url = url;
    ScriptedSocket.made.push(this);
  }
  send(text: string): void {
    this.sent.push(JSON.parse(text) as Frame);
  }
  close(): void {
    this.drop();
  }
  open(): void {
    this.readyState = ScriptedSocket.OPEN;
    this.onopen?.({});
  }
  drop(): void {
    if (this.readyState === ScriptedSocket.CLOSED) return;
    this.readyState = ScriptedSocket.CLOSED;
    this.onclose?.({});
  }
  push(frame: unknown): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  /** Answers every request not answered yet, as the server would. */
  answerAll(): void {
    for (const frame of this.sent) {
      if (this.answered.has(frame.id)) continue;
      this.answered.add(frame.id);
      this.push({ id: frame.id, ok: true, value: SERVER[frame.command]!(frame.input) });
    }
  }
}

const STATES: JobState[] = [
  'queued',
  'uploading',
  'waiting',
  'finalizing',
  'processing',
  'paused',
  'completed',
  'failed',
  'canceled',
];
const tally = (count: number) => ({ count, bytesTotal: count * 1_000_000, bytesConfirmed: 0, sizeUnknown: 0 });
const SUMMARY = {
  states: Object.fromEntries(STATES.map((state) => [state, tally(state === 'queued' ? 450 : 0)])),
  all: tally(450),
} as JobsSummary;

/** What the server answers, by command: a queue of 450 jobs on one account. */
const SERVER: Record<string, (input: unknown) => unknown> = {
  'jobs.list': (input) => {
    const { limit, offset } = input as { limit: number; offset: number };
    const items = [];
    for (let id = offset + 1; id <= Math.min(450, offset + limit); id += 1) items.push(job(id));
    return { items, total: 450 };
  },
  'app.status': () => ({ engineRunning: true, engineNote: null, version: 'test' }),
  'providers.list': () => [SELFCOMMUNITY],
  'accounts.list': () => [account(1, { secrets: { accessToken: 'set' } })],
  'settings.get': () => SETTINGS,
  'jobs.summary': () => SUMMARY,
  'sync.list': () => [],
};

/** Runs the early script as the page would, before the bundle. */
function runEarlyScript(): void {
  new Function(earlyScript)();
}

/** What main.tsx does first: the transport, the events, the queue's first page, the catalog and totals. */
async function startApp(): Promise<Transport> {
  const transport = pickTransport();
  if (!transport) throw new Error('no transport');
  setTransport(transport);
  connectEvents(transport);
  await Promise.all([
    showRange('queue', 0, 0),
    loadCatalog().then(() => Promise.all([refreshSummary(), loadSyncRules()])),
  ]);
  return transport;
}

const NativeWebSocket = globalThis.WebSocket;
let transport: Transport | null = null;

beforeEach(() => {
  resetFerryStore();
  ScriptedSocket.made = [];
  globalThis.WebSocket = ScriptedSocket as unknown as typeof WebSocket;
  sessionStorage.setItem('ferry.token', 'secret-token');
  delete window.__ferryEarly;
  delete window.ferry;
});

afterEach(() => {
  (transport as { close?: () => void } | null)?.close?.();
  transport = null;
  setTransport(null);
  globalThis.WebSocket = NativeWebSocket;
  sessionStorage.clear();
  delete window.__ferryEarly;
  delete window.ferry;
  vi.useRealTimers();
});

const appFrames = (socket: ScriptedSocket) => socket.sent.filter((frame) => frame.id > 0);

describe('the early socket of ferry serve', () => {
  it('brings the first page, the catalog and the totals: the app asks for none of them again', async () => {
    runEarlyScript();
    expect(ScriptedSocket.made).toHaveLength(1);
    const early = ScriptedSocket.made[0]!;
    expect(early.url).toContain('/api/ws?token=secret-token');
    early.open();
    early.answerAll();

    transport = await startApp();

    // One socket, and on it only what the early script sent: every first call found its answer.
    expect(ScriptedSocket.made).toHaveLength(1);
    expect(appFrames(early)).toEqual([]);
    expect(early.sent.map((frame) => frame.command).sort()).toEqual(
      [
        'accounts.list',
        'app.status',
        'jobs.list',
        'jobs.summary',
        'providers.list',
        'settings.get',
        'sync.list',
      ].sort(),
    );
    const state = ferryStore.getState();
    expect(state.connection).toBe('open');
    expect(state.queue.total).toBe(450);
    expect(jobIdAt(state.queue, 0)).toBe(1);
    expect(jobIdAt(state.queue, 199)).toBe(200);
    expect(state.booted).toBe(true);
    expect(state.accounts.map((account) => account.name)).toEqual(['community']);
    expect(state.summary.counts.all).toBe(450);

    // An early answer serves one call only: the same command again goes to the server.
    const again = transport.bridge.call('jobs.list', { limit: 200, offset: 0 });
    expect(appFrames(early).map((frame) => frame.command)).toEqual(['jobs.list']);
    early.answerAll();
    expect((await again).ok).toBe(true);
  });

  it('answers still on their way when the bundle takes over serve the calls waiting for them', async () => {
    runEarlyScript();
    const early = ScriptedSocket.made[0]!;
    // The bundle runs before the socket even opened: the early requests go out when it does.
    const starting = startApp();
    expect(ferryStore.getState().connection).toBe('connecting');
    early.open();
    expect(early.sent.filter((frame) => frame.id < 0)).toHaveLength(7);
    // An event that arrives before the answers reaches the app's listeners too.
    early.push({ event: 'notice', payload: { level: 'info', message: 'Harbour is open' } });
    early.answerAll();
    transport = await starting;
    expect(appFrames(early)).toEqual([]);
    expect(jobIdAt(ferryStore.getState().queue, 0)).toBe(1);
    expect(ferryStore.getState().toasts.map((toast) => toast.message)).toEqual(['Harbour is open']);
  });

  it('events received before the bundle took over are delivered to the listeners it registers', async () => {
    runEarlyScript();
    const early = ScriptedSocket.made[0]!;
    early.open();
    early.push({ event: 'notice', payload: { level: 'warning', message: 'Tide is low' } });
    early.answerAll();
    transport = await startApp();
    expect(ferryStore.getState().toasts.map((toast) => toast.message)).toEqual(['Tide is low']);
  });

  it('an early socket that closed before the bundle ran is left: the app opens its own and asks itself', async () => {
    runEarlyScript();
    const early = ScriptedSocket.made[0]!;
    early.drop();
    const starting = startApp();
    expect(ScriptedSocket.made).toHaveLength(2);
    const own = ScriptedSocket.made[1]!;
    own.open();
    expect(own.sent[0]).toMatchObject({ command: 'jobs.list', input: { limit: 200, offset: 0 } });
    expect(own.sent.every((frame) => frame.id > 0)).toBe(true);
    own.answerAll();
    await vi.waitFor(() => {
      own.answerAll();
      expect(ferryStore.getState().summary.counts.all).toBe(450);
    });
    transport = await starting;
    expect(jobIdAt(ferryStore.getState().queue, 0)).toBe(1);
  });

  it('a first page still on its way when the early socket drops is asked for again, not lost', async () => {
    runEarlyScript();
    const early = ScriptedSocket.made[0]!;
    early.open();
    const starting = startApp();
    // The server never answered on the early socket; it goes away.
    early.drop();
    expect(ferryStore.getState().connection).toBe('closed');
    // The transport reconnects after its first delay (half a second).
    await vi.waitFor(() => expect(ScriptedSocket.made).toHaveLength(2), { timeout: 3_000 });
    const next = ScriptedSocket.made[1]!;
    next.open();
    expect(next.sent.map((frame) => frame.command)).toContain('jobs.list');
    await vi.waitFor(() => {
      next.answerAll();
      expect(ferryStore.getState().summary.counts.all).toBe(450);
      expect(jobIdAt(ferryStore.getState().queue, 0)).toBe(1);
    });
    transport = await starting;
    expect(jobIdAt(ferryStore.getState().queue, 0)).toBe(1);
    expect(ferryStore.getState().toasts.filter((toast) => toast.level === 'error')).toEqual([]);
  });

  it('does nothing in the desktop app (IPC bridge) or on a page without its token', () => {
    window.ferry = {} as NonNullable<typeof window.ferry>;
    runEarlyScript();
    expect(ScriptedSocket.made).toHaveLength(0);
    expect(window.__ferryEarly).toBeUndefined();

    delete window.ferry;
    sessionStorage.clear();
    runEarlyScript();
    expect(ScriptedSocket.made).toHaveLength(0);
  });

  it('an early socket of another shape (an old cached script) is closed and not used', async () => {
    runEarlyScript();
    const early = ScriptedSocket.made[0]!;
    early.open();
    // As a script of another version might leave it: its requests with ids the transport also uses.
    window.__ferryEarly!.requests = [{ id: 1, command: 'jobs.list', input: { limit: 200, offset: 0 } }];
    const starting = startApp();
    expect(early.readyState).toBe(ScriptedSocket.CLOSED);
    expect(ScriptedSocket.made).toHaveLength(2);
    const own = ScriptedSocket.made[1]!;
    own.open();
    await vi.waitFor(() => {
      own.answerAll();
      expect(ferryStore.getState().summary.counts.all).toBe(450);
    });
    transport = await starting;
    expect(jobIdAt(ferryStore.getState().queue, 0)).toBe(1);
  });

  it('does nothing when the bundle already made its own transport', () => {
    transport = pickTransport();
    expect(ScriptedSocket.made).toHaveLength(1);
    runEarlyScript();
    expect(ScriptedSocket.made).toHaveLength(1);
  });
});
