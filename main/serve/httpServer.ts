/**
 * The HTTP + WebSocket transport of the API table (`ferry serve`).
 *
 * - `GET /api/ws` (WebSocket): the client sends `{id, command, input}`, the server answers
 *   `{id, ok, value | error}`; events are pushed as `{event, payload}`, progress coalesced per
 *   connection by the API.
 * - `POST /api/call` with `{command, input}`: the same commands over plain HTTP (scripts, curl).
 * - `POST /api/stage?account=NAME&name=FILE[&option.KEY=VALUE...]`: the raw body is streamed to the
 *   staging folder and queued for the account (a browser cannot give file paths).
 * - anything else: the built renderer.
 *
 * Every API request and upgrade passes the RequestGuard (Host, Origin, token) first.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import mime from 'mime-types';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { ApiError, httpStatusOf, oneLine } from '../api/apiError.ts';
import type { ApiErrorCode, ApiErrorPayload, ApiEvent, ApiResult, WsResponse } from '../api/contract.ts';
import type { FerryApi } from '../api/ferryApi.ts';
import {
  StagingRefusal,
  checkStagedName,
  providerSizeLimit,
  tooLargeRefusal,
  type StagingReservation,
} from '../api/staging.ts';
import { UploadError } from '../core/errors.ts';
import { FerryError } from '../core/errors.ts';
import { findAdapter } from '../providers/registry.ts';
import type { PathPolicy } from './pathPolicy.ts';
import { RequestGuard } from './requestGuard.ts';
import { serveStatic } from './staticFiles.ts';

const MAX_CALL_BODY = 1024 * 1024;
const MAX_WS_MESSAGE = 1024 * 1024;
/** Progress is skipped (and merged into the next message) while a socket has this much unsent. */
const WS_PROGRESS_BACKLOG = 1024 * 1024;
/** A client this far behind is not reading at all: it is disconnected rather than buffered forever. */
const WS_MAX_BACKLOG = 64 * 1024 * 1024;
const WS_PING_MS = 30_000;

export interface HttpServerOptions {
  api: FerryApi;
  host: string;
  port: number;
  token: string;
  rendererDir: string;
  log: (message: string, error?: unknown) => void;
  /** When set, commands naming local paths must keep them inside its folders (see pathPolicy.ts). */
  pathPolicy?: PathPolicy | null;
}

export interface RunningHttpServer {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** The folders commands may name, or null when paths are not restricted (loopback, no --allow-path). */
  readonly pathPolicy: PathPolicy | null;
  close(): Promise<void>;
}

function sendJson(response: ServerResponse, status: number, value: unknown, extra: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    ...extra,
  });
  response.end(body);
}

function sendError(
  response: ServerResponse,
  status: number,
  error: ApiErrorPayload,
  closeAfter = false,
  extra: Record<string, string> = {},
): void {
  const result: ApiResult<never> = { ok: false, error };
  sendJson(response, status, result, closeAfter ? { connection: 'close', ...extra } : extra);
  // The body of a refused upload is not read: close rather than drain gigabytes.
  if (closeAfter) response.on('finish', () => response.socket?.destroy());
}

function sendResult(response: ServerResponse, result: ApiResult<unknown>, okStatus = 200): void {
  sendJson(response, result.ok ? okStatus : httpStatusOf(result.error.code), result);
}

