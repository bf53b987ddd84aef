/**
 * `Ferry --cli ARGS` (main/index.ts): the app binary runs the `ferry` command and exits with its
 * code, without a window, a tray or the single-instance lock — how the installed app brings `ferry`
 * (build/linux/ferry; ELECTRON_RUN_AS_NODE is off by a fuse). Electron is a fake here.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Fixtures, waitFor } from '../support/ferryHarness.ts';

const fake = vi.hoisted(() => {
  const calls: string[] = [];
  const state = { exited: null as number | null };
  const app = {
    on: () => app,
    getAppPath: () => '/opt/Ferry/resources/app.asar',
    getPath: (name: string) => `/nowhere/${name}`,
    setName: () => undefined,
    setPath: () => undefined,
    setAppUserModelId: () => undefined,
    requestSingleInstanceLock: () => {
      calls.push('requestSingleInstanceLock');
      return true;
    },
    whenReady: () => new Promise(() => undefined),
    quit: () => calls.push('quit'),
    exit: (code: number) => {
      state.exited = code;
    },
    dock: { hide: () => calls.push('dock hidden') },
  };
  return {
    calls,
    state,
    electron: {
      app,
      protocol: { registerSchemesAsPrivileged: () => undefined },
      BrowserWindow: class {
        constructor() {
          calls.push('window');
        }
      },
    },
  };
});

vi.mock('electron', () => fake.electron);
vi.mock('electron-log/main', async () => ({ default: (await import('electron-log/node')).default }));
vi.mock('electron-updater', () => ({ default: {} }));

const fixtures = new Fixtures();
const savedArgv = process.argv;
let printed = '';

beforeAll(async () => {
  const dir = await fixtures.tempDir('ferry-cli-app-');
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    printed += String(chunk);
    return true;
  });
  process.argv = ['/opt/Ferry/ferry-desktop', '--cli', '--data-dir', dir, 'providers', '--json'];
  await import('../../main/index.ts');
  process.argv = savedArgv;
});

afterAll(async () => {
  vi.restoreAllMocks();
  process.argv = savedArgv;
  await fixtures.cleanup();
});

describe('the app binary with --cli', () => {
  it('runs the ferry command and exits with its code, without a window or the instance lock', async () => {
    await waitFor('the command to exit', () => fake.state.exited !== null);
    expect(fake.state.exited).toBe(0);
    const lines = printed
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; id: string });
    expect(lines.map((line) => line.id)).toContain('selfcommunity');
    expect(lines.every((line) => line.event === 'provider')).toBe(true);
    expect(fake.calls).toEqual(['dock hidden']);
  });
});
