/**
 * The Oktopost adapter against its emulator over real loopback HTTP, with a file host standing in for
 * the public web: Oktopost's emulator really pulls the published file. A tiny driver stands in for the
 * engine (create → finalize → poll until done); the assertions are on what the emulator pulled and
 * recorded and on what the file host was asked.
 */
import { createHash, randomBytes } from 'node:crypto';
import got from 'got';
import { afterEach, describe, expect, it } from 'vitest';
import { lookup as mimeLookup } from 'mime-types';
import { createAccountHttp } from '../../main/engine/accountHttp.ts';
import {
  OKTOPOST_EU_BASE_URL,
  OKTOPOST_US_BASE_URL,
  oktopostAdapter as adapter,
  oktopostBaseUrl,
  type OktopostSession,
} from '../../main/providers/oktopost/oktopostAdapter.ts';
import type {
  AccountContext,
  CallContext,
  JobContext,
  UploadResult,
  UploadSource,
} from '../../main/providers/types.ts';
import { startFileHost, type FileHost, type PublishedFile } from '../sandbox/fileHost.ts';
import { startOktopostSandbox, type OktopostSandbox, type OktopostSandboxOptions } from '../sandbox/oktopost.ts';
import { rejection, thrown } from '../support/uploadErrors.ts';
import { Fixtures, within } from '../support/ferryHarness.ts';
import { MATRIX_ENGINE } from '../support/faultMatrix.ts';

const closing: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  // Emulators first: their background pulls talk to the file host.
  const servers = closing.splice(0).reverse();
  for (const server of servers) await server.close();
});

async function fileHost(): Promise<FileHost> {
  const host = await startFileHost();
  closing.push(host);
  return host;
}

async function oktopost(options: OktopostSandboxOptions = {}): Promise<OktopostSandbox> {
  const server = await startOktopostSandbox(options);
  closing.push(server);
  return server;
}

function accountFor(server: OktopostSandbox, secrets: Record<string, string> = {}): AccountContext {
  return {
    id: 1,
    name: 'marketing',
    baseUrl: server.apiUrl,
    settings: { region: 'us' },
    secrets: { accountId: server.accountId, apiKey: server.apiKey, ...secrets },
    http: createAccountHttp(),
  };
}

/** A URL source as the queue builds it (name from the path, type from the name, size unknown). */
function urlSource(url: string): UploadSource {
  const name = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '') || new URL(url).hostname;
  return { kind: 'url', url, name, size: null, mime: mimeLookup(name) || 'application/octet-stream' };
}

function jobFor(url: string, options: Record<string, string> = {}): JobContext {
  return { jobId: 1, source: urlSource(url), options, file: null };
}

interface Published {
  file: PublishedFile;
  bytes: Buffer;
  sha256: string;
}

