/**
 * The desktop app's system proxy: Electron resolves, for each URL, what the operating system's proxy
 * settings (or its PAC script) say, as a PAC answer such as "PROXY proxy:3128; DIRECT". Only the type of
 * Electron's session is imported here; `main/index.ts` hands in `session.defaultSession`.
 */
import type { Session } from 'electron';
import type { SystemProxy } from '../engine/proxy.ts';

/**
 * The proxy URL of the first entry of a PAC answer that Ferry can use: `PROXY host:port` (plain HTTP
 * proxy), `HTTPS host:port` (a proxy spoken to over TLS), `DIRECT` (''). SOCKS entries are skipped,
 * since Ferry's agents speak HTTP to a proxy; an answer with nothing usable means direct.
 */
export function parsePacAnswer(answer: string): string {
  for (const entry of answer.split(';')) {
    const [kind = '', address = ''] = entry.trim().split(/\s+/);
    const type = kind.toUpperCase();
    if (type === 'DIRECT') return '';
    if (!address) continue;
    if (type === 'PROXY') return `http://${address}`;
    if (type === 'HTTPS') return `https://${address}`;
  }
  return '';
}

/** `SystemProxy` through Electron's `session.resolveProxy` (Chromium's own proxy resolution). */
export function electronSystemProxy(session: Pick<Session, 'resolveProxy'>): SystemProxy {
  return async (url) => parsePacAnswer(await session.resolveProxy(url));
}
