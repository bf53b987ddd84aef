/**
 * What counts as "this computer only": loopback hosts (which may use plain http:// base URLs and
 * which `ferry serve` binds without --allow-remote), and the folders a server that answers the
 * network lets commands name (none unless --allow-path gives some).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkBaseUrlTransport, isLoopbackHost } from '../../main/api/networkPolicy.ts';
import { PathPolicy } from '../../main/serve/pathPolicy.ts';
import { Fixtures } from '../support/ferryHarness.ts';

const fixtures = new Fixtures();
afterEach(() => fixtures.cleanup());

describe('loopback hosts', () => {
  it.each([
    '127.0.0.1',
    '127.1.2.3',
    '127.255.255.254',
    '::1',
    '[::1]',
    'localhost',
    'LOCALHOST',
    'localhost.',
    '0:0:0:0:0:0:0:1',
  ])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each([
    '0.0.0.0',
    '::',
    '10.0.0.1',
    '192.168.1.2',
    '128.0.0.1',
    '127.0.0.1.example.com',
    '127.evil',
    'localhost.example.com',
    'mylocalhost',
    '::ffff:127.0.0.1',
    '',
  ])('%s is not', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });

  it('lets https anywhere and http only to loopback, and leaves malformed URLs to their own check', () => {
    for (const url of [
      'https://example.com',
      'http://127.0.0.1:9',
      'http://localhost',
      'http://[::1]:8080/x',
      'not a url',
      '',
      null,
      undefined,
    ]) {
      expect(() => checkBaseUrlTransport(url), String(url)).not.toThrow();
    }
    expect(() => checkBaseUrlTransport('http://example.com/api')).toThrow(
      'The base URL "http://example.com/api" uses plain http:// to example.com, which would send the account\'s credentials and files unencrypted; use https://example.com/api (http:// is accepted only for this computer: 127.0.0.1, ::1, localhost)',
    );
  });
});

describe('PathPolicy', () => {
  it('with no allowed folder, refuses every local path and says how to allow one; URLs and other commands pass', async () => {
    const policy = await PathPolicy.create([]);
    expect(await policy.check('jobs.enqueue', { account: 'a', paths: ['/tmp/x.png'] })).toEqual({
      code: 'INVALID_INPUT',
      message:
        'Cannot use /tmp/x.png over the network: this "ferry serve" takes no file or folder paths. Drop files onto the page instead, or start it with --allow-path DIR for the folders it may read',
    });
    expect(await policy.check('sync.add', { account: 'a', dir: '/tmp' })).toMatchObject({ code: 'INVALID_INPUT' });
    expect(
      await policy.check('jobs.enqueue', {
        account: 'a',
        paths: ['https://files.example/a.mp4', 'HTTP://files.example/b.mp4'],
      }),
    ).toBeNull();
    expect(await policy.check('jobs.list', { search: '/etc/passwd' })).toBeNull();
    // Malformed input is the command's own validation's to refuse.
    expect(await policy.check('jobs.enqueue', { account: 'a', paths: 'x' })).toBeNull();
  });

  it('judges a path that does not exist by where its existing part leads, relative paths by the working folder', async () => {
    const root = await fixtures.tempDir('ferry-paths-');
    await mkdir(join(root, 'allowed'));
    await writeFile(join(root, 'allowed', 'a.png'), 'x');
    const policy = await PathPolicy.create([join(root, 'allowed')]);
    expect(await policy.check('jobs.enqueue', { paths: [join(root, 'allowed', 'not-yet.png')] })).toBeNull();
    expect(
      await policy.check('jobs.enqueue', { paths: [join(root, 'allowed', 'no', '..', '..', 'elsewhere.png')] }),
    ).not.toBeNull();
    expect(await policy.check('jobs.enqueue', { paths: ['relative.png'] })).not.toBeNull();
  });

  it('refuses to start with a folder that does not exist or is a file', async () => {
    const root = await fixtures.tempDir('ferry-paths-');
    await writeFile(join(root, 'file'), 'x');
    await expect(PathPolicy.create([join(root, 'missing')])).rejects.toThrow(
      `--allow-path ${join(root, 'missing')}: no such folder`,
    );
    await expect(PathPolicy.create([join(root, 'file')])).rejects.toThrow('it is a file, not a folder');
  });
});
