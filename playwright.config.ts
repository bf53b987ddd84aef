import { defineConfig } from '@playwright/test';
import { chromiumOnThisMachine } from './test/e2e/support/chromium.ts';

/**
 * End-to-end tests: the built renderer in Chromium against `ferry serve` and the sandbox emulators.
 * Which Chromium: test/e2e/support/chromium.ts ($FERRY_CHROMIUM, a Playwright-installed one, or
 * Debian's /usr/bin/chromium, which `.ci/run` installs). Nothing is downloaded by the tests.
 */
export default defineConfig({
  testDir: 'test/e2e',
  outputDir: 'test-results/e2e-artifacts',
  // One worker: the scenarios share one server and data folder, and the machine has two cores.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 20_000 },
  reporter: process.env.CI ? [['list']] : [['list']],
  use: {
    headless: true,
    viewport: { width: 1440, height: 900 },
    deviceScaleFactor: 1,
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: chromiumOnThisMachine(),
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
});
