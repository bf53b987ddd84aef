/**
 * The OFAuth adapter against its emulator over real loopback HTTP. A tiny driver stands in for the
 * engine: it plans parts, sends the ones not yet acknowledged (two at a time, like the engine's
 * parallel lane), retries what the engine would retry, and finalizes; the assertions are on what the
 * emulator received.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testConnection, type ProbeAccount } from '../../main/api/connectionTest.ts';
import { createAccountHttp } from '../../main/engine/accountHttp.ts';
import { UploadError } from '../../main/core/errors.ts';
import { testFileSource } from '../support/fileSources.ts';
import { TokenBucket, type Clock } from '../../main/engine/tokenBucket.ts';
import {
  OFAUTH_NO_MEDIA_NOTE,
  OFAUTH_PROCESSING_NOTE,
  ofauthAdapter as adapter,
  type OfauthSession,
} from '../../main/providers/ofauth/ofauthAdapter.ts';
import type {
  AccountContext,
  CallContext,
  FinalizeOutcome,
  JobContext,
  UploadSource,
} from '../../main/providers/types.ts';
import { startOfauthSandbox, type OfauthSandbox, type OfauthSandboxOptions } from '../sandbox/ofauth.ts';
import { rejection, thrown } from '../support/uploadErrors.ts';

const PART = 262_144;
let dir: string;
const sandboxes: OfauthSandbox[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-ofauth-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(sandboxes.splice(0).map((sandbox) => sandbox.close()));
});

/** An emulator with a small part size and no rate limit unless a test asks for them. */
async function sandbox(options: OfauthSandboxOptions = {}): Promise<OfauthSandbox> {
  const started = await startOfauthSandbox({ partSize: PART, rateLimit: null, ...options });
  sandboxes.push(started);
  return started;
}

function accountFor(
  server: OfauthSandbox,
  secrets: Record<string, string> = { apiKey: server.apiKey, connectionId: server.connectionId },
  http = createAccountHttp(),
): AccountContext {
  return { id: 1, name: 'vault', baseUrl: server.url, settings: {}, secrets, http };
}

interface LocalFile {
  job: JobContext;
  bytes: Buffer;
  sha256: string;
  path: string;
}

async function localFile(
  name: string,
  size: number,
  mime: string,
  options: Record<string, string> = {},
): Promise<LocalFile> {
  const path = join(dir, `${randomBytes(4).toString('hex')}-${name}`);
  const bytes = randomBytes(size);
  await writeFile(path, bytes);
  const source: UploadSource = { kind: 'file', path, name, size, mime };
  return {
    job: { jobId: 1, source, options, file: testFileSource(path, size) },
    bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    path,
  };
}

function sliceHash(bytes: Buffer, start: number, end: number): string {
  return createHash('sha256').update(bytes.subarray(start, end)).digest('hex');
}

function call(): CallContext {
  return { signal: new AbortController().signal, onBytes: () => {} };
}

interface DriveOptions {
  /** Parts in flight at once (the adapter allows 2). */
  width?: number;
  /** Attempts per part for retryable errors (network, timeout, server), like the engine's retries. */
  attempts?: number;
}

