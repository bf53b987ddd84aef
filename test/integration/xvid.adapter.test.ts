/**
 * The Xvid MediaHub adapter against its emulator over real loopback HTTP. A tiny driver stands in for
 * the engine: create a session, send the one part (starting a new session on session-gone), finish
 * (again with `resumed` after an unknown outcome), and poll until the upload leaves COMPLETING. The
 * assertions are on what the emulator received.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAccountHttp } from '../../main/engine/accountHttp.ts';
import { UploadError } from '../../main/core/errors.ts';
import { testFileSource } from '../support/fileSources.ts';
import {
  clearXvidTokenCache,
  xvidAdapter as adapter,
  XVID_RESUME_NOTE,
  type XvidSession,
} from '../../main/providers/xvid/xvidAdapter.ts';
import { XVID_SESSION_SEND_WINDOW_MS } from '../../main/providers/xvid/xvidSession.ts';
import type {
  AccountContext,
  CallContext,
  JobContext,
  UploadResult,
  UploadSource,
} from '../../main/providers/types.ts';
import { startXvidSandbox, type XvidSandbox, type XvidSandboxOptions } from '../sandbox/xvid.ts';
import { rejection, thrown } from '../support/uploadErrors.ts';

let dir: string;
const sandboxes: XvidSandbox[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-xvid-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  // Tokens are cached per base URL; a later sandbox may reuse a closed one's port.
  clearXvidTokenCache();
});

afterEach(async () => {
  await Promise.all(sandboxes.splice(0).map((sandbox) => sandbox.close()));
});

async function sandbox(options: XvidSandboxOptions = {}): Promise<XvidSandbox> {
  const started = await startXvidSandbox(options);
  sandboxes.push(started);
  return started;
}

function accountFor(
  server: XvidSandbox,
  overrides: { secrets?: Record<string, string>; settings?: Record<string, string> } = {},
): AccountContext {
  return {
    id: 1,
    name: 'test hub',
    baseUrl: server.apiUrl,
    settings: { pipelineId: server.pipelineId, objectKeyPrefix: 'uploads/', ...overrides.settings },
    secrets: { clientId: server.clientId, clientSecret: server.clientSecret, ...overrides.secrets },
    http: createAccountHttp(),
  };
}

interface LocalFile {
  job: JobContext;
  sha256: string;
}

async function localFile(name: string, size: number, mime = 'video/mp4'): Promise<LocalFile> {
  const path = join(dir, `${randomBytes(4).toString('hex')}-${name}`);
  const bytes = randomBytes(size);
  await writeFile(path, bytes);
  return { job: jobFor(path, name, size, mime), sha256: createHash('sha256').update(bytes).digest('hex') };
}

function jobFor(path: string, name: string, size: number, mime: string): JobContext {
  const source: UploadSource = { kind: 'file', path, name, size, mime };
  return { jobId: 1, source, options: {}, file: testFileSource(path, size) };
}

function call(): CallContext {
  return { signal: new AbortController().signal, onBytes: () => {} };
}

const RETRYABLE = new Set(['network', 'timeout', 'server', 'rate-limited']);

interface Driven {
  result: UploadResult;
  sessions: XvidSession[];
  errors: UploadError[];
  polls: number;
}

/** Sends the file the way the engine does and returns what happened; throws the first final error. */
async function upload(account: AccountContext, job: JobContext): Promise<Driven> {
  adapter.validateSource(job.source, job.options);
  const errors: UploadError[] = [];
  const record = (error: unknown): UploadError => {
    if (!(error instanceof UploadError)) throw error;
    errors.push(error);
    return error;
  };
  const sessions: XvidSession[] = [await adapter.createSession(account, job, call())];
  let session = sessions[0]!;

  for (let attempt = 0; ; attempt += 1) {
    if (attempt >= 6) throw new Error('driver: too many attempts to send the file');
    const [part] = adapter.planParts(session, job);
    try {
      session = (await adapter.uploadPart(account, job, session, part!, call())).session;
      break;
    } catch (error) {
      const failure = record(error);
      if (failure.kind === 'session-gone') {
        session = await adapter.createSession(account, job, call());
        sessions.push(session);
      } else if (!RETRYABLE.has(failure.kind)) {
        throw failure;
      }
    }
  }

  let outcome;
  for (let attempt = 0; ; attempt += 1) {
    if (attempt >= 4) throw new Error('driver: too many attempts to finish');
    try {
      outcome = await adapter.finalize(account, job, session, { ...call(), resumed: attempt > 0 });
      break;
    } catch (error) {
      if (!RETRYABLE.has(record(error).kind)) throw error;
    }
  }

  let polls = 0;
  while (outcome.kind === 'processing') {
    if (polls >= 20) throw new Error('driver: still processing after 20 polls');
    polls += 1;
    outcome = await adapter.poll!(account, job, outcome.session, call());
  }
  return { result: outcome.result, sessions, errors, polls };
}

