/**
 * The TwentyThree adapter against its emulator over real loopback HTTP. A small driver stands in for
 * the engine: create a session, send the planned chunks in parallel, finalize. Assertions are on what
 * the emulator received and stored (bytes, hashes, tokens, chunk log).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import got from 'got';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAccountHttp } from '../../main/engine/accountHttp.ts';
import { UploadError } from '../../main/core/errors.ts';
import { testFileSource } from '../support/fileSources.ts';
import { planTwentyThreeChunks } from '../../main/providers/twentythree/twentythreeChunks.ts';
import { signFormPost } from '../../main/providers/twentythree/twentythreeOAuth.ts';
import {
  tokenMinutes,
  twentythreeAdapter,
  type TwentyThreeSession,
} from '../../main/providers/twentythree/twentythreeAdapter.ts';
import { readApiReply } from '../../main/providers/twentythree/twentythreeReplies.ts';
import type {
  AccountContext,
  CallContext,
  FinalizeOutcome,
  JobContext,
  PartSpec,
  UploadResult,
} from '../../main/providers/types.ts';
import {
  rfc3986,
  signatureBaseString,
  startTwentyThreeSandbox,
  type TwentyThreeSandbox,
  type TwentyThreeSandboxOptions,
} from '../sandbox/twentythree.ts';
import { rejection } from '../support/uploadErrors.ts';
import { Fixtures, randomFile, within } from '../support/ferryHarness.ts';
import { testConnection } from '../../main/api/connectionTest.ts';

const CHUNK = 65_536;
const REDEEM = '/api/photo/redeem-upload-token';
const adapter = twentythreeAdapter;

let dir: string;
let sandbox: TwentyThreeSandbox | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-twentythree-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

async function start(options: TwentyThreeSandboxOptions = {}): Promise<TwentyThreeSandbox> {
  sandbox = await startTwentyThreeSandbox(options);
  return sandbox;
}

function accountFor(server: TwentyThreeSandbox, overrides: Partial<AccountContext> = {}): AccountContext {
  return {
    id: 1,
    name: 'test site',
    baseUrl: server.url,
    settings: { chunkSize: String(CHUNK) },
    secrets: { consumerKey: 'ck', consumerSecret: 'cs', accessToken: 'at', accessTokenSecret: 'as' },
    http: createAccountHttp(),
    ...overrides,
  };
}

let fileCounter = 0;
async function makeJob(
  size: number,
  options: Record<string, string> = {},
): Promise<{ job: JobContext; sha256: string }> {
  fileCounter += 1;
  const name = `clip-${fileCounter}.mov`;
  const path = join(dir, name);
  const bytes = randomBytes(size);
  await writeFile(path, bytes);
  const job: JobContext = {
    jobId: fileCounter,
    source: { kind: 'file', path, name, size, mime: 'video/quicktime' },
    options,
    file: testFileSource(path, size),
  };
  return { job, sha256: createHash('sha256').update(bytes).digest('hex') };
}

function call(): CallContext {
  return { signal: new AbortController().signal, onBytes: () => undefined };
}

const RETRYABLE = new Set(['network', 'timeout', 'server', 'rate-limited']);

interface DriveOptions {
  /** Retries per chunk for retryable kinds. */
  retries?: number;
}

interface Driven {
  session: TwentyThreeSession;
  /** Retryable errors absorbed by per-chunk retries. */
  absorbed: UploadError[];
  /** How many times the adapter said "start over from offset 0" (a token renewal). */
  resyncs: number;
}

/**
 * Sends every planned chunk, up to maxParallelParts at once, as the engine's runner does: an
 * acknowledged part is kept per session, and a `resync` to offset 0 (a new token) forgets them all,
 * takes the new session and plans again.
 */
async function sendParts(
  account: AccountContext,
  job: JobContext,
  first: TwentyThreeSession,
  options: DriveOptions = {},
): Promise<Driven> {
  let session = first;
  const absorbed: UploadError[] = [];
  let resyncs = 0;
  const acked = new Set<number>();
  for (;;) {
    const queue: PartSpec[] = adapter.planParts(session, job).filter((part) => !acked.has(part.index));
    if (queue.length === 0) return { session, absorbed, resyncs };
    let resynced = false;
    const current = session;
    const worker = async (): Promise<void> => {
      for (let part = queue.shift(); part !== undefined && !resynced; part = queue.shift()) {
        for (let attempt = 0; ; attempt += 1) {
          try {
            const outcome = await adapter.uploadPart(account, job, current, part, call());
            if (outcome.kind === 'resync') {
              expect(outcome.serverOffset).toBe(0);
              if (!resynced) resyncs += 1;
              resynced = true;
              session = outcome.session;
              acked.clear();
            } else if (!resynced) {
              acked.add(part.index);
            }
            break;
          } catch (error) {
            if (!(error instanceof UploadError) || !RETRYABLE.has(error.kind) || attempt >= (options.retries ?? 0))
              throw error;
            absorbed.push(error);
          }
        }
      }
    };
    const lanes = Math.min(adapter.capabilities.maxParallelParts, Math.max(1, queue.length));
    await Promise.all(Array.from({ length: lanes }, worker));
  }
}

