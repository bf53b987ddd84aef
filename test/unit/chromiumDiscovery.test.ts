import { describe, expect, it } from 'vitest';
import { CHROMIUM_HINT, DEBIAN_CHROMIUM, findChromium } from '../e2e/support/chromium.ts';

function lookup(
  env: NodeJS.ProcessEnv,
  files: string[],
  playwrightPath: () => string | undefined = () => '/pw/chrome',
) {
  return { env, exists: (path: string) => files.includes(path), playwrightPath };
}

describe('findChromium (which browser the e2e tests launch)', () => {
  it('takes $FERRY_CHROMIUM, then $CHROME_PATH, before anything on disk', () => {
    const hints: string[] = [];
    const hint = (line: string) => hints.push(line);
    expect(findChromium(lookup({ FERRY_CHROMIUM: '/a', CHROME_PATH: '/b' }, ['/pw/chrome']), hint)).toBe('/a');
    expect(findChromium(lookup({ CHROME_PATH: '/b' }, [DEBIAN_CHROMIUM]), hint)).toBe('/b');
    expect(hints).toEqual([]);
  });

  it("prefers Playwright's own Chromium when it was installed, else Debian's", () => {
    const hint = () => {
      throw new Error('no hint expected');
    };
    expect(findChromium(lookup({}, ['/pw/chrome', DEBIAN_CHROMIUM]), hint)).toBe('/pw/chrome');
    expect(findChromium(lookup({}, [DEBIAN_CHROMIUM]), hint)).toBe(DEBIAN_CHROMIUM);
    const unknownPlatform = () => {
      throw new Error('unsupported platform');
    };
    expect(findChromium(lookup({}, [DEBIAN_CHROMIUM], unknownPlatform), hint)).toBe(DEBIAN_CHROMIUM);
  });

  it('prints one line of advice when there is no Chromium at all', () => {
    const hints: string[] = [];
    expect(findChromium(lookup({}, []), (line) => hints.push(line))).toBeUndefined();
    expect(hints).toEqual([CHROMIUM_HINT]);
    expect(CHROMIUM_HINT).not.toContain('\n');
  });
});
