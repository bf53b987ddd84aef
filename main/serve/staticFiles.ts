/**
 * Serves the built renderer (dist/renderer) to the browser. Paths are resolved inside the renderer
 * folder only; anything else is a 404. Unknown paths without an extension get index.html, so that
 * the renderer's own routes survive a reload. Without a build, a small page says how to make one.
 */
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import mime from 'mime-types';

/** The default renderer folder: dist/renderer from the sources, or next to the built main process. */
export function defaultRendererDir(): string {
  const here = fileURLToPath(import.meta.url);
  const built = here.includes(`${sep}dist${sep}main${sep}`);
  return fileURLToPath(new URL(built ? '../../renderer/' : '../../dist/renderer/', import.meta.url));
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  // The page's address carries the token: never send it to another site as a Referer.
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function notBuiltPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ferry</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}code{background:#eee;padding:0 .25rem}</style>
</head><body>
<h1>Ferry is running</h1>
<p>The user interface has not been built yet, so there is nothing to show here.</p>
<p>Build it with <code>npm run build:renderer</code> (it writes <code>dist/renderer/</code>), then reload this page.</p>
<p>Meanwhile the API answers over WebSocket at <code>/api/ws?token=…</code> and HTTP at <code>POST /api/call</code>, with the token from the address Ferry printed.</p>
</body></html>
`;
}

export async function serveStatic(
  rendererDir: string,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', ...SECURITY_HEADERS }).end();
    return;
  }
  const root = resolve(rendererDir);
  const index = join(root, 'index.html');
  if (!existsSync(index)) {
    const body = notBuiltPage();
    response.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
      ...SECURITY_HEADERS,
    });
    response.end(request.method === 'HEAD' ? undefined : body);
    return;
  }
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    response.writeHead(400, SECURITY_HEADERS).end();
    return;
  }
  let file = resolve(root, `.${path.includes('\0') ? '/' : path}`);
  if (file !== root && !file.startsWith(root + sep)) {
    response.writeHead(404, SECURITY_HEADERS).end();
    return;
  }
  let info = await stat(file).catch(() => null);
  if (!info || info.isDirectory()) {
    if (info?.isDirectory() || extname(file) === '') {
      file = index;
      info = await stat(file).catch(() => null);
    }
  }
  if (!info || !info.isFile()) {
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS }).end('Not found');
    return;
  }
  const validators = {
    etag: `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`,
    'last-modified': info.mtime.toUTCString(),
    'cache-control': cacheControl(root, file),
  };
  if (notModified(request, validators.etag, info.mtimeMs)) {
    response.writeHead(304, { ...validators, ...SECURITY_HEADERS }).end();
    return;
  }
  response.writeHead(200, {
    'content-type': mime.contentType(extname(file)) || 'application/octet-stream',
    'content-length': info.size,
    ...validators,
    ...SECURITY_HEADERS,
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  createReadStream(file)
    .on('error', () => response.destroy())
    .pipe(response);
}

/**
 * Vite names everything it writes under assets/ after its content (`index-rH9pftHM.js`, and its .map):
 * a new build has new names, so those files never change and the browser may keep them for good
 * without asking again (`immutable`: not even on a reload). That also keeps Chromium's code cache of
 * the bundle, which lives with the cached response. Everything else (index.html, which names the
 * current assets, and the unhashed early-socket.js, theme-boot.js and favicons) is checked with the
 * server on every use and costs a 304 when unchanged.
 */
function cacheControl(root: string, file: string): string {
  return file.startsWith(join(root, 'assets') + sep) ? 'public, max-age=31536000, immutable' : 'no-cache';
}

/** Whether a conditional GET may be answered 304: If-None-Match wins over If-Modified-Since (RFC 9110). */
function notModified(request: IncomingMessage, etag: string, mtimeMs: number): boolean {
  const match = request.headers['if-none-match'];
  if (match !== undefined) {
    // Weak comparison: W/"x" and "x" are the same validator.
    const bare = etag.replace(/^W\//, '');
    return match
      .split(',')
      .map((tag) => tag.trim())
      .some((tag) => tag === '*' || tag.replace(/^W\//, '') === bare);
  }
  const since = request.headers['if-modified-since'];
  if (since === undefined) return false;
  const date = Date.parse(since);
  // HTTP dates have whole seconds: a file changed within the same second is not "not modified".
  return Number.isFinite(date) && Math.floor(mtimeMs / 1000) * 1000 <= date;
}
