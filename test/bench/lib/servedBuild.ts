import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Page } from '@playwright/test';

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
};

/**
 * Serves the page's own files (not /api) from `dir`, a renderer build, so that two builds can be
 * compared against one `ferry serve` (uiAb.ts, uiFrames.ts).
 */
export async function routeTo(page: Page, origin: string, dir: string): Promise<void> {
  await page.route(
    (url) => url.origin === origin && !url.pathname.startsWith('/api'),
    async (route) => {
      const path = new URL(route.request().url()).pathname;
      const file = join(dir, path === '/' ? 'index.html' : path);
      try {
        const body = await readFile(file);
        await route.fulfill({ status: 200, body, contentType: TYPES[extname(file)] ?? 'application/octet-stream' });
      } catch {
        await route.fulfill({ status: 404, body: 'not found' });
      }
    },
  );
}
