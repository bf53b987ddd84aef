/**
 * The sidebar with a long queue: a five-digit active count beside a long label. In German
 * ("Warteschlange", "12.345") the badge ran past the sidebar's edge and was cut off; the label now
 * gives way and the count stays whole inside its item.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { seedQueue } from '../support/seedQueue.ts';
import { startFerryServe, type ServeProcess } from './support/ferryServe.ts';

const SHOTS = 'test-results/screens';
const BIN = fileURLToPath(new URL('../../bin/ferry.js', import.meta.url));
const JOBS = 12_345;

let root: string;
let serve: ServeProcess;

test.beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ferry-e2e-sidebar-'));
  const dataDir = join(root, 'data');
  // Nothing listens on the discard port, and the account is paused: the jobs stay queued.
  await seedQueue(dataDir, JOBS, 'http://127.0.0.1:9');
  execFileSync(process.execPath, [BIN, '--data-dir', dataDir, 'settings', 'set', 'language', 'de']);
  serve = await startFerryServe(dataDir);
});

test.afterAll(async () => {
  await serve?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

/** The box of `selector` inside the sidebar's Queue item, and whether its text is cut short. */
function measure(page: Page, selector: string) {
  return page.locator(`.nav-item[aria-current="page"] ${selector}`).evaluate((element) => {
    const box = element.getBoundingClientRect();
    return { left: box.left, right: box.right, cut: element.scrollWidth > element.clientWidth };
  });
}

test('a long label gives way to the active count, which stays inside its item', async ({ page }) => {
  await page.goto(serve.url);
  const item = page.getByRole('button', { name: /^Warteschlange/ });
  await expect(item.locator('.nav-badge')).toHaveText('12.345');
  const itemBox = await page.locator('.nav-item[aria-current="page"]').evaluate((element) => {
    const box = element.getBoundingClientRect();
    const style = (
      globalThis as unknown as { getComputedStyle(e: unknown): { paddingRight: string } }
    ).getComputedStyle(element);
    const padding = Number.parseFloat(style.paddingRight);
    return { right: box.right - padding };
  });
  const badge = await measure(page, '.nav-badge');
  const label = await measure(page, '.nav-label');
  expect(badge.right).toBeLessThanOrEqual(itemBox.right + 0.5);
  expect(badge.cut).toBe(false);
  expect(label.right).toBeLessThanOrEqual(badge.left);
  // The German label is what gives way (an ellipsis); its full text stays the item's accessible name.
  expect(label.cut).toBe(true);
  await expect(item).toHaveAccessibleName(/^Warteschlange 12\.345 aktiv$/);
  await page.locator('.sidebar').screenshot({ path: `${SHOTS}/sidebar-de-long-queue.png` });
});
