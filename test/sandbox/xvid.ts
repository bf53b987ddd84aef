/**
 * Xvid MediaHub emulator: the OAuth2 token endpoint, the uploads API (create, finish, status) under
 * `/v1`, and a fake S3 bucket at `/s3/bucket/` that takes the signed form POST, all on one loopback
 * server built on the shared harness (so faults can be injected on any of them). It is strict where
 * docs/protocols.md says "must": grant_type spelled `client_credential`, Bearer tokens that expire, every
 * issued form field unchanged and before the file, the file last, a policy that expires, and
 * `nb_chunks` on finish. The S3 side streams the file into hashes, so big uploads cost no memory.
 *
 * Choices where the vendor is silent:
 * - Token errors use the RFC 6749 shape (`{"error":"unsupported_grant_type", …}`, 400; `invalid_client`,
 *   401), which an OAuth2 server would send; the adapter must read them as well as MediaHub's own shape.
 * - A missing or expired Bearer token gets the documented 403 `0x0000003` "Invalid access token".
 * - Create answers 200 with the upload (the finish example's shape plus the form); an unknown
 *   pipeline or missing object key gets the documented 400 `0x0230001` "Invalid Input".
 * - A second finish of the same upload, a finish before S3 holds the file, or an `nb_chunks` other
 *   than the form's `chunks` gets 400 `0x0230001`.
 * - S3 rule breaks (a field missing or changed, a field after the file, no file) get 400
 *   `InvalidArgument`; a signature that does not match gets 403 `SignatureDoesNotMatch`; an expired
 *   policy gets 403 `AccessDenied` "Invalid according to Policy: Policy expired.", as S3 words it.
 * - The file id differs from the upload id (the doc's example has them equal) so that tests can tell
 *   which one the adapter reports.
 * - Paths are answered only in the vendor's documented forms: `/oauth2/token/` and `/files/uploads/`
 *   (create) with their trailing slash, `/files/uploads/{id}` without. A documented path asked without
 *   its slash gets a 301 to the slashed path, as a Django server with APPEND_SLASH does, and nothing
 *   else happens: a client that treats the 301 as an answer has created nothing.
 * - `expires_at` (create) is an epoch timestamp in seconds [doc: "Epoch timestamp", integer]; 0 means
 *   never. Absent, the vendor's default applies: 7 days after create, and that is what is recorded.
 *   Anything else that is not a whole number, a time already past, or a number so large that it can
 *   only be milliseconds (after the year 9999) gets 400 `0x0230001` [the vendor is silent on both].
 * - The signed form carries the vendor example's fields (`name`, `filename` "", `chunk`, `chunks`…)
 *   and the S3 key `tmp/<pipeline id>/<object key>`, as in the vendor's example. The bucket keeps one
 *   object per S3 key and a second POST to the same key replaces the first, as S3 does (MediaHub does
 *   not document refusing a repeated object_key): two uploads with the same object key lose a file.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { json, readBody, startSandboxServer, type Fault, type LoggedRequest, type Reply } from './harness.ts';

export const XVID_SANDBOX_GRANT_TYPE = 'client_credential';
export const XVID_SANDBOX_BUCKET = 'bucket';
export const XVID_SANDBOX_ACCESS_KEY = 'AKIAXVIDSANDBOX';
/** The vendor's default lifetime of an uploaded object no Job used, when create has no `expires_at`. */
export const XVID_SANDBOX_DEFAULT_EXPIRY_SECONDS = 7 * 24 * 60 * 60;
/** Larger `expires_at` values can only be milliseconds (253402300799 s is 9999-12-31T23:59:59Z). */
const LATEST_EXPIRES_AT = 253_402_300_799;

export interface XvidSandboxOptions {
  clientId?: string;
  clientSecret?: string;
  /** The only pipeline id create accepts (default `pipeline-1`). */
  pipelineId?: string;
  /** Lifetime of an access token (default 3600 s). */
  tokenTtlSeconds?: number;
  /** Lifetime of a signed S3 form after create (default 30 minutes). */
  policyTtlMs?: number;
  /** Status GETs answered COMPLETING after the finish before the final status (default 2). */
  completingPolls?: number;
  /** Status an upload ends in after COMPLETING (default `COMPLETED`). */
  finalStatus?: string;
  /** The largest file the signed form's content-length-range allows (default 5,000,000,000). */
  maxFileBytes?: number;
  port?: number;
}