/** The Content-Length of a request, or null when it has none (chunked) or an unusable one. */
function declaredLength(request: IncomingMessage): number | null {
  const header = request.headers['content-length'];
  if (header === undefined || request.headers['transfer-encoding'] !== undefined || !/^\d{1,16}$/.test(header))
    return null;
  const length = Number(header);
  return Number.isSafeInteger(length) ? length : null;
}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Listens and resolves once bound; rejects with a readable error (port in use, bad host). */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { api, log } = options;
  const sockets = new Set<Socket>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE });
  // The guard needs the bound port, known only once listening; no request arrives before that.
  const bound: { guard?: RequestGuard } = {};

  const handleCall = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method !== 'POST') {
      sendError(response, 405, { code: 'INVALID_INPUT', message: 'Use POST /api/call with {"command", "input"}' });
      return;
    }
    const body = await readBody(request, MAX_CALL_BODY);
    if (body === null) {
      sendError(
        response,
        413,
        { code: 'INVALID_INPUT', message: `The request is larger than ${MAX_CALL_BODY} bytes` },
        true,
      );
      return;
    }
    let frame: unknown;
    try {
      frame = JSON.parse(body.toString('utf8'));
    } catch {
      sendError(response, 400, { code: 'INVALID_INPUT', message: 'The request body is not JSON' });
      return;
    }
    if (typeof frame !== 'object' || frame === null || typeof (frame as { command?: unknown }).command !== 'string') {
      sendError(response, 400, {
        code: 'INVALID_INPUT',
        message: 'The request must be {"command": "...", "input": ...}',
      });
      return;
    }
    const { command, input } = frame as { command: string; input?: unknown };
    const refused = await options.pathPolicy?.check(command, input);
    if (refused) {
      sendError(response, 403, refused);
      return;
    }
    sendResult(response, await api.call(command, input));
  };

  const handleStage = async (request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> => {
    if (request.method !== 'POST') {
      sendError(response, 405, {
        code: 'INVALID_INPUT',
        message: 'Use POST /api/stage?account=NAME&name=FILE with the file as the body',
      });
      return;
    }
    const accountName = url.searchParams.get('account') ?? '';
    const name = url.searchParams.get('name') ?? '';
    const options: Record<string, string> = {};
    for (const [key, value] of url.searchParams)
      if (key.startsWith('option.')) options[key.slice('option.'.length)] = value;
    // Everything that can be refused is refused before a byte is written.
    let reservation: StagingReservation;
    try {
      checkStagedName(name);
      const account = api.queue.accounts.require(accountName);
      const adapter = findAdapter(account.provider);
      if (adapter?.capabilities.sources === 'url') {
        throw new ApiError(
          'INVALID_INPUT',
          `${adapter.displayName} imports files from a public URL; it cannot take an uploaded file`,
        );
      }
      const length = declaredLength(request);
      if (length === null) {
        throw new StagingRefusal(
          411,
          `The upload of ${name} did not say its length: send it with a Content-Length header (browsers do this for files), not in chunks`,
        );
      }
      const type = mime.lookup(name) || 'application/octet-stream';
      const limit = adapter ? providerSizeLimit(adapter, type) : null;
      if (limit && length > limit.maxBytes) throw tooLargeRefusal(name, limit, length);
      adapter?.validateSource({ kind: 'file', path: name, name, size: length, mime: type }, options);
      reservation = await api.staging.reserve({ name, length, limit });
    } catch (error) {
      refuseStage(response, name, error);
      return;
    }
    // The marker stays until the job is recorded (other processes' sweeps keep away meanwhile), and
    // is gone before the answer: whoever reads the answer sees the staging folder settled.
    let path: string;
    try {
      path = await reservation.receive(request);
    } catch (error) {
      await reservation.end();
      if (!(error instanceof StagingRefusal)) log(`Staging ${name} failed`, error);
      if (!response.headersSent && !response.destroyed) {
        if (error instanceof StagingRefusal) refuseStage(response, name, error);
        else
          sendError(
            response,
            400,
            { code: 'INVALID_INPUT', message: `The upload of ${name} did not arrive whole; try again` },
            true,
          );
      }
      return;
    }
    let result: ApiResult<unknown>;
    try {
      result = await api.call('jobs.enqueue', { account: accountName, paths: [path], options });
      if (!result.ok) await api.staging.release(path);
    } finally {
      await reservation.end();
    }
    sendResult(response, result, 201);
  };

  const refuseStage = (response: ServerResponse, name: string, error: unknown): void => {
    if (error instanceof StagingRefusal) {
      // 503 and 507 are about this server's state, not the request: the same upload may succeed later.
      const code: ApiErrorCode = error.status === 503 || error.status === 507 ? 'CONFLICT' : 'INVALID_INPUT';
      const extra: Record<string, string> =
        error.retryAfterSeconds !== null ? { 'retry-after': String(error.retryAfterSeconds) } : {};
      sendError(response, error.status, { code, message: oneLine(error.message) }, true, extra);
      return;
    }
    const tooLarge = error instanceof UploadError && error.kind === 'too-large';
    const payload: ApiErrorPayload =
      error instanceof ApiError
        ? { code: error.code, message: error.message }
        : error instanceof FerryError && error.code === 'not-found'
          ? { code: 'NOT_FOUND', message: oneLine(error.message) }
          : error instanceof UploadError || error instanceof FerryError
            ? { code: 'INVALID_INPUT', message: oneLine(error.message) }
            : { code: 'INTERNAL', message: 'Ferry could not check this upload; the details are in its log' };
    if (payload.code === 'INTERNAL') log(`Checking the upload of ${name} failed`, error);
    sendError(response, tooLarge ? 413 : httpStatusOf(payload.code), payload, true);
  };

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://ferry.invalid');
    void (async () => {
      try {
        if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
          const verdict = bound.guard!.checkApi(request, url);
          if (!verdict.ok) {
            // The envelope has no code for "who are you": both refusals are input the server will not take.
            sendError(response, verdict.status, { code: 'INVALID_INPUT', message: verdict.message }, true);
            return;
          }
          if (url.pathname === '/api/call') return await handleCall(request, response);
          if (url.pathname === '/api/stage') return await handleStage(request, response, url);
          sendError(response, 404, { code: 'NOT_FOUND', message: `No API endpoint ${url.pathname}` });
          return;
        }
        const verdict = bound.guard!.checkSite(request);
        if (!verdict.ok) {
          response.writeHead(verdict.status, { 'content-type': 'text/plain; charset=utf-8' }).end(verdict.message);
          return;
        }
        await serveStatic(options.rendererDir, request, response, url);
      } catch (error) {
        log(`Request ${request.method} ${url.pathname} failed`, error);
        if (!response.headersSent)
          sendError(response, 500, {
            code: 'INTERNAL',
            message: 'Ferry could not answer this request; the details are in its log',
          });
        else response.destroy();
      }
    })();
  });

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://ferry.invalid');
    const refuse = (status: number, text: string): void => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      socket.destroy();
    };
    if (url.pathname !== '/api/ws') return refuse(404, 'Not Found');
    const verdict = bound.guard!.checkApi(request, url);
    if (!verdict.ok) return refuse(verdict.status, verdict.status === 401 ? 'Unauthorized' : 'Forbidden');
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });

  wss.on('connection', (ws: WebSocket) => attachSocket(ws, api, log, options.pathPolicy ?? null));

  const pinger = setInterval(() => {
    for (const ws of wss.clients) {
      const state = ws as WebSocket & { ferryAlive?: boolean };
      if (state.ferryAlive === false) {
        ws.terminate();
        continue;
      }
      state.ferryAlive = false;
      ws.ping();
    }
  }, WS_PING_MS);
  pinger.unref();

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      clearInterval(pinger);
      const reason =
        error.code === 'EADDRINUSE'
          ? 'the port is already in use'
          : error.code === 'EADDRNOTAVAIL'
            ? 'no such local address'
            : error.message;
      reject(new Error(`Ferry cannot listen on ${options.host}:${options.port}: ${reason}`));
    };
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  bound.guard = new RequestGuard({ token: options.token, host: options.host, port });
  const shownHost =
    options.host === '0.0.0.0' || options.host === '::'
      ? '127.0.0.1'
      : options.host.includes(':')
        ? `[${options.host}]`
        : options.host;

  return {
    url: `http://${shownHost}:${port}/?token=${encodeURIComponent(options.token)}`,
    port,
    server,
    pathPolicy: options.pathPolicy ?? null,
    async close() {
      clearInterval(pinger);
      for (const ws of wss.clients) ws.close(1001, 'Ferry is shutting down');
      await new Promise<void>((resolve) => {
        wss.close(() => resolve());
      });
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Give open WebSockets a moment to say goodbye, then cut what is left.
      const timer = setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, 500);
      await closed;
      clearTimeout(timer);
    },
  };
}

