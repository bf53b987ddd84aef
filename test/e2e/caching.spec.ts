/**
 * The browser's cache with the real build served by the real `ferry serve`: the hashed files under
 * assets/ arrive immutable and a window opened again takes them from the cache without asking the
 * server; index.html and the unhashed files (early-socket.js, theme-boot.js) are asked for again each
 * time and come back as a bodiless 304 when unchanged.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type BrowserContext } from '@playwright/test';
import { startFerryServe, type ServeProcess } from './support/ferryServe.ts';

let serve: ServeProcess;
let root: string;

test.beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ferry-e2e-cache-'));
  serve = await startFerryServe(join(root, 'data'));
});

test.afterAll(async () => {
  await serve?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

interface Seen {
  /** The status the server sent (a 304 shows as the cached 200 in the response itself). */
  status: number;
  cacheControl: string;
  etag: string;
  /** Served from the browser's memory or disk cache, without a request to the server. */
  fromCache: boolean;
}

/** Opens the window in a new page of `context` and returns what the network saw for each file (by path). */
async function open(context: BrowserContext): Promise<Map<string, Seen>> {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const paths = new Map<string, string>();
  const responses = new Map<string, { status: number; headers: Record<string, unknown>; fromDiskCache?: boolean }>();
  const wire = new Map<string, number>();
  const cached = new Set<string>();
  cdp.on('Network.requestWillBeSent', (event) => paths.set(event.requestId, new URL(event.request.url).pathname));
  cdp.on('Network.requestServedFromCache', (event) => cached.add(event.requestId));
  cdp.on('Network.responseReceived', (event) => responses.set(event.requestId, event.response));
  // What came over the wire: a revalidated file's response above is the cached 200, this is the 304.
  cdp.on('Network.responseReceivedExtraInfo', (event) => wire.set(event.requestId, event.statusCode));
  await page.goto(serve.url);
  await expect(page.getByRole('heading', { name: 'Queue' })).toBeVisible();
  await page.waitForLoadState('networkidle');
  await page.close();
  const seen = new Map<string, Seen>();
  for (const [id, path] of paths) {
    const response = responses.get(id);
    if (!response) continue;
    const headers = Object.fromEntries(Object.entries(response.headers).map(([k, v]) => [k.toLowerCase(), v]));
    seen.set(path, {
      status: wire.get(id) ?? response.status,
      cacheControl: String(headers['cache-control'] ?? ''),
      etag: String(headers['etag'] ?? ''),
      fromCache: cached.has(id) || response.fromDiskCache === true,
    });
  }
  return seen;
}

test('hashed assets are cached for good; the page and the unhashed scripts are revalidated (304)', async ({
  browser,
}) => {
  const context = await browser.newContext();
  try {
    const first = await open(context);
    const assets = [...first.keys()].filter((path) => path.startsWith('/assets/'));
    expect(assets.some((path) => /^\/assets\/index-[\w-]+\.js$/.test(path))).toBe(true);
    expect(assets.some((path) => path.endsWith('.css'))).toBe(true);
    for (const path of assets) {
      expect(first.get(path)!.status, path).toBe(200);
      expect(first.get(path)!.cacheControl, path).toBe('public, max-age=31536000, immutable');
    }
    for (const path of ['/', '/early-socket.js', '/theme-boot.js']) {
      expect(first.get(path)?.cacheControl, path).toBe('no-cache');
      expect(first.get(path)?.etag, path).toMatch(/^W\/"/);
    }

    // The window opened again, in a new page of the same browser profile.
    const again = await open(context);
    for (const path of assets.filter((path) => again.has(path)))
      expect(again.get(path)!.fromCache, `${path} from the cache`).toBe(true);
    expect(assets.filter((path) => again.has(path)).length).toBeGreaterThan(0);
    for (const path of ['/', '/early-socket.js', '/theme-boot.js']) {
      expect(again.get(path)?.status, path).toBe(304);
      expect(again.get(path)?.fromCache, path).toBe(false);
    }
  } finally {
    await context.close();
  }
});
