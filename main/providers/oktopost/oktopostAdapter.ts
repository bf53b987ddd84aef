/**
 * Oktopost upload-from-URL (providers.md, "oktopost"): Ferry does not send bytes. It asks Oktopost to
 * pull a public http(s) URL (`POST /upload`), then watches the request (`GET /upload/{Id}`) until it is
 * complete or failed; for a video it adds Oktopost's per-network validation to the result.
 *
 * `POST /upload` is not idempotent, so `createSession` first looks for a request it may already have
 * made for the same source (its reply may have been lost) and adopts it instead of creating another.
 * Every reply carries `Result`, and `{"Result":false,"Errors":{…}}` is a refusal whatever the status.
 */
import { lookup as mimeLookup } from 'mime-types';
import { UploadError, type ErrorKind } from '../../engine/errors.ts';
import { kindForStatus, retryAfterMs, send, type SendOptions } from '../http.ts';
import type {
  AccountContext,
  CallContext,
  FinalizeOutcome,
  JobContext,
  PollOutcome,
  ProviderAdapter,
  UploadResult,
  UploadSource,
} from '../types.ts';
import {
  readEnvelope,
  readUpload,
  readUploadList,
  readValidations,
  type Envelope,
  type NetworkValidation,
  type OktopostUpload,
} from './oktopostReplies.ts';
import { parseOktopostSession, type OktopostSession } from './oktopostSession.ts';

export type { OktopostSession } from './oktopostSession.ts';

export const OKTOPOST_US_BASE_URL = 'https://api.oktopost.com/v2';
export const OKTOPOST_EU_BASE_URL = 'https://eu-api.oktopost.com/v2';

/** The documented `mimeType` values; `image/jpg` is Oktopost's own spelling next to `image/jpeg`. */
export const OKTOPOST_MIME_TYPES = ['video/mp4', 'image/gif', 'image/png', 'image/jpg', 'image/jpeg'] as const;

/** 8 GiB per file [doc]; the 32 GiB per 24 h account quota is left to Oktopost to enforce. */
export const OKTOPOST_MAX_FILE_SIZE = 8 * 1024 * 1024 * 1024;

/** The lookup before a create reads at most this many requests for the source (bounded cost). */
const LIST_PAGE_SIZE = 50;
const LIST_MAX_PAGES = 4;

/**
 * The API root for an account. The engine passes the account's own base URL or, when it has none,
 * the provider default, which is the US data centre; the two cannot be told apart. So an EU account
 * whose base URL is exactly the US default is taken to have none and goes to the EU data centre, while
 * any other URL (a proxy, a sandbox) is used as given whatever the region.
 */
export function oktopostBaseUrl(account: Pick<AccountContext, 'baseUrl' | 'settings'>): string {
  const base = account.baseUrl.replace(/\/+$/, '');
  const region = (account.settings.region ?? 'us').trim().toLowerCase();
  if (region === 'eu' && base === OKTOPOST_US_BASE_URL) return OKTOPOST_EU_BASE_URL;
  return base;
}

function bareMime(value: string | undefined): string {
  return (value ?? '').split(';')[0]!.trim().toLowerCase();
}

function isOktopostMime(value: string): boolean {
  return (OKTOPOST_MIME_TYPES as readonly string[]).includes(value);
}

const ALLOWED_TEXT = OKTOPOST_MIME_TYPES.join(', ');

/** The type from the URL's path, e.g. `.../clip.mp4?sig=…` → video/mp4. */
function mimeFromUrl(url: string): string {
  try {
    return bareMime(mimeLookup(new URL(url).pathname) || '');
  } catch {
    return '';
  }
}

/**
 * The `mimeType` sent to Oktopost: the `mimeType` option when given, else the source's type, else the
 * type the URL's extension implies. Throws `unsupported` when none of them is a type Oktopost takes.
 */
export function oktopostMimeType(source: UploadSource, options: Readonly<Record<string, string>>): string {
  const override = options.mimeType;
  if (override !== undefined) {
    const chosen = bareMime(override);
    if (!isOktopostMime(chosen)) {
      throw new UploadError(
        'unsupported',
        `${source.name}: mimeType=${override} is not a type Oktopost imports; use one of ${ALLOWED_TEXT}`,
      );
    }
    return chosen;
  }
  const declared = bareMime(source.mime);
  if (isOktopostMime(declared)) return declared;
  const fromUrl = source.kind === 'url' ? mimeFromUrl(source.url) : '';
  if (isOktopostMime(fromUrl)) return fromUrl;
  const seen = declared && declared !== 'application/octet-stream' ? declared : fromUrl || declared;
  throw new UploadError(
    'unsupported',
    `${source.name} is ${seen ? `of type ${seen}` : 'of an unknown type'}: Oktopost imports only ${ALLOWED_TEXT}. ` +
      'If the URL serves one of these, say which with the option mimeType=<type>',
  );
}

