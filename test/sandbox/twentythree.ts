/**
 * TwentyThree emulator: the upload-token call with a real OAuth 1.0a HMAC-SHA1 check, and
 * Resumable.js chunk uploads with the documented size rule, one-use tokens and every documented form
 * of the completing reply. Built on the shared harness, so faults can be injected on any request.
 *
 * Choices where the vendor is silent:
 * - An invalid, consumed or expired token gets status 403 with the plain text
 *   "Upload token is invalid, consumed or expired" (the doc only says "a plain, unstyled error
 *   message"; 403 is what a token refusal most plausibly carries, and it is not 200 or 500, whose
 *   meanings are documented).
 * - A chunk that breaks the size rule, or a missing/ill-formed Resumable.js field, gets 400 with a
 *   plain-text reason.
 * - The `json` outcome is nested under `data` when the token shape is `data` (the newer API).
 * - The `text` outcome needs `background_return_p=1` on the token; without it the emulator redirects,
 *   as the real service does for browser uploads.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { readBody, startSandboxServer, text, json, type Reply, type SandboxServer } from './harness.ts';

export interface TwentyThreeSandboxOptions {
  consumerKey?: string;
  consumerSecret?: string;
  accessToken?: string;
  accessTokenSecret?: string;
  /** `legacy`: `{"status":"ok","uploadtoken":{…}}` with epoch seconds; `data`: `{"data":{…}}` with an ISO date. */
  tokenShape?: 'legacy' | 'data';
  /** How the completing chunk reports the new photo. */
  outcome?: 'text' | 'json' | 'bare' | 'redirect';
  /** Overrides the token lifetime the client asked for. */
  validMinutes?: number;
  /** Delay before answering every chunk that does not complete the file (to observe parallelism). */
  chunkDelayMs?: number;
  /**
   * Keep chunk bytes until the file completes (default true). Benchmarks set false so that a 1 GiB
   * upload costs the emulator no memory and no whole-file hashing; photos then carry empty hashes.
   */
  keepBytes?: boolean;
  port?: number;
}

export interface IssuedToken {
  token: string;
  /** The form parameters of the signed request, decoded. */
  params: Record<string, string>;
  validUntil: number;
  maxUploads: number;
  uploads: number;
  expired: boolean;
}

export interface ChunkLog {
  token: string;
  identifier: string;
  number: number;
  size: number;
  status: number;
}

export interface StoredPhoto {
  photoId: number;
  treeId: number;
  size: number;
  sha256: string;
  md5: string;
  filename: string;
  title: string;
}

export interface TwentyThreeSandbox extends SandboxServer {
  readonly tokens: IssuedToken[];
  readonly chunks: ChunkLog[];
  readonly photos: StoredPhoto[];
  readonly completions: number;
  /** Every token issued so far stops working (as if its valid_until had passed). */
  expireTokens(): void;
}

const TOKEN_GONE = 'Upload token is invalid, consumed or expired';
const DEFAULT_RETURN_URL = 'https://return.example/uploaded';
const CLOCK_SKEW_S = 300;

/** RFC 3986 percent-encoding as RFC 5849 §3.6 wants it: everything but unreserved characters. */
export function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function parseAuthorization(value: string | undefined): Map<string, string> | null {
  if (!value || !/^OAuth\s/i.test(value)) return null;
  const params = new Map<string, string>();
  for (const match of value.slice(6).matchAll(/([A-Za-z0-9_~.%-]+)\s*=\s*"([^"]*)"/g)) {
    const [, name, raw] = match;
    if (name === undefined || raw === undefined) continue;
    params.set(decodeURIComponent(name), decodeURIComponent(raw));
  }
  return params;
}

/**
 * RFC 5849 §3.4.1: base string = METHOD & enc(base URI) & enc(normalized parameters), where the
 * parameters are the oauth_* header values (minus signature and realm), the query and the
 * form-urlencoded body, each name and value encoded, sorted by name then value.
 */
