/**
 * Secrets are redacted in the forms they travel in — as they are, URL- and form-encoded, JSON-escaped,
 * base64 (HTTP Basic auth's `base64(user:password)`, or the secret alone) — and so are the secrets
 * derived at run time (Xvid's OAuth access token), in the API's answers, the engine's stored errors,
 * the desktop log file and the `ferry` command's stderr.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SecretRedactor } from '../../main/api/secretRedactor.ts';
import electronLog from 'electron-log/node';
import { configureFerryLog, logFunction } from '../../main/host/ferryLog.ts';
import { main } from '../../main/cli/main.ts';
import { createAccountHttp } from '../../main/engine/accountHttp.ts';
import { accessToken, clearXvidTokenCache } from '../../main/providers/xvid/xvidToken.ts';
import type { AccountContext } from '../../main/providers/types.ts';
import { FileSecretStore } from '../../main/secrets/fileSecretStore.ts';
import { rememberSecret, rememberSecrets } from '../../main/secrets/knownSecrets.ts';
import { redactSecrets } from '../../main/secrets/redaction.ts';
import { startXvidSandbox } from '../sandbox/xvid.ts';
import { Fixtures } from '../support/ferryHarness.ts';

const fixtures = new Fixtures();
afterEach(async () => {
  vi.restoreAllMocks();
  await fixtures.cleanup();
});

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const b64url = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');
const form = (text: string): string => new URLSearchParams({ v: text }).toString().slice(2);

/**
 * Whether `text` still gives away the middle of `secret`: as it is, URL-decoded, or decoded from any
 * run of base64 characters at any of its 4 alignments.
 */
function givesAway(text: string, secret: string): boolean {
  const middle = secret.slice(2, -2);
  const readings = [text];
  try {
    readings.push(decodeURIComponent(text.replaceAll('+', ' ')));
  } catch {
    // Not URL-encoded as a whole.
  }
  for (const run of text.match(/[A-Za-z0-9+/_-]{4,}=*/g) ?? []) {
    for (let shift = 0; shift < 4; shift += 1) readings.push(Buffer.from(run.slice(shift), 'base64').toString('utf8'));
  }
  return readings.some((reading) => reading.includes(middle));
}

describe('the forms a secret travels in', () => {
  const secret = 'S3cr3t/pass word+key="9f8e7d"&ü';
  const clientId = 'client-4711-abcdef';
  const redactor = new SecretRedactor();
  redactor.remember([secret, clientId]);

  it.each([
    ['as it is', `refused ${secret}`],
    ['JSON-escaped', JSON.stringify({ error: `refused ${secret}` })],
    ['encodeURIComponent', `https://api.example/v1?key=${encodeURIComponent(secret)}&x=1`],
    ['form encoding (+ for spaces)', `client_id=${clientId}&client_secret=${form(secret)}&scope=mediahub`],
    [
      'lower-case percent escapes',
      `key=${encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase())}`,
    ],
    ['HTTP Basic auth, base64(user:password)', `Authorization: Basic ${b64(`${clientId}:${secret}`)}`],
    ['Basic auth with a one-letter user (another byte offset)', `Basic ${b64(`u:${secret}`)}`],
    ['Basic auth with a two-letter user (the third byte offset)', `Basic ${b64(`us:${secret}`)}`],
    ['the base64 of the secret alone', `token ${b64(secret)} refused`],
    ['base64url', `state=${b64url(`xy${secret}`)}`],
  ])('%s', (_form, text) => {
    const redacted = redactor.redactText(text);
    expect(redacted).toContain('[secret]');
    expect(givesAway(redacted, secret), redacted).toBe(false);
    expect(givesAway(redacted, clientId), redacted).toBe(false);
  });

  it('the start of a secret in a provider reply quoted cut short, before the ellipsis', () => {
    const cut = `401 {"error":"Invalid key ${secret.slice(0, 12)}...; check the API key`;
    expect(redactor.redactText(cut)).toBe('401 {"error":"Invalid key [secret]...; check the API key');
    // A word that merely starts like a secret (fewer than 6 characters) stays.
    expect(redactor.redactText('Uploading S3cr3...')).toBe('Uploading S3cr3...');
  });

  it('scrubs every string and key of an API answer', () => {
    const answer = {
      jobs: [{ error: { message: `401 Basic ${b64(`${clientId}:${secret}`)}` }, [encodeURIComponent(secret)]: 1 }],
    };
    const text = JSON.stringify(redactor.redact(answer));
    expect(givesAway(text, secret)).toBe(false);
    expect(givesAway(text, clientId)).toBe(false);
  });

  it('leaves ordinary text, and values too short to be secrets, as they are', () => {
    const short = new SecretRedactor();
    short.remember(['abc', 'pipeline-1']);
    const text = 'Uploading /home/me/holiday 2024/clip.mp4 to pipeline 7: 50% done, base64 aGVsbG8= ok, abc';
    expect(short.redactText(text)).toBe(text);
    expect(new SecretRedactor().redact({ text })).toEqual({ text });
  });
});

