/**
 * Ferry's log files (main/host/ferryLog.ts, main/cli/cliLog.ts): the format, the size rotation
 * settings, redaction of errors and objects, where the desktop log goes, and the `ferry` command's
 * file in the data folder.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import electronLog from 'electron-log/node';
import { afterAll, describe, expect, it } from 'vitest';
import { LOG_FORMAT, LOG_MAX_BYTES, configureFerryLog, desktopLogDir, logFunction } from '../../main/host/ferryLog.ts';
import { copyLinesToLog, openCliLog } from '../../main/cli/cliLog.ts';
import { rememberSecret } from '../../main/secrets/knownSecrets.ts';
import { Fixtures } from '../support/ferryHarness.ts';

const fixtures = new Fixtures();
afterAll(() => fixtures.cleanup());
const LINE = /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] \[(info|error)\] +/;

describe('the log files', () => {
  it('rotate past 5 MB into one .old.log, in one format, owner-only, with nothing sent elsewhere', async () => {
    const dir = await fixtures.tempDir('ferry-log-config-');
    const logger = electronLog.create({ logId: 'config-test' });
    const path = configureFerryLog(logger, { dir, fileName: 'desktop.log', console: false });
    expect(path).toBe(join(dir, 'desktop.log'));
    expect(logger.transports.file.maxSize).toBe(LOG_MAX_BYTES);
    expect(LOG_MAX_BYTES).toBe(5 * 1024 * 1024);
    expect(logger.transports.file.format).toBe(LOG_FORMAT);
    expect(logger.transports.console.level).toBe(false);
    expect(logger.transports.file.writeOptions).toMatchObject({ mode: 0o600 });

    // Rotation itself is electron-log's: shown here with a small limit on the configured logger.
    logger.transports.file.maxSize = 200;
    for (let i = 0; i < 6; i += 1) logger.info(`line ${i} ${'x'.repeat(60)}`);
    const old = await readFile(join(dir, 'desktop.old.log'), 'utf8');
    const current = await readFile(path, 'utf8');
    expect(old).toMatch(LINE);
    expect(current.length).toBeLessThan(400);
  });

  it('redact secrets inside errors (their stack) and objects', async () => {
    const dir = await fixtures.tempDir('ferry-log-redact-');
    const secret = 'log-test-secret-7c6b5a4d';
    rememberSecret(secret);
    const logger = electronLog.create({ logId: 'redact-test' });
    const path = configureFerryLog(logger, { dir, fileName: 'desktop.log', console: false });
    const log = logFunction(logger);
    log('Upload failed', new Error(`provider said: bad token ${secret}`));
    logger.warn({ headers: { authorization: `Bearer ${secret}` } });
    log('plain information');
    const text = await readFile(path, 'utf8');
    expect(text).not.toContain(secret);
    expect(text).toMatch(/\[error\] Upload failed: Error: provider said: bad token \[secret\]\n\s+at /);
    expect(text).toContain("authorization: 'Bearer [secret]'");
    expect(text).toMatch(/\[info\] +plain information\n/);
  });

  it('go to the platform folder for the default data folder, and beside any other data folder', () => {
    expect(desktopLogDir('/home/me/.config/Ferry', '/home/me/.config/Ferry', '/Users/me/Library/Logs/Ferry')).toBe(
      '/Users/me/Library/Logs/Ferry',
    );
    expect(desktopLogDir('/tmp/other', '/home/me/.config/Ferry', '/Users/me/Library/Logs/Ferry')).toBe(
      join('/tmp/other', 'logs'),
    );
  });

  it("ferry's own log is <data folder>/logs/ferry.log in the same format, and serve's lines are copied to it", async () => {
    const dir = await fixtures.tempDir('ferry-cli-log-');
    const log = await openCliLog(dir);
    log('Watching 2 folders');
    const stderr = new PassThrough();
    let seen = '';
    stderr.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    const teed = copyLinesToLog(stderr, log);
    teed.write('ferry: Ferry is at http://127.0.0.1:1/\nferry: half');
    teed.write(' a line\n');
    const text = await readFile(join(dir, 'logs', 'ferry.log'), 'utf8');
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(LINE);
    expect(lines.map((line) => line.replace(LINE, ''))).toEqual([
      'Watching 2 folders',
      'Ferry is at http://127.0.0.1:1/',
      'half a line',
    ]);
    expect(seen).toBe('ferry: Ferry is at http://127.0.0.1:1/\nferry: half a line\n');
  });
});