/** One WebSocket connection: requests in, answers and events out. */
function attachSocket(
  ws: WebSocket,
  api: FerryApi,
  log: (message: string, error?: unknown) => void,
  pathPolicy: PathPolicy | null,
): void {
  const state = ws as WebSocket & { ferryAlive?: boolean };
  state.ferryAlive = true;
  ws.on('pong', () => {
    state.ferryAlive = true;
  });
  const send = (frame: WsResponse | ApiEvent): void => {
    if (ws.readyState !== ws.OPEN) return;
    ws.send(JSON.stringify(frame));
  };
  const unsubscribe = api.subscribe((event) => {
    if (ws.readyState !== ws.OPEN) return true;
    if (ws.bufferedAmount > WS_MAX_BACKLOG) {
      ws.terminate();
      return true;
    }
    if (event.event === 'progress' && ws.bufferedAmount > WS_PROGRESS_BACKLOG) return false;
    send(event);
    return true;
  });
  ws.on('close', unsubscribe);
  ws.on('error', (error) => log('WebSocket error', error));
  ws.on('message', (data: RawData, isBinary: boolean) => {
    void (async () => {
      let frame: unknown;
      try {
        if (isBinary) throw new Error('binary');
        frame = JSON.parse(
          Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'),
        );
      } catch {
        send({
          id: null,
          ok: false,
          error: { code: 'INVALID_INPUT', message: 'Each message must be JSON text: {"id", "command", "input"}' },
        });
        return;
      }
      const request = frame as { id?: unknown; command?: unknown; input?: unknown } | null;
      const id =
        request !== null &&
        typeof request === 'object' &&
        (typeof request.id === 'string' || typeof request.id === 'number')
          ? request.id
          : null;
      if (id === null || typeof request?.command !== 'string') {
        send({
          id,
          ok: false,
          error: {
            code: 'INVALID_INPUT',
            message: 'Each message must be {"id": string or number, "command": string, "input": ...}',
          },
        });
        return;
      }
      const refused = await pathPolicy?.check(request.command, request.input);
      const result = refused ? { ok: false as const, error: refused } : await api.call(request.command, request.input);
      send({ id, ...result });
    })().catch((error: unknown) => log('A WebSocket message failed', error));
  });
}
