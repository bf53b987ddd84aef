/**
 * TwentyThree emulator: the upload-token call with a real OAuth 1.0a HMAC-SHA1 check, and
 * Resumable.js chunk uploads with the documented size rule, one-use tokens and every documented form
 * of the completing reply. Built on the shared harness, so faults can be injected on any request.
 *
 * What the vendor documents and the emulator enforces:
 * - The legacy `/api/` methods answer XML unless the request carries `format=json`; JSON comes as
 *   `var visual = {…}` unless `raw` is set too, and as a JSONP call with `callback`. Refusals, a bad
 *   OAuth signature included, come with HTTP 200 and `status="error"`, a `code` and a `message`
 *   (https://www.twentythree.com/help/api-requests, https://www.twentythree.com/api/error-codes).
 * - Query-string parameters of a POST are not read (https://www.twentythree.com/api/oauth).
 * - `valid_minutes` must be 15–1440, `publish` 0 or 1, and a token stops working at its `valid_until`.
 * - The completing chunk answers by the token's parameters (https://www.twentythree.com/api/photo-get-upload-token,
 *   https://www.twentythree.com/api/photo-redeem-upload-token): without `return_url` a bare "OK";
 *   with `return_url` a 301 redirect to it carrying `domain`, `upload_token`, `photo_id`, `tree_id`,
 *   `token` and the extra chunk parameters; with `background_return_p=1` as well, the emulator
 *   records the GET it would make to that URL (`callbacks`) and answers
 *   `ok <domain> <tree_id> <photo_id> <token> <callback_url>`.
 *
 * Choices where the vendor is silent:
 * - An invalid, consumed or expired token gets status 403 (or `tokenGoneStatus`) with the plain text
 *   "Upload token is invalid, consumed or expired" (the doc only says "a plain, unstyled error
 *   message"; 403 is what a token refusal most plausibly carries, and it is not 200 or 500, whose
 *   meanings are documented).
 * - A chunk that breaks the size rule, or a missing/ill-formed Resumable.js field, gets 400 with a
 *   plain-text reason.
 * - The `json` and `bare` outcomes (tolerated variants, chosen with `outcome`) ignore the token's
 *   parameters; `json` is nested under `data` when the token shape is `data` (the newer API).
 * - An unsigned token request is `permission_denied` (the anonymous level is below `write`); a
 *   wrong key, token or signature is `invalid_signature`.
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
  /**
   * Forces a variant of the completing reply; by default the token's `return_url` and
   * `background_return_p` decide, as documented. `redirect` acts as if the token had no
   * `background_return_p`, `ok` as if it had no `return_url` (a site that ignores them); `json` and
   * `bare` are tolerated forms the vendor does not document.
   */
  outcome?: 'json' | 'bare' | 'redirect' | 'ok';
  /** Overrides the token lifetime the client asked for. */
  validMinutes?: number;
  /** Overrides the token lifetime in milliseconds (tests of tokens that run out mid-file). */
  tokenLifeMs?: number;
  /** The status of the plain-text token refusal (default 403; the vendor does not say). */
  tokenGoneStatus?: number;
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
  /** Every refused token request: its parameters and the error code answered. */
  readonly refusals: Array<{ params: Record<string, string>; code: string }>;
  /** The background callbacks (GET URLs) the emulator would have made to `return_url`. */
  readonly callbacks: string[];
  readonly chunks: ChunkLog[];
  readonly photos: StoredPhoto[];
  readonly completions: number;
  /** Every token issued so far stops working (as if its valid_until had passed). */
  expireTokens(): void;
}

const TOKEN_GONE = 'Upload token is invalid, consumed or expired';
const CLOCK_SKEW_S = 300;

