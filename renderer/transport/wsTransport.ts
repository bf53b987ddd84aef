/**
 * The `ferry serve` transport: one WebSocket to `/api/ws?token=…` that carries command frames
 * (`{id, command, input}` → `{id, ok, value|error}`) and events (`{event, payload}`), plus the
 * staging endpoint for dropped files (a browser cannot give file paths).
 *
 * The socket reconnects with a growing delay; commands sent while it is down wait for it (up to a
 * time limit) rather than fail, and commands in flight when it drops fail with a clear message.
 */
import type {
  ApiEvents,
  ApiResult,
  CommandInput,
  CommandName,
  CommandOutput,
  EventName,
  FerryBridge,
  JobView,
  WsResponse,
} from '../../main/api/contract.ts';
import { t } from '../i18n.ts';
import { ApiCallError } from './apiCallError.ts';
import type { ConnectionState, Transport } from './types.ts';

const CALL_TIMEOUT_MS = 60_000;
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 10_000;

interface Pending {
  resolve: (result: ApiResult<unknown>) => void;
  timer: ReturnType<typeof setTimeout>;
  /** Set for a request the early script sent (a read): sent again after a reconnect instead of failing. */
  frame?: string;
}

/**
 * What renderer/public/early-socket.js leaves on `window.__ferryEarly`: the socket it opened before the
 * bundle loaded, the requests it sends once that socket opens (negative ids, so they never meet the
 * transport's own), and every frame received until the transport takes over.
 */
export interface EarlySocket {
  socket: WebSocket | null;
  requests: ReadonlyArray<{ id: number; command: string; input?: unknown }>;
  frames: unknown[];
  /** True once the requests went out (the socket opened before the transport took it). */
  sent?: boolean;
}

/** An early request the app has not asked for yet, and its answer once it arrived. */
interface EarlyEntry {
  id: number;
  frame: string;
  result: ApiResult<unknown> | null;
}

/** Early answers are matched to later calls by command and input. */
function callKey(command: string, input: unknown): string {
  return `${command} ${JSON.stringify(input ?? null)}`;
}

type AnyListener = (payload: unknown) => void;

export interface WsTransportOptions {
  token: string;
  /** Page origin, e.g. `http://127.0.0.1:4321`. */
  origin?: string;
  WebSocketImpl?: typeof WebSocket;
  /**
   * The early script's socket (see EarlySocket): taken over when it is still connecting or open, so the
   * answers it asked for serve the app's first calls of the same commands. Ignored when it closed.
   */
  early?: EarlySocket | null;
}

declare global {
  interface Window {
    /** Left by renderer/public/early-socket.js; null once a transport took it (or decided not to). */
    __ferryEarly?: EarlySocket | null;
  }
}

/** Takes what the early script left (once): later scripts and transports find null. */
export function takeEarlySocket(): EarlySocket | null {
  const early: unknown = window.__ferryEarly ?? null;
  window.__ferryEarly = null;
  // The script is a static file a browser may keep for an hour: one of another shape is not used.
  if (typeof early !== 'object' || early === null) return null;
  const { socket, requests, frames } = early as Partial<EarlySocket>;
  const usable =
    Array.isArray(frames) &&
    Array.isArray(requests) &&
    // Negative ids only: the transport's own start at 1 and must never meet them.
    requests.every((r) => typeof r?.id === 'number' && r.id < 0 && typeof r.command === 'string') &&
    typeof socket?.readyState === 'number';
  if (!usable) {
    if (typeof socket?.close === 'function') socket.close();
    return null;
  }
  return early as EarlySocket;
}

