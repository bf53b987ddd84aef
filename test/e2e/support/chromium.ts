/**
 * Which Chromium Playwright drives, on any machine: `$FERRY_CHROMIUM` (or `$CHROME_PATH`) when set,
 * else the browser `npx playwright install chromium` put in Playwright's cache, else Debian's
 * `/usr/bin/chromium` (what `.ci/run` installs). When none exists, one line on stderr says what to do,
 * and Playwright then fails with its own message.
 */
import { existsSync } from 'node:fs';
import { chromium } from '@playwright/test';

export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_HINT =
  'ferry e2e: no Chromium found; set FERRY_CHROMIUM=/path/to/chrome, run `npx playwright install chromium`, ' +
  'or install Debian’s chromium package (/usr/bin/chromium)';

export interface ChromiumLookup {
  env: NodeJS.ProcessEnv;
  exists: (path: string) => boolean;
  /** Where Playwright's own download of Chromium would be (`chromium.executablePath()`). */
  playwrightPath: () => string | undefined;
}

/** The path of a Chromium to launch, or undefined with `hint` called once. */
export function findChromium(lookup: ChromiumLookup, hint: (line: string) => void): string | undefined {
  // An explicit choice wins even when the file is missing: Playwright's error then names that path.
  const chosen = lookup.env.FERRY_CHROMIUM || lookup.env.CHROME_PATH;
  if (chosen) return chosen;
  let installed: string | undefined;
  try {
    installed = lookup.playwrightPath();
  } catch {
    // playwright-core throws when it knows no build for this platform: fall through to Debian's.
  }
  if (installed && lookup.exists(installed)) return installed;
  if (lookup.exists(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  hint(CHROMIUM_HINT);
  return undefined;
}

/** `findChromium` on this machine. */
export function chromiumOnThisMachine(): string | undefined {
  return findChromium(
    { env: process.env, exists: existsSync, playwrightPath: () => chromium.executablePath() },
    (line) => process.stderr.write(`${line}\n`),
  );
}
