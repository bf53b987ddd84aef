/**
 * The one place where adapters turn HTTP into facts: a request helper that wires the abort signal and
 * upload progress and maps transport failures to UploadError kinds, and a status mapper for replies
 * the adapter did not recognise.
 */
import { RequestError, type OptionsOfTextResponseBody, type Progress, type Response, type StreamOptions } from 'got';
import { Readable } from 'node:stream';
import { UploadError, type ErrorKind } from '../core/errors.ts';
import { requestPreparationOf } from '../core/requestRoute.ts';
import { bodyBytesWritten } from './multipartBody.ts';
import type { AccountContext, CallContext } from './types.ts';

export type SendOptions = Omit<OptionsOfTextResponseBody, 'signal' | 'isStream' | 'resolveBodyOnly'>;

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
]);

/**
 * Sends one request through the account's paced client and returns the reply whatever its status.
 * Throws UploadError for transport failures: `aborted` (or the signal's own UploadError reason, such
 * as the stall watchdog's `timeout`), `timeout`, `network`.
 */
export async function send(
  account: AccountContext,
  url: string,
  options: SendOptions,
  call: CallContext,
  doing: string,
): Promise<Response<string>> {
  const body = options.body;
  try {
    call.signal.throwIfAborted();
    // Pacing and the proxy (core/requestRoute.ts); only a proxied request gets options of its own.
    const prepare = requestPreparationOf(account.http);
    const route = prepare ? await prepare(url, call.signal) : undefined;
    const routed = route ? { ...options, ...route } : options;
    let response: Response<string>;
    if (body instanceof Readable) response = await sendStreamed(account, url, routed as SendOptions, body, call);
    else {
      const request = account.http(url, { ...routed, signal: call.signal } as OptionsOfTextResponseBody);
      // `on` returns the request itself, which is awaited just below.
      void request.on('uploadProgress', (progress) => {
        call.onBytes(progress.transferred);
        if (progress.percent === 1) call.bodySent?.();
      });
      response = await request;
    }
    // The proxy's refusal, not the provider's: no adapter could read it right.
    if (response.statusCode === 407) throw proxyRefusal(response);
    return response;
  } catch (error) {
    throw transportError(error, call.signal, doing);
  } finally {
    // An aborted or failed request only unpipes a stream body; destroying it closes the file it reads
    // (and is harmless once the body has ended).
    if (body instanceof Readable) body.destroy();
  }
}

/**
 * A streamed body (every file part) goes through got's stream interface, piped in, with the reply
 * collected here. Given as the `body` option instead, got snapshots it for its cross-origin redirect
 * checks with structuredClone, which fails on a stream and builds a DOMException each time: about a
 * fifth of got's own cost per request (measured: 0.79 → 0.63 CPU ms per 200 KB POST on loopback).
 */
function sendStreamed(
  account: AccountContext,
  url: string,
  options: SendOptions,
  body: Readable,
  call: CallContext,
): Promise<Response<string>> {
  const { body: _piped, ...rest } = options;
  return new Promise((resolve, reject) => {
    const stream = account.http.stream(url, { ...rest, signal: call.signal } as StreamOptions);
    let response: Response<string> | undefined;
    const pieces: Buffer[] = [];
    stream.on('uploadProgress', (progress: Progress) => {
      bodyBytesWritten(body, progress.transferred);
      call.onBytes(progress.transferred);
      // got reports 100 % once the request has ended: every byte went out, the reply is awaited.
      if (progress.percent === 1) call.bodySent?.();
    });
    stream.on('response', (reply: Response<string>) => {
      response = reply;
    });
    stream.on('data', (piece: Buffer) => pieces.push(piece));
    stream.on('end', () => {
      if (!response) {
        reject(new Error('the connection ended without a reply'));
        return;
      }
      response.body = Buffer.concat(pieces).toString('utf8');
      resolve(response);
    });
    stream.on('error', reject);
    // pipe() does not pass a failing body on (e.g. the file changed while it was read); got wraps it
    // in a RequestError whose cause transportError reports.
    body.on('error', (error) => stream.destroy(error));
    body.pipe(stream);
  });
}

