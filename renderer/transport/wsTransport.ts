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
}

type AnyListener = (payload: unknown) => void;

export interface WsTransportOptions {
  token: string;
  /** Page origin, e.g. `http://127.0.0.1:4321`. */
  origin?: string;
  WebSocketImpl?: typeof WebSocket;
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

  const connect = (): void => {
    const ws = new WS(`${wsOrigin}/api/ws?token=${encodeURIComponent(options.token)}`);
    socket = ws;
    ws.onopen = () => {
      delay = RECONNECT_MIN_MS;
      setState('open');
      for (const frame of outbox.splice(0)) ws.send(frame);
    };
    ws.onmessage = (message: MessageEvent) => {
      let frame: unknown;
      try {
        frame = JSON.parse(String(message.data));
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
      const entry = pending.get(response.id);
      if (!entry) return;
      pending.delete(response.id);
      clearTimeout(entry.timer);
      entry.resolve(response.ok ? { ok: true, value: response.value } : { ok: false, error: response.error });
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = null;
      failPending(t('errors.connectionLost'));
      if (closedByUs) return;
      setState('closed');
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, RECONNECT_MAX_MS);
    };
  };

  const bridge: FerryBridge = {
    call<K extends CommandName>(command: K, input: CommandInput<K>): Promise<ApiResult<CommandOutput<K>>> {
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

  connect();

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
