/**
 * Ferry's renderer end to end: Debian's Chromium against `ferry serve` (a child process on a temp data
 * folder) and the SelfCommunity emulator. The scenarios run in order on one page, as one person would
 * use the app: add an account, drop files, read a result, pause, fail and retry, watch a folder, switch
 * to dark.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { startSelfCommunitySandbox, type SelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { dropFiles } from './support/drop.ts';
import { startFerryServe, type ServeProcess } from './support/ferryServe.ts';

const SHOTS = 'test-results/screens';
const CHUNK_PATH = '/api/v2/media/upload/chunk/';

let sandbox: SelfCommunitySandbox;
let serve: ServeProcess;
let root: string;
let context: BrowserContext;
let page: Page;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async ({ browser }) => {
  root = await mkdtemp(join(tmpdir(), 'ferry-e2e-'));
  await mkdir(SHOTS, { recursive: true });
  sandbox = await startSelfCommunitySandbox();
  serve = await startFerryServe(join(root, 'data'), {
    FERRY_POLL_INITIAL_MS: '200',
    FERRY_SYNC_STABLE_INTERVAL_MS: '200',
  });
  context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'], colorScheme: 'light' });
  page = await context.newPage();
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
});

test.afterAll(async () => {
  await context?.close();
  await serve?.close();
  await sandbox?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

/** The page's clipboard text (the test project has no DOM types, hence the local shape). */
function readClipboard(): Promise<string> {
  return page.evaluate(() =>
    (
      globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
    ).navigator.clipboard.readText(),
  );
}

function row(name: string) {
  return page.locator('.list .row[data-job-id]', { has: page.getByRole('button', { name, exact: true }) });
}

