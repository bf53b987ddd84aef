/**
 * The window's first data over the early socket (renderer/public/early-socket.js), against the real
 * `ferry serve`: the page asks for the queue's first page once, on the socket the early script opened
 * before the bundle ran, and the app uses that answer. Without the script (a 404) the app opens its
 * own socket and asks itself.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { startSelfCommunitySandbox, type SelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { startFerryServe, type ServeProcess } from './support/ferryServe.ts';

let sandbox: SelfCommunitySandbox;
let serve: ServeProcess;
let root: string;

test.describe.configure({ mode: 'serial' });

/** One API command over POST /api/call with the token, as a script would send it. */
async function call(command: string, input: unknown): Promise<unknown> {
  const url = new URL(serve.url);
  const response = await fetch(`${url.origin}/api/call`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-ferry-token': url.searchParams.get('token')! },
    body: JSON.stringify({ command, input }),
  });
  const body = (await response.json()) as { ok: boolean; value?: unknown; error?: { message: string } };
  if (!body.ok) throw new Error(`${command}: ${body.error?.message}`);
  return body.value;
}

test.beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ferry-e2e-early-'));
  sandbox = await startSelfCommunitySandbox();
  serve = await startFerryServe(join(root, 'data'));
  // Three queued files on a paused account: they stay in the queue, nothing uploads.
  await call('accounts.add', {
    provider: 'selfcommunity',
    name: 'harbour',
    baseUrl: sandbox.url,
    secrets: { accessToken: 'token' },
  });
  await call('accounts.pause', { account: 'harbour' });
  const files = join(root, 'files');
  await mkdir(files);
  const paths: string[] = [];
  for (const name of ['pier.png', 'quay.png', 'jetty.png']) {
    const path = join(files, name);
    await writeFile(path, Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(2048, 7)]));
    paths.push(path);
  }
  await call('jobs.enqueue', { account: 'harbour', paths });
});

test.afterAll(async () => {
  await serve?.close();
  await sandbox?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

interface Sent {
  socket: number;
  id: number;
  command: string;
  input?: unknown;
}

/** Opens the served address in a new context; records every socket and every command frame sent. */
async function open(
  browser: Browser,
  blockEarlyScript: boolean,
): Promise<{ page: Page; sockets: string[]; sent: Sent[] }> {
  const context = await browser.newContext();
  if (blockEarlyScript) await context.route('**/early-socket.js', (route) => route.fulfill({ status: 404, body: '' }));
  const page = await context.newPage();
  const sockets: string[] = [];
  const sent: Sent[] = [];
  page.on('websocket', (ws) => {
    const index = sockets.push(ws.url()) - 1;
    ws.on('framesent', ({ payload }) =>
      sent.push({ socket: index, ...(JSON.parse(String(payload)) as Omit<Sent, 'socket'>) }),
    );
  });
  await page.goto(serve.url);
  return { page, sockets, sent };
}

const rows = (page: Page) => page.locator('.list .row[data-job-id]');

test('the first page comes over the socket the early script opened, asked for once', async ({ browser }) => {
  const { page, sockets, sent } = await open(browser, false);
  await expect(rows(page)).toHaveCount(3);
  await expect(page.getByRole('button', { name: 'quay.png', exact: true })).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();
  expect(page.url()).not.toContain('token=');
  // One socket for the whole page: the app took over the early one.
  expect(sockets).toHaveLength(1);
  const lists = sent.filter((frame) => frame.command === 'jobs.list');
  expect(lists).toEqual([{ socket: 0, id: -1, command: 'jobs.list', input: { limit: 200, offset: 0 } }]);
  // The catalog and the totals too: each asked for once, by the early script.
  for (const command of ['app.status', 'providers.list', 'accounts.list', 'settings.get', 'jobs.summary']) {
    expect(sent.filter((frame) => frame.command === command).map((frame) => frame.id < 0)).toEqual([true]);
  }
  await page.context().close();
});

test('without the early script the window opens its own socket and shows the same rows', async ({ browser }) => {
  const { page, sockets, sent } = await open(browser, true);
  await expect(rows(page)).toHaveCount(3);
  await expect(page.getByRole('button', { name: 'jetty.png', exact: true })).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();
  expect(sockets).toHaveLength(1);
  const lists = sent.filter((frame) => frame.command === 'jobs.list');
  expect(lists.length).toBeGreaterThanOrEqual(1);
  expect(lists.every((frame) => frame.id > 0)).toBe(true);
  await page.context().close();
});
