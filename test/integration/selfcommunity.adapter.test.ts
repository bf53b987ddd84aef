/**
 * The SelfCommunity adapter against its emulator over real loopback HTTP. A tiny driver stands in
 * for the engine: it plans parts, sends the ones not yet acknowledged, honours `resync`, and
 * finalizes; the assertions are on what the emulator received.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAccountHttp } from '../../main/engine/accountHttp.ts';
import { UploadError } from '../../main/core/errors.ts';
import { testFileSource } from '../support/fileSources.ts';
import {
  selfcommunityAdapter as adapter,
  type SelfCommunitySession,
} from '../../main/providers/selfcommunity/selfcommunityAdapter.ts';
import type {
  AccountContext,
  CallContext,
  FinalizeOutcome,
  JobContext,
  UploadSource,
} from '../../main/providers/types.ts';
import {
  startSelfCommunitySandbox,
  type SelfCommunitySandbox,
  type SelfCommunitySandboxOptions,
} from '../sandbox/selfcommunity.ts';
import { rejection, thrown } from '../support/uploadErrors.ts';

const CHUNK = 204_800;
let dir: string;
const sandboxes: SelfCommunitySandbox[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-selfcommunity-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

afterEach(async () => {
  await Promise.all(sandboxes.splice(0).map((sandbox) => sandbox.close()));
});

async function sandbox(options: SelfCommunitySandboxOptions = {}): Promise<SelfCommunitySandbox> {
  const started = await startSelfCommunitySandbox(options);
  sandboxes.push(started);
  return started;
}

function accountFor(server: SelfCommunitySandbox, token = server.token): AccountContext {
  return {
    id: 1,
    name: 'test community',
    baseUrl: server.url,
    settings: {},
    secrets: { accessToken: token },
    http: createAccountHttp(),
  };
}

interface LocalFile {
  job: JobContext;
  bytes: Buffer;
  sha256: string;
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
  };
}

function call(): CallContext {
  return { signal: new AbortController().signal, onBytes: () => {} };
}

interface DriveOptions {
  /** Called after each acknowledged part, e.g. to inject a fault before the next one. */
  afterAck?: (index: number, session: SelfCommunitySession) => void;
  /** Attempts per part for retryable errors (network, timeout, server), like the engine's retries. */
  attempts?: number;
}

interface Driven {
  session: SelfCommunitySession;
  errors: UploadError[];
  resyncs: number[];
}

/** Sends every part of a session the way the engine does; throws the first non-retryable error. */
async function sendParts(
  account: AccountContext,
  job: JobContext,
  session: SelfCommunitySession,
  options: DriveOptions = {},
): Promise<Driven> {
  const acked = new Set<number>();
  const errors: UploadError[] = [];
  const resyncs: number[] = [];
  let current = session;
  let attempts = 0;
  for (let guard = 0; guard < 1000; guard += 1) {
    const part = adapter.planParts(current, job).find((candidate) => !acked.has(candidate.index));
    if (!part) return { session: current, errors, resyncs };
    try {
      const outcome = await adapter.uploadPart(account, job, current, part, call());
      current = outcome.session;
      attempts = 0;
      switch (outcome.kind) {
        case 'acked':
          acked.add(part.index);
          options.afterAck?.(part.index, current);
          break;
        case 'resync': {
          resyncs.push(outcome.serverOffset);
          acked.clear();
          for (const planned of adapter.planParts(current, job)) {
            if (planned.end <= outcome.serverOffset) acked.add(planned.index);
          }
          break;
        }
        default: {
          const never: never = outcome;
          throw new Error(`unexpected outcome ${String(never)}`);
        }
      }
    } catch (error) {
      if (!(error instanceof UploadError)) throw error;
      errors.push(error);
      attempts += 1;
      const retryable = error.kind === 'network' || error.kind === 'timeout' || error.kind === 'server';
      if (!retryable || attempts >= (options.attempts ?? 3)) throw error;
    }
  }
  throw new Error('driver: too many steps');
}

async function upload(
  account: AccountContext,
  job: JobContext,
  options: DriveOptions = {},
): Promise<Driven & { outcome: FinalizeOutcome<SelfCommunitySession> }> {
  adapter.validateSource(job.source, job.options);
  const created = await adapter.createSession(account, job, call());
  const driven = await sendParts(account, job, created, options);
  const outcome = await adapter.finalize(account, job, driven.session, { ...call(), resumed: false });
  return { ...driven, outcome };
}