function sourceUrl(source: UploadSource): string {
  if (source.kind === 'file') {
    throw new UploadError(
      'unsupported',
      `${source.name}: Oktopost imports files from a public URL and cannot take the local file ${source.path}. ` +
        'Publish the file (on a web server or storage bucket that answers HEAD and ranged GET requests) and give its URL',
    );
  }
  let protocol: string;
  try {
    protocol = new URL(source.url).protocol;
  } catch {
    throw new UploadError('unsupported', `${source.name}: ${source.url} is not a valid URL; Oktopost imports from a public http(s) URL`);
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new UploadError('unsupported', `${source.name}: Oktopost imports from a public http(s) URL, not ${protocol} (${source.url})`);
  }
  return source.url;
}

function nameFor(job: JobContext): string {
  return job.options.name?.trim() || job.source.name;
}

function authorization(account: AccountContext): string {
  const { accountId, apiKey } = account.secrets;
  if (!accountId || !apiKey) {
    const missing = !accountId && !apiKey ? 'account id and API key' : !accountId ? 'account id' : 'API key';
    throw new UploadError('auth', `Oktopost account "${account.name}" has no ${missing}: add it in the account settings`);
  }
  return `Basic ${Buffer.from(`${accountId}:${apiKey}`, 'utf8').toString('base64')}`;
}

function detailOf(envelope: Envelope): string {
  switch (envelope.kind) {
    case 'refused':
      return envelope.detail;
    case 'unreadable':
      return envelope.excerpt;
    case 'ok':
      return '';
    default: {
      const never: never = envelope;
      return String(never);
    }
  }
}

const ADVICE: Partial<Record<ErrorKind, string>> = {
  'rate-limited': 'waiting before trying again',
  server: 'will retry',
  'session-gone': 'asking Oktopost for a new import',
};

interface ExchangeOptions {
  /** The kind a 404 means for this endpoint: a lost upload request, or a wrong base URL. */
  notFound: ErrorKind;
}

/**
 * One request to the Oktopost API; returns the JSON of a reply whose `Result` is not false, and throws
 * an UploadError for everything else: 401/403 auth, 429 rate-limited (with Retry-After), 5xx server,
 * `Result:false` (any status) with Oktopost's own errors in the message.
 */
async function exchange(
  account: AccountContext,
  path: string,
  options: SendOptions,
  call: CallContext,
  doing: string,
  handling: ExchangeOptions,
): Promise<Record<string, unknown>> {
  const response = await send(
    account,
    `${oktopostBaseUrl(account)}${path}`,
    { ...options, headers: { authorization: authorization(account), accept: 'application/json', ...options.headers } },
    call,
    doing,
  );
  const status = response.statusCode;
  const envelope = readEnvelope(response.body);
  const detail = detailOf(envelope);
  const fail = (kind: ErrorKind, advice = ADVICE[kind]): UploadError =>
    new UploadError(kind, `${doing}: Oktopost answered ${status}${detail ? ` (${detail})` : ''}${advice ? `; ${advice}` : ''}`, {
      status,
      retryAfterMs: retryAfterMs(response.headers),
    });

  if (status === 401 || status === 403) throw fail('auth', `check the account id and API key of "${account.name}"`);
  if (status === 429) throw fail('rate-limited');
  if (status >= 500) throw fail('server');
  if (status === 404) {
    throw fail(handling.notFound, handling.notFound === 'invalid' ? "check the account's region and base URL" : undefined);
  }
  // Redirects are not followed (the account client's rule): one here means the base URL is off.
  if (status >= 300 && status < 400) throw fail('invalid', "check the account's region and base URL");
  if (status < 200 || status >= 300) throw fail(kindForStatus(status));
  if (envelope.kind === 'refused') {
    // A refusal with a 2xx status: the request was read and turned down, so repeating it cannot help.
    throw new UploadError('invalid', `${doing}: Oktopost refused it (${envelope.detail || 'no reason given'})`, { status });
  }
  if (envelope.kind === 'unreadable') {
    throw new UploadError(
      'server',
      `${doing}: Oktopost answered ${status} with an unreadable reply (${envelope.excerpt || 'empty body'}); will retry`,
      { status },
    );
  }
  return envelope.json;
}