export interface XvidSandboxUpload {
  id: string;
  fileId: string;
  objectKey: string;
  /** The S3 key of the signed form: `tmp/<pipeline id>/<object key>`. */
  s3Key: string;
  pipelineId: string;
  status: string;
  /**
   * When MediaHub deletes the object unless a Job used it (epoch seconds): what create sent, or the
   * vendor's 7-day default when it sent none; 0 = never.
   */
  expiresAt: number;
  /** The form fields issued with the upload, in order. */
  params: Array<[string, string]>;
  policyExpiresAt: number;
  nbChunks: number | null;
  /** What S3 holds under the upload's key; null until a form POST succeeded. */
  stored: { size: number; sha256: string; md5: string } | null;
  /** Status GETs answered since the finish. */
  polls: number;
}

export interface XvidTokenCall {
  grantType: string | null;
  clientId: string | null;
  scope: string | null;
  status: number;
}

export interface XvidCreateCall {
  objectKey: string | null;
  pipelineId: string | null;
  /** `expires_at` exactly as sent, or null when create had none. */
  expiresAt: string | null;
  uploadId: string | null;
  status: number;
}

/** An object in the emulated bucket (the last POST to its key wins, as in S3). */
export interface XvidBucketObject {
  uploadId: string;
  size: number;
  sha256: string;
}

export interface XvidS3Post {
  /** The upload whose policy the POST carried, or null when it matched none. */
  uploadId: string | null;
  /** Bytes of the `file` field received. */
  size: number;
  sha256: string;
  /** Every field name in the order received, the file field included. */
  fieldOrder: string[];
  status: number;
}

export interface XvidFinishCall {
  uploadId: string;
  /** `upload.nb_chunks` as sent (any JSON value). */
  nbChunks: unknown;
  status: number;
}

export interface XvidStatusCall {
  uploadId: string;
  status: number;
  /** The upload status answered, or null on an error reply. */
  uploadStatus: string | null;
}

export interface XvidSandbox {
  /** Server origin, e.g. http://127.0.0.1:1234. */
  readonly url: string;
  /** The API base URL to give the adapter: `${url}/v1`. */
  readonly apiUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly pipelineId: string;
  readonly requests: LoggedRequest[];
  readonly tokenCalls: XvidTokenCall[];
  readonly createCalls: XvidCreateCall[];
  readonly s3Posts: XvidS3Post[];
  readonly finishCalls: XvidFinishCall[];
  readonly statusCalls: XvidStatusCall[];
  readonly uploads: Map<string, XvidSandboxUpload>;
  /** The bucket's objects by S3 key. */
  readonly objects: Map<string, XvidBucketObject>;
  fault(fault: Fault): void;
  clearFaults(): void;
  /** Every token issued so far stops working (403 0x0000003). */
  expireTokens(): void;
  /** Every signed form issued so far expires (S3 answers 403 AccessDenied "Policy expired"). */
  expirePolicies(): void;
  close(): Promise<void>;
}

const apiError = (status: number, code: string, message: string): Reply =>
  json(status, { error: { error_code: code, error_message: message } });

const INVALID_INPUT = (): Reply => apiError(400, '0x0230001', 'Invalid Input');
const INVALID_TOKEN = (): Reply => apiError(403, '0x0000003', 'Invalid access token');
const NO_SUCH_UPLOAD = (): Reply => apiError(404, '0x0230002', 'Requested file does not exist');