async function publish(host: FileHost, name: string, size: number): Promise<Published> {
  const bytes = randomBytes(size);
  const file = await host.publish(bytes, name);
  return { file, bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

function call(): CallContext {
  return { signal: new AbortController().signal, onBytes: () => {} };
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Imported {
  /** The upload request the import ended with (from the result's details). */
  uploadId: string;
  result: UploadResult;
  progress: Array<{ done: number; total: number }>;
  polls: number;
}

/** Drives one import the way the engine does, polling every 25 ms for at most 10 s. */
async function importUrl(account: AccountContext, job: JobContext): Promise<Imported> {
  adapter.validateSource(job.source, job.options);
  const session = await adapter.createSession(account, job, call());
  expect(adapter.planParts(session, job)).toEqual([]);
  return follow(account, job, session);
}

/** Finalizes (`resumed` as the engine would say) and polls until the import is done. */
async function follow(
  account: AccountContext,
  job: JobContext,
  session: OktopostSession,
  resumed = false,
): Promise<Imported> {
  const progress: Array<{ done: number; total: number }> = [];
  const finalized = await adapter.finalize(account, job, session, { ...call(), resumed });
  const done = (result: UploadResult, polls: number): Imported => ({
    uploadId: String(result.details.uploadId),
    result,
    progress,
    polls,
  });
  if (finalized.kind === 'completed') return done(finalized.result, 0);
  let current = finalized.session;
  const deadline = Date.now() + 10_000;
  for (let polls = 1; Date.now() < deadline; polls += 1) {
    await pause(25);
    const outcome = await adapter.poll!(account, job, current, call());
    if (outcome.kind === 'completed') return done(outcome.result, polls);
    current = outcome.session;
    if (outcome.progress) progress.push(outcome.progress);
  }
  throw new Error('driver: the import did not finish in 10 s');
}

describe('Oktopost adapter against the emulator', () => {
  it('has a 3 MB mp4 pulled byte-exact with HEAD and ranged GETs, reporting growing progress', async () => {
    const host = await fileHost();
    const server = await oktopost({ pullChunk: 512 * 1024, pullDelayMs: 30 });
    const { file, sha256 } = await publish(host, 'launch clip.mp4', 3_000_000);
    const { result, progress, uploadId } = await importUrl(accountFor(server), jobFor(file.url));

    expect(server.createCalls).toEqual([
      { source: file.url, name: 'launch clip.mp4', mimeType: 'video/mp4', status: 200, result: true, uploadId },
    ]);
    const upload = server.uploads.get(uploadId)!;
    expect(upload).toMatchObject({ status: 'complete', total: 3_000_000, downloaded: 3_000_000, attempts: 0, sha256 });
    expect(server.media.get(upload.mediaId!)).toMatchObject({ size: 3_000_000, sha256, mimeType: 'video/mp4' });

    const pulled = host.requestsFor(file);
    expect(pulled[0]).toMatchObject({ method: 'HEAD', status: 200 });
    const gets = pulled.filter((request) => request.method === 'GET');
    expect(gets.length).toBe(Math.ceil(3_000_000 / (512 * 1024)));
    expect(gets.every((request) => request.status === 206 && request.range !== null)).toBe(true);
    let next = 0;
    for (const request of gets) {
      expect(request.served![0]).toBe(next);
      next = request.served![1] + 1;
    }
    expect(next).toBe(3_000_000);

    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.every((step) => step.total === 3_000_000 && step.done <= step.total)).toBe(true);
    for (let i = 1; i < progress.length; i += 1)
      expect(progress[i]!.done).toBeGreaterThanOrEqual(progress[i - 1]!.done);
    expect(new Set(progress.map((step) => step.done)).size).toBeGreaterThanOrEqual(2);
    expect(progress[0]!.done).toBeLessThan(3_000_000);

    expect(result).toEqual({
      remoteId: upload.mediaId,
      url: null,
      details: {
        uploadId,
        mediaId: upload.mediaId,
        name: 'launch clip.mp4',
        mimeType: 'video/mp4',
        totalSize: 3_000_000,
        validations: {
          Facebook: { isValid: true, errors: [] },
          LinkedIn: { isValid: true, errors: [] },
          Twitter: { isValid: true, errors: [] },
          Instagram: { isValid: true, errors: [] },
          Youtube: { isValid: true, errors: [] },
        },
      },
    });
  });

  it('keeps the per-network video validation in the result, with the errors of an invalid network', async () => {
    const host = await fileHost();
    const errors = ['Video duration must be between 3 and 60 seconds', 'Aspect ratio must be between 4:5 and 16:9'];
    const server = await oktopost({ invalidNetworks: { Instagram: errors } });
    const { file } = await publish(host, 'teaser.mp4', 200_000);
    const { result } = await importUrl(accountFor(server), jobFor(file.url));

    expect(result.details.validations).toMatchObject({
      Instagram: { isValid: false, errors },
      Facebook: { isValid: true, errors: [] },
      Youtube: { isValid: true, errors: [] },
    });
    expect(server.requests.filter((request) => request.path.startsWith('/v2/video-validate/'))).toHaveLength(1);
  });

  it('imports an image/png without asking for video validation', async () => {
    const host = await fileHost();
    const server = await oktopost();
    const { file, sha256 } = await publish(host, 'banner.png', 70_000);
    const { result, uploadId } = await importUrl(accountFor(server), jobFor(file.url));

    expect(server.createCalls[0]).toMatchObject({ mimeType: 'image/png', name: 'banner.png' });
    expect(server.uploads.get(uploadId)!.sha256).toBe(sha256);
    expect(result.details).toEqual({
      uploadId,
      mediaId: result.remoteId,
      name: 'banner.png',
      mimeType: 'image/png',
      totalSize: 70_000,
    });
    expect(server.requests.some((request) => request.path.startsWith('/v2/video-validate/'))).toBe(false);
  });

  it('prepares the session with /me before anything is created, creates the request in finalize, then polls it', async () => {
    const host = await fileHost();
    const server = await oktopost({ clockSkewMs: -3_600_000 });
    const { file } = await publish(host, 'logo.gif', 5_000);
    const account = accountFor(server);
    const job = jobFor(file.url);
    const session = await adapter.createSession(account, job, call());

    // What the engine persists before the create request: enough to recognise this job's request.
    expect(server.createCalls).toEqual([]);
    const meReply = server.requests.find((request) => request.path === '/v2/me')!;
    expect(meReply.status).toBe(200);
    expect(session).toEqual({
      source: file.url,
      name: 'logo.gif',
      mimeType: 'image/gif',
      userId: server.userId,
      // Oktopost's clock (an hour behind this machine's here), from its Date header.
      notBefore: expect.any(Number),
      uploadId: null,
      adopted: false,
      createdAt: expect.any(Number),
    });
    expect(Math.abs(session.notBefore - (Date.now() - 3_600_000) / 1000)).toBeLessThan(5);
    expect(adapter.parseSession(JSON.parse(JSON.stringify(session)))).toEqual(session);

    const { uploadId, result } = await follow(account, job, session);
    expect(result.remoteId).toBe(server.uploads.get(uploadId)!.mediaId);
    expect(result.details.note).toBeUndefined();
    const calls = server.requests.map((request) => `${request.method} ${request.path}`);
    expect(calls.slice(0, 3)).toEqual(['GET /v2/me', 'POST /v2/upload', `GET /v2/upload/${uploadId}`]);
    expect(new Set(calls.slice(2))).toEqual(new Set([`GET /v2/upload/${uploadId}`]));
  });

  it('sends the mimeType option for a URL whose name says nothing about its type', async () => {
    const host = await fileHost();
    const server = await oktopost();
    const bytes = randomBytes(10_000);
    const file = await host.publish(bytes, 'download', 'application/octet-stream');
    const job = jobFor(file.url, { mimeType: 'image/jpeg', name: 'team photo.jpg' });
    const { result } = await importUrl(accountFor(server), job);

    expect(server.createCalls[0]).toMatchObject({ source: file.url, name: 'team photo.jpg', mimeType: 'image/jpeg' });
    expect(result.details).toMatchObject({ name: 'team photo.jpg', mimeType: 'image/jpeg' });
  });

  it.each([
    { falseResultWith2xx: true, status: 200 },
    { falseResultWith2xx: false, status: 400 },
  ])(
    'turns Result:false with status $status into an error with Oktopost’s own words',
    async ({ falseResultWith2xx, status }) => {
      const host = await fileHost();
      const server = await oktopost({ falseResultWith2xx, maxFileBytes: 1_000_000 });
      const { file } = await publish(host, 'too-big.mp4', 1_500_000);
      const error = await rejection(importUrl(accountFor(server), jobFor(file.url)));

      expect(error.kind).toBe('invalid');
      expect(error.status).toBe(status);
      const reason = 'source: File size 1500000 exceeds the maximum allowed size of 1000000 bytes';
      expect(error.message).toBe(
        status === 200
          ? `Asking Oktopost to import too-big.mp4 from ${file.url}: Oktopost refused it (${reason})`
          : `Asking Oktopost to import too-big.mp4 from ${file.url}: Oktopost answered 400 (${reason})`,
      );
      expect(server.createCalls).toEqual([expect.objectContaining({ status, result: false, uploadId: null })]);
      expect(server.uploads.size).toBe(0);
    },
  );

  it('adopts the request of its own create whose reply was lost, and says so, instead of creating a second one', async () => {
    const host = await fileHost();
    const server = await oktopost({ pullDelayMs: 20 });
    const { file, sha256 } = await publish(host, 'lost-reply.mp4', 1_000_000);
    const account = accountFor(server);
    const job = jobFor(file.url);
    const session = await adapter.createSession(account, job, call());
    // The account already holds other requests for this URL: an earlier import of the file by the
    // same user, and a colleague's of a moment ago under the same name.
    const others = [
      server.addExisting({ source: file.url, name: 'lost-reply.mp4' }),
      server.addExisting({ source: file.url, name: 'lost-reply.mp4', createdBy: '00A000000000002', createdAgoMs: 0 }),
    ];
    server.fault({ method: 'POST', path: '/v2/upload', action: { type: 'drop-response' } });

    const lost = await rejection(adapter.finalize(account, job, session, { ...call(), resumed: false }));
    expect(lost.kind).toBe('network');
    expect(server.uploads.size).toBe(3);
    const created = server.createCalls[0]!.uploadId!;

    // The engine retries with the same persisted session: finalizing started, so `resumed`.
    const { uploadId, result } = await follow(account, job, session, true);
    expect(uploadId).toBe(created);
    expect(others.map((upload) => upload.id)).not.toContain(uploadId);
    expect(server.createCalls).toHaveLength(1);
    const lookups = server.requests.filter((request) => request.method === 'GET' && request.path === '/v2/upload');
    expect(lookups.map((request) => request.query.get('source'))).toEqual([file.url]);
    expect(server.uploads.size).toBe(3);
    expect(server.media.get(result.remoteId!)).toMatchObject({ uploadId: created, sha256 });
    expect(result.details.note).toBe(
      "Ferry's earlier request to Oktopost to import this file got no readable answer; Ferry found the import " +
        `that request created (upload ${created}) and followed it rather than asking a second time`,
    );
  });

  it.each([
    { clockSkewMs: -15 * 60_000, timeFormat: 'datetime' },
    { clockSkewMs: 15 * 60_000, timeFormat: 'datetime' },
    { clockSkewMs: -15 * 60_000, timeFormat: 'epoch' },
  ] as const)(
    'adopts its own lost request when Oktopost’s clock is $clockSkewMs ms off and times are $timeFormat',
    async ({ clockSkewMs, timeFormat }) => {
      const host = await fileHost();
      const server = await oktopost({ clockSkewMs, timeFormat, pullDelayMs: 5 });
      const { file, sha256 } = await publish(host, 'skewed.png', 50_000);
      const account = accountFor(server);
      const job = jobFor(file.url);
      const session = await adapter.createSession(account, job, call());
      server.fault({ method: 'POST', path: '/v2/upload', action: { type: 'drop-response' } });
      expect((await rejection(adapter.finalize(account, job, session, { ...call(), resumed: false }))).kind).toBe(
        'network',
      );

      const { uploadId, result } = await follow(account, job, session, true);
      expect(uploadId).toBe(server.createCalls[0]!.uploadId);
      expect(server.createCalls).toHaveLength(1);
      expect(server.media.get(result.remoteId!)!.sha256).toBe(sha256);
    },
  );

  it('falls back to its own clock, less five minutes, when Oktopost’s replies carry no Date', async () => {
    const host = await fileHost();
    const server = await oktopost({ sendDate: false, pullDelayMs: 5 });
    const { file, sha256 } = await publish(host, 'undated.png', 30_000);
    const account = accountFor(server);
    const job = jobFor(file.url);
    const before = Math.floor(Date.now() / 1000);
    const session = await adapter.createSession(account, job, call());
    expect(session.notBefore).toBeGreaterThanOrEqual(before - 300);
    expect(session.notBefore).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) - 300);
    const older = server.addExisting({ source: file.url, name: 'undated.png', createdAgoMs: 10 * 60_000 });
    server.fault({ method: 'POST', path: '/v2/upload', action: { type: 'drop-response' } });
    expect((await rejection(adapter.finalize(account, job, session, { ...call(), resumed: false }))).kind).toBe(
      'network',
    );

    const { uploadId, result } = await follow(account, job, session, true);
    expect(uploadId).toBe(server.createCalls[0]!.uploadId);
    expect(uploadId).not.toBe(older.id);
    expect(server.createCalls).toHaveLength(1);
    expect(server.media.get(result.remoteId!)!.sha256).toBe(sha256);
  });

  it('never adopts an earlier import of the same URL, by this user or another, even complete', async () => {
    const host = await fileHost();
    const server = await oktopost({ pullDelayMs: 5 });
    const { file, sha256 } = await publish(host, 'campaign.mp4', 300_000);
    const earlier = [
      // The same file imported by this user yesterday, before it changed.
      server.addExisting({ source: file.url, name: 'campaign.mp4' }),
      // A colleague importing the same URL under the same name a moment ago.
      server.addExisting({ source: file.url, name: 'campaign.mp4', createdBy: '00A000000000002', createdAgoMs: 0 }),
      server.addExisting({ source: file.url, name: 'campaign.mp4', status: 'pending', createdAgoMs: 60 * 60_000 }),
    ];
    const account = accountFor(server);
    const job = jobFor(file.url);

    const { uploadId, result } = await importUrl(account, job);
    expect(server.createCalls).toEqual([
      expect.objectContaining({ source: file.url, name: 'campaign.mp4', result: true, uploadId }),
    ]);
    expect(earlier.map((upload) => upload.id)).not.toContain(uploadId);
    expect(server.media.get(result.remoteId!)).toMatchObject({ uploadId, sha256 });
    expect(result.details.note).toBeUndefined();
  });

  it('creates the request after a lost create that never reached Oktopost, passing over others’ requests for the URL', async () => {
    const host = await fileHost();
    const server = await oktopost({ pullDelayMs: 5 });
    const { file, sha256 } = await publish(host, 'retry.png', 20_000);
    const account = accountFor(server);
    const job = jobFor(file.url);
    const session = await adapter.createSession(account, job, call());
    const theirs = [
      server.addExisting({ source: file.url, name: 'retry.png', createdBy: '00A000000000002', createdAgoMs: 0 }),
      server.addExisting({ source: file.url, name: 'other name.png', createdAgoMs: 0 }),
      server.addExisting({ source: file.url, name: 'retry.png', createdAgoMs: 2 * 24 * 3_600_000 }),
    ];
    server.fault({ method: 'POST', path: '/v2/upload', action: { type: 'reset' } });
    expect((await rejection(adapter.finalize(account, job, session, { ...call(), resumed: false }))).kind).toBe(
      'network',
    );
    expect(server.createCalls).toEqual([]);

    const { uploadId, result } = await follow(account, job, session, true);
    expect(server.createCalls).toEqual([expect.objectContaining({ result: true, uploadId })]);
    expect(theirs.map((upload) => upload.id)).not.toContain(uploadId);
    expect(server.media.get(result.remoteId!)!.sha256).toBe(sha256);
    expect(result.details.note).toBeUndefined();
  });

  it('fails with Oktopost’s LastError and Attempts when the source keeps answering 500, and starts afresh next time', async () => {
    const host = await fileHost();
    const server = await oktopost();
    const { file, sha256 } = await publish(host, 'broken.mp4', 300_000);
    host.fault({ method: 'GET', path: file.path, times: 1_000, action: { type: 'status', status: 500, body: 'boom' } });
    const account = accountFor(server);
    const job = jobFor(file.url);

    const error = await rejection(importUrl(account, job));
    expect(error.kind).toBe('invalid');
    const failed = [...server.uploads.values()];
    expect(error.message).toBe(
      `Oktopost could not import ${file.url} (upload ${failed[0]!.id}): Could not download file, error 500 (after 5 attempts). ` +
        'Check that the URL is public and answers HEAD and ranged GET requests, then retry',
    );
    expect(failed).toEqual([
      expect.objectContaining({ status: 'failed', attempts: 5, lastError: 'Could not download file, error 500' }),
    ]);
    const gets = host.requests.filter((request) => request.method === 'GET' && request.path === file.path);
    expect(gets).toHaveLength(5);
    expect(gets.every((request) => request.fault === 'status')).toBe(true);

    // Once the source is fixed, a new import is created: the failed request is not adopted.
    host.clearFaults();
    const { uploadId, result } = await importUrl(account, job);
    expect(uploadId).not.toBe(failed[0]!.id);
    expect(server.createCalls).toHaveLength(2);
    expect(server.media.get(result.remoteId!)!.sha256).toBe(sha256);
  });

  it('maps a vanished upload request to session-gone, and the next session creates a new one', async () => {
    const host = await fileHost();
    const server = await oktopost({ pullDelayMs: 50 });
    const { file } = await publish(host, 'gone.png', 2_000);
    const account = accountFor(server);
    const job = jobFor(file.url);
    const finalized = await adapter.finalize(account, job, await adapter.createSession(account, job, call()), {
      ...call(),
      resumed: false,
    });
    if (finalized.kind !== 'processing') throw new Error('expected the import to be pending');
    const first = finalized.session;
    server.forget(first.uploadId!);

    const error = await rejection(adapter.poll!(account, job, first, call()));
    expect(error.kind).toBe('session-gone');
    expect(error.status).toBe(404);
    expect(error.message).toContain('Upload not found');
    const { uploadId } = await importUrl(account, job);
    expect(uploadId).not.toBe(first.uploadId);
    expect(server.createCalls).toHaveLength(2);
  });

  it('maps a wrong API key to auth, naming what to check, before anything is created', async () => {
    const host = await fileHost();
    const server = await oktopost();
    const { file } = await publish(host, 'secret.png', 100);
    const error = await rejection(
      adapter.createSession(accountFor(server, { apiKey: 'wrong' }), jobFor(file.url), call()),
    );

    expect(error.kind).toBe('auth');
    expect(error.status).toBe(401);
    expect(error.message).toBe(
      'Asking Oktopost which user the API key of "marketing" belongs to, before importing secret.png: Oktopost answered 401 ' +
        '(Authorization: Invalid account id or API key); check the account id and API key of "marketing"',
    );
    expect(server.createCalls).toEqual([]);

    const missing = await rejection(
      adapter.createSession(accountFor(server, { apiKey: '' }), jobFor(file.url), call()),
    );
    expect(missing.kind).toBe('auth');
    expect(missing.message).toBe('Oktopost account "marketing" has no API key: add it in the account settings');
  });

  it('maps the emulator’s 60-a-minute limit to rate-limited with its Retry-After', async () => {
    const host = await fileHost();
    const server = await oktopost({ perMinute: 3, pullDelayMs: 200 });
    const { file } = await publish(host, 'busy.mp4', 1_000);
    const account = accountFor(server);
    const job = jobFor(file.url);
    // Three requests: /me, the create, one poll; the fourth is over the limit.
    const finalized = await adapter.finalize(account, job, await adapter.createSession(account, job, call()), {
      ...call(),
      resumed: false,
    });
    if (finalized.kind !== 'processing') throw new Error('expected the import to be pending');
    const session = finalized.session;
    expect((await adapter.poll!(account, job, session, call())).kind).toBe('processing');

    const error = await rejection(adapter.poll!(account, job, session, call()));
    expect(error.kind).toBe('rate-limited');
    expect(error.status).toBe(429);
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(error.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(error.message).toContain('Rate limit exceeded');
  });

  it('maps 5xx and an unreadable 2xx to server errors and stops at once when aborted', async () => {
    const host = await fileHost();
    const server = await oktopost({ pullDelayMs: 100 });
    const { file } = await publish(host, 'flaky.mp4', 1_000);
    const account = accountFor(server);
    const job = jobFor(file.url);
    const finalized = await adapter.finalize(account, job, await adapter.createSession(account, job, call()), {
      ...call(),
      resumed: false,
    });
    if (finalized.kind !== 'processing') throw new Error('expected the import to be pending');
    const session = finalized.session;
    const path = `/v2/upload/${session.uploadId}`;

    server.fault({
      path,
      action: { type: 'status', status: 503, body: '{"Result":false,"Errors":{"Server":"Maintenance"}}' },
    });
    const unavailable = await rejection(adapter.poll!(account, job, session, call()));
    expect(unavailable.kind).toBe('server');
    expect(unavailable.message).toContain('503 (Server: Maintenance); will retry');

    server.fault({ path, action: { type: 'malformed', status: 200, body: '<html>Bad gateway</html>' } });
    const garbled = await rejection(adapter.poll!(account, job, session, call()));
    expect(garbled.kind).toBe('server');
    expect(garbled.message).toContain('unreadable reply (Bad gateway)');

    server.fault({ path, action: { type: 'stall' } });
    const controller = new AbortController();
    const pending = adapter.poll!(account, job, session, { signal: controller.signal, onBytes: () => {} });
    setTimeout(() => controller.abort(), 50);
    expect((await rejection(pending)).kind).toBe('aborted');
  });

  it('has the emulator refuse a create whose name and type cannot be determined from the source', async () => {
    const server = await oktopost();
    const response = await got.post(`${server.apiUrl}/upload`, {
      form: { source: 'http://127.0.0.1:9/' },
      headers: { authorization: `Basic ${Buffer.from(`${server.accountId}:${server.apiKey}`).toString('base64')}` },
      throwHttpErrors: false,
    });
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      Result: false,
      Errors: {
        name: 'The name was not sent and could not be determined from the source',
        mimeType: 'The mime type was not sent and could not be determined from the source',
      },
    });
    expect(server.uploads.size).toBe(0);
  });
});

