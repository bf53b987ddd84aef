/**
 * `ferry settings get/set` and `--bwlimit` as scripts use them: `node bin/ferry.js` in a child
 * process. Assertions are on exit codes, the one-line reasons on stderr, what was saved (read back
 * through the command and the settings table), and what the emulator received.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { SettingsStore } from '../../main/api/settingsStore.ts';
import { openDatabase } from '../../main/db/database.ts';
import { startSelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { Fixtures, jsonLines, randomFile, runFerry, type FerryProcessResult } from '../support/ferryHarness.ts';

const TIMEOUT_MS = 90_000;
const fixtures = new Fixtures();

afterEach(async () => {
  await fixtures.cleanup();
});

async function cli(): Promise<{
  data: string;
  files: string;
  ferry: (...args: string[]) => Promise<FerryProcessResult>;
}> {
  const data = await fixtures.tempDir('ferry-cli-settings-');
  const files = await fixtures.tempDir('ferry-cli-settings-files-');
  return { data, files, ferry: (...args) => runFerry(data, args, { timeoutMs: 25_000 }) };
}

/** The one line of stderr (the contract: a usage or validation error is one line). */
function oneLine(text: string): string {
  const lines = text.split('\n').filter((line) => line !== '');
  expect(lines, text).toHaveLength(1);
  return lines[0]!;
}

function savedSettings(data: string): ReturnType<SettingsStore['get']> {
  const db = openDatabase(data);
  try {
    return new SettingsStore(db).get();
  } finally {
    db.close();
  }
}

describe('ferry settings', () => {
  it(
    'prints every setting or one, sets values by their type, and refuses bad ones saving nothing',
    async () => {
      const c = await cli();
      const all = await c.ferry('settings', 'get', '--json');
      expect(all.stderr).toBe('');
      expect(all.code).toBe(0);
      const [line] = jsonLines(all.stdout);
      expect(line).toMatchObject({ event: 'settings', settings: { bwlimit: 'off', globalConcurrency: 4 } });

      const human = await c.ferry('settings', 'get');
      expect(human.stdout).toContain('bwlimit = off\n');
      expect(human.stdout).toContain('closeToTray = true\n');

      for (const [key, value] of [
        ['bwlimit', '08:00,512K 19:00,4M 23:00,off'],
        ['closeToTray', 'false'],
        ['globalConcurrency', '3'],
        ['theme', 'dark'],
      ] as const) {
        const set = await c.ferry('settings', 'set', key, value);
        expect(set.stderr).toBe('');
        expect(set.code).toBe(0);
        expect(set.stdout).toBe(`${key} = ${value}\n`);
      }
      const one = await c.ferry('settings', 'get', 'bwlimit');
      expect(one.stdout).toBe('08:00,512K 19:00,4M 23:00,off\n');
      const typed = await c.ferry('settings', 'get', 'globalConcurrency', '--json');
      expect(jsonLines(typed.stdout)).toEqual([{ event: 'setting', key: 'globalConcurrency', value: 3 }]);
      expect(savedSettings(c.data)).toMatchObject({
        bwlimit: '08:00,512K 19:00,4M 23:00,off',
        closeToTray: false,
        globalConcurrency: 3,
        theme: 'dark',
      });

      const badLimit = await c.ferry('settings', 'set', 'bwlimit', '08:00,512K 8:0x,off');
      expect(badLimit.code).toBe(2);
      expect(oneLine(badLimit.stderr)).toBe(
        'ferry: bwlimit: "08:00,512K 8:0x,off" — "8:0x" is not a time (HH:MM); nothing was saved',
      );
      const badBoolean = await c.ferry('settings', 'set', 'closeToTray', 'yes');
      expect(badBoolean.code).toBe(2);
      expect(oneLine(badBoolean.stderr)).toContain('"yes" is not true or false');
      const badNumber = await c.ferry('settings', 'set', 'globalConcurrency', '99');
      expect(badNumber.code).toBe(2);
      expect(oneLine(badNumber.stderr)).toContain('globalConcurrency');
      const unknown = await c.ferry('settings', 'set', 'bandwidthCapKbps', '512');
      expect(unknown.code).toBe(2);
      expect(oneLine(unknown.stderr)).toMatch(/no setting "bandwidthCapKbps"; the settings are .*bwlimit/);
      const unknownGet = await c.ferry('settings', 'get', 'speed');
      expect(unknownGet.code).toBe(2);
      expect(savedSettings(c.data)).toMatchObject({
        bwlimit: '08:00,512K 19:00,4M 23:00,off',
        closeToTray: false,
        globalConcurrency: 3,
      });
    },
    TIMEOUT_MS,
  );

  it(
    '--bwlimit: a bad value or one without --wait stops before anything is queued; a good one uploads and is not saved',
    async () => {
      const c = await cli();
      const token = `sc-${randomBytes(8).toString('hex')}`;
      const sandbox = fixtures.track(await startSelfCommunitySandbox({ token }));
      const added = await c.ferry(
        'accounts',
        'add',
        'selfcommunity',
        '--name',
        'community',
        '--base-url',
        sandbox.url,
        '--secret',
        `accessToken=${token}`,
      );
      expect(added.code).toBe(0);
      const file = await randomFile(c.files, 'limited.png', 600_000);

      const bad = await c.ferry('upload', '--account', 'community', '--wait', '--bwlimit', '8:0x,512K', file.path);
      expect(bad.code).toBe(2);
      expect(oneLine(bad.stderr)).toBe('ferry: --bwlimit bwlimit: "8:0x,512K" — "8:0x" is not a time (HH:MM)');
      const noWait = await c.ferry('upload', '--account', 'community', '--bwlimit', '2M', file.path);
      expect(noWait.code).toBe(2);
      expect(oneLine(noWait.stderr)).toContain('use it with --wait');
      const badRun = await c.ferry('run', '--until-idle', '--bwlimit', '2X');
      expect(badRun.code).toBe(2);
      expect(oneLine(badRun.stderr)).toContain('"2X" is not a rate');
      const listed = await c.ferry('list', '--json');
      expect(jsonLines(listed.stdout)).toEqual([]);
      expect(sandbox.media).toHaveLength(0);

      const good = await c.ferry('upload', '--account', 'community', '--wait', '--json', '--bwlimit', '4M', file.path);
      expect(good.stderr).toBe('');
      expect(good.code).toBe(0);
      expect(jsonLines(good.stdout).filter((line) => line.event === 'job')).toEqual([
        expect.objectContaining({ status: 'completed', size: file.bytes.length }),
      ]);
      expect(sandbox.media).toHaveLength(1);
      expect(sandbox.media[0]!.sha256).toBe(file.sha256);
      expect(savedSettings(c.data).bwlimit).toBe('off');
    },
    TIMEOUT_MS,
  );
});
