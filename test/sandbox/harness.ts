/**
 * Shared plumbing of the sandbox emulators: a loopback HTTP server, a request log, and fault injection
 * on demand. An emulator supplies a handler that reads the request and returns a Reply; the harness
 * sends it, or applies the next matching fault instead.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Reply {
  status: number;
  body?: string | Buffer;
  headers?: Record<string, string>;
}

export type FaultAction =
  /** Answer with this status (and body/headers) without running the emulator's logic. */
  | { type: 'status'; status: number; body?: string; headers?: Record<string, string> }
  /** Destroy the connection after receiving `afterBytes` of the request body (0: at once). */
  | { type: 'reset'; afterBytes?: number }
  /** Never answer: the request hangs until the client gives up or the sandbox closes. */
  | { type: 'stall' }
  /** Wait, then handle normally (a slow server). */
  | { type: 'delay'; ms: number }
  /** Handle normally (the emulator's state changes) but close the socket instead of replying. */
  | { type: 'drop-response' }
  /** Handle normally, then replace the reply body with garbage (HTML page, truncated JSON...). */
  | { type: 'malformed'; body: string; status?: number; contentType?: string };

export interface Fault {
  method?: string;
  /** Matches the URL path (without query): exact string or RegExp. */
  path?: string | RegExp;
  /** Extra predicate over the request, e.g. a header or query value. */
  when?: (request: IncomingMessage) => boolean;
  /** How many matching requests it applies to (default 1). */
  times?: number;
  action: FaultAction;
}

export interface LoggedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  at: number;
  /** Reply status, or 0 when no reply was sent (fault). */
  status: number;
  fault: FaultAction['type'] | null;
}

export type Handler = (request: IncomingMessage, url: URL) => Promise<Reply>;

export interface SandboxServer {
  readonly url: string;
  readonly requests: LoggedRequest[];
  /** Queues a fault; faults are checked in the order they were added. */
  fault(fault: Fault): void;
  clearFaults(): void;
  /** Requests being handled right now and the most ever handled at once. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  close(): Promise<void>;
}

/** Every running emulator server by its port, for tests that take a host off the network and back. */
const unpluggable = new Map<number, { unplug(): Promise<void>; replug(): Promise<void> }>();

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/**
 * Takes the emulator server behind `url` off the network: it stops listening (new connections are
 * refused) and its open connections are destroyed, as when the network goes away mid-request.
 */
export async function unplugSandbox(url: string): Promise<void> {
  const entry = unpluggable.get(portOf(url));
  if (!entry) throw new Error(`no sandbox server listens at ${url}`);
  await entry.unplug();
}

/** Puts an unplugged emulator server back on the network, on the same port, with its state intact. */
export async function replugSandbox(url: string): Promise<void> {
  const entry = unpluggable.get(portOf(url));
  if (!entry) throw new Error(`no sandbox server was started at ${url}`);
  await entry.replug();
}

export async function startSandboxServer(handler: Handler, port = 0): Promise<SandboxServer> {
  const faults: Array<Fault & { left: number }> = [];
  const requests: LoggedRequest[] = [];
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let maxInFlight = 0;

  const takeFault = (request: IncomingMessage, path: string): FaultAction | null => {
    for (const fault of faults) {
      if (fault.left <= 0) continue;
      if (fault.method && fault.method.toUpperCase() !== request.method) continue;
      if (typeof fault.path === 'string' && fault.path !== path) continue;
      if (fault.path instanceof RegExp && !fault.path.test(path)) continue;
      if (fault.when && !fault.when(request)) continue;
      fault.left -= 1;
      return fault.action;
    }
    return null;
  };

  const send = (response: ServerResponse, reply: Reply): void => {
    const body = reply.body ?? '';
    response.writeHead(reply.status, { 'content-length': Buffer.byteLength(body), ...reply.headers });
    response.end(body);
  };

  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://sandbox.invalid');
    const entry: LoggedRequest = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: request.headers,
      at: Date.now(),
      status: 0,
      fault: null,
    };
    requests.push(entry);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    response.on('close', () => {
      inFlight -= 1;
    });
    const action = takeFault(request, url.pathname);
    entry.fault = action?.type ?? null;

    void (async () => {
      try {
        if (action?.type === 'status') {
          request.resume();
          await new Promise((resolve) => request.on('end', resolve));
          entry.status = action.status;
          send(response, { status: action.status, body: action.body ?? '', headers: action.headers ?? {} });
          return;
        }
        if (action?.type === 'reset') {
          const limit = action.afterBytes ?? 0;
          let seen = 0;
          if (limit === 0) {
            request.socket.destroy();
            return;
          }
          request.on('data', (chunk: Buffer) => {
            seen += chunk.length;
            if (seen >= limit) request.socket.destroy();
          });
          return;
        }
        if (action?.type === 'stall') {
          request.resume();
          return;
        }
        if (action?.type === 'delay') await new Promise((resolve) => setTimeout(resolve, action.ms));
        const reply = await handler(request, url);
        if (action?.type === 'drop-response') {
          request.socket.destroy();
          return;
        }
        if (action?.type === 'malformed') {
          entry.status = action.status ?? reply.status;
          send(response, {
            status: entry.status,
            body: action.body,
            headers: { 'content-type': action.contentType ?? 'text/html' },
          });
          return;
        }
        entry.status = reply.status;
        send(response, reply);
      } catch (error) {
        entry.status = 500;
        if (!response.headersSent) send(response, { status: 500, body: `sandbox error: ${String(error)}` });
      }
    })();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  unpluggable.set(address.port, {
    unplug: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
    replug: () =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(address.port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      }),
  });

  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    fault(fault) {
      faults.push({ ...fault, left: fault.times ?? 1 });
    },
    clearFaults() {
      faults.length = 0;
    },
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    close() {
      unpluggable.delete(address.port);
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Reads the whole request body (emulators only: test payloads are small). */
export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function json(status: number, value: unknown, headers: Record<string, string> = {}): Reply {
  return { status, body: JSON.stringify(value), headers: { 'content-type': 'application/json', ...headers } };
}

export function text(status: number, value: string, headers: Record<string, string> = {}): Reply {
  return { status, body: value, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } };
}