describe('Oktopost through the real queue and engine', () => {
  const fixtures = new Fixtures();
  afterEach(() => fixtures.cleanup());

  it('completes a job whose create reply was lost with the request it made, says so, and leaves earlier imports of the URL alone', async () => {
    const host = fixtures.track(await startFileHost());
    const server = fixtures.track(await startOktopostSandbox({ pullDelayMs: 5, perMinute: 100_000 }));
    const { file, sha256 } = await publish(host, 'engine.mp4', 200_000);
    const earlier = server.addExisting({ source: file.url, name: 'engine.mp4' });
    const handle = fixtures.openEngine(await fixtures.tempDir('ferry-okto-'), MATRIX_ENGINE);
    await handle.queue.accounts.add({
      provider: 'oktopost',
      name: 'social',
      baseUrl: server.apiUrl,
      secrets: { accountId: server.accountId, apiKey: server.apiKey },
    });
    server.fault({ method: 'POST', path: '/v2/upload', action: { type: 'drop-response' } });
    const [queued] = await handle.queue.enqueue('social', [file.url]);
    handle.engine.start();
    await within('the Oktopost job to settle', 20_000, handle.engine.whenIdle());

    const job = handle.queue.jobs.get(queued!.id)!;
    expect(job.state).toBe('completed');
    const created = server.createCalls.map((c) => c.uploadId);
    expect(created).toHaveLength(1);
    expect(job.result?.details.uploadId).toBe(created[0]);
    expect(job.result?.details.uploadId).not.toBe(earlier.id);
    expect(server.media.get(job.result!.remoteId!)!.sha256).toBe(sha256);
    expect(job.result?.details.note).toContain(`(upload ${created[0]})`);
    // The order the engine kept: who the key belongs to, the create, then the lookup after the lost reply.
    const calls = server.requests.map((r) => `${r.method} ${r.path}`);
    expect(calls.slice(0, 3)).toEqual(['GET /v2/me', 'POST /v2/upload', 'GET /v2/upload']);
  });

  it('after a lost create reply and a failed job, a retry by the user finds the import it made instead of importing twice', async () => {
    const host = fixtures.track(await startFileHost());
    const server = fixtures.track(await startOktopostSandbox({ pullDelayMs: 5, perMinute: 100_000 }));
    const { file, sha256 } = await publish(host, 'retried.mp4', 150_000);
    const handle = fixtures.openEngine(await fixtures.tempDir('ferry-okto-'), MATRIX_ENGINE);
    await handle.queue.accounts.add({
      provider: 'oktopost',
      name: 'social',
      baseUrl: server.apiUrl,
      secrets: { accountId: server.accountId, apiKey: server.apiKey },
    });
    // The import is made but its answer is lost; the lookup that follows is refused (a key revoked
    // for a moment), which fails the job without retries.
    server.fault({ method: 'POST', path: '/v2/upload', action: { type: 'drop-response' } });
    server.fault({
      method: 'GET',
      path: '/v2/upload',
      action: { type: 'status', status: 401, body: '{"Result":false,"Errors":{"auth":"Invalid credentials"}}' },
    });
    const [queued] = await handle.queue.enqueue('social', [file.url]);
    handle.engine.start();
    await within('the Oktopost job to fail', 20_000, handle.engine.whenIdle());
    expect(handle.queue.jobs.get(queued!.id)!.state).toBe('failed');
    expect(server.createCalls).toHaveLength(1);

    await handle.queue.retry(queued!.id);
    await within('the retried job to settle', 20_000, handle.engine.whenIdle());

    const job = handle.queue.jobs.get(queued!.id)!;
    expect(job.state).toBe('completed');
    expect(server.createCalls).toHaveLength(1);
    expect(job.result?.details.uploadId).toBe(server.createCalls[0]!.uploadId);
    expect(server.media.get(job.result!.remoteId!)!.sha256).toBe(sha256);
  });
});