describe('Xvid MediaHub adapter against the emulator', () => {
  it.each([
    { size: 1, name: 'dot.mp4' },
    { size: 1_000_000, name: 'my clip.mp4' },
    { size: 3_145_739, name: 'holiday (1).mov' },
  ])('uploads $size bytes of $name byte-exact and reports the processed file', async ({ size, name }) => {
    const server = await sandbox();
    const file = await localFile(name, size);
    const { result, errors, sessions, polls } = await upload(accountFor(server), file.job);

    expect(errors).toEqual([]);
    const objectKey = sessions[0]!.objectKey;
    expect(objectKey).toMatch(/^uploads\/ferry-1-[0-9a-f]{8}\//);
    expect(objectKey.endsWith(`/${name}`)).toBe(true);
    // The create reply already names the file: kept in the session from the start.
    expect(sessions[0]!.fileId).toBe(server.uploads.get(sessions[0]!.uploadId)!.fileId);
    expect(server.createCalls).toEqual([
      { objectKey, pipelineId: server.pipelineId, expiresAt: '0', uploadId: sessions[0]!.uploadId, status: 200 },
    ]);
    expect(server.objects.get(`tmp/${server.pipelineId}/${objectKey}`)).toEqual({
      uploadId: sessions[0]!.uploadId,
      size,
      sha256: file.sha256,
    });
    expect(server.s3Posts).toHaveLength(1);
    expect(server.s3Posts[0]).toMatchObject({
      uploadId: sessions[0]!.uploadId,
      size,
      sha256: file.sha256,
      status: 201,
    });
    const stored = server.uploads.get(sessions[0]!.uploadId)!;
    expect(stored.stored).toMatchObject({ size, sha256: file.sha256 });
    expect(stored.status).toBe('COMPLETED');
    expect(polls).toBe(3);

    expect(result).toEqual({
      remoteId: stored.fileId,
      url: null,
      details: {
        uploadId: stored.id,
        fileId: stored.fileId,
        status: 'COMPLETED',
        objectKey,
        pipelineId: server.pipelineId,
        storageType: 'S3',
        expiresAt: 'never',
        resumeNote: XVID_RESUME_NOTE,
      },
    });
  });

  it('sends every issued form field unchanged and in order, with the file last and no Authorization', async () => {
    const server = await sandbox();
    const file = await localFile('fields.mp4', 5000);
    const { sessions } = await upload(accountFor(server), file.job);

    const issued = server.uploads.get(sessions[0]!.uploadId)!.params;
    expect(sessions[0]!.formPostParams).toEqual(issued);
    expect(server.s3Posts[0]!.fieldOrder).toEqual([...issued.map(([name]) => name), 'file']);
    const s3Requests = server.requests.filter((request) => request.path.startsWith('/s3/'));
    expect(s3Requests).toHaveLength(1);
    expect(s3Requests[0]!.headers.authorization).toBeUndefined();
    expect(Number(s3Requests[0]!.headers['content-length'])).toBeGreaterThan(5000);
    const apiRequests = server.requests.filter((request) => request.path.startsWith('/v1/files/'));
    expect(apiRequests.every((request) => /^Bearer [0-9a-f]+$/.test(String(request.headers.authorization)))).toBe(true);
  });

  it('asks for a token with grant_type=client_credential, singular, and scope mediahub', async () => {
    const server = await sandbox();
    const file = await localFile('grant.mp4', 10);
    await upload(accountFor(server), file.job);
    expect(server.tokenCalls).toEqual([
      { grantType: 'client_credential', clientId: server.clientId, scope: 'mediahub', status: 200 },
    ]);
    const tokenRequest = server.requests.find((request) => request.path === '/v1/oauth2/token/')!;
    expect(tokenRequest.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
  });

  it('reuses one token across uploads of the same account', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    await upload(account, (await localFile('first.mp4', 100)).job);
    await upload(accountFor(server), (await localFile('second.mp4', 200)).job);
    expect(server.tokenCalls).toHaveLength(1);
    expect(server.createCalls).toHaveLength(2);
  });

  it('fetches a new token once after a 403 0x0000003 and repeats the refused call', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    await upload(account, (await localFile('before.mp4', 100)).job);
    server.expireTokens();

    const { errors } = await upload(account, (await localFile('after.mp4', 100)).job);
    expect(errors).toEqual([]);
    expect(server.tokenCalls.map((entry) => entry.status)).toEqual([200, 200]);
    const creates = server.requests.filter((request) => request.path === '/v1/files/uploads/');
    expect(creates.map((request) => request.status)).toEqual([200, 403, 200]);
    // The refused create left nothing behind: one upload per file.
    expect(server.uploads.size).toBe(2);
  });

  it('renews a token shortly before it expires instead of waiting for a 403', async () => {
    const server = await sandbox({ tokenTtlSeconds: 1 });
    const account = accountFor(server);
    await upload(account, (await localFile('early.mp4', 100)).job);
    await new Promise((resolve) => setTimeout(resolve, 600));
    await upload(account, (await localFile('late.mp4', 100)).job);
    expect(server.tokenCalls).toHaveLength(2);
    expect(server.requests.filter((request) => request.status === 403)).toEqual([]);
  });

  it('reports a refused token again as auth when a fresh token is refused too', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('refused.mp4', 100);
    const invalid = '{"error":{"error_code":"0x0000003","error_message":"Invalid access token"}}';
    server.fault({ path: '/v1/files/uploads/', times: 2, action: { type: 'status', status: 403, body: invalid } });
    const error = await rejection(adapter.createSession(account, file.job, call()));
    expect(error.kind).toBe('auth');
    expect(error.message).toBe(
      'Creating the Xvid MediaHub upload of refused.mp4: 403 0x0000003 Invalid access token, even with a freshly issued access token; ' +
        'check the client id and secret and their mediahub scope',
    );
    expect(server.tokenCalls).toHaveLength(2);
  });

  it('starts a new session when S3 says the signed policy expired, and sends the whole file again', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('late-policy.mp4', 300_000);
    const first = await adapter.createSession(account, file.job, call());
    server.expirePolicies();

    const error = await rejection(
      adapter.uploadPart(account, file.job, first, adapter.planParts(first, file.job)[0]!, call()),
    );
    expect(error.kind).toBe('session-gone');
    expect(error.status).toBe(403);
    expect(error.message).toBe(
      "Sending late-policy.mp4 to Xvid MediaHub's storage: S3 answered 403 AccessDenied: Invalid according to Policy: Policy expired.; " +
        'the signed upload form is no longer valid, starting a new upload',
    );

    const second = await adapter.createSession(account, file.job, call());
    const sent = await adapter.uploadPart(account, file.job, second, adapter.planParts(second, file.job)[0]!, call());
    expect(sent.kind).toBe('acked');
    let outcome = await adapter.finalize(account, file.job, sent.session, { ...call(), resumed: false });
    while (outcome.kind === 'processing') outcome = await adapter.poll!(account, file.job, outcome.session, call());

    expect(server.s3Posts.map((post) => [post.uploadId, post.status, post.size])).toEqual([
      [first.uploadId, 403, 300_000],
      [second.uploadId, 201, 300_000],
    ]);
    expect(server.uploads.get(second.uploadId)!.stored!.sha256).toBe(file.sha256);
    expect(server.finishCalls.map((entry) => entry.uploadId)).toEqual([second.uploadId]);
    expect(outcome.result.details.uploadId).toBe(second.uploadId);
  });

  it('finishes with nb_chunks 1 in a JSON PUT', async () => {
    const server = await sandbox();
    const file = await localFile('finish.mp4', 1234);
    const { sessions } = await upload(accountFor(server), file.job);
    expect(server.finishCalls).toEqual([{ uploadId: sessions[0]!.uploadId, nbChunks: 1, status: 200 }]);
    const put = server.requests.find((request) => request.method === 'PUT')!;
    expect(put.headers['content-type']).toMatch(/^application\/json/);
  });

  it('polls while the upload is COMPLETING and completes when it leaves that status', async () => {
    const server = await sandbox({ completingPolls: 3 });
    const account = accountFor(server);
    const file = await localFile('slow.mp4', 100);
    const session = await adapter.createSession(account, file.job, call());
    const { session: sent } = await adapter.uploadPart(
      account,
      file.job,
      session,
      adapter.planParts(session, file.job)[0]!,
      call(),
    );
    const finished = await adapter.finalize(account, file.job, sent, { ...call(), resumed: false });
    expect(finished).toEqual({ kind: 'processing', session: sent });

    const kinds: string[] = [];
    for (let outcome = finished; outcome.kind === 'processing';) {
      outcome = await adapter.poll!(account, file.job, outcome.session, call());
      kinds.push(outcome.kind);
    }
    expect(kinds).toEqual(['processing', 'processing', 'processing', 'completed']);
    expect(server.statusCalls.map((entry) => entry.uploadStatus)).toEqual([
      'COMPLETING',
      'COMPLETING',
      'COMPLETING',
      'COMPLETED',
    ]);
  });

  it('fails the job when the upload ends as FAILED', async () => {
    const server = await sandbox({ finalStatus: 'FAILED', completingPolls: 1 });
    const file = await localFile('broken.mp4', 100);
    const error = await rejection(upload(accountFor(server), file.job));
    expect(error.kind).toBe('invalid');
    const uploadId = [...server.uploads.keys()][0]!;
    expect(error.message).toBe(
      `Xvid MediaHub could not process broken.mp4 (upload ${uploadId} ended as FAILED); check the file and pipeline ${server.pipelineId} before uploading it again`,
    );
  });

  it('does not finish twice when the reply to the finish was lost', async () => {
    const server = await sandbox();
    const file = await localFile('lost-finish.mp4', 5000);
    server.fault({ method: 'PUT', path: /^\/v1\/files\/uploads\//, action: { type: 'drop-response' } });
    const { errors, result, sessions } = await upload(accountFor(server), file.job);

    expect(errors.map((error) => error.kind)).toEqual(['network']);
    expect(server.finishCalls).toHaveLength(1);
    // The resumed finish asked first, saw COMPLETING and went on polling.
    expect(server.statusCalls[0]).toMatchObject({ uploadId: sessions[0]!.uploadId, uploadStatus: 'COMPLETING' });
    expect(result.details.status).toBe('COMPLETED');
  });

  it('finishes on the resumed call when the lost finish never reached the server', async () => {
    const server = await sandbox();
    const file = await localFile('unsent-finish.mp4', 5000);
    server.fault({ method: 'PUT', path: /^\/v1\/files\/uploads\//, action: { type: 'reset' } });
    const { errors, result } = await upload(accountFor(server), file.job);

    expect(errors.map((error) => error.kind)).toEqual(['network']);
    expect(server.statusCalls[0]!.uploadStatus).toBe('UPLOADING');
    expect(server.finishCalls).toEqual([expect.objectContaining({ nbChunks: 1, status: 200 })]);
    expect(result.details.status).toBe('COMPLETED');
  });

  it('reports a completed upload on a resumed finish without calling finish again', async () => {
    const server = await sandbox({ completingPolls: 0 });
    const account = accountFor(server);
    const file = await localFile('done.mp4', 10);
    const { sessions } = await upload(account, file.job);
    const session = { ...sessions[0]!, stored: { location: null, bucket: null, key: null, etag: null } };
    const outcome = await adapter.finalize(account, file.job, session, { ...call(), resumed: true });
    expect(outcome).toMatchObject({ kind: 'completed', result: { details: { status: 'COMPLETED' } } });
    expect(server.finishCalls).toHaveLength(1);
  });

  it('resends the whole file after a dropped S3 reply', async () => {
    const server = await sandbox();
    const file = await localFile('dropped.mp4', 400_000);
    server.fault({ path: /^\/s3\//, action: { type: 'drop-response' } });
    const { errors, sessions } = await upload(accountFor(server), file.job);
    expect(errors.map((error) => error.kind)).toEqual(['network']);
    expect(sessions).toHaveLength(1);
    expect(server.s3Posts.map((post) => post.sha256)).toEqual([file.sha256, file.sha256]);
  });

  it('uploads a 64 MiB file without holding it in memory', async () => {
    const server = await sandbox();
    const size = 64 * 1024 * 1024;
    const path = join(dir, 'big.mp4');
    const hash = createHash('sha256');
    const handle = await open(path, 'w');
    for (let offset = 0; offset < size; offset += 1024 * 1024) {
      const block = randomBytes(1024 * 1024);
      hash.update(block);
      await handle.write(block, 0, block.length, offset);
    }
    await handle.close();
    const sha256 = hash.digest('hex');
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    try {
      await upload(accountFor(server), jobFor(path, 'big.mp4', size, 'video/mp4'));
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(server.s3Posts[0]).toMatchObject({ size, sha256, status: 201 });
    // Buffering the file would add at least 64 MiB; streaming stays far below.
    expect(peak - before).toBeLessThan(32 * 1024 * 1024);
  });

  it('stops at once when the call is aborted while the file is being sent', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('paused.mp4', 2_000_000);
    const session = await adapter.createSession(account, file.job, call());
    server.fault({ path: /^\/s3\//, action: { type: 'stall' } });
    const controller = new AbortController();
    const pending = adapter.uploadPart(account, file.job, session, adapter.planParts(session, file.job)[0]!, {
      signal: controller.signal,
      onBytes: () => {},
    });
    setTimeout(() => controller.abort(), 50);
    const error = await rejection(pending);
    expect(error.kind).toBe('aborted');
    expect(server.uploads.get(session.uploadId)!.stored).toBeNull();
  });

  it('reads MediaHub error bodies into messages that carry the code', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('errors.mp4', 100);
    const body = (code: string, message: string): string =>
      JSON.stringify({ error: { error_code: code, error_message: message } });

    server.fault({
      path: '/v1/files/uploads/',
      action: { type: 'status', status: 500, body: body('0x0000001', 'Internal Error') },
    });
    const internal = await rejection(adapter.createSession(account, file.job, call()));
    expect(internal.kind).toBe('server');
    expect(internal.message).toBe(
      'Creating the Xvid MediaHub upload of errors.mp4: 500 0x0000001 Internal Error; will retry',
    );

    server.fault({
      path: '/v1/files/uploads/',
      action: {
        type: 'status',
        status: 429,
        body: body('0x0000009', 'Too many requests'),
        headers: { 'retry-after': '7' },
      },
    });
    const limited = await rejection(adapter.createSession(account, file.job, call()));
    expect(limited.kind).toBe('rate-limited');
    expect(limited.retryAfterMs).toBe(7000);

    const session = await adapter.createSession(account, file.job, call());
    const { session: sent } = await adapter.uploadPart(
      account,
      file.job,
      session,
      adapter.planParts(session, file.job)[0]!,
      call(),
    );
    const put = /^\/v1\/files\/uploads\//;
    server.fault({
      method: 'PUT',
      path: put,
      action: { type: 'status', status: 400, body: body('0x0230001', 'Invalid Input') },
    });
    const invalid = await rejection(adapter.finalize(account, file.job, sent, { ...call(), resumed: false }));
    expect(invalid.kind).toBe('invalid');
    expect(invalid.message).toBe(
      'Finishing the Xvid MediaHub upload of errors.mp4: 400 0x0230001 Invalid Input; MediaHub refused the request, so a retry would not help',
    );

    server.fault({
      method: 'PUT',
      path: put,
      action: { type: 'status', status: 404, body: body('0x0230002', 'Requested file does not exist') },
    });
    const gone = await rejection(adapter.finalize(account, file.job, sent, { ...call(), resumed: false }));
    expect(gone.kind).toBe('session-gone');
    expect(gone.message).toBe(
      'Finishing the Xvid MediaHub upload of errors.mp4: 404 0x0230002 Requested file does not exist; MediaHub no longer knows the upload: starting a new one',
    );

    server.fault({
      method: 'PUT',
      path: put,
      action: { type: 'malformed', status: 200, body: '<html>gateway</html>' },
    });
    const garbled = await rejection(adapter.finalize(account, file.job, sent, { ...call(), resumed: false }));
    expect(garbled.kind).toBe('server');
    expect(garbled.message).toContain('MediaHub answered without the upload (200 gateway)');
  });

  it('keeps a vanished upload after the finish from being uploaded twice', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('vanished.mp4', 100);
    const session = await adapter.createSession(account, file.job, call());
    server.uploads.delete(session.uploadId);
    const resumed = await rejection(adapter.finalize(account, file.job, session, { ...call(), resumed: true }));
    expect(resumed.kind).toBe('invalid');
    expect(resumed.message).toContain('check the MediaHub files before uploading vanished.mp4 again');
    const polled = await rejection(adapter.poll!(account, file.job, session, call()));
    expect(polled.kind).toBe('invalid');
    expect(polled.message).toContain('404 0x0230002 Requested file does not exist');
  });

  it('reads S3 XML errors: 5xx as server, EntityTooLarge as too-large', async () => {
    const server = await sandbox({ maxFileBytes: 1000 });
    const account = accountFor(server);
    const file = await localFile('big-for-form.mp4', 1001);
    const session = await adapter.createSession(account, file.job, call());
    const part = adapter.planParts(session, file.job)[0]!;

    const xml =
      '<?xml version="1.0"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>';
    server.fault({ path: /^\/s3\//, action: { type: 'status', status: 500, body: xml } });
    const internal = await rejection(adapter.uploadPart(account, file.job, session, part, call()));
    expect(internal.kind).toBe('server');
    expect(internal.message).toBe(
      "Sending big-for-form.mp4 to Xvid MediaHub's storage: S3 answered 500 InternalError: We encountered an internal error. Please try again.; will retry",
    );

    const tooLarge = await rejection(adapter.uploadPart(account, file.job, session, part, call()));
    expect(tooLarge.kind).toBe('too-large');
    expect(tooLarge.message).toContain('EntityTooLarge: Your proposed upload exceeds the maximum allowed size');
  });

  it('maps a wrong client secret to auth, naming what to check', async () => {
    const server = await sandbox();
    const file = await localFile('secret.mp4', 100);
    const error = await rejection(
      adapter.createSession(accountFor(server, { secrets: { clientSecret: 'wrong' } }), file.job, call()),
    );
    expect(error.kind).toBe('auth');
    expect(error.status).toBe(401);
    expect(error.message).toBe(
      `Signing in to Xvid MediaHub as client ${server.clientId}: 401 invalid_client: Client authentication failed; check the client id and secret`,
    );
    expect(server.createCalls).toEqual([]);
  });

  it('says which grant type it sent when the token endpoint refuses it', async () => {
    const server = await sandbox();
    const file = await localFile('grant-refused.mp4', 100);
    server.fault({
      path: '/v1/oauth2/token/',
      action: { type: 'status', status: 400, body: '{"error":"unsupported_grant_type"}' },
    });
    const error = await rejection(adapter.createSession(accountFor(server), file.job, call()));
    expect(error.kind).toBe('auth');
    expect(error.message).toContain('unsupported_grant_type (Ferry sends grant_type=client_credential, as documented)');
  });

  it('refuses an account without secrets or pipeline, and an unknown pipeline', async () => {
    const server = await sandbox();
    const file = await localFile('settings.mp4', 100);
    const noSecret = await rejection(
      adapter.createSession(accountFor(server, { secrets: { clientSecret: '' } }), file.job, call()),
    );
    expect(noSecret.kind).toBe('auth');
    expect(noSecret.message).toBe(
      'Xvid MediaHub account "test hub" has no client secret: add it in the account settings',
    );
    const noPipeline = await rejection(
      adapter.createSession(accountFor(server, { settings: { pipelineId: '' } }), file.job, call()),
    );
    expect(noPipeline.kind).toBe('invalid');
    const unknown = await rejection(
      adapter.createSession(accountFor(server, { settings: { pipelineId: 'nope' } }), file.job, call()),
    );
    expect(unknown.kind).toBe('invalid');
    expect(unknown.message).toBe(
      'Creating the Xvid MediaHub upload of settings.mp4: 400 0x0230001 Invalid Input; MediaHub refused the request, so a retry would not help',
    );
  });
});

describe('Xvid MediaHub object keys, expiry and paths', () => {
  const DAY_S = 24 * 60 * 60;

  it('sends expires_at=0 by default, so MediaHub never deletes an upload no Job used, and says so', async () => {
    const server = await sandbox();
    const file = await localFile('kept.mp4', 100);
    const { result, sessions } = await upload(accountFor(server), file.job);
    expect(server.createCalls.map((entry) => entry.expiresAt)).toEqual(['0']);
    expect(server.uploads.get(sessions[0]!.uploadId)!.expiresAt).toBe(0);
    expect(result.details.expiresAt).toBe('never');
    expect(result.details.warning).toBeUndefined();
  });

  it('sends expires_at in Unix seconds when the account sets days, and warns when the upload will be deleted', async () => {
    const server = await sandbox();
    const file = await localFile('short-lived.mp4', 100);
    const before = Math.floor(Date.now() / 1000);
    const { result, sessions } = await upload(
      accountFor(server, { settings: { deleteUnusedAfterDays: '30' } }),
      file.job,
    );
    const after = Math.floor(Date.now() / 1000);

    const sent = Number(server.createCalls[0]!.expiresAt);
    expect(sent).toBeGreaterThanOrEqual(before + 30 * DAY_S);
    expect(sent).toBeLessThanOrEqual(after + 30 * DAY_S);
    expect(server.uploads.get(sessions[0]!.uploadId)!.expiresAt).toBe(sent);
    const when = new Date(sent * 1000).toISOString();
    expect(result.details.expiresAt).toBe(when);
    expect(result.details.warning).toBe(
      `MediaHub deletes ${sessions[0]!.objectKey} at ${when.slice(0, 10)} ${when.slice(11, 16)} UTC unless a Job uses it before then; ` +
        'to keep uploads no Job has used, set "Delete unused uploads after (days)" to never in the account settings',
    );
  });

  it('shows the vendor default of 7 days for an upload whose session predates expires_at', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('old-session.mp4', 100);
    const created = await adapter.createSession(account, file.job, call());
    const legacy = adapter.parseSession({ ...created, expiresAt: undefined })!;
    expect(legacy.expiresAt).toBeNull();
    const { session: sent } = await adapter.uploadPart(
      account,
      file.job,
      legacy,
      adapter.planParts(legacy, file.job)[0]!,
      call(),
    );
    let outcome = await adapter.finalize(account, file.job, sent, { ...call(), resumed: false });
    while (outcome.kind === 'processing') outcome = await adapter.poll!(account, file.job, outcome.session, call());
    expect(outcome.result.details.expiresAt).toBe(new Date(legacy.createdAt + 7 * DAY_S * 1000).toISOString());
    expect(outcome.result.details.warning).toContain(`MediaHub deletes ${legacy.objectKey} at `);
  });

  it('refuses an expiry setting that is not never or 1-3650 days before anything is sent', async () => {
    const server = await sandbox();
    const file = await localFile('bad-setting.mp4', 100);
    for (const value of ['abc', '0', '3651', '1.5', '-2']) {
      const error = await rejection(
        adapter.createSession(accountFor(server, { settings: { deleteUnusedAfterDays: value } }), file.job, call()),
      );
      expect(error.kind).toBe('invalid');
      expect(error.message).toBe(
        `Xvid MediaHub account "test hub": "Delete unused uploads after (days)" must be "never" or a whole number of days from 1 to 3650 (got "${value}"); change it in the account settings`,
      );
    }
    expect(server.requests).toEqual([]);
    for (const value of ['never', 'NEVER', '', '1', '3650']) {
      await adapter.createSession(accountFor(server, { settings: { deleteUnusedAfterDays: value } }), file.job, call());
    }
    expect(server.createCalls.map((entry) => entry.status)).toEqual([200, 200, 200, 200, 200]);
  });

  it('declares the expiry as an account setting whose default is never', () => {
    expect(adapter.fields.find((field) => field.key === 'deleteUnusedAfterDays')).toMatchObject({
      kind: 'setting',
      required: false,
      default: 'never',
    });
  });

  it('keeps two clip.mp4 from different folders apart: both are in the bucket, byte-exact', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const first = await localFile('clip.mp4', 2000);
    const second = await localFile('clip.mp4', 3000);
    const a = await upload(account, { ...first.job, jobId: 41 });
    const b = await upload(account, { ...second.job, jobId: 42 });

    const keys = [a.sessions[0]!.objectKey, b.sessions[0]!.objectKey];
    expect(keys[0]).toMatch(/^uploads\/ferry-41-[0-9a-f]{8}\/clip\.mp4$/);
    expect(keys[1]).toMatch(/^uploads\/ferry-42-[0-9a-f]{8}\/clip\.mp4$/);
    expect(server.createCalls.map((entry) => entry.objectKey)).toEqual(keys);
    // S3 replaces an object posted again under the same key; two keys keep both files.
    expect([...server.objects.entries()].map(([key, object]) => [key, object.sha256]).sort()).toEqual(
      [
        [`tmp/${server.pipelineId}/${keys[0]}`, first.sha256],
        [`tmp/${server.pipelineId}/${keys[1]}`, second.sha256],
      ].sort(),
    );
    expect([a.result.details.objectKey, b.result.details.objectKey]).toEqual(keys);
  });

  it('keeps a job on one key when its upload starts anew, and gives the same job id on another file another key', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('again.mp4', 100);
    const other = await localFile('again.mp4', 100);
    const first = await adapter.createSession(account, file.job, call());
    const second = await adapter.createSession(account, file.job, call());
    const elsewhere = await adapter.createSession(account, other.job, call());
    expect(second.uploadId).not.toBe(first.uploadId);
    expect(second.objectKey).toBe(first.objectKey);
    expect(elsewhere.objectKey).not.toBe(first.objectKey);
    expect(server.createCalls.map((entry) => entry.objectKey)).toEqual([
      first.objectKey,
      first.objectKey,
      elsewhere.objectKey,
    ]);
  });

  it('uses the documented paths: /oauth2/token/ and /files/uploads/ with their slash, /files/uploads/{id} without', async () => {
    const server = await sandbox();
    const file = await localFile('paths.mp4', 100);
    const { sessions } = await upload(accountFor(server), file.job);
    const id = sessions[0]!.uploadId;
    expect(
      server.requests
        .filter((request) => request.path.startsWith('/v1/'))
        .map((request) => `${request.method} ${request.path} ${request.status}`),
    ).toEqual([
      'POST /v1/oauth2/token/ 200',
      'POST /v1/files/uploads/ 200',
      `PUT /v1/files/uploads/${id} 200`,
      `GET /v1/files/uploads/${id} 200`,
      `GET /v1/files/uploads/${id} 200`,
      `GET /v1/files/uploads/${id} 200`,
    ]);
  });

  it('reports a redirect of an API call as an error naming its target, never as an answer', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('moved.mp4', 100);
    const target = 'https://api.example.test/v1/files/uploads/';
    server.fault({
      path: '/v1/files/uploads/',
      action: { type: 'status', status: 301, body: '', headers: { location: target } },
    });
    const create = await rejection(adapter.createSession(account, file.job, call()));
    expect(create.kind).toBe('invalid');
    expect(create.status).toBe(301);
    expect(create.message).toBe(
      `Creating the Xvid MediaHub upload of moved.mp4: MediaHub answered 301 redirecting to ${target}, and Ferry does not follow redirects of API calls; ` +
        `check the account's base URL (${server.apiUrl})`,
    );

    const session = await adapter.createSession(account, file.job, call());
    const { session: sent } = await adapter.uploadPart(
      account,
      file.job,
      session,
      adapter.planParts(session, file.job)[0]!,
      call(),
    );
    server.fault({
      method: 'PUT',
      path: /^\/v1\/files\/uploads\//,
      action: { type: 'status', status: 308, body: '', headers: { location: '/elsewhere' } },
    });
    const finish = await rejection(adapter.finalize(account, file.job, sent, { ...call(), resumed: false }));
    expect(finish.kind).toBe('invalid');
    expect(finish.message).toContain('MediaHub answered 308 redirecting to /elsewhere');

    clearXvidTokenCache();
    server.fault({
      path: '/v1/oauth2/token/',
      action: { type: 'status', status: 302, body: '', headers: { location: 'https://login.example.test/' } },
    });
    const token = await rejection(adapter.createSession(account, file.job, call()));
    expect(token.kind).toBe('invalid');
    expect(token.message).toContain(
      `Signing in to Xvid MediaHub as client ${server.clientId}: MediaHub answered 302 redirecting to https://login.example.test/`,
    );
  });
});

describe('Xvid MediaHub emulator strictness', () => {
  it('refuses the RFC spelling client_credentials, a field after the file, and a changed field', async () => {
    const server = await sandbox();
    const token = await fetch(`${server.apiUrl}/oauth2/token/`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: server.clientId,
        client_secret: server.clientSecret,
        scope: 'mediahub',
      }),
    });
    expect(token.status).toBe(400);

    const account = accountFor(server);
    const file = await localFile('strict.mp4', 100);
    const session = await adapter.createSession(account, file.job, call());
    const post = async (fields: Array<[string, string]>, fileAt: number): Promise<{ status: number; body: string }> => {
      const form = new FormData();
      fields.forEach(([name, value], index) => {
        if (index === fileAt) form.append('file', new Blob(['x']), 'strict.mp4');
        form.append(name, value);
      });
      if (fileAt >= fields.length) form.append('file', new Blob(['x']), 'strict.mp4');
      const response = await fetch(session.formPostUrl, { method: 'POST', body: form });
      return { status: response.status, body: await response.text() };
    };
    const params = session.formPostParams;
    expect(await post(params, params.length - 1)).toMatchObject({
      status: 400,
      body: expect.stringContaining('come before the file'),
    });
    const changed = params.map(([name, value]): [string, string] => [name, name === 'chunks' ? '2' : value]);
    expect(await post(changed, changed.length)).toMatchObject({
      status: 400,
      body: expect.stringContaining('Policy Condition failed: [&quot;eq&quot;, &quot;$chunks&quot;'),
    });
    expect(
      await post(
        params.filter(([name]) => name !== 'acl'),
        params.length,
      ),
    ).toMatchObject({ status: 400 });
    expect(await post(params, params.length)).toMatchObject({
      status: 201,
      body: expect.stringContaining('<PostResponse>'),
    });
  });
});

