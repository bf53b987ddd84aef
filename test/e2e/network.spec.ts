/**
 * The window when the network goes away: the SelfCommunity emulator stops listening in the middle of
 * an upload (its port closed, open connections cut), the offline banner and the row say Ferry waits
 * for the network, and when the emulator listens again on the same port the banner goes, a toast says
 * the network is back and the upload completes byte-exact with one finalize. `ferry serve` runs its
 * real network monitor (probes at 1 s, 2 s, then every 4 s), so the return is seen within seconds.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { replugSandbox, unplugSandbox } from '../sandbox/harness.ts';
import { startSelfCommunitySandbox, type SelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { dropFiles } from './support/drop.ts';
import { startFerryServe, type ServeProcess } from './support/ferryServe.ts';

const SHOTS = 'test-results/screens';
const CHUNK = 204_800;
const FILE = { name: 'open-sea.png', size: 4 * CHUNK + 11, type: 'image/png' };

let sandbox: SelfCommunitySandbox;
let serve: ServeProcess;
let root: string;
let context: BrowserContext;
let page: Page;
let unplugged = false;

/** The bytes dropFiles makes in the page for a file (PNG signature, then a pattern). */
function droppedBytes(name: string, size: number): Buffer {
  const bytes = Buffer.alloc(size);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].slice(0, size));
  for (let i = 8; i < size; i += 1) bytes[i] = (i * 31 + name.length) & 0xff;
  return bytes;
}

test.beforeAll(async ({ browser }) => {
  root = await mkdtemp(join(tmpdir(), 'ferry-e2e-network-'));
  await mkdir(SHOTS, { recursive: true });
  sandbox = await startSelfCommunitySandbox();
  serve = await startFerryServe(join(root, 'data'));
  context = await browser.newContext({ colorScheme: 'light' });
  page = await context.newPage();
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
});

test.afterAll(async () => {
  await context?.close();
  await serve?.close();
  if (unplugged) await replugSandbox(sandbox.url).catch(() => undefined);
  await sandbox?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

test('says it waits for the network while the host is gone, and finishes the upload when it is back', async () => {
  await page.goto(serve.url);
  await page.getByRole('button', { name: 'Add an account' }).click();
  await page.getByRole('button', { name: 'Add account' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Add an account' });
  await dialog.getByText('SelfCommunity', { exact: true }).click();
  await dialog.getByLabel('Account name').fill('community');
  await dialog.getByLabel('Site address').fill(sandbox.url);
  await dialog.getByLabel('Access token').fill(sandbox.token);
  await dialog.getByRole('button', { name: 'Add account' }).click();
  await expect(dialog).toBeHidden();
  await page.getByRole('button', { name: 'Queue' }).click();

  // The third chunk is held without an answer: two are acknowledged when the host goes.
  sandbox.fault({
    method: 'POST',
    path: '/api/v2/media/upload/chunk/',
    when: (request) => String(request.headers['content-range'] ?? '').startsWith(`bytes ${2 * CHUNK}-`),
    times: 1,
    action: { type: 'stall' },
  });
  await dropFiles(page, [FILE]);
  await page.getByRole('dialog', { name: 'Upload 1 file' }).getByRole('button', { name: 'Upload 1 file' }).click();
  await expect.poll(() => sandbox.requests.some((request) => request.fault === 'stall')).toBe(true);

  await unplugSandbox(sandbox.url);
  unplugged = true;
  const host = new URL(sandbox.url).host;
  const banner = page.getByTestId('network-banner');
  await expect(banner).toHaveText(
    `Waiting for network — ${host} cannot be reached. Uploads continue by themselves when it is back.`,
  );
  const row = page.locator('.list .row[data-job-id]', { has: page.getByRole('button', { name: FILE.name }) });
  await expect(row).toHaveAttribute('data-state', 'waiting');
  await expect(row.locator('.chip-label')).toHaveText('Waiting for network');
  await expect(row.getByText(`${host} cannot be reached`, { exact: true })).toBeVisible();
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${SHOTS}/network-waiting.png` });

  // The same in German (the language setting), while the host is still gone.
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('radiogroup', { name: 'Language' }).getByRole('radio', { name: 'Deutsch' }).click();
  await page.getByRole('button', { name: 'Warteschlange' }).click();
  await expect(banner).toHaveText(
    `Warte auf Netzwerk — ${host} ist nicht erreichbar. Ihre Uploads werden automatisch fortgesetzt, sobald die Verbindung wieder besteht.`,
  );
  await expect(row.locator('.chip-label')).toHaveText('Warte auf Netzwerk');
  await expect(row.getByText(`${host} nicht erreichbar`, { exact: true })).toBeVisible();
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${SHOTS}/network-waiting-de.png` });

  await replugSandbox(sandbox.url);
  unplugged = false;
  // The toast lives 2.5 s: looked for first; the banner went with the same event.
  await expect(page.getByRole('status').filter({ hasText: `Netzwerk wieder da: ${host}` })).toBeVisible();
  await expect(banner).toBeHidden();
  await expect(row).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });

  const expected = createHash('sha256').update(droppedBytes(FILE.name, FILE.size)).digest('hex');
  expect(sandbox.media.map((media) => [media.sha256, media.size])).toEqual([[expected, FILE.size]]);
  expect(sandbox.completeCalls.filter((call) => call.status >= 200 && call.status < 300)).toHaveLength(1);
  // The two chunks acknowledged before the outage were not sent again.
  const acked = sandbox.chunkLog.filter((chunk) => chunk.status >= 200 && chunk.status < 300).map((c) => c.start);
  expect(new Set(acked).size).toBe(acked.length);
});