function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function s3Error(status: number, code: string, message: string): Reply {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message>` +
    `<RequestId>${randomBytes(8).toString('hex').toUpperCase()}</RequestId></Error>`;
  return { status, body, headers: { 'content-type': 'application/xml' } };
}

/** A MongoDB-style 24 hex digit id, like the ids in the vendor's examples. */
function objectId(): string {
  return randomBytes(12).toString('hex');
}

interface ReceivedForm {
  fieldOrder: string[];
  fields: Map<string, string>;
  files: Array<{ name: string; size: number; sha256: string; md5: string }>;
  /** Field names that came after the first file. */
  afterFile: string[];
  tooLarge: boolean;
}

/** Streams a multipart body: fields are kept, files only hashed and counted. Rejects on a malformed body. */
function receiveForm(request: IncomingMessage, maxFileBytes: number): Promise<ReceivedForm> {
  return new Promise((resolve, reject) => {
    const form: ReceivedForm = { fieldOrder: [], fields: new Map(), files: [], afterFile: [], tooLarge: false };
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: request.headers, limits: { fieldSize: 64 * 1024 } });
    } catch (error) {
      // Drain so that the client gets the error reply instead of a reset.
      void readBody(request).finally(() => reject(error as Error));
      return;
    }
    const pending: Array<Promise<void>> = [];
    parser.on('field', (name, value) => {
      form.fieldOrder.push(name);
      if (form.files.length > 0 || pending.length > 0) form.afterFile.push(name);
      form.fields.set(name, value);
    });
    parser.on('file', (name, stream) => {
      form.fieldOrder.push(name);
      if (pending.length > 0) form.afterFile.push(name);
      const sha256 = createHash('sha256');
      const md5 = createHash('md5');
      let size = 0;
      pending.push(
        new Promise<void>((done) => {
          stream.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxFileBytes) form.tooLarge = true;
            else {
              sha256.update(chunk);
              md5.update(chunk);
            }
          });
          stream.on('end', () => {
            form.files.push({ name, size, sha256: sha256.digest('hex'), md5: md5.digest('hex') });
            done();
          });
        }),
      );
    });
    parser.on('error', (error) => {
      request.unpipe(parser);
      request.resume();
      reject(error as Error);
    });
    parser.on('close', () => {
      void Promise.all(pending).then(() => resolve(form));
    });
    request.pipe(parser);
  });
}

export async function startXvidSandbox(options: XvidSandboxOptions = {}): Promise<XvidSandbox> {
  const clientId = options.clientId ?? 'xvid-client';
  const clientSecret = options.clientSecret ?? 'xvid-secret';
  const pipelineId = options.pipelineId ?? 'pipeline-1';
  const tokenTtlSeconds = options.tokenTtlSeconds ?? 3600;
  const policyTtlMs = options.policyTtlMs ?? 30 * 60 * 1000;
  const completingPolls = options.completingPolls ?? 2;
  const finalStatus = options.finalStatus ?? 'COMPLETED';
  const maxFileBytes = options.maxFileBytes ?? 5_000_000_000;
  // The secret S3 would hold for the access key; signatures are HMAC-SHA1 of the policy, as in SigV2.
  const signingKey = randomBytes(16).toString('hex');

  const tokens = new Map<string, number>();
  const uploads = new Map<string, XvidSandboxUpload>();
  const objects = new Map<string, XvidBucketObject>();
  const uploadByPolicy = new Map<string, string>();
  const tokenCalls: XvidTokenCall[] = [];
  const createCalls: XvidCreateCall[] = [];
  const s3Posts: XvidS3Post[] = [];
  const finishCalls: XvidFinishCall[] = [];
  const statusCalls: XvidStatusCall[] = [];
  let origin = '';

  const sign = (policy: string): string => createHmac('sha1', signingKey).update(policy).digest('base64');

  const authorized = (request: IncomingMessage): boolean => {
    const match = /^Bearer (.+)$/.exec(request.headers.authorization ?? '');
    const expiresAt = match ? tokens.get(match[1]!) : undefined;
    return expiresAt !== undefined && expiresAt > Date.now();
  };

  const view = (upload: XvidSandboxUpload): Record<string, unknown> => ({
    upload: {
      id: upload.id,
      status: upload.status,
      object_key: upload.objectKey,
      storage_type: 'S3',
      nb_chunks: upload.nbChunks,
      pipeline: { id: upload.pipelineId },
      // The vendor's create example already carries the file id.
      file: { id: upload.fileId },
      form_post_url: `${origin}/s3/${XVID_SANDBOX_BUCKET}/`,
      form_post_params: Object.fromEntries(upload.params),
    },
  });

  const handleToken = async (request: IncomingMessage): Promise<Reply> => {
    const body = await readBody(request);
    const form = new URLSearchParams(body.toString('utf8'));
    const call: XvidTokenCall = {
      grantType: form.get('grant_type'),
      clientId: form.get('client_id'),
      scope: form.get('scope'),
      status: 0,
    };
    tokenCalls.push(call);
    const reply = ((): Reply => {
      if (!String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
        return json(400, { error: 'invalid_request', error_description: 'Send the parameters as a form' });
      }
      if (call.grantType !== XVID_SANDBOX_GRANT_TYPE) {
        return json(400, {
          error: 'unsupported_grant_type',
          error_description: `grant_type must be ${XVID_SANDBOX_GRANT_TYPE}`,
        });
      }
      if (call.clientId !== clientId || form.get('client_secret') !== clientSecret) {
        return json(401, { error: 'invalid_client', error_description: 'Client authentication failed' });
      }
      if (call.scope !== 'mediahub') return json(400, { error: 'invalid_scope', error_description: 'Unknown scope' });
      const token = randomBytes(16).toString('hex');
      tokens.set(token, Date.now() + tokenTtlSeconds * 1000);
      return json(200, { access_token: token, token_type: 'Bearer', expires_in: tokenTtlSeconds });
    })();
    call.status = reply.status;
    return reply;
  };

  const handleCreate = async (request: IncomingMessage, url: URL): Promise<Reply> => {
    await readBody(request);
    const call: XvidCreateCall = {
      objectKey: url.searchParams.get('object_key'),
      pipelineId: url.searchParams.get('pipeline_id'),
      expiresAt: url.searchParams.get('expires_at'),
      uploadId: null,
      status: 0,
    };
    createCalls.push(call);
    const reply = ((): Reply => {
      if (!authorized(request)) return INVALID_TOKEN();
      if (!call.objectKey || call.pipelineId !== pipelineId) return INVALID_INPUT();
      const createdAt = Date.now();
      const nowSeconds = Math.floor(createdAt / 1000);
      let expiresAt = nowSeconds + XVID_SANDBOX_DEFAULT_EXPIRY_SECONDS;
      if (call.expiresAt !== null) {
        if (!/^\d+$/.test(call.expiresAt)) return INVALID_INPUT();
        expiresAt = Number(call.expiresAt);
        if (expiresAt !== 0 && (expiresAt <= nowSeconds || expiresAt > LATEST_EXPIRES_AT)) return INVALID_INPUT();
      }
      const id = objectId();
      const s3Key = `tmp/${pipelineId}/${call.objectKey}`;
      const policyExpiresAt = createdAt + policyTtlMs;
      const policy = Buffer.from(
        JSON.stringify({
          expiration: new Date(policyExpiresAt).toISOString(),
          conditions: [
            { bucket: XVID_SANDBOX_BUCKET },
            { key: s3Key },
            { acl: 'private' },
            { success_action_status: '201' },
            ['content-length-range', 0, maxFileBytes],
            { 'x-amz-meta-upload-id': id },
          ],
        }),
      ).toString('base64');
      const upload: XvidSandboxUpload = {
        id,
        fileId: objectId(),
        objectKey: call.objectKey,
        s3Key,
        pipelineId,
        status: 'UPLOADING',
        expiresAt,
        params: [
          ['name', call.objectKey.slice(call.objectKey.lastIndexOf('/') + 1)],
          ['filename', ''],
          ['key', s3Key],
          ['acl', 'private'],
          ['success_action_status', '201'],
          ['Content-Type', 'application/octet-stream'],
          ['x-amz-meta-upload-id', id],
          ['chunk', '0'],
          ['chunks', '1'],
          ['AWSAccessKeyId', XVID_SANDBOX_ACCESS_KEY],
          ['policy', policy],
          ['signature', sign(policy)],
        ],
        policyExpiresAt,
        nbChunks: null,
        stored: null,
        polls: 0,
      };
      uploads.set(id, upload);
      uploadByPolicy.set(policy, id);
      call.uploadId = id;
      return json(200, view(upload));
    })();
    call.status = reply.status;
    return reply;
  };

  const handleFinish = async (request: IncomingMessage, uploadId: string): Promise<Reply> => {
    const body = await readBody(request);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const nbChunks = (parsed as { upload?: { nb_chunks?: unknown } } | undefined)?.upload?.nb_chunks;
    const call: XvidFinishCall = { uploadId, nbChunks, status: 0 };
    finishCalls.push(call);
    const reply = ((): Reply => {
      if (!authorized(request)) return INVALID_TOKEN();
      const upload = uploads.get(uploadId);
      if (!upload) return NO_SUCH_UPLOAD();
      if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) return INVALID_INPUT();
      const chunks = Number(upload.params.find(([name]) => name === 'chunks')?.[1]);
      if (typeof nbChunks !== 'number' || !Number.isInteger(nbChunks) || nbChunks !== chunks) return INVALID_INPUT();
      if (upload.status !== 'UPLOADING' || upload.stored === null) return INVALID_INPUT();
      upload.nbChunks = nbChunks;
      upload.status = 'COMPLETING';
      upload.polls = 0;
      return json(200, view(upload));
    })();
    call.status = reply.status;
    return reply;
  };

  const handleStatus = async (request: IncomingMessage, uploadId: string): Promise<Reply> => {
    await readBody(request);
    const call: XvidStatusCall = { uploadId, status: 0, uploadStatus: null };
    statusCalls.push(call);
    const reply = ((): Reply => {
      if (!authorized(request)) return INVALID_TOKEN();
      const upload = uploads.get(uploadId);
      if (!upload) return NO_SUCH_UPLOAD();
      if (upload.status === 'COMPLETING') {
        upload.polls += 1;
        if (upload.polls > completingPolls) upload.status = finalStatus;
      }
      call.uploadStatus = upload.status;
      return json(200, view(upload));
    })();
    call.status = reply.status;
    return reply;
  };

  const handleS3Post = async (request: IncomingMessage): Promise<Reply> => {
    const post: XvidS3Post = { uploadId: null, size: 0, sha256: '', fieldOrder: [], status: 0 };
    s3Posts.push(post);
    const reply = await (async (): Promise<Reply> => {
      if (!String(request.headers['content-type'] ?? '').startsWith('multipart/form-data')) {
        await readBody(request);
        return s3Error(412, 'PreconditionFailed', 'Bucket POST must be of the enclosure-type multipart/form-data');
      }
      let form: ReceivedForm;
      try {
        form = await receiveForm(request, maxFileBytes);
      } catch (error) {
        return s3Error(
          400,
          'MalformedPOSTRequest',
          `The body of your POST request is not well-formed multipart/form-data (${(error as Error).message})`,
        );
      }
      post.fieldOrder = form.fieldOrder;
      const file = form.files[0];
      if (file) {
        post.size = file.size;
        post.sha256 = file.sha256;
      }
      const policy = form.fields.get('policy') ?? '';
      const uploadId = uploadByPolicy.get(policy) ?? null;
      post.uploadId = uploadId;

      if (request.headers.authorization !== undefined) {
        return s3Error(
          400,
          'InvalidArgument',
          'Only one auth mechanism allowed; a form POST must not carry an Authorization header',
        );
      }
      if (form.files.length !== 1 || file?.name !== 'file') {
        return s3Error(
          400,
          'InvalidArgument',
          'POST requires exactly one file upload per request, in the field named file',
        );
      }
      if (form.afterFile.length > 0) {
        return s3Error(
          400,
          'InvalidArgument',
          `Form fields must come before the file; received after it: ${form.afterFile.join(', ')}`,
        );
      }
      const upload = uploadId === null ? undefined : uploads.get(uploadId);
      if (!upload)
        return s3Error(403, 'AccessDenied', 'Invalid according to Policy: Policy could not be matched to an upload');
      for (const [name, value] of upload.params) {
        if (!form.fields.has(name))
          return s3Error(400, 'InvalidArgument', `Bucket POST must contain a field named '${name}'`);
        if (form.fields.get(name) !== value) {
          return s3Error(
            400,
            'InvalidArgument',
            `Invalid according to Policy: Policy Condition failed: ["eq", "$${name}", "${value}"]`,
          );
        }
      }
      if (form.fields.get('signature') !== sign(policy)) {
        return s3Error(
          403,
          'SignatureDoesNotMatch',
          'The request signature we calculated does not match the signature you provided',
        );
      }
      if (upload.policyExpiresAt <= Date.now())
        return s3Error(403, 'AccessDenied', 'Invalid according to Policy: Policy expired.');
      if (form.tooLarge) return s3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size');
      upload.stored = { size: file.size, sha256: file.sha256, md5: file.md5 };
      // S3 replaces whatever the key held before: an earlier upload under the same key is gone.
      objects.set(upload.s3Key, { uploadId: upload.id, size: file.size, sha256: file.sha256 });
      const location = `${origin}/s3/${XVID_SANDBOX_BUCKET}/${upload.s3Key.split('/').map(encodeURIComponent).join('/')}`;
      const body =
        '<?xml version="1.0" encoding="UTF-8"?>\n' +
        `<PostResponse><Location>${escapeXml(location)}</Location><Bucket>${XVID_SANDBOX_BUCKET}</Bucket>` +
        `<Key>${escapeXml(upload.s3Key)}</Key><ETag>${escapeXml(`"${file.md5}"`)}</ETag></PostResponse>`;
      return { status: 201, body, headers: { 'content-type': 'application/xml', location, etag: `"${file.md5}"` } };
    })();
    post.status = reply.status;
    return reply;
  };

  const server = await startSandboxServer(async (request, url) => {
    const method = request.method ?? 'GET';
    const path = url.pathname;
    if (path === `/s3/${XVID_SANDBOX_BUCKET}/` || path === `/s3/${XVID_SANDBOX_BUCKET}`) {
      if (method === 'POST') return handleS3Post(request);
      await readBody(request);
      return s3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    }
    if (path === '/v1/oauth2/token/' && method === 'POST') return handleToken(request);
    if (path === '/v1/files/uploads/' && method === 'POST') return handleCreate(request, url);
    if (path === '/v1/oauth2/token' || path === '/v1/files/uploads') {
      // Django's APPEND_SLASH: the documented path has a trailing slash, so this one is only redirected.
      await readBody(request);
      const location = `${origin}${path}/${url.search}`;
      return { status: 301, body: '', headers: { location, 'content-type': 'text/html; charset=utf-8' } };
    }
    const match = /^\/v1\/files\/uploads\/([^/]+)$/.exec(path);
    if (match) {
      const uploadId = decodeURIComponent(match[1]!);
      if (method === 'PUT') return handleFinish(request, uploadId);
      if (method === 'GET') return handleStatus(request, uploadId);
    }
    await readBody(request);
    return apiError(404, '0x0000004', `No route for ${method} ${path}`);
  }, options.port);
  origin = server.url;

  return {
    url: server.url,
    apiUrl: `${server.url}/v1`,
    clientId,
    clientSecret,
    pipelineId,
    get requests() {
      return server.requests;
    },
    tokenCalls,
    createCalls,
    s3Posts,
    finishCalls,
    statusCalls,
    uploads,
    objects,
    fault: (fault) => server.fault(fault),
    clearFaults: () => server.clearFaults(),
    expireTokens() {
      for (const token of tokens.keys()) tokens.set(token, Date.now() - 1);
    },
    expirePolicies() {
      for (const upload of uploads.values()) upload.policyExpiresAt = Date.now() - 1;
    },
    close: () => server.close(),
  };
}