/** Sends every planned part the way the engine does; throws the first non-retryable error. */
async function sendParts(
  account: AccountContext,
  job: JobContext,
  session: OfauthSession,
  options: DriveOptions = {},
): Promise<{ errors: UploadError[] }> {
  const queue = adapter.planParts(session, job);
  const errors: UploadError[] = [];
  const worker = async (): Promise<void> => {
    for (let part = queue.shift(); part; part = queue.shift()) {
      for (let attempt = 1; ; attempt += 1) {
        try {
          const outcome = await adapter.uploadPart(account, job, session, part, call());
          expect(outcome.kind).toBe('acked');
          break;
        } catch (error) {
          if (!(error instanceof UploadError)) throw error;
          errors.push(error);
          const retryable = error.kind === 'network' || error.kind === 'timeout' || error.kind === 'server';
          if (!retryable || attempt >= (options.attempts ?? 3)) throw error;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: options.width ?? 2 }, () => worker()));
  return { errors };
}

async function upload(
  account: AccountContext,
  job: JobContext,
  options: DriveOptions = {},
): Promise<{ session: OfauthSession; errors: UploadError[]; outcome: FinalizeOutcome<OfauthSession> }> {
  adapter.validateSource(job.source, job.options);
  const session = await adapter.createSession(account, job, call());
  const { errors } = await sendParts(account, job, session, options);
  const outcome = await adapter.finalize(account, job, session, { ...call(), resumed: false });
  return { session, errors, outcome };
}

function completed(
  outcome: FinalizeOutcome<OfauthSession>,
): NonNullable<Extract<FinalizeOutcome<OfauthSession>, { kind: 'completed' }>['result']> {
  if (outcome.kind !== 'completed') throw new Error(`expected completed, got ${outcome.kind}`);
  return outcome.result;
}

describe('OFAuth adapter against the emulator', () => {
  it.each([
    { size: 1, name: 'dot.jpg', mime: 'image/jpeg' },
    { size: PART, name: 'one-part.png', mime: 'image/png' },
    { size: PART + 1, name: 'part-and-a-byte.mp4', mime: 'video/mp4' },
    { size: 2 * PART - 1, name: 'almost-two.mp3', mime: 'audio/mpeg' },
    { size: 3_000_000, name: 'holiday.mp4', mime: 'video/mp4' },
  ])('uploads $size bytes of $name byte-exact as one media', async ({ size, name, mime }) => {
    const server = await sandbox();
    const file = await localFile(name, size, mime);
    const { session, outcome, errors } = await upload(accountFor(server), file.job);

    expect(errors).toEqual([]);
    expect(server.media).toHaveLength(1);
    expect(server.media[0]).toMatchObject({
      size,
      sha256: file.sha256,
      filename: name,
      uploadId: session.mediaUploadId,
    });
    // Exactly the OpenAPI init body, no more keys.
    expect(server.initCalls).toEqual([{ body: { filename: name, size, contentType: mime }, status: 201 }]);
    const parts = Math.ceil(size / PART);
    if (parts === 1) {
      expect(session.mode).toBe('single');
      expect(server.singleLog).toEqual([{ uploadId: session.mediaUploadId, size, contentType: mime, status: 200 }]);
      expect(server.completeCalls).toEqual([]);
      expect(server.partLog).toEqual([]);
    } else {
      expect(session).toMatchObject({ mode: 'multipart', totalParts: parts, partSize: PART });
      expect(server.singleLog).toEqual([]);
      // complete takes exactly {mediaUploadId}: no part list, no ETags (OpenAPI).
      expect(server.completeCalls).toEqual([
        { mediaUploadId: session.mediaUploadId, body: { mediaUploadId: session.mediaUploadId }, status: 200 },
      ]);
      const received = [...server.partLog].sort((a, b) => a.part - b.part);
      expect(received.map((entry) => [entry.part, entry.sha256, entry.status])).toEqual(
        Array.from({ length: parts }, (_, i) => [
          i + 1,
          sliceHash(file.bytes, i * PART, Math.min((i + 1) * PART, size)),
          200,
        ]),
      );
    }
    // The id holds a colon and travels URL-encoded in every path.
    const putPaths = server.requests.filter((request) => request.method === 'PUT').map((request) => request.path);
    expect(putPaths.length).toBe(parts);
    expect(putPaths.every((path) => path.startsWith('/v2/access/uploads/upload%3A'))).toBe(true);
    expect(server.requests.every((request) => request.headers.apikey === server.apiKey)).toBe(true);
    expect(server.requests.every((request) => request.headers['x-connection-id'] === server.connectionId)).toBe(true);

    const result = completed(outcome);
    expect(result.remoteId).toBe(String(server.media[0]!.id));
    expect(result.url).toContain(`/files/${server.media[0]!.id}/full/`);
    expect(result.details).toMatchObject({
      mediaUploadId: session.mediaUploadId,
      type: mime.startsWith('video/') ? 'video' : mime.startsWith('audio/') ? 'audio' : 'photo',
      isReady: true,
      hasError: false,
      convertedToVideo: false,
    });
    expect(result.details.thumbUrl).toContain('/thumb/');
    expect(result.details.previewUrl).toContain('/preview/');
    expect(result.details.squarePreviewUrl).toContain('/square/');
    expect(result.details).not.toHaveProperty('note');
  });

  it('takes the plan from the x-ofauth-upload-* headers and uses the documented paths', async () => {
    const server = await sandbox({ planIn: 'headers' });
    const file = await localFile('headers.mov', 3 * PART + 17, 'video/quicktime');
    const { session, outcome } = await upload(accountFor(server), file.job);

    expect(session).toMatchObject({
      mode: 'multipart',
      totalParts: 4,
      partSize: PART,
      expiresAt: null,
      partUrls: null,
      completeUrl: null,
    });
    const id = encodeURIComponent(session.mediaUploadId);
    const parts = server.requests.filter((request) => request.method === 'PUT').map((request) => request.path);
    expect(parts.sort()).toEqual([1, 2, 3, 4].map((n) => `/v2/access/uploads/${id}/parts/${n}`));
    expect(server.requests.at(-1)).toMatchObject({ method: 'POST', path: '/v2/access/uploads/complete', status: 200 });
    expect(completed(outcome).remoteId).toBe(String(server.media[0]!.id));
    expect(server.media).toEqual([expect.objectContaining({ sha256: file.sha256 })]);
  });

  it('sends the whole file in one PUT when init gives no plan at all', async () => {
    const server = await sandbox({ planIn: 'none' });
    const file = await localFile('big-single.mp4', 3_000_000, 'video/mp4');
    const { session, outcome } = await upload(accountFor(server), file.job);

    expect(session).toMatchObject({ mode: 'single', totalParts: 1, partSize: 3_000_000, expiresAt: null });
    expect(adapter.planParts(session, file.job)).toEqual([]);
    expect(server.singleLog).toEqual([
      { uploadId: session.mediaUploadId, size: 3_000_000, contentType: 'video/mp4', status: 200 },
    ]);
    expect(server.partLog).toEqual([]);
    expect(server.completeCalls).toEqual([]);
    expect(completed(outcome).remoteId).toBe(String(server.media[0]!.id));
    expect(server.media).toEqual([expect.objectContaining({ sha256: file.sha256, size: 3_000_000 })]);
  });

  it('reports upload progress of the single PUT', async () => {
    const server = await sandbox({ planIn: 'none' });
    const file = await localFile('progress.jpg', 1_000_000, 'image/jpeg');
    const account = accountFor(server);
    const session = await adapter.createSession(account, file.job, call());
    const seen: number[] = [];
    await adapter.finalize(account, file.job, session, {
      signal: new AbortController().signal,
      onBytes: (n) => seen.push(n),
      resumed: false,
    });
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.at(-1)).toBe(1_000_000);
  });

  it('follows the part and complete URLs of a body plan (signed URLs)', async () => {
    const server = await sandbox({ signedUrls: true });
    const file = await localFile('signed.mp4', 2 * PART + 3, 'video/mp4');
    const { session, outcome } = await upload(accountFor(server), file.job);

    expect(session.partUrls).toHaveLength(3);
    expect(session.partUrls!.every((url) => url.includes('?signature='))).toBe(true);
    expect(session.completeUrl).toContain('/v2/access/uploads/complete?signature=');
    expect(session.expiresAt).toBeGreaterThan(Date.now());
    expect(server.partLog.every((entry) => entry.status === 200)).toBe(true);
    expect(server.requests.filter((request) => request.query.has('signature'))).toHaveLength(4);
    expect(completed(outcome).remoteId).not.toBeNull();
    expect(server.media).toEqual([expect.objectContaining({ sha256: file.sha256 })]);
  });

  it('sends each part to its pre-signed storage URL without the API key or connection id, then completes', async () => {
    const server = await sandbox({ partsOn: 'storage' });
    const file = await localFile('presigned.mp4', 3 * PART + 11, 'video/mp4');
    const { session, outcome, errors } = await upload(accountFor(server), file.job);

    expect(errors).toEqual([]);
    expect(session.mode).toBe('multipart');
    expect(session.partUrls!.every((url) => url.startsWith(`${server.storage.url}/`))).toBe(true);
    // The storage host saw every part once, byte-exact, and never an OFAuth credential.
    const received = [...server.storage.partLog].sort((a, b) => a.part - b.part);
    expect(received).toEqual(
      [1, 2, 3, 4].map((n) => ({
        uploadId: session.mediaUploadId,
        part: n,
        size: Math.min(n * PART, file.bytes.length) - (n - 1) * PART,
        sha256: sliceHash(file.bytes, (n - 1) * PART, Math.min(n * PART, file.bytes.length)),
        status: 200,
        sawApiKey: false,
        sawConnectionId: false,
      })),
    );
    expect(
      server.storage.requests.every(
        (request) => request.headers.apikey === undefined && request.headers['x-connection-id'] === undefined,
      ),
    ).toBe(true);
    expect(server.partLog).toEqual([]);
    // Only init and complete went to the API, both with the credentials.
    expect(server.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'POST /v2/access/uploads/init',
      'POST /v2/access/uploads/complete',
    ]);
    expect(server.requests.every((request) => request.headers.apikey === server.apiKey)).toBe(true);
    expect(server.completeCalls).toEqual([
      { mediaUploadId: session.mediaUploadId, body: { mediaUploadId: session.mediaUploadId }, status: 200 },
    ]);
    expect(completed(outcome).remoteId).toBe(String(server.media[0]!.id));
    expect(server.media).toEqual([expect.objectContaining({ sha256: file.sha256 })]);
  });

  it('sends a one-part plan on a storage host there, then completes it', async () => {
    const server = await sandbox({ partsOn: 'storage' });
    const file = await localFile('small-presigned.jpg', 1000, 'image/jpeg');
    const { session, outcome } = await upload(accountFor(server), file.job);

    expect(session).toMatchObject({ mode: 'multipart', totalParts: 1, partSize: 1000 });
    expect(server.storage.partLog).toEqual([
      expect.objectContaining({ part: 1, size: 1000, sha256: file.sha256, status: 200, sawApiKey: false }),
    ]);
    expect(server.singleLog).toEqual([]);
    expect(server.completeCalls.map((entry) => entry.status)).toEqual([200]);
    expect(completed(outcome).remoteId).toBe(String(server.media[0]!.id));
  });

  it('the storage host refuses a part that carries the API key (the emulator is strict)', async () => {
    const server = await sandbox({ partsOn: 'storage' });
    const file = await localFile('leak.mp4', 2 * PART, 'video/mp4');
    const session = await adapter.createSession(accountFor(server), file.job, call());
    const reply = await createAccountHttp()(session.partUrls![0]!, {
      method: 'PUT',
      body: file.bytes.subarray(0, PART),
      headers: { apikey: server.apiKey, 'x-connection-id': server.connectionId },
    });
    expect(reply.statusCode).toBe(403);
    expect(reply.body).toContain('<Code>AccessDenied</Code>');
    expect(server.storage.partLog).toEqual([
      expect.objectContaining({ part: 1, status: 403, sawApiKey: true, sawConnectionId: true }),
    ]);
  });

  it('starts a new upload when a storage URL has expired', async () => {
    const server = await sandbox({ partsOn: 'storage' });
    const account = accountFor(server);
    const file = await localFile('stale.mp4', 2 * PART, 'video/mp4');
    const session = await adapter.createSession(account, file.job, call());
    server.expireAll();
    const error = await rejection(
      adapter.uploadPart(account, file.job, session, adapter.planParts(session, file.job)[0]!, call()),
    );
    expect(error.kind).toBe('session-gone');
    expect(error.status).toBe(403);
    expect(error.message).toBe(
      'The storage host refused part 1 of 2 of stale.mp4 (403 AccessDenied Request has expired): the upload URL is no longer valid; starting a new upload',
    );
  });

  it("sends the guide's api.ofauth.com part URLs to the account's own API origin, with credentials", async () => {
    // The guide's example plan names https://api.ofauth.com whatever host the account uses
    // (api-next.ofauth.com by default): those are OFAuth endpoints, not storage.
    const server = await sandbox({ planOrigin: 'https://api.ofauth.com' });
    const file = await localFile('guide.mp4', 2 * PART + 1, 'video/mp4');
    const { session, outcome } = await upload(accountFor(server), file.job);

    expect(session.partUrls!.every((url) => url.startsWith('https://api.ofauth.com/v2/access/uploads/'))).toBe(true);
    expect(session.completeUrl).toBe('https://api.ofauth.com/v2/access/uploads/complete');
    const id = encodeURIComponent(session.mediaUploadId);
    const puts = server.requests.filter((request) => request.method === 'PUT');
    expect(puts.map((request) => request.path).sort()).toEqual(
      [1, 2, 3].map((n) => `/v2/access/uploads/${id}/parts/${n}`),
    );
    expect(
      puts.every(
        (request) =>
          request.headers.apikey === server.apiKey && request.headers['x-connection-id'] === server.connectionId,
      ),
    ).toBe(true);
    expect(completed(outcome).remoteId).toBe(String(server.media[0]!.id));
    expect(server.media).toEqual([expect.objectContaining({ sha256: file.sha256 })]);
  });

  it('reads a plan with storage part URLs and an epoch expiry, ignoring a complete URL on a foreign host', async () => {
    const server = await sandbox();
    const file = await localFile('elsewhere.mp4', 2 * PART, 'video/mp4');
    server.fault({
      path: '/v2/access/uploads/init',
      action: {
        type: 'status',
        status: 201,
        body: JSON.stringify({
          mediaUploadId: 'upload:abc',
          uploadType: 'multipart',
          totalParts: 2,
          partSize: PART,
          expiresAt: 4_102_444_800, // epoch seconds: 2100-01-01
          parts: [1, 2].map((n) => ({
            partNumber: n,
            uploadUrl: `https://elsewhere.example/p/${n}`,
            byteRange: { start: (n - 1) * PART, end: n * PART - 1 },
          })),
          completeUrl: 'https://elsewhere.example/complete',
        }),
      },
    });
    const session = await adapter.createSession(accountFor(server), file.job, call());
    expect(session).toEqual({
      mediaUploadId: 'upload:abc',
      mode: 'multipart',
      totalParts: 2,
      partSize: PART,
      size: 2 * PART,
      expiresAt: 4_102_444_800_000,
      partUrls: ['https://elsewhere.example/p/1', 'https://elsewhere.example/p/2'],
      // complete needs the API key: a foreign complete URL is never used.
      completeUrl: null,
    });
  });

  it('refuses a plan whose parts do not cover the file, naming the problem', async () => {
    const server = await sandbox();
    const file = await localFile('odd-plan.mp4', 3 * PART, 'video/mp4');
    server.fault({
      path: '/v2/access/uploads/init',
      action: {
        type: 'status',
        status: 201,
        body: JSON.stringify({ mediaUploadId: 'upload:x', uploadType: 'multipart', totalParts: 2, partSize: PART }),
      },
    });
    const error = await rejection(adapter.createSession(accountFor(server), file.job, call()));
    expect(error.kind).toBe('invalid');
    expect(error.message).toBe(
      `Starting the OFAuth upload of odd-plan.mp4: OFAuth proposed an upload plan Ferry cannot follow for 786,432 bytes ` +
        `(2 parts of ${PART} bytes do not cover 786432 bytes, upload upload:x); try again later, and report it if it persists`,
    );
  });

  it('re-sends a part whose reply was lost and still completes once', async () => {
    const server = await sandbox();
    const file = await localFile('lost-part.mp4', 4 * PART + 1, 'video/mp4');
    server.fault({ method: 'PUT', path: /\/parts\/3$/, action: { type: 'drop-response' } });
    const { outcome, errors } = await upload(accountFor(server), file.job);

    expect(errors.map((error) => error.kind)).toEqual(['network']);
    expect(server.partLog.filter((entry) => entry.part === 3)).toHaveLength(2);
    expect(completed(outcome).remoteId).not.toBeNull();
    expect(server.completeCalls).toHaveLength(1);
    expect(server.media).toEqual([expect.objectContaining({ sha256: file.sha256 })]);
  });

  it('resumes a persisted session after a restart by sending only the parts not acknowledged', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('restart.mp4', 5 * PART, 'video/mp4');
    const created = await adapter.createSession(account, file.job, call());
    const plan = adapter.planParts(created, file.job);
    for (const part of plan.slice(0, 2)) await adapter.uploadPart(account, file.job, created, part, call());

    // What the database kept, read back after the restart.
    const session = adapter.parseSession(JSON.parse(JSON.stringify(created)));
    expect(session).toEqual(created);
    expect(adapter.sessionUsable(session!, Date.now())).toBe(true);
    for (const part of adapter.planParts(session!, file.job).slice(2))
      await adapter.uploadPart(account, file.job, session!, part, call());
    await adapter.finalize(account, file.job, session!, { ...call(), resumed: false });

    expect(server.partLog.map((entry) => entry.part)).toEqual([1, 2, 3, 4, 5]);
    expect(server.media).toEqual([expect.objectContaining({ sha256: file.sha256 })]);
  });

  it.each([
    ['type', ', request req_000001'],
    ['code', ''],
    ['message', ''],
  ] as const)('reads the %s error body shape into a readable message', async (errorShape, requestId) => {
    const server = await sandbox({ errorShape });
    // validateSource would stop a PDF; going straight to init shows how a server refusal reads.
    const file = await localFile('notes.pdf', 10, 'application/pdf');
    const error = await rejection(adapter.createSession(accountFor(server), file.job, call()));
    expect(error.kind).toBe('invalid');
    expect(error.status).toBe(400);
    expect(error.message).toBe(
      'OFAuth refused to start the upload of notes.pdf (400 contentType application/pdf is not a supported media type ' +
        `[BAD_REQUEST]${requestId}): a retry would not help; check the file and the account`,
    );
  });

  it('reads a nested error object and an HTML error page', async () => {
    const server = await sandbox();
    const file = await localFile('shapes.mp4', 2 * PART, 'video/mp4');
    const account = accountFor(server);
    const session = await adapter.createSession(account, file.job, call());
    const [first] = adapter.planParts(session, file.job);

    server.fault({
      path: /\/parts\/1$/,
      action: { type: 'status', status: 400, body: '{"error":{"message":"Part is corrupt","code":"bad_part"}}' },
    });
    const nested = await rejection(adapter.uploadPart(account, file.job, session, first!, call()));
    expect(nested.kind).toBe('invalid');
    expect(nested.message).toMatch(/^OFAuth refused part 1 of 2 of shapes\.mp4 \(400 Part is corrupt \[BAD_PART\]\)/);

    server.fault({
      path: /\/parts\/1$/,
      action: { type: 'status', status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>' },
    });
    const html = await rejection(adapter.uploadPart(account, file.job, session, first!, call()));
    expect(html.kind).toBe('server');
    expect(html.message).toBe('OFAuth refused part 1 of 2 of shapes.mp4: 502 502 Bad Gateway; will retry');
  });

  it('maps a wrong API key or connection id to auth, saying what to check', async () => {
    const server = await sandbox({ errorShape: 'message' });
    const file = await localFile('secret.jpg', 100, 'image/jpeg');
    const wrongKey = await rejection(
      adapter.createSession(
        accountFor(server, { apiKey: 'wrong', connectionId: server.connectionId }),
        file.job,
        call(),
      ),
    );
    expect(wrongKey).toMatchObject({ kind: 'auth', status: 401 });
    expect(wrongKey.message).toBe(
      'OFAuth refused to start the upload of secret.jpg (401 Missing or invalid API key [UNAUTHORIZED]): check the API key and connection id of OFAuth account "vault"',
    );
    const wrongConnection = await rejection(
      adapter.createSession(
        accountFor(server, { apiKey: server.apiKey, connectionId: 'conn_other' }),
        file.job,
        call(),
      ),
    );
    expect(wrongConnection).toMatchObject({ kind: 'auth', status: 401 });
    expect(wrongConnection.message).toBe(
      'OFAuth refused to start the upload of secret.jpg (401 Connection not found or missing session data [SESSION_NOT_PROVIDED]): ' +
        'connection conn_other of OFAuth account "vault" is unknown or its OnlyFans session has expired; check the connection id, ' +
        'or reconnect the account through OFAuth Link, then retry',
    );
    const missing = await rejection(
      adapter.createSession(accountFor(server, { apiKey: server.apiKey }), file.job, call()),
    );
    expect(missing.kind).toBe('auth');
    expect(missing.message).toBe('OFAuth account "vault" has no connection id: add it in the account settings');
    expect(server.uploads.size).toBe(0);
  });

  it('maps 429 to rate-limited with the wait from X-RateLimit-Reset or Retry-After', async () => {
    const server = await sandbox({ rateLimit: { perMinute: 60, burst: 2 } });
    const account = accountFor(server);
    const file = await localFile('busy.mp4', 3 * PART, 'video/mp4');
    const session = await adapter.createSession(account, file.job, call());
    const [first, second, third] = adapter.planParts(session, file.job);
    await adapter.uploadPart(account, file.job, session, first!, call());

    // The emulator's own bucket is empty now: one token a second.
    const limited = await rejection(adapter.uploadPart(account, file.job, session, second!, call()));
    expect(limited.kind).toBe('rate-limited');
    expect(limited.status).toBe(429);
    expect(limited.retryAfterMs).toBe(1000);
    expect(limited.message).toBe(
      'OFAuth refused part 2 of 3 of busy.mp4: 429 Rate limit exceeded; waiting before trying again',
    );
    expect(server.rateLimited).toBe(1);

    server.fault({
      path: /\/parts\/3$/,
      action: {
        type: 'status',
        status: 429,
        body: '{"message":"Too many","code":"RATE_LIMIT_EXCEEDED"}',
        headers: { 'retry-after': '7' },
      },
    });
    const retryAfter = await rejection(adapter.uploadPart(account, file.job, session, third!, call()));
    expect(retryAfter).toMatchObject({ kind: 'rate-limited', retryAfterMs: 7000 });
  });

  it.each([
    [
      'not-found',
      404,
      'Upload {id} not found or expired [RESOURCE_NOT_FOUND]',
      'OFAuth no longer knows this upload (expired?); starting a new upload',
    ],
    [
      'bad-request',
      400,
      'Upload session {id} has expired [BAD_REQUEST]',
      'the upload session expired; starting a new upload',
    ],
  ] as const)(
    'maps an expired upload (%s) to session-gone and completes in a new one',
    async (expiredAs, status, text, advice) => {
      const server = await sandbox({ expiredAs, errorShape: 'code' });
      const account = accountFor(server);
      const file = await localFile('expiring.mp4', 3 * PART, 'video/mp4');
      const first = await adapter.createSession(account, file.job, call());
      const [part] = adapter.planParts(first, file.job);
      await adapter.uploadPart(account, file.job, first, part!, call());
      server.expireAll();

      const error = await rejection(
        adapter.uploadPart(account, file.job, first, adapter.planParts(first, file.job)[1]!, call()),
      );
      expect(error.kind).toBe('session-gone');
      expect(error.status).toBe(status);
      expect(error.message).toBe(
        `OFAuth refused part 2 of 3 of expiring.mp4 (${status} ${text.replace('{id}', first.mediaUploadId)}): ${advice}`,
      );

      const { session, outcome } = await upload(account, file.job);
      expect(session.mediaUploadId).not.toBe(first.mediaUploadId);
      expect(completed(outcome).remoteId).not.toBeNull();
      expect(server.media).toEqual([expect.objectContaining({ uploadId: session.mediaUploadId, sha256: file.sha256 })]);
    },
  );

  it('maps SESSION_EXPIRED (the OnlyFans session of the connection, 401) to auth, never to a new upload', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('relink.mp4', 2 * PART, 'video/mp4');
    const session = await adapter.createSession(account, file.job, call());
    server.fault({
      path: /\/parts\/1$/,
      action: {
        type: 'status',
        status: 401,
        body: JSON.stringify({
          error: 'User session has expired',
          type: 'SESSION_EXPIRED',
          requestId: 'req_9',
          actionRequired: 'refresh_session',
        }),
      },
    });
    const error = await rejection(
      adapter.uploadPart(account, file.job, session, adapter.planParts(session, file.job)[0]!, call()),
    );
    expect(error).toMatchObject({ kind: 'auth', status: 401 });
    expect(error.message).toBe(
      'OFAuth refused part 1 of 2 of relink.mp4 (401 User session has expired [SESSION_EXPIRED], request req_9): ' +
        `connection ${server.connectionId} of OFAuth account "vault" is unknown or its OnlyFans session has expired; check the connection id, ` +
        'or reconnect the account through OFAuth Link, then retry',
    );
  });

  it('retries RULES_OUTDATED, which OFAuth documents as fixing itself', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('rules.mp4', 2 * PART, 'video/mp4');
    const session = await adapter.createSession(account, file.job, call());
    server.fault({
      path: /\/parts\/2$/,
      action: {
        type: 'status',
        status: 401,
        body: JSON.stringify({ error: 'Dynamic rules need updating', type: 'RULES_OUTDATED' }),
      },
    });
    const { errors } = await sendParts(account, file.job, session, { width: 1 });
    expect(errors.map((error) => [error.kind, error.message])).toEqual([
      [
        'server',
        'OFAuth refused part 2 of 2 of rules.mp4 (401 Dynamic rules need updating [RULES_OUTDATED]): OFAuth is updating its OnlyFans rules; will retry',
      ],
    ]);
    await adapter.finalize(account, file.job, session, { ...call(), resumed: false });
    expect(server.media).toEqual([expect.objectContaining({ sha256: file.sha256 })]);
  });

  it('maps a 404 from init to invalid, pointing at the base URL', async () => {
    const server = await sandbox();
    const file = await localFile('nowhere.jpg', 10, 'image/jpeg');
    const account = { ...accountFor(server), baseUrl: `${server.url}/api` };
    const error = await rejection(adapter.createSession(account, file.job, call()));
    expect(error.kind).toBe('invalid');
    expect(error.status).toBe(404);
    expect(error.message).toBe(
      `OFAuth refused to start the upload of nowhere.jpg (404 No route for POST /api/v2/access/uploads/init [ROUTE_NOT_FOUND], request req_000001): ` +
        `check the account's base URL (${server.url}/api)`,
    );
  });

  it('maps an upload the server does not know to session-gone', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('unknown.mp4', 2 * PART, 'video/mp4');
    const session: OfauthSession = {
      mediaUploadId: 'upload:gone',
      mode: 'multipart',
      totalParts: 2,
      partSize: PART,
      size: 2 * PART,
      expiresAt: null,
      partUrls: null,
      completeUrl: null,
    };
    const error = await rejection(
      adapter.uploadPart(account, file.job, session, adapter.planParts(session, file.job)[0]!, call()),
    );
    expect(error.kind).toBe('session-gone');
    expect(error.status).toBe(404);
    expect(server.requests[0]!.path).toBe('/v2/access/uploads/upload%3Agone/parts/1');
  });

  it('reports a completed upload whose complete reply was lost, without creating a second media', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('lost-complete.mp4', PART + 10, 'video/mp4');
    const session = await adapter.createSession(account, file.job, call());
    await sendParts(account, file.job, session);
    server.fault({ path: '/v2/access/uploads/complete', action: { type: 'drop-response' } });

    const lost = await rejection(adapter.finalize(account, file.job, session, { ...call(), resumed: false }));
    expect(lost.kind).toBe('network');
    const outcome = await adapter.finalize(account, file.job, session, { ...call(), resumed: true });

    expect(outcome).toEqual({
      kind: 'completed',
      result: {
        remoteId: null,
        url: null,
        details: {
          mediaUploadId: session.mediaUploadId,
          warning:
            `OFAuth had already completed this upload (${session.mediaUploadId}) but its reply was lost; ` +
            'the media is in the OnlyFans vault but Ferry could not read its id.',
        },
      },
    });
    expect(server.completeCalls.map((entry) => entry.status)).toEqual([200, 409]);
    expect(server.media).toEqual([expect.objectContaining({ sha256: file.sha256 })]);
  });

  it('reports a single upload whose PUT reply was lost, without creating a second media', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('lost-single.jpg', 5000, 'image/jpeg');
    const session = await adapter.createSession(account, file.job, call());
    server.fault({ method: 'PUT', action: { type: 'drop-response' } });

    expect((await rejection(adapter.finalize(account, file.job, session, { ...call(), resumed: false }))).kind).toBe(
      'network',
    );
    const result = completed(await adapter.finalize(account, file.job, session, { ...call(), resumed: true }));
    expect(result.remoteId).toBeNull();
    expect(result.details.warning).toContain('reply was lost');
    expect(server.singleLog.map((entry) => entry.status)).toEqual([200, 409]);
    expect(server.media).toHaveLength(1);
  });

  it('completes normally on a resumed call when the earlier complete never reached the server', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('never-sent.mp4', 2 * PART + 1, 'video/mp4');
    const session = await adapter.createSession(account, file.job, call());
    await sendParts(account, file.job, session);
    server.fault({ path: '/v2/access/uploads/complete', action: { type: 'reset' } });

    expect((await rejection(adapter.finalize(account, file.job, session, { ...call(), resumed: false }))).kind).toBe(
      'network',
    );
    const result = completed(await adapter.finalize(account, file.job, session, { ...call(), resumed: true }));
    expect(result.remoteId).toBe(String(server.media[0]!.id));
    expect(server.media).toEqual([expect.objectContaining({ sha256: file.sha256 })]);
  });

  it('turns an unreadable complete reply into a server error, then reconciles as completed', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('garbled.mp4', 2 * PART, 'video/mp4');
    const session = await adapter.createSession(account, file.job, call());
    await sendParts(account, file.job, session);
    server.fault({
      path: '/v2/access/uploads/complete',
      action: { type: 'malformed', status: 200, body: '{"mediaUploadId":"upl', contentType: 'application/json' },
    });

    const garbled = await rejection(adapter.finalize(account, file.job, session, { ...call(), resumed: false }));
    expect(garbled.kind).toBe('server');
    expect(garbled.message).toBe(
      'Completing the OFAuth upload of garbled.mp4: OFAuth answered with an unreadable reply (200 {"mediaUploadId":"upl); will check again',
    );
    const result = completed(await adapter.finalize(account, file.job, session, { ...call(), resumed: true }));
    expect(result.details.warning).toContain('reply was lost');
    expect(server.media).toHaveLength(1);
  });

  it('turns an unreadable init or part reply into a server error', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('html.mp4', 2 * PART, 'video/mp4');
    server.fault({
      path: '/v2/access/uploads/init',
      action: { type: 'malformed', status: 200, body: '<html>Cloudflare says hi</html>' },
    });
    const init = await rejection(adapter.createSession(account, file.job, call()));
    expect(init.kind).toBe('server');
    expect(init.message).toBe(
      'Starting the OFAuth upload of html.mp4: OFAuth answered with an unreadable reply (200 Cloudflare says hi); will retry',
    );

    const session = await adapter.createSession(account, file.job, call());
    server.fault({ path: /\/parts\/1$/, action: { type: 'malformed', status: 200, body: '<html>oops</html>' } });
    const { errors } = await sendParts(account, file.job, session, { width: 1 });
    expect(errors.map((error) => error.message)).toEqual([
      'OFAuth answered part 1 of 2 of html.mp4 with an unreadable reply (200 oops); will send the part again',
    ]);
    await adapter.finalize(account, file.job, session, { ...call(), resumed: false });
    expect(server.media).toEqual([expect.objectContaining({ sha256: file.sha256 })]);
  });

  it('refuses to complete an upload that was completed outside this call', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('twice.mp4', 2 * PART, 'video/mp4');
    const { session } = await upload(account, file.job);
    const error = await rejection(adapter.finalize(account, file.job, session, { ...call(), resumed: false }));
    expect(error.kind).toBe('invalid');
    expect(error.message).toContain('was already completed outside this job; check the OnlyFans vault');
    expect(server.media).toHaveLength(1);
  });

  it('asks a person to check when a resumed finalize finds the upload expired', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('unsure.mp4', 2 * PART, 'video/mp4');
    const session = await adapter.createSession(account, file.job, call());
    await sendParts(account, file.job, session);
    server.expireAll();
    const error = await rejection(adapter.finalize(account, file.job, session, { ...call(), resumed: true }));
    expect(error.kind).toBe('invalid');
    expect(error.message).toContain('Ferry cannot tell whether its earlier attempt to finish upload');
    // Not resumed, the same reply is simply a new session.
    expect((await rejection(adapter.finalize(account, file.job, session, { ...call(), resumed: false }))).kind).toBe(
      'session-gone',
    );
    expect(server.media).toEqual([]);
  });

  it('reconciles a resumed complete with the media id when OFAuth answers a repeated complete with the same media', async () => {
    const server = await sandbox({ afterComplete: 'same-media' });
    const account = accountFor(server);
    const file = await localFile('idempotent.mp4', 2 * PART, 'video/mp4');
    const session = await adapter.createSession(account, file.job, call());
    await sendParts(account, file.job, session);
    server.fault({ path: '/v2/access/uploads/complete', action: { type: 'drop-response' } });

    expect((await rejection(adapter.finalize(account, file.job, session, { ...call(), resumed: false }))).kind).toBe(
      'network',
    );
    const result = completed(await adapter.finalize(account, file.job, session, { ...call(), resumed: true }));
    expect(result.remoteId).toBe(String(server.media[0]!.id));
    expect(server.media).toHaveLength(1);
  });

  it('asks a person to check when a resumed complete finds the finished upload gone (never a new upload)', async () => {
    const server = await sandbox({ afterComplete: 'not-found' });
    const account = accountFor(server);
    const file = await localFile('consumed.mp4', 2 * PART, 'video/mp4');
    const session = await adapter.createSession(account, file.job, call());
    await sendParts(account, file.job, session);
    server.fault({ path: '/v2/access/uploads/complete', action: { type: 'drop-response' } });

    expect((await rejection(adapter.finalize(account, file.job, session, { ...call(), resumed: false }))).kind).toBe(
      'network',
    );
    const error = await rejection(adapter.finalize(account, file.job, session, { ...call(), resumed: true }));
    expect(error.kind).toBe('invalid');
    expect(error.message).toBe(
      `OFAuth refused to complete the upload of consumed.mp4 (404 Upload ${session.mediaUploadId} not found [RESOURCE_NOT_FOUND], request req_000001): ` +
        `Ferry cannot tell whether its earlier attempt to finish upload ${session.mediaUploadId} went through; check the OnlyFans vault before uploading the file again`,
    );
    expect(server.media).toHaveLength(1);
  });

  it('after a complete that got no reply before the engine gave up, the resumed call finishes the upload once', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('slow-complete.mp4', 2 * PART, 'video/mp4');
    const session = await adapter.createSession(account, file.job, call());
    await sendParts(account, file.job, session);
    // The body of complete went out and no reply ever comes; the engine's reply wait runs out.
    server.fault({ path: '/v2/access/uploads/complete', action: { type: 'stall' } });
    const controller = new AbortController();
    const pending = adapter.finalize(account, file.job, session, {
      signal: controller.signal,
      onBytes: () => {},
      resumed: false,
    });
    setTimeout(() => controller.abort(), 50);
    expect((await rejection(pending)).kind).toBe('aborted');

    const result = completed(await adapter.finalize(account, file.job, session, { ...call(), resumed: true }));
    expect(result.remoteId).toBe(String(server.media[0]!.id));
    expect(
      server.requests
        .filter((request) => request.path === '/v2/access/uploads/complete')
        .map((request) => request.fault ?? request.status),
    ).toEqual(['stall', 200]);
    expect(server.media).toEqual([expect.objectContaining({ sha256: file.sha256 })]);
  });

  it('completes without a media id when the finalize reply holds no media (the OpenAPI makes it optional)', async () => {
    const server = await sandbox({ completeMedia: false });
    for (const [name, size] of [
      ['no-media.mp4', 2 * PART],
      ['no-media.jpg', 100],
    ] as const) {
      const file = await localFile(name, size, name.endsWith('.mp4') ? 'video/mp4' : 'image/jpeg');
      const { session, outcome, errors } = await upload(accountFor(server), file.job);
      expect(errors).toEqual([]);
      expect(outcome).toEqual({
        kind: 'completed',
        result: {
          remoteId: null,
          url: null,
          details: { mediaUploadId: session.mediaUploadId, note: OFAUTH_NO_MEDIA_NOTE },
        },
      });
    }
    // One finalize each: no retry loop over a reply that was a success.
    expect(server.completeCalls).toHaveLength(1);
    expect(server.singleLog).toHaveLength(1);
    expect(server.media).toHaveLength(2);
  });

  it('reports a media OnlyFans is still processing as completed, with a note', async () => {
    const server = await sandbox({ mediaReady: false });
    const file = await localFile('fresh.mp4', 2 * PART, 'video/mp4');
    const { outcome } = await upload(accountFor(server), file.job);
    const result = completed(outcome);
    expect(result.remoteId).toBe(String(server.media[0]!.id));
    expect(result.url).toBeNull();
    expect(result.details).toMatchObject({
      isReady: false,
      hasError: false,
      type: 'video',
      note: OFAUTH_PROCESSING_NOTE,
    });
    expect(adapter.poll).toBeUndefined();
  });

  it('stops at once when the call is aborted mid-part', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('paused.mp4', 2 * PART, 'video/mp4');
    const session = await adapter.createSession(account, file.job, call());
    server.fault({ method: 'PUT', action: { type: 'stall' } });
    const controller = new AbortController();
    const pending = adapter.uploadPart(account, file.job, session, adapter.planParts(session, file.job)[0]!, {
      signal: controller.signal,
      onBytes: () => {},
    });
    setTimeout(() => controller.abort(), 50);
    expect((await rejection(pending)).kind).toBe('aborted');
    expect(server.media).toEqual([]);
  });

  describe('pacing a 100-part upload with the connection budget (60/min, burst 90)', () => {
    /** A clock whose sleeps pass at once, shared by Ferry's bucket and the emulator's. */
    function fakeClock(): Clock & { elapsed(): number } {
      const start = 1_800_000_000_000;
      let now = start;
      return {
        now: () => now,
        sleep: async (ms, signal) => {
          signal?.throwIfAborted();
          now += ms;
        },
        elapsed: () => now - start,
      };
    }

    it('never meets a 429 when the account lane paces with the same bucket', async () => {
      const clock = fakeClock();
      const budget = adapter.capabilities.rateLimit!;
      const server = await sandbox({ rateLimit: budget, clock, partSize: 1024 });
      const bucket = new TokenBucket(budget.perMinute, budget.burst, clock);
      const account = accountFor(server, undefined, createAccountHttp({ pace: (signal) => bucket.take(signal) }));
      const file = await localFile('hundred.mp4', 100 * 1024, 'video/mp4');

      const { session, errors, outcome } = await upload(account, file.job, {
        width: adapter.capabilities.maxParallelParts,
      });
      expect(session.totalParts).toBe(100);
      expect(errors).toEqual([]);
      expect(server.rateLimited).toBe(0);
      expect(server.requests).toHaveLength(102);
      expect(server.requests.every((request) => request.status !== 429)).toBe(true);
      // 90 requests from the burst, then 12 more at one a second.
      expect(clock.elapsed()).toBeGreaterThanOrEqual(12_000);
      expect(clock.elapsed()).toBeLessThan(13_000);
      expect(server.maxInFlight).toBeLessThanOrEqual(2);
      expect(completed(outcome).remoteId).not.toBeNull();
      expect(server.media).toEqual([expect.objectContaining({ sha256: file.sha256 })]);
    });

    it('meets 429 without pacing (the budget is real)', async () => {
      const clock = fakeClock();
      const server = await sandbox({ rateLimit: adapter.capabilities.rateLimit, clock, partSize: 1024 });
      const file = await localFile('unpaced.mp4', 100 * 1024, 'video/mp4');
      const error = await rejection(upload(accountFor(server), file.job));
      expect(error.kind).toBe('rate-limited');
      expect(error.retryAfterMs).toBe(1000);
      expect(server.requests.filter((request) => request.status !== 429)).toHaveLength(90);
    });
  });
});