export function createWsTransport(options: WsTransportOptions): Transport & { close(): void } {
  const origin = options.origin ?? window.location.origin;
  const wsOrigin = origin.replace(/^http/, 'ws');
  const WS = options.WebSocketImpl ?? WebSocket;
  const listeners = new Map<EventName, Set<AnyListener>>();
  const connectionListeners = new Set<(state: ConnectionState) => void>();
  const pending = new Map<number, Pending>();
  /** Frames written while the socket was not open: sent once it opens. */
  const outbox: string[] = [];
  let socket: WebSocket | null = null;
  let state: ConnectionState = 'connecting';
  let nextId = 1;
  let delay = RECONNECT_MIN_MS;
  let closedByUs = false;
  /** Early requests not yet asked for by the app, by command and input, and by id. */
  const earlyByKey = new Map<string, EarlyEntry>();
  const earlyById = new Map<number, EarlyEntry>();

  const setState = (next: ConnectionState): void => {
    if (next === state) return;
    state = next;
    for (const listener of connectionListeners) listener(next);
  };

  const failPending = (message: string): void => {
    for (const [id, entry] of pending) {
      clearTimeout(entry.timer);
      entry.resolve({ ok: false, error: { code: 'INTERNAL', message } });
      pending.delete(id);
    }
  };

  const receive = (data: unknown): void => {
    let frame: unknown;
    try {
      frame = JSON.parse(String(data));
    } catch {
      return;
    }
    if (typeof frame !== 'object' || frame === null) return;
    if ('event' in frame) {
      const { event, payload } = frame as { event: EventName; payload: unknown };
      for (const listener of listeners.get(event) ?? []) listener(payload);
      return;
    }
    const response = frame as WsResponse;
    if (typeof response.id !== 'number') return;
    const result: ApiResult<unknown> = response.ok
      ? { ok: true, value: response.value }
      : { ok: false, error: response.error };
    const entry = pending.get(response.id);
    if (!entry) {
      // An early answer nobody asked for yet: kept for the call that will.
      const early = earlyById.get(response.id);
      if (early) early.result = result;
      return;
    }
    pending.delete(response.id);
    clearTimeout(entry.timer);
    entry.resolve(result);
  };

  const connect = (adopted?: WebSocket): void => {
    const ws = adopted ?? new WS(`${wsOrigin}/api/ws?token=${encodeURIComponent(options.token)}`);
    socket = ws;
    const opened = (): void => {
      delay = RECONNECT_MIN_MS;
      setState('open');
      for (const frame of outbox.splice(0)) ws.send(frame);
    };
    ws.onopen = opened;
    ws.onmessage = (message: MessageEvent) => receive(message.data);
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      // Early answers still to come are lost with this socket: the app asks for them itself. Early
      // requests it already waits for are reads, so they go out again on the next socket.
      earlyByKey.clear();
      earlyById.clear();
      for (const [id, entry] of pending) {
        if (entry.frame === undefined) continue;
        outbox.push(entry.frame);
        pending.delete(id);
        resend.set(id, entry);
      }
      failPending(t('errors.connectionLost'));
      for (const [id, entry] of resend) pending.set(id, entry);
      resend.clear();
      if (closedByUs) return;
      setState('closed');
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, RECONNECT_MAX_MS);
    };
  };

  const resend = new Map<number, Pending>();

  const bridge: FerryBridge = {
    call<K extends CommandName>(command: K, input: CommandInput<K>): Promise<ApiResult<CommandOutput<K>>> {
      const early = earlyByKey.get(callKey(command, input));
      if (early) {
        // The early script asked for exactly this: its answer (or the wait for it) serves this call, once.
        earlyByKey.delete(callKey(command, input));
        earlyById.delete(early.id);
        if (early.result) return Promise.resolve(early.result as ApiResult<CommandOutput<K>>);
        return new Promise((resolve) => {
          const timer = setTimeout(() => {
            pending.delete(early.id);
            resolve({ ok: false, error: { code: 'INTERNAL', message: t('errors.noAnswer', { command }) } });
          }, CALL_TIMEOUT_MS);
          pending.set(early.id, {
            resolve: resolve as (result: ApiResult<unknown>) => void,
            timer,
            frame: early.frame,
          });
        });
      }
      const id = nextId++;
      const frame = JSON.stringify({ id, command, input });
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          resolve({
            ok: false,
            error: {
              code: 'INTERNAL',
              message: t('errors.noAnswer', { command }),
            },
          });
        }, CALL_TIMEOUT_MS);
        pending.set(id, { resolve: resolve as (result: ApiResult<unknown>) => void, timer });
        if (socket && socket.readyState === WS.OPEN) socket.send(frame);
        else outbox.push(frame);
      });
    },
    on<E extends EventName>(event: E, listener: (payload: ApiEvents[E]) => void): () => void {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as AnyListener);
      return () => set.delete(listener as AnyListener);
    },
  };

  /**
   * Sends one dropped file to `ferry serve`. A server busy receiving other files answers 503 with
   * Retry-After: the file waits its turn (bounded) instead of being refused.
   */
  const stageFile = async (file: File, account: string, onProgress?: (sent: number) => void): Promise<number[]> => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await stageOnce(file, account, onProgress);
      } catch (error) {
        if (!(error instanceof BusyError) || attempt >= STAGE_BUSY_ATTEMPTS)
          throw error instanceof BusyError ? error.cause : error;
        onProgress?.(0);
        await new Promise((resolve) => setTimeout(resolve, error.retryAfterMs));
      }
    }
  };

  const stageOnce = (file: File, account: string, onProgress?: (sent: number) => void): Promise<number[]> =>
    new Promise((resolve, reject) => {
      const query = new URLSearchParams({ token: options.token, account, name: file.name });
      // XMLHttpRequest rather than fetch: it reports upload progress, which matters for big files.
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `${origin}/api/stage?${query.toString()}`);
      xhr.setRequestHeader('content-type', 'application/octet-stream');
      xhr.upload.onprogress = (event) => onProgress?.(event.loaded);
      xhr.onerror = () => reject(new ApiCallError('INTERNAL', t('errors.stageFailed', { name: file.name })));
      xhr.onload = () => {
        let body: ApiResult<JobView[]> | null;
        try {
          body = JSON.parse(xhr.responseText) as ApiResult<JobView[]>;
        } catch {
          body = null;
        }
        if (body?.ok) resolve(body.value.map((job) => job.id));
        else if (xhr.status === 503 && body) {
          const seconds = Number(xhr.getResponseHeader('retry-after'));
          const error = new ApiCallError(body.error.code, body.error.message);
          reject(new BusyError(error, Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 30) * 1000 : 2_000));
        } else if (body) reject(new ApiCallError(body.error.code, body.error.message));
        else reject(new ApiCallError('INTERNAL', t('errors.stageStatus', { status: xhr.status, name: file.name })));
      };
      xhr.send(file);
    });

  const early = options.early;
  const earlySocket = early?.socket ?? null;
  if (early && earlySocket && (earlySocket.readyState === WS.CONNECTING || earlySocket.readyState === WS.OPEN)) {
    for (const request of early.requests) {
      const entry: EarlyEntry = { id: request.id, frame: JSON.stringify(request), result: null };
      earlyByKey.set(callKey(request.command, request.input), entry);
      earlyById.set(request.id, entry);
      // Not sent yet (the socket is still connecting): they go out first when it opens.
      if (!early.sent) {
        if (earlySocket.readyState === WS.OPEN) earlySocket.send(entry.frame);
        else outbox.push(entry.frame);
      }
    }
    const wasOpen = earlySocket.readyState === WS.OPEN;
    connect(earlySocket);
    if (wasOpen) setState('open');
    // What arrived before the transport took over, in order: in a microtask, so that the listeners
    // registered right after this returns (connectEvents) see the events among them.
    const received = early.frames.splice(0);
    queueMicrotask(() => {
      for (const data of received) receive(data);
    });
  } else {
    earlySocket?.close();
    connect();
  }

  return {
    kind: 'serve',
    bridge,
    onConnection(listener) {
      connectionListeners.add(listener);
      listener(state);
      return () => connectionListeners.delete(listener);
    },
    pathForFile: () => null,
    revealInFolder: null,
    stageFile,
    openLogFolder: null,
    close() {
      closedByUs = true;
      socket?.close();
      failPending(t('errors.closed'));
    },
  };
}

/** Tries a dropped file gets while the server is busy receiving others (503), about two minutes. */
const STAGE_BUSY_ATTEMPTS = 24;

/** The server was busy (503): try again after `retryAfterMs`; `cause` is what to show if it stays busy. */
class BusyError extends Error {
  readonly retryAfterMs: number;
  override readonly cause: ApiCallError;
  constructor(cause: ApiCallError, retryAfterMs: number) {
    super(cause.message);
    this.cause = cause;
    this.retryAfterMs = retryAfterMs;
  }
}
