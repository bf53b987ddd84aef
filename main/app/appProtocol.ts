/**
 * The desktop window loads the built renderer (dist/renderer) through a private `app://ferry/`
 * scheme rather than `file://`. Why: a `file://` page may read any local file with fetch and has no
 * response headers, so its Content-Security-Policy could only come from a meta tag; an `app://` page
 * has its own origin, can reach only the renderer folder, and gets its CSP as a real response header
 * set here, whatever the renderer's index.html says.
 *
 * Electron-free on purpose: `index.ts` registers the scheme and hands `serveRendererRequest` to
 * `protocol.handle`; the tests call it directly.
 */
import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import mime from 'mime-types';

export const APP_SCHEME = 'app';
export const APP_HOST = 'ferry';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

/**
 * The renderer's policy: its own scripts, styles and fonts only; no eval, no inline script, no
 * plugins, no frames, no forms, no network (the UI talks to main over IPC, never over HTTP). Images
 * may also come from `data:`/`blob:` (thumbnails of dropped files) and from http(s): the preview of a
 * finished upload is the provider's own URL for it. Inline <style> is not allowed; styles set from
 * script (React's `style` prop) are not affected by CSP. The renderer's own meta tag applies too;
 * the stricter of the two wins.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob: https: http:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-src 'none'",
  "frame-ancestors 'none'",
  "worker-src 'none'",
].join('; ');

/** True for addresses of the app itself (`app://ferry/...`): the only place the window may be. */
export function isAppUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  // Node's URL gives a non-special scheme an opaque origin ("null"): compare scheme and host instead.
  return (
    parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST && parsed.username === '' && parsed.password === ''
  );
}

/** True for http(s) addresses, the only kind handed to the system browser. */
export function isWebUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

/**
 * The file inside `rendererDir` that an `app://ferry/...` address names, or null when the address
 * is not ours or escapes the folder. Paths without an extension are the renderer's own routes and
 * get index.html, like `ferry serve` does.
 */
export function rendererPathFor(rendererDir: string, url: string): string | null {
  if (!isAppUrl(url)) return null;
  let path: string;
  try {
    path = decodeURIComponent(new URL(url).pathname);
  } catch {
    return null;
  }
  if (path.includes('\0')) return null;
  const root = resolve(rendererDir);
  if (path === '/' || path === '' || extname(path) === '') return resolve(root, 'index.html');
  const file = resolve(root, `.${path}`);
  if (!file.startsWith(root + sep)) return null;
  return file;
}

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/**
 * Answers one request of the `app` scheme: the file with its MIME type and the security headers, a
 * 404 for anything else, and a page that says how to build the renderer when it was not built.
 */
export async function serveRendererRequest(
  rendererDir: string,
  request: { url: string; method: string },
): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return new Response(null, { status: 405, headers: { allow: 'GET, HEAD', ...SECURITY_HEADERS } });
  }
  const file = rendererPathFor(rendererDir, request.url);
  if (file === null)
    return new Response('Not found', {
      status: 404,
      headers: { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS },
    });
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if ((code === 'ENOENT' || code === 'ENOTDIR') && file === resolve(rendererDir, 'index.html')) {
      return new Response(notBuiltPage(rendererDir), {
        status: 200,
        headers: {
          'content-type': 'text/html; charset=utf-8',
          ...SECURITY_HEADERS,
          'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
        },
      });
    }
    return new Response('Not found', {
      status: 404,
      headers: { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS },
    });
  }
  return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), {
    status: 200,
    headers: {
      'content-type': mime.contentType(extname(file)) || 'application/octet-stream',
      'content-length': String(body.byteLength),
      ...SECURITY_HEADERS,
    },
  });
}

function notBuiltPage(rendererDir: string): string {
  const escaped = rendererDir.replace(/[&<>"]/g, (char) => `&#${char.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ferry</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}code{background:#8882;padding:0 .25rem}</style>
</head><body>
<h1>Ferry is running</h1>
<p>The user interface was not found in <code>${escaped}</code>, so there is nothing to show here.
Uploads and watched folders keep running in the tray.</p>
<p>Build it with <code>npm run build:renderer</code> (or start with <code>npm start</code>, which builds everything), then restart Ferry.</p>
</body></html>
`;
}