describe('Oktopost sources, sessions and data centres', () => {
  it('refuses a local file, saying that Oktopost imports from a public URL', () => {
    const error = thrown(() =>
      adapter.validateSource(
        { kind: 'file', path: '/home/ana/clip.mp4', name: 'clip.mp4', size: 10, mime: 'video/mp4' },
        {},
      ),
    );
    expect(error.kind).toBe('unsupported');
    expect(error.message).toBe(
      'clip.mp4: Oktopost imports files from a public URL and cannot take the local file /home/ana/clip.mp4. ' +
        'Publish the file (on a web server or storage bucket that answers HEAD and ranged GET requests) and give its URL',
    );
    const ftp = thrown(() => adapter.validateSource(urlSource('ftp://files.example/clip.mp4'), {}));
    expect(ftp.kind).toBe('unsupported');
    expect(ftp.message).toContain('public http(s) URL, not ftp:');
  });

  it('refuses types Oktopost does not take, naming the ones it does', () => {
    const error = thrown(() => adapter.validateSource(urlSource('https://cdn.example/clip.webm'), {}));
    expect(error.kind).toBe('unsupported');
    expect(error.message).toBe(
      'clip.webm is of type video/webm: Oktopost imports only video/mp4, image/gif, image/png, image/jpg, image/jpeg. ' +
        'If the URL serves one of these, say which with the option mimeType=<type>',
    );
    expect(thrown(() => adapter.validateSource(urlSource('https://cdn.example/download?id=7'), {})).kind).toBe(
      'unsupported',
    );
    const override = thrown(() =>
      adapter.validateSource(urlSource('https://cdn.example/a.mp4'), { mimeType: 'video/webm' }),
    );
    expect(override.message).toBe(
      'a.mp4: mimeType=video/webm is not a type Oktopost imports; use one of video/mp4, image/gif, image/png, image/jpg, image/jpeg',
    );

    for (const url of [
      'https://cdn.example/a.mp4',
      'https://cdn.example/a.GIF',
      'https://cdn.example/a.jpeg',
      'https://cdn.example/a.png',
    ]) {
      expect(() => adapter.validateSource(urlSource(url), {})).not.toThrow();
    }
    expect(() =>
      adapter.validateSource(urlSource('https://cdn.example/download?id=7'), { mimeType: 'image/jpg' }),
    ).not.toThrow();
  });

  it('refuses a known size over 8 GiB', () => {
    const source: UploadSource = { ...urlSource('https://cdn.example/long.mp4'), size: 8 * 1024 ** 3 + 1 };
    const error = thrown(() => adapter.validateSource(source, {}));
    expect(error.kind).toBe('too-large');
    expect(error.message).toBe(
      "long.mp4 is 8,589,934,593 bytes, over Oktopost's limit of 8 GiB (8,589,934,592 bytes) per file",
    );
    expect(() => adapter.validateSource({ ...source, size: 8 * 1024 ** 3 }, {})).not.toThrow();
  });

  it('picks the EU data centre for an EU account on the default base URL, and keeps any other URL', () => {
    expect(adapter.capabilities.defaultBaseUrl).toBe(OKTOPOST_US_BASE_URL);
    expect(oktopostBaseUrl({ baseUrl: OKTOPOST_US_BASE_URL, settings: { region: 'eu' } })).toBe(
      'https://eu-api.oktopost.com/v2',
    );
    expect(oktopostBaseUrl({ baseUrl: `${OKTOPOST_US_BASE_URL}/`, settings: { region: 'eu' } })).toBe(
      OKTOPOST_EU_BASE_URL,
    );
    expect(oktopostBaseUrl({ baseUrl: OKTOPOST_US_BASE_URL, settings: { region: 'us' } })).toBe(OKTOPOST_US_BASE_URL);
    expect(oktopostBaseUrl({ baseUrl: OKTOPOST_US_BASE_URL, settings: {} })).toBe(OKTOPOST_US_BASE_URL);
    expect(oktopostBaseUrl({ baseUrl: 'https://proxy.example/oktopost/v2', settings: { region: 'eu' } })).toBe(
      'https://proxy.example/oktopost/v2',
    );
    expect(oktopostBaseUrl({ baseUrl: OKTOPOST_EU_BASE_URL, settings: { region: 'us' } })).toBe(OKTOPOST_EU_BASE_URL);
  });

  it('declares the account form and capabilities of a pull provider', () => {
    expect(adapter.fields.map((field) => [field.key, field.kind, field.required])).toEqual([
      ['accountId', 'secret', true],
      ['apiKey', 'secret', true],
      ['region', 'setting', false],
    ]);
    expect(adapter.fields[2]).toMatchObject({ default: 'us', choices: ['us', 'eu'] });
    expect(adapter.capabilities).toMatchObject({
      sources: 'url',
      partOrder: 'serial',
      maxParallelParts: 1,
      rateLimit: { perMinute: 60, burst: 60 },
    });
  });

  it('reads back a persisted session, keeps following a request of the previous session shape, and refuses a corrupt one', () => {
    const session: OktopostSession = {
      source: 'https://cdn.example/a.mp4',
      name: 'a.mp4',
      mimeType: 'video/mp4',
      userId: '00A000000000001',
      notBefore: 1_780_000_000,
      uploadId: null,
      adopted: false,
      createdAt: 1,
    };
    expect(adapter.parseSession(JSON.parse(JSON.stringify(session)))).toEqual(session);
    expect(adapter.parseSession({ ...session, uploadId: '' })).toBeNull();
    expect(adapter.parseSession({ ...session, notBefore: 'soon' })).toBeNull();
    expect(adapter.parseSession(null)).toBeNull();
    expect(adapter.sessionUsable(session, Date.now())).toBe(true);
    expect(
      adapter.parseSession({ uploadId: '0up000000000001', source: 'https://cdn.example/a.mp4', createdAt: 1 }),
    ).toMatchObject({
      uploadId: '0up000000000001',
      source: 'https://cdn.example/a.mp4',
      adopted: false,
    });
  });
});
