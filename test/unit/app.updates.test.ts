/**
 * main/app/updates.ts with a fake electron-updater and fake timers: when Ferry checks (start, setting
 * changes, daily), that it stops when switched off, and "Restart to update".
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CHECK_INTERVAL_MS, UpdateManager, type UpdateSettings, type UpdaterLike } from '../../main/app/updates.ts';

class FakeUpdater implements UpdaterLike {
  autoDownload = false;
  autoInstallOnAppQuit = false;
  feeds: string[] = [];
  checks = 0;
  installs: unknown[][] = [];
  fail: Error | null = null;
  readonly listeners = new Map<string, (arg: never) => void>();
  setFeedURL(options: { provider: 'generic'; url: string }): void {
    expect(options.provider).toBe('generic');
    this.feeds.push(options.url);
  }
  async checkForUpdates(): Promise<unknown> {
    this.checks += 1;
    if (this.fail) throw this.fail;
    return null;
  }
  quitAndInstall(...args: unknown[]): void {
    this.installs.push(args);
  }
  on(event: string, listener: (arg: never) => void): this {
    this.listeners.set(event, listener);
    return this;
  }
  emit(event: string, arg: unknown): void {
    (this.listeners.get(event) as ((arg: unknown) => void) | undefined)?.(arg);
  }
}

let updater: FakeUpdater;
let settings: UpdateSettings;
let ready: string[];
let logged: string[];

function manager(packaged = true): UpdateManager {
  return new UpdateManager({
    updater,
    settings: () => settings,
    packaged,
    onReady: (version) => ready.push(version),
    log: (message) => logged.push(message),
  });
}

beforeEach(() => {
  vi.useFakeTimers();
  updater = new FakeUpdater();
  settings = { autoUpdate: true, updateUrl: 'https://updates.example/ferry/' };
  ready = [];
  logged = [];
});
afterEach(() => vi.useRealTimers());

describe('updates', () => {
  it('checks the feed of the setting at start and then once a day, downloading in the background', async () => {
    const updates = manager();
    updates.apply();
    await vi.advanceTimersByTimeAsync(0);
    expect(updater.autoDownload).toBe(true);
    expect(updater.feeds).toEqual(['https://updates.example/ferry/']);
    expect(updater.checks).toBe(1);
    await vi.advanceTimersByTimeAsync(CHECK_INTERVAL_MS - 1);
    expect(updater.checks).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(updater.checks).toBe(2);
    await vi.advanceTimersByTimeAsync(CHECK_INTERVAL_MS * 2);
    expect(updater.checks).toBe(4);
    updates.close();
  });

  it('checks again at once when the URL changes, and stops when switched off or emptied', async () => {
    const updates = manager();
    updates.apply();
    await vi.advanceTimersByTimeAsync(0);
    updates.apply(); // same settings: nothing new
    expect(updater.checks).toBe(1);
    settings = { ...settings, updateUrl: 'https://mirror.example/ferry/' };
    updates.apply();
    await vi.advanceTimersByTimeAsync(0);
    expect(updater.feeds).toEqual(['https://updates.example/ferry/', 'https://mirror.example/ferry/']);
    expect(updater.checks).toBe(2);
    settings = { ...settings, autoUpdate: false };
    updates.apply();
    expect(updater.autoInstallOnAppQuit).toBe(false);
    await vi.advanceTimersByTimeAsync(CHECK_INTERVAL_MS * 3);
    expect(updater.checks).toBe(2);
    settings = { autoUpdate: true, updateUrl: '  ' };
    updates.apply();
    await vi.advanceTimersByTimeAsync(CHECK_INTERVAL_MS * 3);
    expect(updater.checks).toBe(2);
    updates.close();
  });

  it('never checks in an unpackaged Ferry', async () => {
    const updates = manager(false);
    updates.apply();
    await vi.advanceTimersByTimeAsync(CHECK_INTERVAL_MS * 2);
    expect(updater.checks).toBe(0);
    expect(updater.feeds).toEqual([]);
    expect(logged).toContain('Updates are checked only in a packaged Ferry');
  });

  it('logs a failed check and tries again the next day', async () => {
    updater.fail = new Error('getaddrinfo ENOTFOUND updates.example');
    const updates = manager();
    updates.apply();
    await vi.advanceTimersByTimeAsync(0);
    expect(logged).toContain('Could not check https://updates.example/ferry/ for updates');
    updater.fail = null;
    await vi.advanceTimersByTimeAsync(CHECK_INTERVAL_MS);
    expect(updater.checks).toBe(2);
    updates.close();
  });

  it('offers "Restart to update" once downloaded, stops checking, and installs on restart', async () => {
    const updates = manager();
    expect(updates.restart()).toBe(false);
    updates.apply();
    await vi.advanceTimersByTimeAsync(0);
    updater.emit('update-downloaded', { version: '0.2.0' });
    expect(ready).toEqual(['0.2.0']);
    expect(updates.ready).toBe('0.2.0');
    await vi.advanceTimersByTimeAsync(CHECK_INTERVAL_MS);
    expect(updater.checks).toBe(1);
    expect(updater.installs).toEqual([]);
    expect(updates.restart()).toBe(true);
    expect(updater.installs).toEqual([[false, true]]);
    updates.close();
  });
});