describe('SelfCommunity adapter against the emulator', () => {
  it.each([
    { size: 1, name: 'dot.png', mime: 'image/png' },
    { size: CHUNK, name: 'one-chunk.png', mime: 'image/png' },
    { size: CHUNK + 1, name: 'chunk-and-a-byte.jpg', mime: 'image/jpeg' },
    { size: 2 * CHUNK - 1, name: 'report.pdf', mime: 'application/pdf' },
    { size: 3_000_000, name: 'holiday.png', mime: 'image/png' },
  ])('uploads $size bytes of $name byte-exact as one media', async ({ size, name, mime }) => {
    const server = await sandbox();
    const file = await localFile(name, size, mime);
    const { outcome, errors } = await upload(accountFor(server), file.job);

    expect(errors).toEqual([]);
    expect(server.media).toHaveLength(1);
    expect(server.media[0]!.sha256).toBe(file.sha256);
    expect(server.media[0]!.size).toBe(size);
    const expectedChunks = Math.ceil(size / CHUNK);
    expect(server.chunkLog).toHaveLength(expectedChunks);
    expect(server.chunkLog.every((chunk) => chunk.size <= CHUNK && chunk.end! - chunk.start! + 1 === chunk.size)).toBe(
      true,
    );
    expect(server.chunkLog[0]!.uploadId).toBeNull();
    expect(server.chunkLog.slice(1).every((chunk) => chunk.uploadId === server.media[0]!.uploadId)).toBe(true);
    const record = server.uploads.get(server.media[0]!.uploadId)!;
    expect(record.field).toBe(mime === 'application/pdf' ? 'document' : 'image');
    expect(record.filename).toBe(name);
    expect(record.bytes.equals(file.bytes)).toBe(true);
    // The media type the vendor documents for each kind is sent, not left to the server's guess.
    const type = mime === 'application/pdf' ? 'doc' : 'image';
    expect(server.completeCalls).toEqual([expect.objectContaining({ uploadId: record.id, type, status: 201 })]);
    expect(server.media[0]!.type).toBe(type);

    expect(outcome.kind).toBe('completed');
    if (outcome.kind !== 'completed') return;
    expect(outcome.result.remoteId).toBe(String(server.media[0]!.id));
    expect(outcome.result.url).toContain(`/media/${server.media[0]!.id}/`);
    expect(outcome.result.details).toMatchObject({ title: name, uploadId: server.media[0]!.uploadId });
  });

  it.each([
    { offsetAs: 'string', chunkStatus: 200, completeStatus: 200 },
    { offsetAs: 'number', chunkStatus: 201, completeStatus: 201 },
    { offsetAs: 'number', chunkStatus: 200, completeStatus: 201 },
    { offsetAs: 'string', chunkStatus: 201, completeStatus: 200 },
  ] as const)(
    'accepts offset as a $offsetAs with chunk status $chunkStatus and complete status $completeStatus',
    async (variant) => {
      const server = await sandbox(variant);
      const file = await localFile('variant.png', 3 * CHUNK + 17, 'image/png');
      const { outcome, resyncs } = await upload(accountFor(server), file.job);
      expect(resyncs).toEqual([]);
      expect(outcome.kind).toBe('completed');
      expect(server.media).toHaveLength(1);
      expect(server.media[0]!.sha256).toBe(file.sha256);
    },
  );

  it('sends the type option with complete', async () => {
    const server = await sandbox();
    const file = await localFile('inline.png', 1000, 'image/png', { type: 'eimage' });
    const { outcome } = await upload(accountFor(server), file.job);
    expect(server.completeCalls).toEqual([expect.objectContaining({ type: 'eimage', status: 201 })]);
    expect(server.media[0]!.type).toBe('eimage');
    expect(outcome.kind === 'completed' && outcome.result.details.type).toBe('eimage');
  });

  it.each([
    { name: 'Contract 2026', mime: 'application/pdf' },
    { name: 'scan.PDF', mime: '' },
  ])('completes the PDF "$name" as a document with type=doc, whatever its name says', async ({ name, mime }) => {
    const server = await sandbox();
    const file = await localFile(name, CHUNK + 3, mime);
    const { outcome } = await upload(accountFor(server), file.job);

    expect(server.chunkLog.every((chunk) => chunk.status === 201)).toBe(true);
    expect(server.uploads.get(server.media[0]!.uploadId)!.field).toBe('document');
    expect(server.completeCalls).toEqual([expect.objectContaining({ type: 'doc', status: 201 })]);
    expect(server.media).toEqual([expect.objectContaining({ type: 'doc', sha256: file.sha256 })]);
    expect(outcome.kind === 'completed' && outcome.result.details.type).toBe('doc');
  });

  it('has the emulator file a PDF completed without type by its name, as the vendor documents, and refuse it as an image', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('Contract 2026', 100, 'application/pdf');
    const driven = await sendParts(account, file.job, await adapter.createSession(account, file.job, call()));
    const response = await account.http.post(`${server.url}/api/v2/media/upload/complete/`, {
      form: { upload_id: driven.session.uploadId!, md5: createHash('md5').update(file.bytes).digest('hex') },
      headers: { authorization: `Bearer ${server.token}` },
    });
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      type: ['The uploaded document is not valid for media type "image" (the default for its file name).'],
    });
    expect(server.media).toEqual([]);
  });

  it('recovers a lost chunk response through the offset-mismatch reply', async () => {
    const server = await sandbox();
    const file = await localFile('lost-reply.png', 6 * CHUNK + 5, 'image/png');
    // The third chunk is stored by the server but its reply never reaches Ferry.
    server.fault({
      path: '/api/v2/media/upload/chunk/',
      when: (request) => String(request.headers['content-range']).startsWith(`bytes ${2 * CHUNK}-`),
      action: { type: 'drop-response' },
    });
    const { outcome, errors, resyncs } = await upload(accountFor(server), file.job);

    expect(errors.map((error) => error.kind)).toEqual(['network']);
    expect(resyncs).toEqual([3 * CHUNK]);
    const starts = server.chunkLog.map((chunk) => chunk.start);
    expect(starts).toEqual([0, CHUNK, 2 * CHUNK, 2 * CHUNK, 3 * CHUNK, 4 * CHUNK, 5 * CHUNK, 6 * CHUNK]);
    expect(server.chunkLog.filter((chunk) => chunk.status === 400)).toHaveLength(1);
    expect(server.chunkLog.length - Math.ceil(file.bytes.length / CHUNK)).toBeLessThanOrEqual(1);
    expect(outcome.kind).toBe('completed');
    expect(server.media).toHaveLength(1);
    expect(server.media[0]!.sha256).toBe(file.sha256);
  });

  it('resumes a persisted session from the server offset after a restart', async () => {
    const server = await sandbox({ offsetAs: 'number' });
    const account = accountFor(server);
    const file = await localFile('restart.png', 5 * CHUNK, 'image/png');
    let persisted: unknown;
    // Ferry stops after two chunks; the session is what the database kept.
    await expect(
      sendParts(account, file.job, await adapter.createSession(account, file.job, call()), {
        afterAck: (index, session) => {
          persisted = JSON.parse(JSON.stringify(session));
          if (index === 1) throw new Error('crash');
        },
      }),
    ).rejects.toThrow('crash');

    const session = adapter.parseSession(persisted);
    expect(session).toMatchObject({ offset: 2 * CHUNK, field: 'image' });
    expect(adapter.sessionUsable(session!, Date.now())).toBe(true);
    // After the restart the engine has lost its part list: the first chunk it tries is corrected.
    const part = adapter.planParts(session!, file.job)[0]!;
    const outcome = await adapter.uploadPart(account, file.job, session!, part, call());
    expect(outcome).toMatchObject({ kind: 'resync', serverOffset: 2 * CHUNK });

    const rest = await sendParts(account, file.job, outcome.session);
    await adapter.finalize(account, file.job, rest.session, { ...call(), resumed: false });
    expect(server.media).toHaveLength(1);
    expect(server.media[0]!.sha256).toBe(file.sha256);
  });

  it('reports an expired upload as session-gone and completes from byte 0 in a fresh session', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('expiring.png', 4 * CHUNK + 99, 'image/png');
    const first = await adapter.createSession(account, file.job, call());
    const error = await rejection(
      sendParts(account, file.job, first, {
        afterAck: (index, session) => {
          if (index === 1) server.expire(session.uploadId!);
        },
      }),
    );
    expect(error.kind).toBe('session-gone');
    expect(error.status).toBe(410);
    expect(error.message).toBe(
      'SelfCommunity refused chunk 3 of expiring.png (410 Upload has expired): restarting the upload from the start',
    );

    const chunksBefore = server.chunkLog.length;
    const fresh = await adapter.createSession(account, file.job, call());
    expect(fresh.uploadId).toBeNull();
    const driven = await sendParts(account, file.job, fresh);
    const outcome = await adapter.finalize(account, file.job, driven.session, { ...call(), resumed: false });

    expect(outcome.kind).toBe('completed');
    expect(server.chunkLog[chunksBefore]).toMatchObject({ uploadId: null, start: 0 });
    expect(server.media).toHaveLength(1);
    expect(server.media[0]!.uploadId).toBe(driven.session.uploadId);
    expect(server.media[0]!.uploadId).not.toBe(first.uploadId);
    expect(server.media[0]!.sha256).toBe(file.sha256);
  });

  it('treats a session past its expiry as unusable', () => {
    const session: SelfCommunitySession = {
      uploadId: 'abc',
      expires: '2030-01-01T00:00:00Z',
      createdAt: 0,
      field: 'image',
      offset: CHUNK,
    };
    expect(adapter.sessionUsable(session, Date.parse('2029-12-31T23:59:59Z'))).toBe(true);
    expect(adapter.sessionUsable(session, Date.parse('2030-01-01T00:00:01Z'))).toBe(false);
    expect(adapter.sessionUsable({ ...session, expires: null }, Date.now())).toBe(true);
    expect(adapter.parseSession({ ...session, field: 'video' })).toBeNull();
    expect(adapter.parseSession(null)).toBeNull();
  });

  it('reports a completed upload whose complete reply was lost, without creating a second media', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('lost-complete.png', CHUNK + 10, 'image/png');
    const session = await adapter.createSession(account, file.job, call());
    const driven = await sendParts(account, file.job, session);
    server.fault({ path: '/api/v2/media/upload/complete/', action: { type: 'drop-response' } });

    const lost = await rejection(adapter.finalize(account, file.job, driven.session, { ...call(), resumed: false }));
    expect(lost.kind).toBe('network');
    const outcome = await adapter.finalize(account, file.job, driven.session, { ...call(), resumed: true });

    expect(outcome).toEqual({
      kind: 'completed',
      result: {
        remoteId: null,
        url: null,
        details: {
          warning:
            `SelfCommunity had already completed this upload (upload_id ${driven.session.uploadId}) but its reply was lost; ` +
            'the media exists on the server but Ferry could not read its id.',
        },
      },
    });
    expect(server.completeCalls).toHaveLength(2);
    expect(server.media).toHaveLength(1);
    expect(server.media[0]!.sha256).toBe(file.sha256);
  });

  it('refuses to complete an already completed upload when it is not a resumed call', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('twice.png', 10, 'image/png');
    const { session } = await upload(accountFor(server), file.job);
    const error = await rejection(adapter.finalize(account, file.job, session, { ...call(), resumed: false }));
    expect(error.kind).toBe('invalid');
    expect(error.message).toContain('already');
    expect(server.media).toHaveLength(1);
  });

  it('reports an MD5 mismatch when the file changed during the upload', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('changed.png', CHUNK + 1, 'image/png');
    const driven = await sendParts(account, file.job, await adapter.createSession(account, file.job, call()));
    await writeFile(file.job.source.kind === 'file' ? file.job.source.path : '', randomBytes(CHUNK + 1));

    const error = await rejection(adapter.finalize(account, file.job, driven.session, { ...call(), resumed: false }));
    expect(error.kind).toBe('invalid');
    expect(error.message).toMatch(
      /^SelfCommunity refused to complete the upload of changed\.png \(400 md5 checksum does not match\)/,
    );
    expect(error.message).toContain('changed during the upload');
    expect(server.media).toEqual([]);
  });

  it('stops at the next chunk it reads once the file was touched mid-upload (checked through the open descriptor)', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('touched.png', 5 * CHUNK, 'image/png');
    const path = file.job.source.kind === 'file' ? file.job.source.path : '';
    const created = await adapter.createSession(account, file.job, call());
    const parts = adapter.planParts(created, file.job);
    // The first chunk opens the job's descriptor; every later check is an fstat of it.
    let session = (await adapter.uploadPart(account, file.job, created, parts[0]!, call())).session;
    const later = new Date(Date.now() + 60_000);
    await utimes(path, later, later); // same bytes, new mtime: an in-place edit as far as Ferry can tell
    let error: UploadError | undefined;
    let sent = 1;
    for (const part of parts.slice(1)) {
      try {
        session = (await adapter.uploadPart(account, file.job, session, part, call())).session;
        sent += 1;
      } catch (caught) {
        expect(caught).toBeInstanceOf(UploadError);
        error = caught as UploadError;
        break;
      }
    }
    expect(error?.kind).toBe('local-file');
    expect(error?.message).toMatch(/changed while it was being uploaded \(it was modified\)/);
    // At most the chunk read ahead before the touch (checked then) went out after it; nothing later.
    expect(sent).toBeLessThanOrEqual(2);
    const [upload] = [...server.uploads.values()];
    expect(upload!.offset).toBe(sent * CHUNK);
    expect(upload!.bytes.equals(file.bytes.subarray(0, sent * CHUNK))).toBe(true);
    expect(server.completeCalls).toEqual([]);
  });

  it('maps a wrong token to an auth error', async () => {
    const server = await sandbox();
    const file = await localFile('secret.png', 100, 'image/png');
    const account = accountFor(server, 'wrong-token');
    const session = await adapter.createSession(account, file.job, call());
    const error = await rejection(
      adapter.uploadPart(account, file.job, session, adapter.planParts(session, file.job)[0]!, call()),
    );
    expect(error.kind).toBe('auth');
    expect(error.status).toBe(401);
    expect(error.message).toContain('Invalid token.');
    expect(server.uploads.size).toBe(0);
  });

  it('maps 5xx to server, 429 to rate-limited with Retry-After, and an unreadable 2xx to server', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('faults.png', 2 * CHUNK, 'image/png');
    const created = await adapter.createSession(account, file.job, call());
    const [first, part] = adapter.planParts(created, file.job);
    const { session } = await adapter.uploadPart(account, file.job, created, first!, call());
    const path = '/api/v2/media/upload/chunk/';

    server.fault({ path, action: { type: 'status', status: 503, body: 'Service Unavailable' } });
    expect((await rejection(adapter.uploadPart(account, file.job, session, part!, call()))).kind).toBe('server');

    server.fault({
      path,
      action: { type: 'status', status: 429, body: '{"detail":"Slow down"}', headers: { 'retry-after': '7' } },
    });
    const limited = await rejection(adapter.uploadPart(account, file.job, session, part!, call()));
    expect(limited.kind).toBe('rate-limited');
    expect(limited.retryAfterMs).toBe(7000);

    // The server stores the chunk but the reply is a proxy's page: retrying resyncs past it.
    server.fault({ path, action: { type: 'malformed', body: '<html>Bad gateway</html>', status: 200 } });
    const garbled = await rejection(adapter.uploadPart(account, file.job, session, part!, call()));
    expect(garbled.kind).toBe('server');
    expect(garbled.message).toContain('unreadable reply');
    const retried = await adapter.uploadPart(account, file.job, session, part!, call());
    expect(retried).toMatchObject({ kind: 'resync', serverOffset: 2 * CHUNK });
    expect(server.uploads.size).toBe(1);
  });

  it('stops at once when the call is aborted mid-chunk', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('paused.png', CHUNK, 'image/png');
    const session = await adapter.createSession(account, file.job, call());
    server.fault({ path: '/api/v2/media/upload/chunk/', action: { type: 'stall' } });
    const controller = new AbortController();
    const pending = adapter.uploadPart(account, file.job, session, adapter.planParts(session, file.job)[0]!, {
      signal: controller.signal,
      onBytes: () => {},
    });
    setTimeout(() => controller.abort(), 50);
    const error = await rejection(pending);
    expect(error.kind).toBe('aborted');
    expect(server.media).toEqual([]);
  });

  it('maps an unknown upload_id to session-gone', async () => {
    const server = await sandbox();
    const account = accountFor(server);
    const file = await localFile('unknown.png', 2 * CHUNK, 'image/png');
    const session: SelfCommunitySession = {
      uploadId: 'nope',
      expires: null,
      createdAt: Date.now(),
      field: 'image',
      offset: CHUNK,
    };
    const error = await rejection(
      adapter.uploadPart(account, file.job, session, adapter.planParts(session, file.job)[1]!, call()),
    );
    expect(error.kind).toBe('session-gone');
    expect(error.status).toBe(404);
  });
});