export function transportError(error: unknown, signal: AbortSignal, doing: string): UploadError {
  if (error instanceof UploadError) return error;
  // got wraps a failure of the request body (e.g. a file that changed while it was read) in its own
  // error; the body's UploadError already says what happened.
  if (error instanceof RequestError && error.cause instanceof UploadError && !signal.aborted) return error.cause;
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof UploadError) return reason;
    return new UploadError('aborted', `${doing}: stopped`, { cause: error });
  }
  const code = error instanceof RequestError ? error.code : (error as NodeJS.ErrnoException)?.code;
  const text = error instanceof Error ? error.message : String(error);
  const proxy = error instanceof RequestError ? proxyOf(error.options.context) : undefined;
  if (proxy && code !== undefined && PROXY_UNREACHABLE_CODES.has(code)) {
    return new UploadError('network', `${doing}: could not reach the proxy ${proxy.shown} (${code}); will retry`, {
      cause: error,
    });
  }
  if (error instanceof Error && error.name === 'AbortError') {
    return new UploadError('aborted', `${doing}: stopped`, { cause: error });
  }
  if (code === 'ETIMEDOUT' || (error instanceof Error && error.name === 'TimeoutError')) {
    return new UploadError('timeout', `${doing}: the server did not answer in time (${text})`, { cause: error });
  }
  if (code !== undefined && NETWORK_CODES.has(code)) {
    return new UploadError('network', `${doing}: network error ${code} (${text}); will retry`, { cause: error });
  }
  if (code === 'ERR_INVALID_URL' || code === 'ERR_INVALID_ARG_VALUE') {
    return new UploadError('invalid', `${doing}: ${text}: check the account's base URL`, { cause: error });
  }
  if (code === 'ENOENT' || code === 'EACCES' || (error instanceof Error && error.name === 'NotReadableError')) {
    return new UploadError('local-file', `${doing}: the file could not be read (${text}); was it changed or moved?`, {
      cause: error,
    });
  }
  // Anything else that broke the exchange mid-way is most likely the network.
  return new UploadError('network', `${doing}: ${text}`, { cause: error });
}

/** Failures of connecting to the proxy itself (the proxy agents connect to it, never to the server). */
const PROXY_UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** What `main/engine/accountHttp.ts` records in got's context about the proxy a request went through. */
interface ProxyUsed {
  shown: string;
  source: 'account' | 'setting' | 'system';
  hasCredentials: boolean;
}

function proxyOf(context: Record<string, unknown> | undefined): ProxyUsed | undefined {
  const used = context?.ferryProxy as ProxyUsed | undefined;
  return used && typeof used.shown === 'string' ? used : undefined;
}

/**
 * A 407 reply: the proxy refused the request (for an https server, the CONNECT) — wrong or missing
 * credentials. An `auth` failure, not retried; it names the proxy without its user or password.
 */
export function proxyRefusal(response: Response<string>): UploadError {
  const proxy = proxyOf(response.request?.options.context);
  const where =
    proxy?.source === 'account'
      ? "the account's proxy setting"
      : proxy?.source === 'system'
        ? 'the proxy setting (the system proxy gave none), or in HTTPS_PROXY / HTTP_PROXY'
        : 'the proxy setting';
  const name = proxy ? `The proxy ${proxy.shown}` : 'A proxy';
  const message =
    proxy && !proxy.hasCredentials
      ? `${name} asks for a user and password (407 Proxy Authentication Required): give them in ${where}, as http://user:password@host:port`
      : `${name} refused Ferry's credentials (407 Proxy Authentication Required): check the user and password in ${where}`;
  return new UploadError('auth', message, { status: 407 });
}

/** Milliseconds to wait from Retry-After (seconds or HTTP date) or X-RateLimit-Reset (seconds or epoch). */
export function retryAfterMs(
  headers: Record<string, string | string[] | undefined>,
  nowMs = Date.now(),
): number | undefined {
  const first = (name: string): string | undefined => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const retryAfter = first('retry-after')?.trim();
  if (retryAfter) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - nowMs);
  }
  const reset = first('x-ratelimit-reset')?.trim();
  if (reset) {
    const value = Number(reset);
    if (Number.isFinite(value)) {
      // Large values are epoch seconds (or ms); small ones are seconds from now.
      if (value > 1e12) return Math.max(0, value - nowMs);
      if (value > 1e9) return Math.max(0, value * 1000 - nowMs);
      return Math.max(0, value * 1000);
    }
  }
  return undefined;
}

export function kindForStatus(status: number): ErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 404 || status === 410) return 'session-gone';
  if (status === 408) return 'timeout';
  if (status === 409) return 'conflict';
  if (status === 413) return 'too-large';
  if (status === 415) return 'unsupported';
  if (status === 429) return 'rate-limited';
  if (status >= 500) return 'server';
  return 'invalid';
}

const ADVICE: Partial<Record<ErrorKind, string>> = {
  auth: 'check the account credentials',
  'rate-limited': 'waiting before trying again',
  server: 'will retry',
  timeout: 'will retry',
  'session-gone': 'starting a new upload session',
};

/**
 * An UploadError for a reply the adapter did not accept. `detail` is the provider's own error text
 * when the adapter could read one; otherwise a short excerpt of the body is used.
 */
export function statusError(response: Response<string>, doing: string, detail?: string, kind?: ErrorKind): UploadError {
  const status = response.statusCode;
  const resolved = kind ?? kindForStatus(status);
  const text = detail ?? bodyExcerpt(response.body);
  const advice = ADVICE[resolved];
  return new UploadError(resolved, `${doing}: ${status}${text ? ` ${text}` : ''}${advice ? `; ${advice}` : ''}`, {
    status,
    retryAfterMs: retryAfterMs(response.headers),
  });
}

export function bodyExcerpt(body: string | undefined): string {
  if (!body) return '';
  const flat = body
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > 160 ? `${flat.slice(0, 157)}...` : flat;
}

/** Parses JSON or returns undefined: malformed bodies are reported by the caller, not thrown. */
export function tryJson(body: string | undefined): unknown {
  if (!body) return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}