/**
 * An earlier request of this account for the same source that has not failed, or null. Oktopost's
 * `source` filter is not trusted alone: items are matched on `Source` here as well. A finished import
 * is preferred to one still pulling.
 */
async function findExisting(account: AccountContext, source: string, call: CallContext, name: string): Promise<OktopostUpload | null> {
  const doing = `Looking for an earlier Oktopost import of ${name}`;
  let pending: OktopostUpload | null = null;
  for (let page = 0; page < LIST_MAX_PAGES; page += 1) {
    const json = await exchange(
      account,
      '/upload',
      { method: 'GET', searchParams: { source, _page: page, _count: LIST_PAGE_SIZE } },
      call,
      doing,
      { notFound: 'invalid' },
    );
    const list = readUploadList(json);
    if (!list) {
      throw new UploadError('server', `${doing}: Oktopost's list of uploads has no readable Items; will retry`);
    }
    for (const item of list.items) {
      if (item.source !== source || item.status === 'failed') continue;
      if (item.status === 'complete') return item;
      pending ??= item;
    }
    const seen = (page + 1) * LIST_PAGE_SIZE;
    if (list.items.length < LIST_PAGE_SIZE || (list.total !== null && seen >= list.total)) break;
  }
  return pending;
}

function attemptsText(attempts: number): string {
  if (attempts <= 0) return '';
  return ` (after ${attempts} ${attempts === 1 ? 'attempt' : 'attempts'})`;
}

type ValidationFacts = { validations: Record<string, NetworkValidation> } | { validationError: string };

/**
 * Oktopost's per-network check of a finished video. The import itself is done, so a refusal here is
 * kept in the result instead of failing the job; transient failures (network, 5xx, 429) still throw,
 * and the engine's next poll repeats the two read-only requests.
 */
async function validateVideo(account: AccountContext, mediaId: string, name: string, call: CallContext): Promise<ValidationFacts> {
  const doing = `Asking Oktopost how the video ${name} suits each network`;
  try {
    const json = await exchange(account, `/video-validate/${encodeURIComponent(mediaId)}`, { method: 'GET' }, call, doing, {
      notFound: 'invalid',
    });
    const validations = readValidations(json);
    if (!validations) return { validationError: `${doing}: the reply has no readable Validations` };
    return { validations };
  } catch (error) {
    if (error instanceof UploadError && error.kind === 'invalid') return { validationError: error.message };
    throw error;
  }
}

/** Reads the upload request once and says where it stands; shared by `finalize` and `poll`. */
async function inspect(
  account: AccountContext,
  job: JobContext,
  session: OktopostSession,
  call: CallContext,
): Promise<PollOutcome<OktopostSession>> {
  const name = nameFor(job);
  const doing = `Checking Oktopost's import of ${name} (upload ${session.uploadId})`;
  const json = await exchange(account, `/upload/${encodeURIComponent(session.uploadId)}`, { method: 'GET' }, call, doing, {
    // The request is gone (deleted, or another account): a new one is created, after the lookup.
    notFound: 'session-gone',
  });
  const upload = readUpload(json);
  if (!upload) {
    throw new UploadError('server', `${doing}: the reply has no readable Upload; will retry`);
  }
  switch (upload.status) {
    case 'pending': {
      const total = upload.totalSize;
      // TotalSize is unknown until Oktopost has asked the source for it (HEAD).
      if (total !== null && total > 0) {
        return { kind: 'processing', session, progress: { done: Math.min(upload.downloaded ?? 0, total), total } };
      }
      return { kind: 'processing', session };
    }
    case 'failed':
      // Oktopost already retried the source itself (up to 5 times per chunk [doc]); Ferry asking it
      // again at once would most likely fail the same way, so a person looks at the URL first.
      throw new UploadError(
        'invalid',
        `Oktopost could not import ${session.source}: ${upload.lastError ?? 'no reason given'}${attemptsText(upload.attempts)}. ` +
          'Check that the URL is public and answers HEAD and ranged GET requests, then retry',
      );
    case 'complete':
      return { kind: 'completed', result: await resultOf(account, job, session, upload, call) };
    default: {
      const never: never = upload.status;
      throw new UploadError('invalid', `${doing}: unexpected status ${String(never)}`);
    }
  }
}