export function signatureBaseString(
  method: string,
  baseUri: string,
  oauthParams: Map<string, string>,
  query: URLSearchParams,
  form: URLSearchParams | null,
): string {
  const pairs: Array<[string, string]> = [];
  for (const [name, value] of oauthParams) {
    if (name === 'oauth_signature' || name === 'realm') continue;
    pairs.push([rfc3986(name), rfc3986(value)]);
  }
  for (const [name, value] of query) pairs.push([rfc3986(name), rfc3986(value)]);
  if (form) for (const [name, value] of form) pairs.push([rfc3986(name), rfc3986(value)]);
  pairs.sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  const normalized = pairs.map(([name, value]) => `${name}=${value}`).join('&');
  return `${method.toUpperCase()}&${rfc3986(baseUri)}&${rfc3986(normalized)}`;
}

interface Upload {
  token: IssuedToken;
  total: number;
  chunkSize: number;
  totalChunks: number;
  filename: string;
  parts: Map<number, Buffer>;
}

interface ChunkRequest {
  fields: Map<string, string>;
  file: Buffer | null;
  fieldAfterFile: boolean;
}

function readMultipart(request: IncomingMessage): Promise<ChunkRequest> {
  return new Promise((resolve, reject) => {
    const result: ChunkRequest = { fields: new Map(), file: null, fieldAfterFile: false };
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: request.headers, defParamCharset: 'utf8' });
    } catch (error) {
      reject(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    parser.on('field', (name, value) => {
      if (result.file !== null) result.fieldAfterFile = true;
      result.fields.set(name, value);
    });
    parser.on('file', (name, stream) => {
      const parts: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => parts.push(chunk));
      stream.on('end', () => {
        if (name === 'file') result.file = Buffer.concat(parts);
      });
    });
    parser.on('close', () => resolve(result));
    parser.on('error', (error) => reject(error instanceof Error ? error : new Error(String(error))));
    request.pipe(parser);
  });
}

