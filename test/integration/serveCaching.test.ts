/**
 * `ferry serve`'s caching of the renderer's files, over real loopback HTTP: the hashed files under
 * assets/ are immutable for a year, index.html and the unhashed files (early-socket.js, theme-boot.js,
 * favicons) are `no-cache` with an ETag and a Last-Modified that a conditional request turns into a
 * bodiless 304, and a changed file is served again in full.
 */
import { utimes, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startServe } from '../../main/serve/serve.ts';
import { Fixtures } from '../support/ferryHarness.ts';
import { http } from '../support/rawHttp.ts';
import { openTestQueue } from '../support/testQueue.ts';

const fixtures = new Fixtures();
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await fixtures.cleanup();
});

/** A renderer folder laid out as `vite build` writes it, served by a real `startServe`. */
async function serveBuild(): Promise<{ base: string; rendererDir: string }> {
  const dir = await fixtures.tempDir('ferry-caching-');
  const rendererDir = join(dir, 'renderer');
  await mkdir(join(rendererDir, 'assets'), { recursive: true });
  const files: Record<string, string> = {
    'index.html':
      '<!doctype html><title>Ferry UI</title><script type="module" src="./assets/index-AbC123.js"></script>',
    'assets/index-AbC123.js': 'console.log("bundle")',
    'assets/index-AbC123.js.map': '{"version":3}',
    'assets/index-Xy9.css': 'body{margin:0}',
    'early-socket.js': '/* early socket */',
    'theme-boot.js': '/* theme */',
    'favicon.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
  };
  for (const [path, text] of Object.entries(files)) await writeFile(join(rendererDir, path), text);
  const dataDir = join(dir, 'data');
  const { db, queue } = openTestQueue(dataDir);
  const running = await startServe({ dataDir, db, queue, port: 0, rendererDir, log: () => undefined });
  closers.push(() => db.close());
  closers.push(() => running.close());
  return { base: `http://127.0.0.1:${running.port}`, rendererDir };
}

describe('ferry serve: caching of the renderer files', () => {
  it('serves the hashed files under assets/ as immutable for a year', async () => {
    const { base } = await serveBuild();
    for (const path of ['/assets/index-AbC123.js', '/assets/index-AbC123.js.map', '/assets/index-Xy9.css']) {
      const answer = await http(base, path);
      expect(answer.status, path).toBe(200);
      expect(answer.headers['cache-control'], path).toBe('public, max-age=31536000, immutable');
    }
  });

  it('never makes index.html or the unhashed files immutable: no-cache, with an ETag and a Last-Modified', async () => {
    const { base } = await serveBuild();
    for (const path of ['/', '/index.html', '/queue/12', '/early-socket.js', '/theme-boot.js', '/favicon.svg']) {
      const answer = await http(base, path);
      expect(answer.status, path).toBe(200);
      expect(answer.headers['cache-control'], path).toBe('no-cache');
      expect(answer.headers['etag'], path).toMatch(/^W\/"[0-9a-f]+-[0-9a-f]+"$/);
      expect(Date.parse(String(answer.headers['last-modified'])), path).not.toBeNaN();
    }
  });

  it('answers 304 without a body to If-None-Match or If-Modified-Since, with the same caching headers', async () => {
    const { base } = await serveBuild();
    for (const path of ['/', '/early-socket.js', '/theme-boot.js', '/favicon.svg', '/assets/index-AbC123.js']) {
      const first = await http(base, path);
      const etag = String(first.headers['etag']);
      const byTag = await http(base, path, { headers: { 'if-none-match': etag } });
      expect(byTag.status, path).toBe(304);
      expect(byTag.body, path).toBe('');
      expect(byTag.headers['etag'], path).toBe(etag);
      expect(byTag.headers['cache-control'], path).toBe(first.headers['cache-control']);
      // A list of tags, and the strong form of the same weak tag, match too.
      expect((await http(base, path, { headers: { 'if-none-match': `"other", ${etag.slice(2)}` } })).status, path).toBe(
        304,
      );
      const byDate = await http(base, path, {
        headers: { 'if-modified-since': String(first.headers['last-modified']) },
      });
      expect(byDate.status, path).toBe(304);
      expect(byDate.body, path).toBe('');
      expect((await http(base, path, { headers: { 'if-none-match': etag }, method: 'HEAD' })).status, path).toBe(304);
    }
  });

  it('serves the file in full when the validators do not match or it changed', async () => {
    const { base, rendererDir } = await serveBuild();
    const first = await http(base, '/early-socket.js');
    const other = await http(base, '/early-socket.js', { headers: { 'if-none-match': 'W/"0-0"' } });
    expect(other.status).toBe(200);
    expect(other.body).toBe('/* early socket */');
    // If-None-Match wins over If-Modified-Since: a stale tag with a current date is a full answer.
    const staleTag = await http(base, '/early-socket.js', {
      headers: {
        'if-none-match': 'W/"0-0"',
        'if-modified-since': String(first.headers['last-modified']),
      },
    });
    expect(staleTag.status).toBe(200);
    const earlier = new Date(Date.parse(String(first.headers['last-modified'])) - 60_000).toUTCString();
    expect((await http(base, '/early-socket.js', { headers: { 'if-modified-since': earlier } })).status).toBe(200);
    expect((await http(base, '/early-socket.js', { headers: { 'if-modified-since': 'not a date' } })).status).toBe(200);

    // A new version of the file (another build), even of the same size: new ETag, full answer.
    await writeFile(join(rendererDir, 'early-socket.js'), '/* early SOCKET */');
    const later = new Date(Date.now() + 120_000);
    await utimes(join(rendererDir, 'early-socket.js'), later, later);
    const changed = await http(base, '/early-socket.js', {
      headers: { 'if-none-match': String(first.headers['etag']) },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toBe('/* early SOCKET */');
    expect(changed.headers['etag']).not.toBe(first.headers['etag']);
    const byOldDate = await http(base, '/early-socket.js', {
      headers: {
        'if-modified-since': String(first.headers['last-modified']),
      },
    });
    expect(byOldDate.status).toBe(200);
  });
});