describe('secrets derived at run time', () => {
  it('a token an adapter remembers is scrubbed everywhere without being handed to the redactor', () => {
    const token = 'eyJhbGciOi-derived-token-5f4e3d2c1b';
    const redactor = new SecretRedactor();
    expect(redactor.redactText(`Bearer ${token}`)).toBe(`Bearer ${token}`);
    rememberSecret(token);
    expect(redactor.redactText(`Bearer ${token}`)).toBe('Bearer [secret]');
    expect(redactSecrets(`403 for access_token=${token}`)).toBe('403 for access_token=[secret]');
  });

  it('keeps stored secrets however many tokens come after them, and forgets only the oldest tokens', () => {
    rememberSecrets(['stored-secret-abcdef']);
    rememberSecret('oldest-token-000000');
    for (let i = 0; i < 1_000; i += 1) rememberSecret(`renewed-token-${i}-${'x'.repeat(8)}`);
    expect(redactSecrets('stored-secret-abcdef oldest-token-000000 renewed-token-999-xxxxxxxx')).toBe(
      '[secret] oldest-token-000000 [secret]',
    );
  });

  it("Xvid's OAuth access token is remembered as it is fetched", async () => {
    const hub = fixtures.track(await startXvidSandbox({}));
    clearXvidTokenCache();
    const account: AccountContext = {
      id: 1,
      name: 'hub',
      baseUrl: hub.apiUrl,
      settings: { pipelineId: hub.pipelineId },
      secrets: { clientId: hub.clientId, clientSecret: hub.clientSecret },
      http: createAccountHttp(),
    };
    const token = await accessToken(account, { signal: new AbortController().signal, onBytes: () => undefined });
    expect(token.length).toBeGreaterThan(8);
    const redacted = new SecretRedactor().redactText(`MediaHub answered 500 for Authorization: Bearer ${token}`);
    expect(redacted).toBe('MediaHub answered 500 for Authorization: Bearer [secret]');
  });
});

describe('logs', () => {
  it('the desktop log file and its stderr copy hold no secret in any form', async () => {
    const dir = await fixtures.tempDir('ferry-log-');
    const secret = 'log-secret/9f8e7d6c+5b4a';
    // The store remembers what it reads or writes: the log knows the values without being told.
    await new FileSecretStore(dir).set(1, { apiKey: secret });
    const stderr: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr.push(String(chunk));
      return true;
    });
    const logger = electronLog.create({ logId: 'redaction-test' });
    configureFerryLog(logger, { dir: join(dir, 'logs'), fileName: 'desktop.log', console: true });
    // electron-log prints with the console functions it saved at load time: its writer is swapped for a collector.
    logger.transports.console.writeFn = ({ message }) => stderr.push(message.data.join(' '));
    const log = logFunction(logger);
    log(
      `Request to https://api.example/?key=${encodeURIComponent(secret)} failed`,
      new Error(`401 Basic ${b64(`me:${secret}`)} / ${secret}`),
    );
    vi.restoreAllMocks();

    const file = await readFile(join(dir, 'logs', 'desktop.log'), 'utf8');
    expect(file).toContain('[secret]');
    expect(givesAway(file, secret), file).toBe(false);
    expect(stderr.join('')).toContain('Request to https://api.example/?key=[secret] failed');
    expect(givesAway(stderr.join(''), secret)).toBe(false);
  });

  it("the ferry command's stderr is redacted once the process has read the secrets", async () => {
    const dir = await fixtures.tempDir('ferry-cli-');
    const secret = 'cli-secret-0a1b2c3d4e5f';
    await new FileSecretStore(dir).set(7, { apiKey: secret });
    // Read back as `ferry run` reads an account's secrets before its uploads.
    await new FileSecretStore(dir).get(7);
    let err = '';
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        err += chunk.toString('utf8');
        done();
      },
    });
    const out = new Writable({ write: (_chunk, _encoding, done) => done() });
    // A secret pasted where an account name goes is echoed by the refusal.
    const code = await main(['--data-dir', dir, 'upload', '--account', secret, join(dir, 'a.mp4')], {
      out,
      err: sink,
      env: {},
    });
    expect(code).toBe(2);
    expect(err).toMatch(/^ferry: .*\[secret\]/);
    expect(err).not.toContain(secret);
  });
});