describe('OFAuth connection test', () => {
  const probeAccount = (server: OfauthSandbox, connectionId: string): ProbeAccount => ({
    id: 1,
    name: 'vault',
    baseUrl: server.url,
    settings: {},
    secrets: { apiKey: server.apiKey, connectionId },
  });

  it('passes with the right key and connection, creating nothing', async () => {
    const server = await sandbox();
    const result = await testConnection(adapter, probeAccount(server, server.connectionId));
    expect(result).toMatchObject({ ok: true, message: null });
    expect(server.requests.map((request) => request.status)).toEqual([401, 404]);
    expect(server.uploads.size).toBe(0);
  });

  it('says to check the connection id or reconnect through Link when OFAuth answers SESSION_NOT_PROVIDED', async () => {
    const server = await sandbox();
    const result = await testConnection(adapter, probeAccount(server, 'conn_gone'));
    expect(result.ok).toBe(false);
    expect(result.message).toMatch(
      /^OFAuth accepted the API key, but connection conn_gone is unknown or its OnlyFans session has expired \(401 .*SESSION_NOT_PROVIDED.*\); check the connection id, or reconnect the account through OFAuth Link$/,
    );
  });
});

describe('OFAuth source validation and plan', () => {
  const file = (name: string, size: number, mime: string): UploadSource => ({
    kind: 'file',
    path: `/tmp/${name}`,
    name,
    size,
    mime,
  });

  it('accepts photos, videos and audio, guessing the type from the name when it is generic', () => {
    expect(() => adapter.validateSource(file('a.jpg', 10, 'image/jpeg'), {})).not.toThrow();
    expect(() => adapter.validateSource(file('a.mp4', 10, 'video/mp4'), {})).not.toThrow();
    expect(() => adapter.validateSource(file('a.m4a', 10, 'audio/mp4'), {})).not.toThrow();
    expect(() => adapter.validateSource(file('clip.mov', 10, 'application/octet-stream'), {})).not.toThrow();
    expect(() => adapter.validateSource(file('huge.mp4', 50 * 1024 ** 3, 'video/mp4'), {})).not.toThrow();
  });

  it('rejects other types, saying what the vault takes', () => {
    const error = thrown(() => adapter.validateSource(file('notes.pdf', 100, 'application/pdf'), {}));
    expect(error.kind).toBe('unsupported');
    expect(error.message).toBe(
      'notes.pdf is of type application/pdf: the OnlyFans vault takes photos, videos and audio (image/*, video/*, audio/*)',
    );
    expect(thrown(() => adapter.validateSource(file('blob', 100, ''), {})).message).toContain('of an unknown type');
  });

  it('rejects URL sources and empty files', () => {
    const url = thrown(() =>
      adapter.validateSource(
        { kind: 'url', url: 'https://example.com/a.jpg', name: 'a.jpg', size: 10, mime: 'image/jpeg' },
        {},
      ),
    );
    expect(url.kind).toBe('unsupported');
    expect(url.message).toBe('a.jpg: OFAuth uploads local files, not URLs (https://example.com/a.jpg)');
    const empty = thrown(() => adapter.validateSource(file('empty.jpg', 0, 'image/jpeg'), {}));
    expect(empty.kind).toBe('invalid');
    expect(empty.message).toBe('empty.jpg is empty: OFAuth needs at least one byte');
  });

  it('takes vaultMode and vaultUserId, refusing a mode OFAuth does not document in one line', () => {
    const jpg = file('a.jpg', 10, 'image/jpeg');
    expect(() => adapter.validateSource(jpg, { vaultMode: 'message', vaultUserId: '12345' })).not.toThrow();
    expect(() => adapter.validateSource(jpg, { vaultUserId: '12345' })).not.toThrow();
    const mode = thrown(() => adapter.validateSource(jpg, { vaultMode: 'post' }));
    expect(mode.kind).toBe('invalid');
    expect(mode.message).toBe('a.jpg: vaultMode must be message (the modes OFAuth documents), not "post"');
    expect(thrown(() => adapter.validateSource(jpg, { vaultUserId: ' ' })).message).toBe(
      'a.jpg: vaultUserId is empty; give the OnlyFans user id or leave it out',
    );
  });

  it('refuses the old boolean vaultUpload=true (no documented mode matches it) and reads vaultUpload=false as none', () => {
    const jpg = file('a.jpg', 10, 'image/jpeg');
    for (const value of ['true', 'yes']) {
      const error = thrown(() => adapter.validateSource(jpg, { vaultUpload: value }));
      expect(error.kind).toBe('invalid');
      expect(error.message).toBe(
        `a.jpg: the vaultUpload option is no longer accepted (OFAuth's vaultUpload is an object, not "${value}"); ` +
          'use vaultMode=message and vaultUserId=<OnlyFans user id> instead',
      );
    }
    expect(() => adapter.validateSource(jpg, { vaultUpload: 'false' })).not.toThrow();
  });

  it.each([
    [
      { vaultMode: 'message', vaultUserId: '12345' },
      { mode: 'message', userId: '12345' },
    ],
    [{ vaultUserId: '777' }, { userId: '777' }],
    [{ vaultMode: 'message' }, { mode: 'message' }],
    [{ vaultUpload: 'false' }, undefined],
  ])('sends the vault options %o as the documented vaultUpload object', async (options, expected) => {
    const server = await startOfauthSandbox({ rateLimit: null });
    try {
      const local = await localFile('vault.jpg', 10, 'image/jpeg', options);
      await adapter.createSession(accountFor(server), local.job, call());
      const body = {
        filename: 'vault.jpg',
        size: 10,
        contentType: 'image/jpeg',
        ...(expected ? { vaultUpload: expected } : {}),
      };
      expect(server.initCalls).toEqual([{ body, status: 201 }]);
      expect([...server.uploads.values()][0]!.vaultUpload).toEqual(expected ?? null);
    } finally {
      await server.close();
    }
  });

  it("refuses a boolean vaultUpload at init, as the API reference's schema does (the emulator is strict)", async () => {
    const server = await startOfauthSandbox({ rateLimit: null });
    try {
      const reply = await createAccountHttp()(`${server.url}/v2/access/uploads/init`, {
        method: 'POST',
        json: { filename: 'a.jpg', size: 10, contentType: 'image/jpeg', vaultUpload: true },
        headers: { apikey: server.apiKey, 'x-connection-id': server.connectionId },
      });
      expect(reply.statusCode).toBe(400);
      expect(JSON.parse(reply.body)).toEqual({
        error: 'vaultUpload: expected an object {mode, userId}, received true',
        type: 'BAD_REQUEST',
        requestId: expect.stringMatching(/^req_/),
      });
      expect(server.uploads.size).toBe(0);
      // A job persisted with the old option fails at init with the same one-line error, before any request.
      const local = await localFile('old.jpg', 10, 'image/jpeg', { vaultUpload: 'true' });
      expect((await rejection(adapter.createSession(accountFor(server), local.job, call()))).message).toContain(
        'vaultMode=message',
      );
      expect(server.initCalls).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  const session: OfauthSession = {
    mediaUploadId: 'upload:1',
    mode: 'multipart',
    totalParts: 3,
    partSize: PART,
    size: 2 * PART + 5,
    expiresAt: Date.parse('2030-01-01T00:00:00Z'),
    partUrls: null,
    completeUrl: null,
  };

  it('plans parts on a grid of partSize with a shorter last part, and none in single mode', () => {
    const job = { jobId: 1, source: file('p.mp4', 2 * PART + 5, 'video/mp4'), options: {}, file: null };
    expect(adapter.planParts(session, job)).toEqual([
      { index: 0, start: 0, end: PART },
      { index: 1, start: PART, end: 2 * PART },
      { index: 2, start: 2 * PART, end: 2 * PART + 5 },
    ]);
    expect(adapter.planParts({ ...session, mode: 'single', totalParts: 1, partSize: session.size }, job)).toEqual([]);
  });

  it('treats a session within 30 s of its expiry as unusable, and rejects corrupt sessions', () => {
    const expiry = session.expiresAt!;
    expect(adapter.sessionUsable(session, expiry - 31_000)).toBe(true);
    expect(adapter.sessionUsable(session, expiry - 29_000)).toBe(false);
    expect(adapter.sessionUsable({ ...session, expiresAt: null }, Date.now())).toBe(true);
    expect(adapter.parseSession(session)).toEqual(session);
    expect(adapter.parseSession({ ...session, totalParts: 4 })).toBeNull();
    expect(adapter.parseSession({ ...session, mode: 'chunked' })).toBeNull();
    expect(adapter.parseSession({ ...session, partUrls: ['http://x/1'] })).toBeNull();
    expect(adapter.parseSession(null)).toBeNull();
  });
});