async function resultOf(
  account: AccountContext,
  job: JobContext,
  session: OktopostSession,
  upload: OktopostUpload,
  call: CallContext,
): Promise<UploadResult> {
  const name = upload.name ?? nameFor(job);
  if (upload.mediaId === null) {
    throw new UploadError('server', `Oktopost reports the import of ${name} complete but gives no MediaId yet; will check again`);
  }
  const mimeType = upload.mimeType ?? oktopostMimeType(job.source, job.options);
  const details: Record<string, unknown> = {
    uploadId: session.uploadId,
    mediaId: upload.mediaId,
    name,
    mimeType,
    totalSize: upload.totalSize,
  };
  if (mimeType.toLowerCase().startsWith('video/')) Object.assign(details, await validateVideo(account, upload.mediaId, name, call));
  // The media is referenced by its MediaId in Oktopost; the API documents no public URL for it.
  return { remoteId: upload.mediaId, url: null, details };
}

export const oktopostAdapter: ProviderAdapter<OktopostSession> = {
  id: 'oktopost',
  displayName: 'Oktopost',
  fields: [
    { key: 'accountId', label: 'Account ID', kind: 'secret', required: true, hint: 'Oktopost account id (the user name of the API)' },
    { key: 'apiKey', label: 'API key', kind: 'secret', required: true, hint: 'Oktopost API key of a user allowed to upload media' },
    {
      key: 'region',
      label: 'Data centre',
      kind: 'setting',
      required: false,
      default: 'us',
      choices: ['us', 'eu'],
      hint: 'us: api.oktopost.com, eu: eu-api.oktopost.com',
    },
  ],
  capabilities: {
    sources: 'url',
    partOrder: 'serial',
    maxParallelParts: 1,
    rateLimit: { perMinute: 60, burst: 60 },
    defaultBaseUrl: OKTOPOST_US_BASE_URL,
    accepts: OKTOPOST_MIME_TYPES.map((type) => ({ type, maxBytes: OKTOPOST_MAX_FILE_SIZE })),
    resumeNote: 'Oktopost pulls the file from its URL and resumes on its own side',
  },

  validateSource(source, options) {
    sourceUrl(source);
    oktopostMimeType(source, options);
    if (source.size !== null && source.size > OKTOPOST_MAX_FILE_SIZE) {
      throw new UploadError(
        'too-large',
        `${source.name} is ${source.size.toLocaleString('en-US')} bytes, over Oktopost's limit of 8 GiB (${OKTOPOST_MAX_FILE_SIZE.toLocaleString('en-US')} bytes) per file`,
      );
    }
  },

  parseSession: parseOktopostSession,

  // Oktopost documents no expiry for upload requests; a vanished one answers 404 (session-gone).
  sessionUsable: () => true,

  async createSession(account, job, call) {
    const source = sourceUrl(job.source);
    const mimeType = oktopostMimeType(job.source, job.options);
    const name = nameFor(job);
    // Creating is not idempotent: if an earlier attempt's reply was lost, its request exists already.
    const existing = await findExisting(account, source, call, name);
    if (existing) return { uploadId: existing.id, source, createdAt: Date.now() };

    const doing = `Asking Oktopost to import ${name} from ${source}`;
    const json = await exchange(
      account,
      '/upload',
      { method: 'POST', form: { source, name, mimeType } },
      call,
      doing,
      { notFound: 'invalid' },
    );
    const upload = readUpload(json);
    if (!upload) {
      // The request most likely exists; the retry's lookup adopts it instead of creating another.
      throw new UploadError('server', `${doing}: the reply has no readable Upload; will retry`);
    }
    return { uploadId: upload.id, source, createdAt: Date.now() };
  },

  // A pull provider: Oktopost fetches the bytes, Ferry sends none.
  planParts: () => [],

  uploadPart() {
    return Promise.reject(new UploadError('invalid', 'Oktopost pulls the file from its URL: there are no parts to send'));
  },

  /**
   * Nothing to complete on Oktopost's side: the request started pulling when it was created. One
   * read-only look finishes small files at once; it is safe to repeat, so `resumed` needs no care.
   */
  async finalize(account, job, session, call): Promise<FinalizeOutcome<OktopostSession>> {
    const outcome = await inspect(account, job, session, call);
    return outcome.kind === 'completed' ? outcome : { kind: 'processing', session: outcome.session };
  },

  poll: inspect,
};