/** RFC 3986 percent-encoding as RFC 5849 §3.6 wants it: everything but unreserved characters. */
export function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function xmlEscape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** An API reply in the format the request asked for: XML by default, JSON with `format=json`. */
function apiReply(params: Record<string, string>, value: Record<string, unknown>, xmlHolder: string | null): Reply {
  if (params.format === 'json') {
    const body = JSON.stringify(value);
    if (params.callback)
      return {
        status: 200,
        body: `/* */\n${params.callback}(${body});`,
        headers: { 'content-type': 'text/javascript' },
      };
    if (params.raw !== undefined) return json(200, value);
    return {
      status: 200,
      body: `var ${params.varname || 'visual'} = ${body};`,
      headers: { 'content-type': 'text/javascript' },
    };
  }
  const attributes: string[] = [];
  const children: string[] = [];
  for (const [name, field] of Object.entries(value)) {
    if (field === null || field === undefined) continue;
    if (typeof field === 'object') continue;
    attributes.push(`${name}="${xmlEscape(String(field))}"`);
  }
  if (xmlHolder) {
    const holder = value[xmlHolder] as Record<string, unknown>;
    for (const [name, field] of Object.entries(holder))
      children.push(`  <${name}>${xmlEscape(String(field ?? ''))}</${name}>`);
  }
  const body = children.length
    ? `<?xml version="1.0" encoding="utf-8"?>\n<response ${attributes.join(' ')}>\n${children.join('\n')}\n</response>\n`
    : `<?xml version="1.0" encoding="utf-8"?>\n<response ${attributes.join(' ')}/>\n`;
  return { status: 200, body, headers: { 'content-type': 'text/xml; charset=utf-8' } };
}

