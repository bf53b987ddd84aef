/**
 * Who may talk to `ferry serve`. Three checks, in this order:
 * - Host: when bound to loopback, the Host header must name loopback with our port. A page on
 *   another site that re-points its DNS name at 127.0.0.1 (DNS rebinding) fails here.
 * - Origin: a browser request that carries an Origin must come from the server's own origin, so
 *   another site open in the same browser cannot drive the API (this covers WebSocket upgrades,
 *   which browsers do not restrict by origin themselves).
 * - Token: every API request and WebSocket upgrade carries the random token printed at start, as
 *   `?token=`, an `x-ferry-token` header or `Authorization: Bearer`.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isLoopbackHost } from '../api/networkPolicy.ts';

export type GuardVerdict = { ok: true } | { ok: false; status: 401 | 403; message: string };

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface RequestGuardOptions {
  token: string;
  /** The address the server is bound to. */
  host: string;
  port: number;
}

export class RequestGuard {
  readonly #token: Buffer;
  readonly #loopback: boolean;
  readonly #port: number;
  readonly #names: Set<string>;

  constructor(options: RequestGuardOptions) {
    this.#token = Buffer.from(options.token, 'utf8');
    this.#loopback = isLoopbackHost(options.host);
    this.#port = options.port;
    this.#names = new Set([
      ...LOOPBACK_NAMES,
      options.host.includes(':') ? `[${options.host}]` : options.host.toLowerCase(),
    ]);
  }

  /** Host and Origin checks, for every request (static files included). */
  checkSite(request: IncomingMessage): GuardVerdict {
    const host = request.headers.host ?? '';
    if (this.#loopback && !this.#allowedHost(host)) {
      return {
        ok: false,
        status: 403,
        message: `Ferry answers only on loopback addresses (this request was for "${host.slice(0, 80)}")`,
      };
    }
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== `http://${host}`) {
      return {
        ok: false,
        status: 403,
        message: `Requests from ${origin.slice(0, 80)} are not allowed; open Ferry from its own address`,
      };
    }
    return { ok: true };
  }

  /** Host, Origin and token: for API requests and WebSocket upgrades. */
  checkApi(request: IncomingMessage, url: URL): GuardVerdict {
    const site = this.checkSite(request);
    if (!site.ok) return site;
    const given = this.#givenToken(request, url);
    if (given === null)
      return {
        ok: false,
        status: 401,
        message: 'This request needs the token shown when "ferry serve" started (?token=...)',
      };
    const candidate = Buffer.from(given, 'utf8');
    if (candidate.length !== this.#token.length || !timingSafeEqual(candidate, this.#token)) {
      return { ok: false, status: 401, message: 'Wrong token: use the address "ferry serve" printed when it started' };
    }
    return { ok: true };
  }

  #allowedHost(host: string): boolean {
    const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host.toLowerCase());
    if (!match) return false;
    const port = match[2] === undefined ? 80 : Number(match[2]);
    return this.#names.has(match[1]!) && port === this.#port;
  }

  #givenToken(request: IncomingMessage, url: URL): string | null {
    const query = url.searchParams.get('token');
    if (query) return query;
    const header = request.headers['x-ferry-token'];
    if (typeof header === 'string' && header !== '') return header;
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    return bearer ? bearer[1]! : null;
  }
}