export async function startTwentyThreeSandbox(options: TwentyThreeSandboxOptions = {}): Promise<TwentyThreeSandbox> {
  const consumerKey = options.consumerKey ?? 'ck';
  const consumerSecret = options.consumerSecret ?? 'cs';
  const accessToken = options.accessToken ?? 'at';
  const accessTokenSecret = options.accessTokenSecret ?? 'as';
  const tokenShape = options.tokenShape ?? 'legacy';
  const outcome = options.outcome ?? 'text';

  const tokens: IssuedToken[] = [];
  const chunks: ChunkLog[] = [];
  const photos: StoredPhoto[] = [];
  const uploads = new Map<string, Upload>();
  const nonces = new Set<string>();
  let completions = 0;
  let nextPhotoId = 81_000_001;
  let nextTreeId = 52_000_001;

  const verifyOAuth = (request: IncomingMessage, url: URL, form: URLSearchParams | null): string | null => {
    const params = parseAuthorization(request.headers.authorization);
    if (!params) return 'OAuth signature required';
    if (params.get('oauth_signature_method') !== 'HMAC-SHA1') return 'Unsupported oauth_signature_method';
    const version = params.get('oauth_version');
    if (version !== undefined && version !== '1.0') return 'Unsupported oauth_version';
    if (params.get('oauth_consumer_key') !== consumerKey) return 'Unknown consumer key';
    if (params.get('oauth_token') !== accessToken) return 'Unknown access token';
    const timestamp = Number(params.get('oauth_timestamp'));
    if (!Number.isInteger(timestamp) || Math.abs(timestamp - Date.now() / 1000) > CLOCK_SKEW_S) return 'Stale oauth_timestamp';
    const nonce = params.get('oauth_nonce');
    if (!nonce) return 'Missing oauth_nonce';
    if (nonces.has(`${timestamp}:${nonce}`)) return 'Replayed oauth_nonce';
    const signature = params.get('oauth_signature');
    if (!signature) return 'Missing oauth_signature';

    const host = (request.headers.host ?? '').toLowerCase().replace(/:80$/, '');
    const baseUri = `http://${host}${url.pathname}`;
    const base = signatureBaseString(request.method ?? 'POST', baseUri, params, url.searchParams, form);
    const key = `${rfc3986(consumerSecret)}&${rfc3986(accessTokenSecret)}`;
    const expected = createHmac('sha1', key).update(base).digest();
    const given = Buffer.from(signature, 'base64');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'Invalid OAuth signature';
    nonces.add(`${timestamp}:${nonce}`);
    return null;
  };

  const issueToken = async (request: IncomingMessage, url: URL): Promise<Reply> => {
    if (request.method !== 'POST') return text(405, 'Method not allowed');
    const body = (await readBody(request)).toString('utf8');
    const isForm = (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    const form = isForm ? new URLSearchParams(body) : null;
    const refusal = verifyOAuth(request, url, form);
    if (refusal) return text(401, refusal);

    const params: Record<string, string> = {};
    for (const [name, value] of url.searchParams) params[name] = value;
    if (form) for (const [name, value] of form) params[name] = value;
    const asked = params.valid_minutes === undefined ? 180 : Number(params.valid_minutes);
    if (!Number.isInteger(asked) || asked < 15 || asked > 1440) {
      return json(200, { status: 'error', code: 'invalid_parameter', message: 'valid_minutes must be between 15 and 1440' });
    }
    const maxUploads = params.max_uploads === undefined ? 1 : Number(params.max_uploads);
    if (!Number.isInteger(maxUploads) || maxUploads < 1) {
      return json(200, { status: 'error', code: 'invalid_parameter', message: 'max_uploads must be a positive integer' });
    }
    const minutes = options.validMinutes ?? asked;
    const issued: IssuedToken = {
      token: randomBytes(16).toString('hex'),
      params,
      validUntil: Date.now() + minutes * 60_000,
      maxUploads,
      uploads: 0,
      expired: false,
    };
    tokens.push(issued);
    const common = { upload_token: issued.token, title: params.title ?? '', album_id: params.album_id ?? '' };
    if (tokenShape === 'data') {
      return json(200, { data: { ...common, valid_until: new Date(issued.validUntil).toISOString() } });
    }
    return json(200, {
      status: 'ok',
      permission_level: 'write',
      cached: false,
      uploadtoken: { ...common, valid_until: Math.floor(issued.validUntil / 1000), max_uploads: String(maxUploads) },
    });
  };

  const outcomeReply = (upload: Upload, photo: StoredPhoto, photoToken: string, host: string): Reply => {
    const returnUrl = upload.token.params.return_url || DEFAULT_RETURN_URL;
    const background = upload.token.params.background_return_p === '1';
    const form = outcome === 'text' && !background ? 'redirect' : outcome;
    switch (form) {
      case 'text':
        return text(200, `ok ${host} ${photo.treeId} ${photo.photoId} ${photoToken} ${returnUrl}`);
      case 'json': {
        const value = { photo_id: photo.photoId, tree_id: photo.treeId, token: photoToken };
        return json(200, tokenShape === 'data' ? { data: value } : value);
      }
      case 'bare':
        return text(200, String(photo.photoId));
      case 'redirect': {
        const location = new URL(returnUrl);
        location.searchParams.set('photo_id', String(photo.photoId));
        location.searchParams.set('tree_id', String(photo.treeId));
        location.searchParams.set('token', photoToken);
        return { status: 302, body: '', headers: { location: location.href } };
      }
      default: {
        const unexpected: never = form;
        throw new Error(`unknown outcome ${String(unexpected)}`);
      }
    }
  };

  const redeem = async (request: IncomingMessage): Promise<Reply> => {
    if (request.method !== 'POST') return text(405, 'Method not allowed');
    const { fields, file, fieldAfterFile } = await readMultipart(request);
    const tokenValue = fields.get('upload_token') ?? '';
    const identifier = fields.get('resumableIdentifier') ?? '';
    const number = Number(fields.get('resumableChunkNumber'));
    const log: ChunkLog = { token: tokenValue, identifier, number, size: file?.length ?? 0, status: 0 };
    chunks.push(log);
    const reply = (value: Reply): Reply => {
      log.status = value.status;
      return value;
    };

    const token = tokens.find((candidate) => candidate.token === tokenValue);
    if (!token || token.expired || Date.now() >= token.validUntil || token.uploads >= token.maxUploads) {
      return reply(text(403, TOKEN_GONE));
    }
    if (file === null) return reply(text(400, 'Missing file'));
    if (fieldAfterFile) return reply(text(400, 'The file must be the last field'));
    const chunkSize = Number(fields.get('resumableChunkSize'));
    const total = Number(fields.get('resumableTotalSize'));
    const current = Number(fields.get('resumableCurrentChunkSize'));
    const totalChunks = Number(fields.get('resumableTotalChunks'));
    const filename = fields.get('resumableFilename') ?? '';
    if (!identifier) return reply(text(400, 'Missing resumableIdentifier'));
    if (![chunkSize, total, current, totalChunks, number].every(Number.isSafeInteger) || chunkSize < 1 || total < 1) {
      return reply(text(400, 'Invalid resumable parameters'));
    }
    const expectedChunks = Math.max(1, Math.floor(total / chunkSize));
    if (totalChunks !== expectedChunks) {
      return reply(text(400, `resumableTotalChunks ${totalChunks} should be ${expectedChunks}`));
    }
    if (number < 1 || number > expectedChunks) return reply(text(400, `resumableChunkNumber ${number} out of range (1-based)`));
    const expectedSize = number < expectedChunks ? chunkSize : total - (number - 1) * chunkSize;
    if (current !== expectedSize || file.length !== expectedSize) {
      return reply(text(400, `Chunk ${number} should be ${expectedSize} bytes (declared ${current}, got ${file.length})`));
    }

    const key = `${token.token}\u0000${identifier}`;
    let upload = uploads.get(key);
    if (!upload) {
      upload = { token, total, chunkSize, totalChunks, filename, parts: new Map() };
      uploads.set(key, upload);
    } else if (upload.total !== total || upload.chunkSize !== chunkSize) {
      return reply(text(400, 'Chunk parameters differ from earlier chunks of this file'));
    }
    // A re-sent chunk replaces the earlier copy, as a retry after a lost reply does.
    upload.parts.set(number, options.keepBytes === false ? Buffer.alloc(0) : file);

    if (upload.parts.size < upload.totalChunks) {
      if (options.chunkDelayMs) await new Promise((resolve) => setTimeout(resolve, options.chunkDelayMs));
      return reply(text(200, 'OK'));
    }

    const whole =
      options.keepBytes === false
        ? null
        : Buffer.concat([...Array(upload.totalChunks).keys()].map((index) => upload.parts.get(index + 1) as Buffer));
    const photo: StoredPhoto = {
      photoId: nextPhotoId++,
      treeId: nextTreeId++,
      size: whole?.length ?? upload.total,
      sha256: whole ? createHash('sha256').update(whole).digest('hex') : '',
      md5: whole ? createHash('md5').update(whole).digest('hex') : '',
      filename,
      title: token.params.title ?? filename,
    };
    photos.push(photo);
    token.uploads += 1;
    completions += 1;
    // Only the hashes are kept: tests compare them, and big files must not pile up in memory.
    upload.parts.clear();
    uploads.delete(key);
    const host = (request.headers.host ?? 'sandbox.invalid').replace(/:\d+$/, '');
    return reply(outcomeReply(upload, photo, randomBytes(8).toString('hex'), host));
  };

  const server = await startSandboxServer(async (request, url) => {
    if (url.pathname === '/api/photo/get-upload-token') return issueToken(request, url);
    if (url.pathname === '/api/photo/redeem-upload-token') return redeem(request);
    request.resume();
    return text(404, 'Not found');
  }, options.port);

  return {
    get url() {
      return server.url;
    },
    get requests() {
      return server.requests;
    },
    fault: (fault) => server.fault(fault),
    clearFaults: () => server.clearFaults(),
    get inFlight() {
      return server.inFlight;
    },
    get maxInFlight() {
      return server.maxInFlight;
    },
    close: () => server.close(),
    tokens,
    chunks,
    photos,
    get completions() {
      return completions;
    },
    expireTokens() {
      for (const token of tokens) token.expired = true;
    },
  };
}