describe('SelfCommunity source validation', () => {
  const file = (name: string, size: number, mime: string): UploadSource => ({
    kind: 'file',
    path: `/tmp/${name}`,
    name,
    size,
    mime,
  });

  it('rejects an image over 5,000,000 bytes naming the file, its size and the limit', () => {
    const error = thrown(() => adapter.validateSource(file('huge.png', 5_000_001, 'image/png'), {}));
    expect(error.kind).toBe('too-large');
    expect(error.message).toBe("huge.png is 5,000,001 bytes, over SelfCommunity's limit of 5,000,000 bytes for images");
  });

  it('accepts images up to 5,000,000 bytes and PDFs up to 50,000,000 bytes', () => {
    expect(() => adapter.validateSource(file('edge.png', 5_000_000, 'image/png'), {})).not.toThrow();
    expect(() => adapter.validateSource(file('big.pdf', 50_000_000, 'application/pdf'), {})).not.toThrow();
    expect(() => adapter.validateSource(file('scan.PDF', 10, ''), {})).not.toThrow();
    const error = thrown(() => adapter.validateSource(file('book.pdf', 50_000_001, 'application/pdf'), {}));
    expect(error.kind).toBe('too-large');
    expect(error.message).toContain('50,000,000 bytes for PDF documents');
  });

  it('rejects files that are neither images nor PDFs, saying what SelfCommunity accepts', () => {
    const error = thrown(() =>
      adapter.validateSource(
        file('notes.docx', 100, 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'),
        {},
      ),
    );
    expect(error.kind).toBe('unsupported');
    expect(error.message).toMatch(
      /^notes\.docx is of type .*: SelfCommunity accepts images \(image\/\*.*\) and PDF documents/,
    );
    expect(thrown(() => adapter.validateSource(file('clip.mp4', 100, 'video/mp4'), {})).kind).toBe('unsupported');
  });

  it('rejects URL sources, empty files and unknown media types', () => {
    const url = thrown(() =>
      adapter.validateSource(
        { kind: 'url', url: 'https://example.com/a.png', name: 'a.png', size: 10, mime: 'image/png' },
        {},
      ),
    );
    expect(url.kind).toBe('unsupported');
    expect(url.message).toContain('SelfCommunity uploads local files');
    const empty = thrown(() => adapter.validateSource(file('empty.png', 0, 'image/png'), {}));
    expect(empty.kind).toBe('invalid');
    expect(empty.message).toContain('empty.png is empty');
    expect(thrown(() => adapter.validateSource(file('a.png', 10, 'image/png'), { type: 'video' })).kind).toBe(
      'invalid',
    );
  });

  it('takes a type option only among the media types the vendor documents for the file', () => {
    expect(() => adapter.validateSource(file('a.png', 10, 'image/png'), { type: 'image' })).not.toThrow();
    expect(() => adapter.validateSource(file('a.png', 10, 'image/png'), { type: 'eimage' })).not.toThrow();
    expect(() => adapter.validateSource(file('a.pdf', 10, 'application/pdf'), { type: 'doc' })).not.toThrow();

    const docForImage = thrown(() => adapter.validateSource(file('a.png', 10, 'image/png'), { type: 'doc' }));
    expect(docForImage.kind).toBe('invalid');
    expect(docForImage.message).toBe(
      'a.png: type=doc is for PDF documents; for an image use type=image or type=eimage, or leave it out',
    );
    const imageForPdf = thrown(() => adapter.validateSource(file('a.pdf', 10, 'application/pdf'), { type: 'eimage' }));
    expect(imageForPdf.kind).toBe('invalid');
    expect(imageForPdf.message).toBe(
      'a.pdf: type=eimage is for images; for a PDF document use type=doc, or leave it out',
    );
    const unknown = thrown(() => adapter.validateSource(file('a.png', 10, 'image/png'), { type: 'Image' }));
    expect(unknown.message).toBe(
      'a.png: "Image" is not a SelfCommunity media type; for an image use type=image or type=eimage, or leave it out',
    );
  });

  it('plans 204,800-byte parts from 0 with a shorter last part', () => {
    const job = { jobId: 1, source: file('p.png', 2 * CHUNK + 5, 'image/png'), options: {}, file: null };
    const session: SelfCommunitySession = { uploadId: null, expires: null, createdAt: 0, field: 'image', offset: 0 };
    expect(adapter.planParts(session, job)).toEqual([
      { index: 0, start: 0, end: CHUNK },
      { index: 1, start: CHUNK, end: 2 * CHUNK },
      { index: 2, start: 2 * CHUNK, end: 2 * CHUNK + 5 },
    ]);
  });
});