describe('Xvid MediaHub emulator: paths and expires_at as the vendor documents them', () => {
  async function token(server: XvidSandbox): Promise<string> {
    const response = await fetch(`${server.apiUrl}/oauth2/token/`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credential',
        client_id: server.clientId,
        client_secret: server.clientSecret,
        scope: 'mediahub',
      }),
    });
    return ((await response.json()) as { access_token: string }).access_token;
  }

  it('answers the paths without their documented slash with a 301 to the slashed path, and creates nothing', async () => {
    const server = await sandbox();
    const bearer = await token(server);
    const bare = await fetch(`${server.apiUrl}/files/uploads?object_key=a.mp4&pipeline_id=${server.pipelineId}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}` },
      redirect: 'manual',
    });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe(
      `${server.apiUrl}/files/uploads/?object_key=a.mp4&pipeline_id=${server.pipelineId}`,
    );
    expect(server.uploads.size).toBe(0);
    const tokenBare = await fetch(`${server.apiUrl}/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({}),
      redirect: 'manual',
    });
    expect(tokenBare.status).toBe(301);
    expect(tokenBare.headers.get('location')).toBe(`${server.apiUrl}/oauth2/token/`);
  });

  it('records the 7-day default without expires_at and refuses one in milliseconds, in the past or not a number', async () => {
    const server = await sandbox();
    const bearer = await token(server);
    const create = async (extra: string): Promise<number> =>
      (
        await fetch(`${server.apiUrl}/files/uploads/?object_key=e.mp4&pipeline_id=${server.pipelineId}${extra}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${bearer}` },
        })
      ).status;
    const now = Math.floor(Date.now() / 1000);
    expect(await create('')).toBe(200);
    const [upload] = [...server.uploads.values()];
    expect(upload!.expiresAt).toBeGreaterThanOrEqual(now + 7 * 24 * 60 * 60);
    expect(upload!.expiresAt).toBeLessThanOrEqual(now + 7 * 24 * 60 * 60 + 5);
    expect(await create('&expires_at=0')).toBe(200);
    expect(await create(`&expires_at=${now + 60}`)).toBe(200);
    expect(await create(`&expires_at=${(now + 60) * 1000}`)).toBe(400);
    expect(await create(`&expires_at=${now - 60}`)).toBe(400);
    expect(await create('&expires_at=soon')).toBe(400);
  });
});

describe('Xvid MediaHub sessions and sources', () => {
  const file = (name: string, size: number, mime: string): UploadSource => ({
    kind: 'file',
    path: `/tmp/${name}`,
    name,
    size,
    mime,
  });
  const session: XvidSession = {
    uploadId: '598358fe6baa605b1e33754e',
    fileId: '598358fe6baa605b1e33754e',
    formPostUrl: 'https://s3-eu-west-1.amazonaws.com/prd-xmc-xvid-s3-eu-west-1/',
    formPostParams: [
      ['key', 'uploads/test.mp4'],
      ['policy', 'e30='],
    ],
    createdAt: Date.parse('2030-01-01T00:00:00Z'),
    objectKey: 'uploads/test.mp4',
    pipelineId: '547f3eede4b025bcbff38657',
    expiresAt: 0,
    stored: null,
  };

  it('uses a session for sending only while its signed policy is fresh, and always once the file is stored', () => {
    expect(adapter.sessionUsable(session, session.createdAt + XVID_SESSION_SEND_WINDOW_MS - 1)).toBe(true);
    expect(adapter.sessionUsable(session, session.createdAt + 26 * 60 * 1000)).toBe(false);
    const stored = { ...session, stored: { location: null, bucket: 'b', key: 'uploads/test.mp4', etag: '"x"' } };
    expect(adapter.sessionUsable(stored, session.createdAt + 24 * 60 * 60 * 1000)).toBe(true);
  });

  it('parses a persisted session back and refuses corrupt ones', () => {
    expect(adapter.parseSession(JSON.parse(JSON.stringify(session)))).toEqual(session);
    // A session persisted before Ferry kept the file id and sent expires_at stays usable.
    const { fileId: _fileId, expiresAt: _expiresAt, ...legacy } = session;
    expect(adapter.parseSession(legacy)).toEqual({ ...session, fileId: null, expiresAt: null });
    expect(adapter.parseSession({ ...session, formPostParams: { key: 'a' } })).toBeNull();
    expect(adapter.parseSession({ ...session, uploadId: '' })).toBeNull();
    expect(adapter.parseSession(null)).toBeNull();
  });

  it('plans the whole file as one part', () => {
    const job = { jobId: 1, source: file('a.mp4', 12345, 'video/mp4'), options: {}, file: null };
    expect(adapter.planParts(session, job)).toEqual([{ index: 0, start: 0, end: 12345 }]);
  });

  it('accepts video, audio and images, also by file name when the type is unknown', () => {
    for (const source of [
      file('a.mp4', 10, 'video/mp4'),
      file('a.mp3', 10, 'audio/mpeg'),
      file('a.png', 10, 'image/png'),
      file('a.mkv', 10, ''),
      file('a.mov', 10, 'application/octet-stream'),
    ]) {
      expect(() => adapter.validateSource(source, {})).not.toThrow();
    }
    const pdf = thrown(() => adapter.validateSource(file('notes.pdf', 10, 'application/pdf'), {}));
    expect(pdf.kind).toBe('unsupported');
    expect(pdf.message).toBe(
      'notes.pdf is of type application/pdf: Ferry sends video, audio and image files to Xvid MediaHub',
    );
  });

  it('refuses URLs, empty files and files over 5 GB, naming the limit', () => {
    const url = thrown(() =>
      adapter.validateSource(
        { kind: 'url', url: 'https://example.com/a.mp4', name: 'a.mp4', size: 10, mime: 'video/mp4' },
        {},
      ),
    );
    expect(url.kind).toBe('unsupported');
    expect(thrown(() => adapter.validateSource(file('empty.mp4', 0, 'video/mp4'), {})).kind).toBe('invalid');
    expect(() => adapter.validateSource(file('edge.mp4', 5_000_000_000, 'video/mp4'), {})).not.toThrow();
    const big = thrown(() => adapter.validateSource(file('huge.mp4', 5_000_000_001, 'video/mp4'), {}));
    expect(big.kind).toBe('too-large');
    expect(big.message).toBe(
      'huge.mp4 is 5,000,000,001 bytes, over the 5,000,000,000 bytes (5 GB) that Xvid MediaHub takes in one S3 upload',
    );
  });
});