async function upload(
  account: AccountContext,
  job: JobContext,
  options: DriveOptions = {},
): Promise<{
  outcome: FinalizeOutcome<TwentyThreeSession>;
  session: TwentyThreeSession;
  absorbed: UploadError[];
  resyncs: number;
}> {
  const created = await adapter.createSession(account, job, call());
  const { session, absorbed, resyncs } = await sendParts(account, job, created, options);
  const outcome = await adapter.finalize(account, job, session, { ...call(), resumed: false });
  return { outcome, session, absorbed, resyncs };
}

function resultOf(outcome: FinalizeOutcome<TwentyThreeSession>): UploadResult {
  if (outcome.kind !== 'completed') throw new Error(`expected completed, got ${outcome.kind}`);
  return outcome.result;
}

describe('planTwentyThreeChunks (floor rule)', () => {
  const C = 1000;
  it.each([
    { total: 1, sizes: [1] },
    { total: C - 1, sizes: [C - 1] },
    { total: C, sizes: [C] },
    { total: C + 1, sizes: [C + 1] },
    { total: 2 * C - 1, sizes: [2 * C - 1] },
    { total: 2 * C, sizes: [C, C] },
    { total: 2 * C + 1, sizes: [C, C + 1] },
    { total: 5 * C + 999, sizes: [C, C, C, C, C + 999] },
  ])('splits $total bytes into chunks of $sizes', ({ total, sizes }) => {
    const chunks = planTwentyThreeChunks(total, C);
    expect(chunks.map((chunk) => chunk.end - chunk.start)).toEqual(sizes);
    expect(chunks.map((chunk) => chunk.number)).toEqual(sizes.map((_, index) => index + 1));
    expect(chunks[0]?.start).toBe(0);
    expect(chunks.at(-1)?.end).toBe(total);
  });

  it('keeps every chunk but the last at chunkSize and the last in [chunkSize, 2×chunkSize) for a big file', () => {
    const chunkSize = 5 * 1024 * 1024;
    const total = 16 * 1024 * 1024 * 1024 - 12345;
    const chunks = planTwentyThreeChunks(total, chunkSize);
    expect(chunks).toHaveLength(Math.floor(total / chunkSize));
    for (const chunk of chunks.slice(0, -1)) expect(chunk.end - chunk.start).toBe(chunkSize);
    const last = chunks.at(-1);
    expect(last && last.end - last.start).toBeGreaterThanOrEqual(chunkSize);
    expect(last && last.end - last.start).toBeLessThan(2 * chunkSize);
    expect(last?.end).toBe(total);
  });

  it('rejects a chunk size below 1', () => {
    expect(() => planTwentyThreeChunks(10, 0)).toThrow(RangeError);
  });
});

