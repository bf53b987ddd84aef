/**
 * Which network addresses Ferry treats as "this computer only", and what follows from it:
 * - a provider's base URL may use plain `http://` only for loopback hosts (the sandbox emulators in
 *   tests and demos); anything that leaves the machine carries credentials and files, so it needs
 *   TLS;
 * - `ferry serve` binds loopback unless told otherwise (see serve.ts).
 *
 * Loopback means the addresses the operating system never routes off the machine: 127.0.0.0/8,
 * ::1 and the name `localhost`. Look-alikes such as `127.0.0.1.example.com` or `localhost.evil` are
 * ordinary names that DNS may point anywhere, so they are not loopback.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { FerryError } from '../core/errors.ts';

/**
 * True for 127.0.0.0/8, ::1 (with or without brackets) and `localhost`. Takes a host as written in a
 * URL or given to `--host`; a port is not part of it.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
  if (bare === 'localhost') return true;
  if (isIPv4(bare)) return bare.split('.')[0] === '127';
  if (isIPv6(bare)) return bare === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(bare);
  return false;
}

/**
 * Refuses a base URL that would send credentials and files unencrypted over a network: plain
 * `http://` is accepted only for loopback hosts. Other schemes and malformed URLs are left to
 * `normalizeBaseUrl`, which has its own messages. Throws FerryError('invalid') (INVALID_INPUT over
 * the API, exit code 2 on the command line).
 */
export function checkBaseUrlTransport(value: string | null | undefined): void {
  if (value === null || value === undefined || value.trim() === '') return;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return;
  }
  if (url.protocol !== 'http:' || isLoopbackHost(url.hostname)) return;
  const shown = value.trim().slice(0, 200);
  const secure = `https://${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  throw new FerryError(
    'invalid',
    `The base URL "${shown}" uses plain http:// to ${url.hostname}, which would send the account's credentials and files unencrypted; use ${secure} (http:// is accepted only for this computer: 127.0.0.1, ::1, localhost)`,
  );
}