function apiError(params: Record<string, string>, code: string, message: string, permissionLevel = 'none'): Reply {
  return apiReply(
    params,
    { status: 'error', permission_level: permissionLevel, code, message, endpoint: '/api/photo/get-upload-token' },
    null,
  );
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
  const outcome = options.outcome ?? null;

  const tokens: IssuedToken[] = [];
  const refusals: Array<{ params: Record<string, string>; code: string }> = [];
  const callbacks: string[] = [];
  const chunks: ChunkLog[] = [];
  const photos: StoredPhoto[] = [];
  const uploads = new Map<string, Upload>();
  const nonces = new Set<string>();
  let completions = 0;
  let nextPhotoId = 81_000_001;
  let nextTreeId = 52_000_001;

  const verifyOAuth = (request: IncomingMessage, url: URL, form: URLSearchParams | null): string | null => {
    const params = parseAuthorization(request.headers.authorization);
    if (!params) return 'unsigned';
    if (params.get('oauth_signature_method') !== 'HMAC-SHA1') return 'Unsupported oauth_signature_method';
    const version = params.get('oauth_version');
    if (version !== undefined && version !== '1.0') return 'Unsupported oauth_version';
    if (params.get('oauth_consumer_key') !== consumerKey) return 'Unknown consumer key';
    if (params.get('oauth_token') !== accessToken) return 'Unknown access token';
    const timestamp = Number(params.get('oauth_timestamp'));
    if (!Number.isInteger(timestamp) || Math.abs(timestamp - Date.now() / 1000) > CLOCK_SKEW_S)
      return 'Stale oauth_timestamp';
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
    // Parameters of a POST come from its body only: the query string is not read [doc: oauth].
    const params: Record<string, string> = {};
    if (form) for (const [name, value] of form) params[name] = value;
    const refuse = (code: string, message: string, level?: string): Reply => {
      refusals.push({ params, code });
      return apiError(params, code, message, level);
    };

    const refusal = verifyOAuth(request, url, form);
    if (refusal === 'unsigned') {
      return refuse(
        'permission_denied',
        "You don't have the necessary permissions to perform this action (required level: 'write')",
        'anonymous',
      );
    }
    if (refusal) return refuse('invalid_signature', `The API signature is invalid. (${refusal})`);

    const asked = params.valid_minutes === undefined ? 180 : Number(params.valid_minutes);
    if (!/^\d+$/.test(params.valid_minutes ?? '180') || asked < 15 || asked > 1440) {
      return refuse('invalid_input', 'valid_minutes must be a whole number of minutes from 15 to 1440', 'write');
    }
    const maxUploads = params.max_uploads === undefined ? 1 : Number(params.max_uploads);
    if (!Number.isInteger(maxUploads) || maxUploads < 1) {
      return refuse('invalid_input', 'max_uploads must be a positive integer', 'write');
    }
    if (params.publish !== undefined && params.publish !== '0' && params.publish !== '1') {
      return refuse('invalid_input', 'publish must be 0 or 1', 'write');
    }
    if (
      params.return_url !== undefined &&
      params.return_url !== '' &&
      !/^https?:\/\/[^/\s]+/i.test(params.return_url)
    ) {
      return refuse('invalid_input', 'return_url must be an absolute http(s) URL', 'write');
    }
    const lifeMs = options.tokenLifeMs ?? (options.validMinutes ?? asked) * 60_000;
    const issued: IssuedToken = {
      token: randomBytes(16).toString('hex'),
      params,
      validUntil: Date.now() + lifeMs,
      maxUploads,
      uploads: 0,
      expired: false,
    };
    tokens.push(issued);
    const fields = {
      upload_token: issued.token,
      title: params.title ?? '',
      description: params.description ?? '',
      tags: params.tags ?? '',
      album_id: params.album_id ?? '',
      return_url: params.return_url ?? '',
      background_return_p: params.background_return_p === '1' ? '1' : '0',
      max_uploads: String(maxUploads),
      valid_minutes: String(asked),
    };
    const envelope = {
      status: 'ok',
      permission_level: 'write',
      message: 'The upload token is ready to use',
      cached: '0',
    };
    if (tokenShape === 'data') {
      return apiReply(
        params,
        { ...envelope, data: { ...fields, valid_until: new Date(issued.validUntil).toISOString() } },
        'data',
      );
    }
    return apiReply(
      params,
      {
        ...envelope,
        uploadtoken: { ...fields, valid_until: String(Math.floor(issued.validUntil / 1000)) },
        endpoint: '/api/photo/get-upload-token',
      },
      'uploadtoken',
    );
  };

  const outcomeReply = (
    upload: Upload,
    photo: StoredPhoto,
    photoToken: string,
    host: string,
    extra: Map<string, string>,
  ): Reply => {
    if (outcome === 'json') {
      const value = { photo_id: photo.photoId, tree_id: photo.treeId, token: photoToken };
      return json(200, tokenShape === 'data' ? { data: value } : value);
    }
    if (outcome === 'bare') return text(200, String(photo.photoId));

    const returnUrl = outcome === 'ok' ? '' : (upload.token.params.return_url ?? '');
    // "If return_url is empty or omitted, the request will return a simple HTTP 200 OK message."
    if (returnUrl === '') return text(200, 'OK');
    const callback = new URL(returnUrl);
    // "Any extra parameters sent to this method will be repeated in the callback request."
    for (const [name, value] of extra) callback.searchParams.set(name, value);
    callback.searchParams.set('domain', host);
    callback.searchParams.set('upload_token', upload.token.token);
    callback.searchParams.set('photo_id', String(photo.photoId));
    callback.searchParams.set('tree_id', String(photo.treeId));
    callback.searchParams.set('token', photoToken);
    if (upload.token.params.background_return_p === '1' && outcome !== 'redirect') {
      callbacks.push(callback.href);
      return text(200, `ok ${host} ${photo.treeId} ${photo.photoId} ${photoToken} ${callback.href}`);
    }
    return { status: 301, body: '', headers: { location: callback.href } };
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
      return reply(text(options.tokenGoneStatus ?? 403, TOKEN_GONE));
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
    if (number < 1 || number > expectedChunks)
      return reply(text(400, `resumableChunkNumber ${number} out of range (1-based)`));
    const expectedSize = number < expectedChunks ? chunkSize : total - (number - 1) * chunkSize;
    if (current !== expectedSize || file.length !== expectedSize) {
      return reply(
        text(400, `Chunk ${number} should be ${expectedSize} bytes (declared ${current}, got ${file.length})`),
      );
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
    const extra = new Map([...fields].filter(([name]) => name !== 'upload_token'));
    return reply(outcomeReply(upload, photo, randomBytes(8).toString('hex'), host, extra));
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
    refusals,
    callbacks,
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