describe('twentythree adapter against the emulator', () => {
  it.each([
    { label: '1 byte', size: 1 },
    { label: 'exactly one chunk', size: CHUNK },
    { label: 'one chunk + 1', size: CHUNK + 1 },
    { label: 'two chunks − 1', size: 2 * CHUNK - 1 },
    { label: '~3 MB', size: 3_000_017 },
  ])('uploads $label byte-exact as exactly one photo', async ({ size }) => {
    const server = await start();
    const { job, sha256 } = await makeJob(size);
    const { outcome } = await upload(accountFor(server), job);

    const result = resultOf(outcome);
    expect(server.photos).toHaveLength(1);
    const photo = server.photos[0];
    expect(photo).toMatchObject({ size, sha256, filename: job.source.name, title: job.source.name });
    expect(result.remoteId).toBe(String(photo?.photoId));
    expect(result.url).toBe(`${server.url}/manage/video/${photo?.photoId}`);

    // Every chunk of the plan arrived once, and the completing one (the last) arrived after all others.
    const expected = planTwentyThreeChunks(size, CHUNK);
    const log = server.chunks;
    expect(log.map((entry) => entry.number).sort((a, b) => a - b)).toEqual(expected.map((chunk) => chunk.number));
    expect(log.at(-1)?.number).toBe(expected.length);
    expect(log.every((entry) => entry.status === 200)).toBe(true);
    expect(new Set(log.map((entry) => entry.identifier)).size).toBe(1);
    expect(server.completions).toBe(1);
  });

  it('sends chunks in parallel, at most maxParallelParts at once', async () => {
    const server = await start({ chunkDelayMs: 150 });
    const { job, sha256 } = await makeJob(7 * CHUNK + 5);
    await upload(accountFor(server), job);

    expect(server.maxInFlight).toBeGreaterThanOrEqual(2);
    expect(server.maxInFlight).toBeLessThanOrEqual(adapter.capabilities.maxParallelParts);
    expect(server.photos[0]?.sha256).toBe(sha256);
  });

  it('signs the token request with every parameter in the body (format=json and raw included), asks for a one-use token, a callback and a lifetime sized to the file', async () => {
    const server = await start();
    const { job } = await makeJob(10, {
      title: 'Summer & friends! ü 100% (cut*)',
      description: 'line one\nline two',
      tags: 'beach sunset',
    });
    const account = accountFor(server, { settings: { chunkSize: String(CHUNK), albumId: '4242' } });
    const session = await adapter.createSession(account, job, call());

    expect(server.tokens).toHaveLength(1);
    expect(server.tokens[0]?.params).toEqual({
      title: 'Summer & friends! ü 100% (cut*)',
      description: 'line one\nline two',
      tags: 'beach sunset',
      album_id: '4242',
      valid_minutes: String(tokenMinutes(10, 0)),
      max_uploads: '1',
      return_url: `${server.url}/`,
      background_return_p: '1',
      format: 'json',
      raw: '1',
    });
    expect(server.tokens[0]?.params.valid_minutes).toBe('16');
    expect(session.renewals).toBe(0);
    expect(session.uploadToken).toBe(server.tokens[0]?.token);
    expect(session.chunkSize).toBe(CHUNK);
    // The per-upload album wins over the account's.
    const { job: second } = await makeJob(10, { albumId: '7' });
    await adapter.createSession(account, second, call());
    expect(server.tokens[1]?.params.album_id).toBe('7');
  });

  it('passes publish=0/1 on and refuses any other value before a request is made', async () => {
    const server = await start();
    const { job } = await makeJob(10, { publish: '0' });
    await adapter.createSession(accountFor(server), job, call());
    expect(server.tokens[0]?.params.publish).toBe('0');

    const { job: bad } = await makeJob(10, { publish: 'yes' });
    const error = await rejection(adapter.createSession(accountFor(server), bad, call()));
    expect(error.kind).toBe('invalid');
    expect(error.message).toMatch(
      /publish="yes" for clip-\d+\.mov: use 1 \(publish at once\) or 0 \(keep unpublished\)/,
    );
    expect(server.tokens).toHaveLength(1);
  });

  it('fails the whole upload without retry when a chunk gets 500 (file not supported)', async () => {
    const server = await start();
    const { job } = await makeJob(4 * CHUNK);
    server.fault({ path: REDEEM, action: { type: 'status', status: 500, body: 'Internal error' } });

    const error = await rejection(upload(accountFor(server), job, { retries: 3 }));
    expect(error.kind).toBe('unsupported');
    expect(error.message).toMatch(
      /TwentyThree refused chunk \d of clip-\d+\.mov \(500 Internal error\): the file is not supported; the upload was canceled/,
    );
    expect(server.photos).toHaveLength(0);
  });

  it('retries a chunk that got 503, and the retry completes the file byte-exact', async () => {
    const server = await start();
    const { job, sha256 } = await makeJob(4 * CHUNK + 77);
    server.fault({ path: REDEEM, action: { type: 'status', status: 503, body: 'Service Unavailable' } });

    const { outcome, absorbed } = await upload(accountFor(server), job, { retries: 2 });
    expect(absorbed.map((error) => error.kind)).toEqual(['server']);
    expect(absorbed[0]?.status).toBe(503);
    expect(resultOf(outcome).remoteId).toBe(String(server.photos[0]?.photoId));
    expect(server.photos).toHaveLength(1);
    expect(server.photos[0]?.sha256).toBe(sha256);
  });

  it('reports 429 on a chunk as rate-limited with the server-requested delay', async () => {
    const server = await start();
    const { job } = await makeJob(3 * CHUNK);
    server.fault({
      path: REDEEM,
      action: { type: 'status', status: 429, body: 'slow down', headers: { 'retry-after': '7' } },
    });

    const { absorbed } = await upload(accountFor(server), job, { retries: 1 });
    expect(absorbed[0]?.kind).toBe('rate-limited');
    expect(absorbed[0]?.retryAfterMs).toBe(7000);
    expect(server.photos).toHaveLength(1);
  });

  describe.each(['legacy', 'data'] as const)('with the %s token shape', (tokenShape) => {
    it.each([
      { outcome: undefined, form: 'text' },
      { outcome: 'redirect', form: 'redirect' },
      { outcome: 'json', form: 'json' },
      { outcome: 'bare', form: 'bare' },
    ] as const)('reads the $form outcome', async ({ outcome, form }) => {
      const server = await start({ tokenShape, ...(outcome ? { outcome } : {}) });
      const { job, sha256 } = await makeJob(2 * CHUNK + 3);
      const before = Date.now();
      const { outcome: finalized, session } = await upload(accountFor(server), job);

      // Both valid_until forms (epoch seconds, ISO date) land near the lifetime asked for.
      const minutes = tokenMinutes(2 * CHUNK + 3, 0);
      expect(session.validUntil).toBeGreaterThan(before + (minutes - 1) * 60_000);
      expect(session.validUntil).toBeLessThanOrEqual(Date.now() + minutes * 60_000);

      const result = resultOf(finalized);
      const photo = server.photos[0];
      expect(photo?.sha256).toBe(sha256);
      expect(result.remoteId).toBe(String(photo?.photoId));
      expect(result.details.outcomeForm).toBe(form);
      expect(result.details.photoId).toBe(String(photo?.photoId));
      if (form !== 'bare') expect(result.details.treeId).toBe(String(photo?.treeId));
      if (form === 'text') {
        expect(result.details.domain).toBe('127.0.0.1');
        // The vendor calls the return_url from its servers: by default the site's own address.
        expect(server.callbacks).toHaveLength(1);
        const callback = new URL(server.callbacks[0] ?? '');
        expect(`${callback.origin}/`).toBe(`${server.url}/`);
        expect(callback.searchParams.get('photo_id')).toBe(String(photo?.photoId));
        expect(String(result.details.callbackUrl)).toContain(`photo_id=${photo?.photoId}`);
      }
      if (form === 'redirect') {
        // The redirect is read, never followed: the emulator saw no request but the token and chunks.
        expect(server.requests.every((request) => request.path.startsWith('/api/photo/'))).toBe(true);
      }
      // The upload token is a credential: it never appears in the result.
      expect(JSON.stringify(result)).not.toContain(session.uploadToken);
    });
  });

  it('completes with a warning and no id when the completing chunk answers a bare "OK" (a token without return_url)', async () => {
    const server = await start({ outcome: 'ok' });
    const { job, sha256 } = await makeJob(3 * CHUNK + 5);
    const { outcome } = await upload(accountFor(server), job);

    const result = resultOf(outcome);
    expect(result.remoteId).toBeNull();
    expect(String(result.details.warning)).toMatch(
      /took clip-\d+\.mov but did not say the new video's id .*find the video in the site's library/,
    );
    expect(server.photos).toHaveLength(1);
    expect(server.photos[0]?.sha256).toBe(sha256);
    expect(server.completions).toBe(1);
  });

  it("sends the account's callback URL as return_url, and refuses one that is not http(s) before any request", async () => {
    const server = await start();
    const { job } = await makeJob(10);
    const account = accountFor(server, {
      settings: { chunkSize: String(CHUNK), callbackUrl: 'https://hooks.example/t23?x=1' },
    });
    const { outcome } = await upload(account, job);
    expect(server.tokens[0]?.params.return_url).toBe('https://hooks.example/t23?x=1');
    expect(resultOf(outcome).remoteId).toBe(String(server.photos[0]?.photoId));
    expect(server.callbacks[0]).toMatch(/^https:\/\/hooks\.example\/t23\?x=1&/);

    const bad = accountFor(server, { settings: { chunkSize: String(CHUNK), callbackUrl: 'ftp://nope' } });
    const error = await rejection(adapter.createSession(bad, job, call()));
    expect(error.kind).toBe('invalid');
    expect(error.message).toMatch(/callback URL "ftp:\/\/nope": use an http\(s\) address/);
    expect(server.tokens).toHaveLength(1);
  });

  it('replaces a token that ran out mid-file in place: one new token for all chunks in flight, the file from chunk 1, one photo', async () => {
    const server = await start({ chunkDelayMs: 50 });
    const { job, sha256 } = await makeJob(6 * CHUNK + 9);
    const account = accountFor(server);
    const first = await adapter.createSession(account, job, call());
    // The token runs out while the first chunks travel (three at once).
    server.fault({ path: REDEEM, action: { type: 'delay', ms: 10 } });
    setTimeout(() => server.expireTokens(), 20);

    const { session, resyncs } = await sendParts(account, job, first);
    expect(resyncs).toBe(1);
    expect(session.renewals).toBe(1);
    expect(session.identifier).not.toBe(first.identifier);
    // The chunks in flight all learned of the expiry; they shared one new token.
    expect(server.tokens).toHaveLength(2);
    expect(server.tokens[1]?.params.valid_minutes).toBe(String(tokenMinutes(6 * CHUNK + 9, 1)));
    const outcome = await adapter.finalize(account, job, session, { ...call(), resumed: false });

    expect(resultOf(outcome).remoteId).toBe(String(server.photos[0]?.photoId));
    expect(server.photos).toHaveLength(1);
    expect(server.photos[0]?.sha256).toBe(sha256);
    const underNew = server.chunks.filter((chunk) => chunk.identifier === session.identifier);
    expect(underNew.map((chunk) => chunk.number).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('reads the plain-text token refusal as such even when it comes with HTTP 200, and never counts that chunk as accepted', async () => {
    const server = await start({ tokenGoneStatus: 200 });
    const { job, sha256 } = await makeJob(4 * CHUNK);
    const account = accountFor(server);
    const first = await adapter.createSession(account, job, call());
    server.expireTokens();

    const { session, resyncs } = await sendParts(account, job, first);
    expect(resyncs).toBe(1);
    expect(session.renewals).toBe(1);
    resultOf(await adapter.finalize(account, job, session, { ...call(), resumed: false }));
    expect(server.photos).toHaveLength(1);
    expect(server.photos[0]?.sha256).toBe(sha256);
  });

  it('renews a token that the clock says ran out without sending the chunk under it', async () => {
    const server = await start();
    const { job } = await makeJob(3 * CHUNK);
    const account = accountFor(server);
    const session = { ...(await adapter.createSession(account, job, call())), validUntil: Date.now() - 1 };
    const [part] = adapter.planParts(session, job);
    if (!part) throw new Error('expected a part');

    const outcome = await adapter.uploadPart(account, job, session, part, call());
    expect(outcome).toMatchObject({ kind: 'resync', serverOffset: 0, session: { renewals: 1 } });
    expect(server.chunks).toHaveLength(0);
    expect(server.tokens).toHaveLength(2);
  });

  it('gives up with a clear message after three renewals, each token asked to live twice as long, and sends nothing more', async () => {
    // Every token dies 150 ms after it is issued: the file can never make it.
    const server = await start({ tokenLifeMs: 150, chunkDelayMs: 60 });
    const size = 12 * CHUNK;
    const { job } = await makeJob(size);
    const account = accountFor(server);

    const error = await rejection(upload(account, job));
    expect(error.kind).toBe('invalid');
    expect(error.message).toMatch(
      /TwentyThree's upload token for clip-\d+\.mov ran out before the file was complete .*for the 4th time, although the last one was asked to live \d+ minutes; Ferry stopped rather than start the file over once more: upload it over a faster connection, or retry the job/,
    );
    expect(server.tokens.map((token) => token.params.valid_minutes)).toEqual(
      [0, 1, 2, 3].map((k) => String(tokenMinutes(size, k))),
    );
    expect(server.tokens.map((token) => Number(token.params.valid_minutes))).toEqual([16, 32, 64, 128]);
    expect(server.photos).toHaveLength(0);
  });

  it('sizes the token to the file: 15 to 1440 minutes at about 100 KiB/s, doubled per renewal', () => {
    expect(tokenMinutes(1, 0)).toBe(16);
    expect(tokenMinutes(1024 ** 3, 0)).toBe(190);
    expect(tokenMinutes(1024 ** 3, 1)).toBe(380);
    expect(tokenMinutes(1024 ** 3, 3)).toBe(1440);
    expect(tokenMinutes(16 * 1024 ** 3, 0)).toBe(1440);
  });

  it('reports an expired token on the last chunk as session-gone when finalize is not resumed', async () => {
    const server = await start();
    const { job } = await makeJob(100);
    const account = accountFor(server);
    const session = await adapter.createSession(account, job, call());
    expect(adapter.planParts(session, job)).toEqual([]);
    server.expireTokens();

    const error = await rejection(adapter.finalize(account, job, session, { ...call(), resumed: false }));
    expect(error.kind).toBe('session-gone');
    expect(server.photos).toHaveLength(0);
  });

  it('reports a wrong consumer secret (status="error" at HTTP 200) as auth, naming the four OAuth keys', async () => {
    const server = await start();
    const { job } = await makeJob(10);
    const account = accountFor(server, {
      secrets: { consumerKey: 'ck', consumerSecret: 'wrong', accessToken: 'at', accessTokenSecret: 'as' },
    });

    const error = await rejection(adapter.createSession(account, job, call()));
    expect(error.kind).toBe('auth');
    expect(error.status).toBe(200);
    expect(error.message).toMatch(
      /refused the request \(invalid_signature "The API signature is invalid\. \(Invalid OAuth signature\)"\); check the four OAuth keys/,
    );
    expect(server.tokens).toHaveLength(0);
    expect(server.refusals.map((refusal) => refusal.code)).toEqual(['invalid_signature']);
  });

  it.each([
    {
      label: 'an XML permission error',
      body: `<response status="error" permission_level="read" code="permission_denied" message="You don't have the necessary permissions to perform this action (required level: 'write')"/>`,
      kind: 'auth',
      text: /permission_denied .*check the four OAuth keys/,
    },
    {
      label: 'a JSON parameter error',
      body: JSON.stringify({
        status: 'error',
        code: 'no_such_album',
        message: 'No album with the given id.',
        permission_level: 'write',
      }),
      kind: 'invalid',
      text: /no_such_album "No album with the given id\."\); check the upload's options/,
    },
    {
      label: 'a wrapped JSON parameter error',
      body: `var visual = ${JSON.stringify({ status: 'error', code: 'invalid_input', message: 'Parameters are malformed.' })};`,
      kind: 'invalid',
      text: /invalid_input "Parameters are malformed\."/,
    },
  ])('maps $label at HTTP 200 to $kind, without retry', async ({ body, kind, text }) => {
    const server = await start();
    const { job } = await makeJob(10);
    server.fault({ path: '/api/photo/get-upload-token', action: { type: 'status', status: 200, body } });

    const error = await rejection(adapter.createSession(accountFor(server), job, call()));
    expect(error.kind).toBe(kind);
    expect(error.message).toMatch(text);
  });

  it('reads the upload token from the documented XML reply as well', async () => {
    const server = await start();
    const { job } = await makeJob(10);
    const validUntil = Math.floor(Date.now() / 1000) + 600;
    const body =
      `<response status="ok" permission_level="write" message="The upload token is ready to use" cached="0">\n` +
      `  <upload_token>022fe6e3fb42758d6147c539727c5358af3524b1</upload_token>\n  <title>A &amp; B</title>\n` +
      `  <max_uploads>1</max_uploads>\n  <valid_minutes>16</valid_minutes>\n  <valid_until>${validUntil}</valid_until>\n</response>`;
    server.fault({ path: '/api/photo/get-upload-token', action: { type: 'status', status: 200, body } });

    const session = await adapter.createSession(accountFor(server), job, call());
    expect(session.uploadToken).toBe('022fe6e3fb42758d6147c539727c5358af3524b1');
    expect(session.validUntil).toBe(validUntil * 1000);
  });

  it('completes with a warning, and one photo, when the reply to the last chunk was lost', async () => {
    const server = await start();
    const { job, sha256 } = await makeJob(3 * CHUNK + 1);
    const account = accountFor(server);
    const session = await adapter.createSession(account, job, call());
    await sendParts(account, job, session);
    server.fault({ path: REDEEM, action: { type: 'drop-response' } });

    const lost = await rejection(adapter.finalize(account, job, session, { ...call(), resumed: false }));
    expect(lost.kind).toBe('network');
    expect(server.photos).toHaveLength(1);

    const resumed = resultOf(await adapter.finalize(account, job, session, { ...call(), resumed: true }));
    expect(resumed.remoteId).toBeNull();
    expect(resumed.url).toBeNull();
    expect(String(resumed.details.warning)).toMatch(
      /TwentyThree had already received the whole file but its reply with the photo id was lost/,
    );
    expect(server.photos).toHaveLength(1);
    expect(server.photos[0]?.sha256).toBe(sha256);
    expect(server.completions).toBe(1);
  });

  it('completes normally on a resumed finalize when the earlier last chunk never arrived', async () => {
    const server = await start();
    const { job, sha256 } = await makeJob(2 * CHUNK + 1);
    const account = accountFor(server);
    const session = await adapter.createSession(account, job, call());
    await sendParts(account, job, session);
    server.fault({ path: REDEEM, action: { type: 'reset' } });

    const lost = await rejection(adapter.finalize(account, job, session, { ...call(), resumed: false }));
    expect(lost.kind).toBe('network');
    expect(server.photos).toHaveLength(0);

    const resumed = resultOf(await adapter.finalize(account, job, session, { ...call(), resumed: true }));
    expect(resumed.remoteId).toBe(String(server.photos[0]?.photoId));
    expect(server.photos).toHaveLength(1);
    expect(server.photos[0]?.sha256).toBe(sha256);
  });
  it.each([
    {
      reply: { status: 200, body: 'error Video format not supported' },
      kind: 'unsupported',
      text: /refused clip-\d+\.mov: Video format not supported/,
    },
    {
      reply: { status: 200, body: 'error Quota exceeded' },
      kind: 'invalid',
      text: /refused clip-\d+\.mov: Quota exceeded/,
    },
    {
      reply: {
        status: 302,
        body: '',
        headers: { location: 'https://return.example/done?error_message=Quota%20exceeded' },
      },
      kind: 'invalid',
      text: /Quota exceeded/,
    },
    {
      reply: { status: 200, body: '<html>maintenance</html>' },
      kind: 'invalid',
      text: /reply could not be read .*check the site's library/,
    },
    { reply: { status: 502, body: 'Bad gateway' }, kind: 'server', text: /502 Bad gateway; will retry/ },
  ])('maps a completing reply of $reply.status "$reply.body" to $kind', async ({ reply, kind, text }) => {
    const server = await start();
    const { job } = await makeJob(500);
    const account = accountFor(server);
    const session = await adapter.createSession(account, job, call());
    server.fault({ path: REDEEM, action: { type: 'status', ...reply } });

    const error = await rejection(adapter.finalize(account, job, session, { ...call(), resumed: false }));
    expect(error.kind).toBe(kind);
    expect(error.message).toMatch(text);
  });

  it('stops at once when the call is aborted mid-chunk', async () => {
    const server = await start();
    const { job } = await makeJob(3 * CHUNK);
    const account = accountFor(server);
    const session = await adapter.createSession(account, job, call());
    server.fault({ path: REDEEM, action: { type: 'stall' } });
    const controller = new AbortController();
    const [part] = adapter.planParts(session, job);
    if (!part) throw new Error('expected a part');
    setTimeout(() => controller.abort(), 100);

    const error = await rejection(
      adapter.uploadPart(account, job, session, part, { signal: controller.signal, onBytes: () => undefined }),
    );
    expect(error.kind).toBe('aborted');
  });

  it('reports a chunk that breaks the connection mid-body as a retryable network error', async () => {
    const server = await start();
    const { job, sha256 } = await makeJob(3 * CHUNK);
    server.fault({ path: REDEEM, action: { type: 'reset', afterBytes: 1000 } });

    const { absorbed } = await upload(accountFor(server), job, { retries: 1 });
    expect(absorbed.map((error) => error.kind)).toEqual(['network']);
    expect(server.photos[0]?.sha256).toBe(sha256);
  });
});

describe('twentythree adapter: sessions and sources', () => {
  const session: TwentyThreeSession = {
    uploadToken: 'tok',
    validUntil: 1_000_000,
    identifier: '10-a-b',
    chunkSize: CHUNK,
    renewals: 0,
  };

  it('parses a persisted session and drops corrupt ones', () => {
    expect(adapter.parseSession(JSON.parse(JSON.stringify(session)))).toEqual(session);
    // A session persisted before renewals were counted had none.
    const { renewals: _, ...older } = session;
    expect(adapter.parseSession(older)).toEqual(session);
    expect(adapter.parseSession({ ...session, renewals: -1 })).toBeNull();
    expect(adapter.parseSession({ ...session, chunkSize: 0 })).toBeNull();
    expect(adapter.parseSession({ uploadToken: 'tok' })).toBeNull();
    expect(adapter.parseSession('garbage')).toBeNull();
  });

  it('keeps a session whose token ran out (the adapter renews it in place, counting), and drops it once the renewals are used up', () => {
    expect(adapter.sessionUsable(session, 2_000_000)).toBe(true);
    const exhausted = { ...session, renewals: 3 };
    expect(adapter.sessionUsable(exhausted, 1_000_000 - 60_001)).toBe(true);
    expect(adapter.sessionUsable(exhausted, 1_000_000 - 60_000)).toBe(false);
  });

  it('refuses URLs and empty files before anything is sent', () => {
    const fromUrl = () =>
      adapter.validateSource(
        { kind: 'url', url: 'https://x.example/a.mp4', name: 'a.mp4', size: null, mime: 'video/mp4' },
        {},
      );
    expect(fromUrl).toThrow(expect.objectContaining({ kind: 'unsupported' }) as Error);
    const empty = () =>
      adapter.validateSource({ kind: 'file', path: '/tmp/e.mp4', name: 'e.mp4', size: 0, mime: 'video/mp4' }, {});
    expect(empty).toThrow(expect.objectContaining({ kind: 'unsupported' }) as Error);
  });
});

describe('twentythree emulator: OAuth 1.0a check', () => {
  it('computes the signature of the published RFC 5849 / Twitter example', () => {
    const oauth = new Map(
      Object.entries({
        oauth_consumer_key: 'xvz1evFS4wEEPTGEFPHBog',
        oauth_nonce: 'kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg',
        oauth_signature_method: 'HMAC-SHA1',
        oauth_timestamp: '1318622958',
        oauth_token: '370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb',
        oauth_version: '1.0',
      }),
    );
    const base = signatureBaseString(
      'POST',
      'https://api.twitter.com/1.1/statuses/update.json',
      oauth,
      new URLSearchParams('include_entities=true'),
      new URLSearchParams('status=Hello%20Ladies%20%2B%20Gentlemen%2C%20a%20signed%20OAuth%20request%21'),
    );
    const key = `${rfc3986('kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw')}&${rfc3986('LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE')}`;
    expect(createHmac('sha1', key).update(base).digest('base64')).toBe('hCtSmYh+iHYCEqBWrE7C7hYmtUk=');
  });

  it('refuses an unsigned request and one whose body is not what was signed', async () => {
    const server = await start();
    const url = `${server.url}/api/photo/get-upload-token`;
    const keys = { consumerKey: 'ck', consumerSecret: 'cs', accessToken: 'at', accessTokenSecret: 'as' };
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const post = (headers: Record<string, string>, body: string) =>
      got.post(url, { headers: { ...form, ...headers }, body, throwHttpErrors: false, retry: { limit: 0 } });

    // Refusals come with HTTP 200 and status="error", in XML unless format=json was asked for.
    const unsigned = await post({}, 'title=a');
    expect(unsigned.statusCode).toBe(200);
    expect(unsigned.body).toMatch(
      /^<\?xml[^>]*\?>\s*<response status="error" permission_level="anonymous" code="permission_denied"/,
    );

    const signed = signFormPost(url, { title: 'a', format: 'json', raw: '1' }, keys);
    const tampered = await post({ authorization: signed.authorization }, 'title=b&format=json&raw=1');
    expect(tampered.statusCode).toBe(200);
    expect(JSON.parse(tampered.body)).toMatchObject({ status: 'error', code: 'invalid_signature' });

    const good = await post({ authorization: signed.authorization }, signed.body);
    expect(good.statusCode).toBe(200);
    expect(readApiReply(good.body).uploadToken?.token).toBe(server.tokens[0]?.token);
    const replayed = await post({ authorization: signed.authorization }, signed.body);
    expect(readApiReply(replayed.body)).toMatchObject({
      status: 'error',
      code: 'invalid_signature',
      message: expect.stringMatching(/Replayed oauth_nonce/) as string,
    });
    expect(server.tokens).toHaveLength(1);
  });

  it('answers XML without format=json, `var visual = …` without raw, and enforces valid_minutes 15–1440 at HTTP 200', async () => {
    const server = await start();
    const url = `${server.url}/api/photo/get-upload-token`;
    const keys = { consumerKey: 'ck', consumerSecret: 'cs', accessToken: 'at', accessTokenSecret: 'as' };
    const post = (params: Record<string, string>) => {
      const signed = signFormPost(url, params, keys);
      return got.post(url, {
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: signed.authorization },
        body: signed.body,
        throwHttpErrors: false,
        retry: { limit: 0 },
      });
    };

    const xml = await post({ title: 'x' });
    expect(xml.body).toMatch(
      /^<\?xml[^>]*\?>\s*<response status="ok"[^>]*>[\s\S]*<upload_token>[0-9a-f]{32}<\/upload_token>/,
    );
    expect(() => JSON.parse(xml.body) as unknown).toThrow();
    expect(readApiReply(xml.body).uploadToken?.token).toBe(server.tokens[0]?.token);

    const wrapped = await post({ title: 'x', format: 'json' });
    expect(wrapped.body).toMatch(/^var visual = \{/);
    expect(readApiReply(wrapped.body).uploadToken?.token).toBe(server.tokens[1]?.token);

    for (const minutes of ['14', '1441', '180.5']) {
      const refused = await post({ title: 'x', valid_minutes: minutes, format: 'json', raw: '1' });
      expect(refused.statusCode).toBe(200);
      expect(JSON.parse(refused.body)).toMatchObject({ status: 'error', code: 'invalid_input' });
    }
    expect(server.tokens).toHaveLength(2);
  });
});

describe('twentythree adapter under the real engine: token renewals', () => {
  const fixtures = new Fixtures();
  afterEach(async () => {
    await fixtures.cleanup();
  });

  async function engineWith(options: TwentyThreeSandboxOptions) {
    const data = await fixtures.tempDir('ferry-t23-engine-');
    const files = await fixtures.tempDir('ferry-t23-files-');
    const handle = fixtures.openEngine(data);
    const server = fixtures.track(await startTwentyThreeSandbox(options));
    await handle.queue.accounts.add({
      provider: 'twentythree',
      name: 'videos',
      baseUrl: server.url,
      secrets: { consumerKey: 'ck', consumerSecret: 'cs', accessToken: 'at', accessTokenSecret: 'as' },
      settings: { chunkSize: String(CHUNK) },
    });
    return { handle, server, files };
  }

  it('stops a job whose every token runs out mid-file after 3 renewals, with the count persisted in the job, instead of looping', async () => {
    // About 2.5 chunks per token, on a scale where a loaded machine's token request (tens of ms) does
    // not eat a token before its first chunk (at 150 ms / 60 ms it did, and an extra token was fetched).
    const { handle, server, files } = await engineWith({ tokenLifeMs: 600, chunkDelayMs: 240 });
    const file = await randomFile(files, 'slow line.mp4', 12 * CHUNK);
    const [queued] = await handle.queue.enqueue('videos', [file.path]);
    handle.engine.start();
    await within('the engine to become idle', 30_000, handle.engine.whenIdle());

    const job = handle.queue.jobs.get(queued!.id)!;
    expect(job.state).toBe('failed');
    expect(job.error?.kind).toBe('invalid');
    expect(job.error?.message).toMatch(
      /ran out before the file was complete .*for the 4th time.*upload it over a faster connection, or retry the job/,
    );
    expect((job.session as TwentyThreeSession).renewals).toBe(3);
    expect(server.tokens).toHaveLength(4);
    expect(server.photos).toHaveLength(0);
  });

  it('completes a job whose token ran out once, byte-exact, as one photo with its id', async () => {
    const { handle, server, files } = await engineWith({ chunkDelayMs: 40 });
    const file = await randomFile(files, 'renewed.mp4', 8 * CHUNK + 3);
    // The token dies as the third chunk arrives (the check runs before the emulator answers it).
    let seen = 0;
    server.fault({
      path: REDEEM,
      times: 1e9,
      when: () => {
        seen += 1;
        if (seen === 3) server.expireTokens();
        return false;
      },
      action: { type: 'delay', ms: 0 },
    });
    const [queued] = await handle.queue.enqueue('videos', [file.path]);
    handle.engine.start();
    await within('the engine to become idle', 30_000, handle.engine.whenIdle());

    const job = handle.queue.jobs.get(queued!.id)!;
    expect(job.state).toBe('completed');
    expect(server.tokens).toHaveLength(2);
    expect(server.photos).toHaveLength(1);
    expect(server.photos[0]?.sha256).toBe(file.sha256);
    expect(job.result?.remoteId).toBe(String(server.photos[0]?.photoId));
  });
});

describe('twentythree connection test', () => {
  it('asks for a JSON token and reads a refusal at HTTP 200 as a key problem', async () => {
    const server = await start();
    const probe = (consumerSecret: string) =>
      testConnection(adapter, {
        id: 1,
        name: 'videos',
        baseUrl: server.url,
        settings: {},
        secrets: { consumerKey: 'ck', consumerSecret, accessToken: 'at', accessTokenSecret: 'as' },
      });

    expect(await probe('cs')).toMatchObject({ ok: true, message: null });
    expect(server.tokens[0]?.params).toMatchObject({ format: 'json', raw: '1', valid_minutes: '15' });

    const refused = await probe('wrong');
    expect(refused.ok).toBe(false);
    expect(refused.message).toMatch(
      /TwentyThree refused the OAuth keys \(invalid_signature: The API signature is invalid/,
    );
    expect(server.tokens).toHaveLength(1);
  });
});