test('opens from the served address, hides the token and tells a new user what to do first', async () => {
  await page.goto(serve.url);
  await expect(page.getByRole('heading', { name: 'Add an account to start' })).toBeVisible();
  expect(page.url()).not.toContain('token=');
  await expect(page.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();
});

test('adds an account through the form generated from the provider fields', async () => {
  await page.getByRole('button', { name: 'Add an account' }).click();
  await page.getByRole('button', { name: 'Add account' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Add an account' });
  await expect(dialog).toBeVisible();
  await dialog.getByText('SelfCommunity', { exact: true }).click();
  await dialog.getByLabel('Account name').fill('community');
  await dialog.getByLabel('Site address').fill(sandbox.url);
  const token = dialog.getByLabel('Access token');
  await expect(token).toHaveAttribute('type', 'password');
  await token.fill(sandbox.token);
  await page.screenshot({ path: `${SHOTS}/accounts-form.png` });
  await dialog.getByRole('button', { name: 'Add account' }).click();
  await expect(dialog).toBeHidden();
  const card = page.getByRole('article', { name: 'community' });
  await expect(card).toBeVisible();
  await expect(card.getByText('Access token: set')).toBeVisible();
  await card.getByRole('button', { name: 'Test connection' }).click();
  await expect(card.getByRole('status')).toBeVisible();
  await page.screenshot({ path: `${SHOTS}/accounts.png` });
});

test('drops three files, refuses one the provider cannot take, and watches the rest complete', async () => {
  await page.getByRole('button', { name: 'Queue' }).click();
  await expect(page.getByRole('heading', { name: 'Drop files here' })).toBeVisible();
  await dropFiles(page, [
    { name: 'harbour.png', size: 420_000, type: 'image/png' },
    { name: 'lighthouse.png', size: 260_000, type: 'image/png' },
    { name: 'ferry-map.png', size: 90_000, type: 'image/png' },
    { name: 'notes.txt', size: 1_200, type: 'text/plain' },
  ]);
  const picker = page.getByRole('dialog', { name: 'Upload 4 files' });
  await expect(picker).toBeVisible();
  await expect(picker.getByRole('radio', { name: /community/ })).toBeChecked();
  const refused = picker.locator('.picker-item[data-refused="true"]');
  await expect(refused).toHaveCount(1);
  await expect(refused).toContainText('notes.txt');
  await expect(refused).toContainText('SelfCommunity takes images, PDF documents');
  await page.screenshot({ path: `${SHOTS}/picker.png` });
  await picker.getByRole('button', { name: 'Upload 3 files' }).click();
  await expect(picker).toBeHidden();

  for (const name of ['harbour.png', 'lighthouse.png', 'ferry-map.png']) {
    await expect(row(name)).toHaveAttribute('data-state', 'completed', { timeout: 45_000 });
    await expect(row(name).getByRole('progressbar')).toHaveAttribute('aria-valuenow', '100');
  }
  expect(sandbox.media).toHaveLength(3);
  await expect(page.getByRole('radio', { name: /Completed/ })).toHaveText('Completed3');
  // The fourth file was refused in the picker: it never reached the queue or the emulator.
  await expect(page.getByRole('button', { name: 'notes.txt' })).toHaveCount(0);
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${SHOTS}/queue.png` });
});

test('opens a result and copies its link', async () => {
  await page.getByRole('button', { name: 'harbour.png', exact: true }).click();
  const panel = page.getByRole('complementary', { name: 'harbour.png' });
  await expect(panel).toBeVisible();
  await expect(panel.getByText('Remote id')).toBeVisible();
  await expect(panel.getByRole('heading', { name: 'Attempts and events' })).toBeVisible();
  await panel.getByRole('button', { name: 'Copy link', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Link copied' })).toBeVisible();
  const copied = await readClipboard();
  expect(copied).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/media\/\d+\/harbour\.png$/);
  await panel.getByRole('button', { name: 'Copy Markdown link to harbour.png' }).click();
  await expect.poll(readClipboard).toBe(`![harbour.png](${copied})`);
  await page.screenshot({ path: `${SHOTS}/details.png` });
  await panel.getByRole('button', { name: 'Close details' }).click();
  await expect(panel).toBeHidden();
});

test('pauses and resumes a running upload', async () => {
  // Each chunk waits a while at the emulator, so the upload is surely running when paused: 18 chunks
  // of 0.6 s leave about 11 s, enough on a loaded machine (1.6 MB once finished first there).
  sandbox.fault({ method: 'POST', path: CHUNK_PATH, times: 40, action: { type: 'delay', ms: 600 } });
  await dropFiles(page, [{ name: 'slow-crossing.png', size: 3_600_000, type: 'image/png' }]);
  await page.getByRole('dialog', { name: 'Upload 1 file' }).getByRole('button', { name: 'Upload 1 file' }).click();
  const slow = row('slow-crossing.png');
  await expect(slow).toHaveAttribute('data-state', 'uploading', { timeout: 30_000 });
  await expect
    .poll(async () => Number(await slow.getByRole('progressbar').getAttribute('aria-valuenow')), { timeout: 30_000 })
    .toBeGreaterThan(0);
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${SHOTS}/queue-uploading.png` });
  await slow.getByRole('button', { name: 'Pause slow-crossing.png' }).click();
  await expect(slow).toHaveAttribute('data-state', 'paused');
  await expect(slow.getByText('Paused', { exact: true })).toBeVisible();
  const pausedAt = Number(await slow.getByRole('progressbar').getAttribute('aria-valuenow'));
  expect(pausedAt).toBeLessThan(100);
  sandbox.clearFaults();
  await slow.getByRole('button', { name: 'Resume slow-crossing.png' }).click();
  await expect(slow).toHaveAttribute('data-state', 'completed', { timeout: 45_000 });
});

test('a failing upload shows its reason and retries on request', async () => {
  sandbox.fault({
    method: 'POST',
    path: CHUNK_PATH,
    times: 1,
    action: {
      type: 'status',
      status: 401,
      body: JSON.stringify({ detail: 'Invalid token.' }),
      headers: { 'content-type': 'application/json' },
    },
  });
  await dropFiles(page, [{ name: 'stormy-sea.png', size: 150_000, type: 'image/png' }]);
  await page.getByRole('dialog', { name: 'Upload 1 file' }).getByRole('button', { name: 'Upload 1 file' }).click();
  const failing = row('stormy-sea.png');
  await expect(failing).toHaveAttribute('data-state', 'failed', { timeout: 30_000 });
  await expect(failing.locator('.subline.is-error')).toContainText(/401|token|refused|access/i);
  await expect(failing.getByText('Failed', { exact: true })).toBeVisible();
  await expect(page.getByRole('radio', { name: /Failed/ })).toHaveText('Failed1');
  await page.getByRole('radio', { name: /Failed/ }).click();
  await expect(page.locator('.list .row[data-job-id]')).toHaveCount(1);
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${SHOTS}/queue-failed.png` });
  await page.getByRole('radio', { name: /^All/ }).click();
  await failing.getByRole('button', { name: 'Retry stormy-sea.png' }).click();
  await expect(failing).toHaveAttribute('data-state', 'completed', { timeout: 45_000 });
});

test('keyboard: Ctrl+A selects every upload and Escape clears the selection', async () => {
  await page.locator('.view-title-row h1').click();
  await page.keyboard.press('Control+a');
  await expect(page.getByRole('toolbar', { name: 'Selected uploads' })).toContainText('5 uploads selected');
  await page.keyboard.press('Escape');
  await expect(page.getByRole('toolbar', { name: 'Selected uploads' })).toBeHidden();
});

test('history lists finished uploads and searches them', async () => {
  await page.getByRole('button', { name: 'History' }).click();
  await expect(page.getByText('5 finished uploads')).toBeVisible();
  await page.getByRole('searchbox', { name: 'Search history' }).fill('light');
  await expect(page.locator('.list .row[data-job-id]')).toHaveCount(1);
  await expect(page.getByRole('button', { name: 'lighthouse.png', exact: true })).toBeVisible();
  await page.getByRole('searchbox', { name: 'Search history' }).fill('');
  await expect(page.locator('.list .row[data-job-id]')).toHaveCount(5);
  await page.screenshot({ path: `${SHOTS}/history.png` });
});

test('watches a folder: a file written into it is uploaded and completes in the queue', async () => {
  const watched = join(root, 'watched');
  await mkdir(watched);
  await page.getByRole('button', { name: 'Sync' }).click();
  await expect(page.getByRole('heading', { name: 'No watched folders yet' })).toBeVisible();
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${SHOTS}/sync-empty.png` });
  await page.getByRole('button', { name: 'Watch a folder' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'Watch a folder' });
  await expect(dialog.getByRole('radio', { name: /community/ })).toBeChecked();
  await dialog.getByLabel(/^Folder/).fill(watched);
  await dialog.getByLabel('Never files matching').fill('*.draft.png');
  await page.screenshot({ path: `${SHOTS}/sync-form.png` });
  await dialog.getByRole('button', { name: 'Watch folder' }).click();
  await expect(dialog).toBeHidden();
  const card = page.getByRole('article', { name: watched });
  await expect(card.getByText('Watching', { exact: true })).toBeVisible();

  const bytes = randomBytes(240_000);
  await writeFile(join(watched, 'tide-table.png'), bytes);
  await expect(card.getByRole('list', { name: `Files of ${watched}` })).toContainText('1Uploaded', { timeout: 45_000 });
  const sha = createHash('sha256').update(bytes).digest('hex');
  expect(sandbox.media.filter((media) => media.sha256 === sha)).toHaveLength(1);
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${SHOTS}/sync.png` });

  await page.getByRole('button', { name: 'Queue' }).click();
  await expect(row('tide-table.png')).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
});

test('switches to the dark theme', async () => {
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('radio', { name: 'Dark' }).click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await page.screenshot({ path: `${SHOTS}/settings-dark.png` });
  await page.getByRole('button', { name: 'Queue' }).click();
  await page.getByRole('button', { name: 'lighthouse.png', exact: true }).click();
  await expect(page.getByRole('complementary', { name: 'lighthouse.png' })).toBeVisible();
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${SHOTS}/queue-dark.png` });
  // The choice is a setting: a reload keeps it.
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await page.getByRole('button', { name: 'Sync' }).click();
  await expect(
    page.getByRole('article', { name: join(root, 'watched') }).getByText('Watching', { exact: true }),
  ).toBeVisible();
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${SHOTS}/sync-dark.png` });
});

/** Pastes files into the window as Ctrl/Cmd+V does: a paste event whose clipboard holds them. */
async function pasteFiles(files: Array<{ name: string; type: string; bytes: Buffer }>): Promise<void> {
  await page.evaluate(
    (list) => {
      // This runs in the page; the test project has no DOM types, so the few used are named here.
      interface PageTransfer {
        items: { add(file: unknown): void };
      }
      interface PageGlobals {
        DataTransfer: new () => PageTransfer;
        File: new (parts: unknown[], name: string, options: { type: string }) => unknown;
        ClipboardEvent: new (
          type: string,
          init: { bubbles: boolean; cancelable: boolean; clipboardData: PageTransfer },
        ) => unknown;
        document: { body: { dispatchEvent(event: unknown): boolean } };
      }
      const { DataTransfer, File, ClipboardEvent, document } = globalThis as unknown as PageGlobals;
      const clipboardData = new DataTransfer();
      for (const file of list)
        clipboardData.items.add(new File([new Uint8Array(file.bytes)], file.name, { type: file.type }));
      document.body.dispatchEvent(new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData }));
    },
    files.map((file) => ({ name: file.name, type: file.type, bytes: [...file.bytes] })),
  );
}

/** PNG-signed random bytes: a picture as far as the provider's type check goes. */
function pngBytes(size: number): Buffer {
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(size - 8)]);
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

test('the page has an icon, and /favicon.ico is there too', async () => {
  const origin = new URL(serve.url).origin;
  for (const path of ['/favicon.ico', '/favicon.svg']) {
    const response = await page.request.get(`${origin}${path}`);
    expect(response.status(), path).toBe(200);
    expect((await response.body()).length).toBeGreaterThan(100);
  }
  await expect(page.locator('link[rel="icon"]').first()).toHaveAttribute('href', './favicon.svg');
});

test('pastes a screenshot from the clipboard: the emulator receives exactly its bytes', async () => {
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('radio', { name: 'Light' }).click();
  await page.getByRole('button', { name: 'Queue' }).click();
  const bytes = pngBytes(180_000);
  // Browsers call a clipboard image just "image.png"; Ferry names it by when it was pasted.
  await pasteFiles([{ name: 'image.png', type: 'image/png', bytes }]);
  const picker = page.getByRole('dialog', { name: 'Upload 1 file' });
  await expect(picker).toBeVisible();
  await expect(picker.getByRole('radio', { name: /community/ })).toBeChecked();
  await expect(picker.locator('.picker-item')).toContainText(/Pasted image \d{4}-\d\d-\d\d \d\d\.\d\d\.\d\d\.png/);
  await picker.getByRole('button', { name: 'Upload 1 file' }).click();
  const pasted = page.locator('.list .row[data-job-id]', { has: page.getByRole('button', { name: /^Pasted image / }) });
  await expect(pasted).toHaveAttribute('data-state', 'completed', { timeout: 45_000 });
  const received = sandbox.media.filter((media) => media.sha256 === sha256(bytes));
  expect(received).toHaveLength(1);
  expect(received[0]!.size).toBe(bytes.length);
  expect(sandbox.uploads.get(received[0]!.uploadId)?.filename).toMatch(/^Pasted image .*\.png$/);
});

test('auto-copy puts the link of a finished upload on the clipboard by itself', async () => {
  await page.getByRole('button', { name: 'Settings' }).click();
  const style = page.getByRole('radiogroup', { name: 'Copy the link when an upload completes' });
  await style.getByRole('radio', { name: 'URL' }).click();
  await expect(style.getByRole('radio', { name: 'URL' })).toHaveAttribute('aria-checked', 'true');
  await page.getByRole('button', { name: 'Queue' }).click();
  await page.evaluate(() =>
    (
      globalThis as unknown as { navigator: { clipboard: { writeText(text: string): Promise<void> } } }
    ).navigator.clipboard.writeText('nothing yet'),
  );
  await dropFiles(page, [{ name: 'buoy.png', size: 120_000, type: 'image/png' }]);
  await page.getByRole('dialog', { name: 'Upload 1 file' }).getByRole('button', { name: 'Upload 1 file' }).click();
  await expect(row('buoy.png')).toHaveAttribute('data-state', 'completed', { timeout: 45_000 });
  const url = (await row('buoy.png').locator('.subline').textContent()) ?? '';
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/media\/\d+\/buoy\.png$/);
  await expect.poll(readClipboard).toBe(url);
  await page.getByRole('button', { name: 'Settings' }).click();
  await style.getByRole('radio', { name: 'Off' }).click();
});

test('speaks German when asked: the queue in English and in German', async () => {
  await page.getByRole('button', { name: 'Queue' }).click();
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${SHOTS}/queue-en.png` });
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('radiogroup', { name: 'Language' }).getByRole('radio', { name: 'Deutsch' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Einstellungen' })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', 'de');
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${SHOTS}/settings-de-bottom.png` });
  await page.locator('.view-scroll').evaluate((element) => {
    (element as unknown as { scrollTop: number }).scrollTop = 0;
  });
  await page.screenshot({ path: `${SHOTS}/settings-de.png` });
  await page.getByRole('button', { name: 'Warteschlange' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Warteschlange' })).toBeVisible();
  await expect(page.getByRole('radio', { name: /^Fertig/ })).toBeVisible();
  await expect(row('buoy.png').getByText('Fertig', { exact: true })).toBeVisible();
  await page.mouse.move(0, 0);
  await page.screenshot({ path: `${SHOTS}/queue-de.png` });
  // The choice is a setting: a reload keeps it.
  await page.reload();
  await expect(page.getByRole('heading', { level: 1, name: 'Warteschlange' })).toBeVisible();
  await page.getByRole('button', { name: 'Einstellungen' }).click();
  await page.getByRole('radiogroup', { name: 'Sprache' }).getByRole('radio', { name: 'System' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Settings' })).toBeVisible();
});
