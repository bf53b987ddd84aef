/**
 * Oktopost upload-from-URL (docs/protocols.md, "oktopost"): Ferry does not send bytes. It asks Oktopost to
 * pull a public http(s) URL (`POST /upload`), then watches the request (`GET /upload/{Id}`) until it is
 * complete or failed; for a video it adds Oktopost's per-network validation to the result.
 *
 * `POST /upload` is not idempotent, and a lost reply leaves a request Ferry does not know the id of. So
 * the create request is sent by `finalize`, after the engine has persisted a session (made by
 * `createSession`, which asks `GET /me` who the API key's user is and what time it is on Oktopost's
 * clock) and recorded that finalizing started. When a later attempt finds that finalizing started
 * but no id is known (`resumed`), it looks the request up instead of creating another, and adopts only
 * one this job made: same source and name, created by the same user, not before the session's time.
 * An earlier import of the same URL (an older version of the file, or someone else's) is never taken.
 *
 * Every reply carries `Result`, and `{"Result":false,"Errors":{…}}` is a refusal whatever the status.
 */
import { lookup as mimeLookup } from 'mime-types';
import { UploadError, type ErrorKind } from '../../core/errors.ts';
import { formatBytes } from '../adapterHelpers.ts';
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
  readMeUserId,
  readUpload,
  readUploadList,
  readValidations,
  type Envelope,
  type NetworkValidation,
  type OktopostUpload,
} from './oktopostReplies.ts';
import { testOktopostConnection } from './oktopostConnection.ts';
import { OKTOPOST_MAX_FILE_SIZE, OKTOPOST_MIME_TYPES, oktopostDescription } from './oktopostDescription.ts';
import { oktopostBaseUrl } from './oktopostRegion.ts';
import { parseOktopostSession, type OktopostSession } from './oktopostSession.ts';

export type { OktopostSession } from './oktopostSession.ts';

export { OKTOPOST_EU_BASE_URL, OKTOPOST_US_BASE_URL, oktopostBaseUrl } from './oktopostRegion.ts';

export { OKTOPOST_MAX_FILE_SIZE, OKTOPOST_MIME_TYPES } from './oktopostDescription.ts';

/** The lookup after a lost create reply reads at most this many requests for the source (bounded cost). */
const LIST_PAGE_SIZE = 50;
const LIST_MAX_PAGES = 4;

/**
 * When a reply carries no `Date` header, the session's time comes from this machine's clock, moved
 * back by this much to allow for the two clocks disagreeing. A request another tool made for the same
 * URL and name, by the same user, within that window could then be taken for this job's own.
 */
const LOCAL_CLOCK_ALLOWANCE_S = 5 * 60;

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
    throw new UploadError(
      'unsupported',
      `${source.name}: ${source.url} is not a valid URL; Oktopost imports from a public http(s) URL`,
    );
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    throw new UploadError(
      'unsupported',
      `${source.name}: Oktopost imports from a public http(s) URL, not ${protocol} (${source.url})`,
    );
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
    throw new UploadError(
      'auth',
      `Oktopost account "${account.name}" has no ${missing}: add it in the account settings`,
    );
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

interface Answer {
  json: Record<string, unknown>;
  /** The reply's `Date` header in epoch seconds (Oktopost's clock), or null when absent. */
  serverTime: number | null;
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
  return (await exchangeWithTime(account, path, options, call, doing, handling)).json;
}

async function exchangeWithTime(
  account: AccountContext,
  path: string,
  options: SendOptions,
  call: CallContext,
  doing: string,
  handling: ExchangeOptions,
): Promise<Answer> {
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
    new UploadError(
      kind,
      `${doing}: Oktopost answered ${status}${detail ? ` (${detail})` : ''}${advice ? `; ${advice}` : ''}`,
      {
        status,
        retryAfterMs: retryAfterMs(response.headers),
      },
    );

  if (status === 401 || status === 403) throw fail('auth', `check the account id and API key of "${account.name}"`);
  if (status === 429) throw fail('rate-limited');
  if (status >= 500) throw fail('server');
  if (status === 404) {
    throw fail(
      handling.notFound,
      handling.notFound === 'invalid' ? "check the account's region and base URL" : undefined,
    );
  }
  // Redirects are not followed (the account client's rule): one here means the base URL is off.
  if (status >= 300 && status < 400) throw fail('invalid', "check the account's region and base URL");
  if (status < 200 || status >= 300) throw fail(kindForStatus(status));
  if (envelope.kind === 'refused') {
    // A refusal with a 2xx status: the request was read and turned down, so repeating it cannot help.
    throw new UploadError('invalid', `${doing}: Oktopost refused it (${envelope.detail || 'no reason given'})`, {
      status,
    });
  }
  if (envelope.kind === 'unreadable') {
    throw new UploadError(
      'server',
      `${doing}: Oktopost answered ${status} with an unreadable reply (${envelope.excerpt || 'empty body'}); will retry`,
      { status },
    );
  }
  const date = Date.parse(String(response.headers.date ?? ''));
  return { json: envelope.json, serverTime: Number.isNaN(date) ? null : Math.floor(date / 1000) };
}

/** How much a found request is worth adopting: a finished import first, one still pulling next. */
const PREFERENCE: Record<OktopostUpload['status'], number> = { complete: 0, pending: 1, failed: 2 };

/**
 * The request this job created earlier whose reply was lost, or null when there is none. Oktopost's
 * `source` filter is not trusted alone; every item must also have this job's source and name, be
 * created by the API key's user (when both `/me` and the item say who), and have a `Created` time at or after
 * the session's `notBefore` (an item whose time cannot be read is not taken). Oktopost documents no
 * order for the list, so up to LIST_MAX_PAGES pages are read whatever the order.
 */
async function findOwn(
  account: AccountContext,
  session: OktopostSession,
  call: CallContext,
): Promise<OktopostUpload | null> {
  const doing = `Looking for the Oktopost import of ${session.name} that Ferry asked for before its reply was lost`;
  let best: OktopostUpload | null = null;
  for (let page = 0; page < LIST_MAX_PAGES; page += 1) {
    const json = await exchange(
      account,
      '/upload',
      { method: 'GET', searchParams: { source: session.source, _page: page, _count: LIST_PAGE_SIZE } },
      call,
      doing,
      { notFound: 'invalid' },
    );
    const list = readUploadList(json);
    if (!list) {
      throw new UploadError('server', `${doing}: Oktopost's list of uploads has no readable Items; will retry`);
    }
    for (const item of list.items) {
      if (item.source !== session.source || item.name?.trim() !== session.name.trim()) continue;
      // An item that does not say who made it is not ruled out on that ground (the time still is).
      if (session.userId !== null && item.createdBy !== null && item.createdBy !== session.userId) continue;
      if (item.created === null || item.created < session.notBefore) continue;
      if (best === null || PREFERENCE[item.status] < PREFERENCE[best.status]) best = item;
    }
    const seen = (page + 1) * LIST_PAGE_SIZE;
    if (list.items.length < LIST_PAGE_SIZE || (list.total !== null && seen >= list.total)) break;
  }
  return best;
}

function attemptsText(attempts: number): string {
  if (attempts <= 0) return '';
  return ` (after ${attempts} ${attempts === 1 ? 'attempt' : 'attempts'})`;
}

type ValidationFacts = { validations: Record<string, NetworkValidation> } | { validationError: string };

/**
 * Oktopost's per-network check of a finished video. The import itself is done, so a refusal here is
 * kept in the result instead of failing the job; transient failures (network, 5xx, 429) still throw,
 * and the engine's next attempt repeats the read-only requests.
 */
async function validateVideo(
  account: AccountContext,
  mediaId: string,
  name: string,
  call: CallContext,
): Promise<ValidationFacts> {
  const doing = `Asking Oktopost how the video ${name} suits each network`;
  try {
    const json = await exchange(
      account,
      `/video-validate/${encodeURIComponent(mediaId)}`,
      { method: 'GET' },
      call,
      doing,
      {
        notFound: 'invalid',
      },
    );
    const validations = readValidations(json);
    if (!validations) return { validationError: `${doing}: the reply has no readable Validations` };
    return { validations };
  } catch (error) {
    if (error instanceof UploadError && error.kind === 'invalid') return { validationError: error.message };
    throw error;
  }
}

/**
 * Oktopost gave up on the source itself, after retrying it (up to 5 times per chunk [doc]); Ferry
 * asking it again at once would most likely fail the same way, so a person looks at the URL first.
 */
function failedImport(source: string, upload: OktopostUpload): UploadError {
  return new UploadError(
    'invalid',
    `Oktopost could not import ${source} (upload ${upload.id}): ${upload.lastError ?? 'no reason given'}${attemptsText(upload.attempts)}. ` +
      'Check that the URL is public and answers HEAD and ranged GET requests, then retry',
  );
}

/** Where an upload request stands, from a reply that carried it (get, or the lookup's list). */
async function outcomeOf(
  account: AccountContext,
  job: JobContext,
  session: OktopostSession & { uploadId: string },
  upload: OktopostUpload,
  call: CallContext,
): Promise<PollOutcome<OktopostSession>> {
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
      throw failedImport(session.source, upload);
    case 'complete':
      return { kind: 'completed', result: await resultOf(account, job, session, upload, call) };
    default: {
      const never: never = upload.status;
      throw new UploadError(
        'invalid',
        `Oktopost reports upload ${session.uploadId} with an unexpected status ${String(never)}`,
      );
    }
  }
}

/**
 * Sends the create request, or (`resumed`: an earlier attempt may have sent it and lost the reply)
 * first looks for the request that attempt made. Returns where the request stands.
 */
async function startImport(
  account: AccountContext,
  job: JobContext,
  session: OktopostSession,
  call: CallContext,
  resumed: boolean,
): Promise<PollOutcome<OktopostSession>> {
  if (resumed) {
    const own = await findOwn(account, session, call);
    if (own) return outcomeOf(account, job, { ...session, uploadId: own.id, adopted: true }, own, call);
  }
  const doing = `Asking Oktopost to import ${session.name} from ${session.source}`;
  const json = await exchange(
    account,
    '/upload',
    { method: 'POST', form: { source: session.source, name: session.name, mimeType: session.mimeType } },
    call,
    doing,
    { notFound: 'invalid' },
  );
  const upload = readUpload(json);
  if (!upload) {
    // The request most likely exists; the next attempt is `resumed` and its lookup adopts it.
    throw new UploadError('server', `${doing}: the reply has no readable Upload; will retry`);
  }
  const created = { ...session, uploadId: upload.id, adopted: false };
  if (upload.status === 'failed') throw failedImport(session.source, upload);
  // The id is handed to the engine to persist before anything else is asked (even when the import is
  // already complete): a failure of a later request then never makes a retry look the request up.
  return { kind: 'processing', session: created };
}

/** Reads the upload request once and says where it stands; used by `poll`. */
async function inspect(
  account: AccountContext,
  job: JobContext,
  session: OktopostSession,
  call: CallContext,
): Promise<PollOutcome<OktopostSession>> {
  const uploadId = session.uploadId;
  // Not reached by the engine (finalize returns a session with the id); a lost id is looked up.
  if (uploadId === null) return startImport(account, job, session, call, true);
  const doing = `Checking Oktopost's import of ${nameFor(job)} (upload ${uploadId})`;
  const json = await exchange(account, `/upload/${encodeURIComponent(uploadId)}`, { method: 'GET' }, call, doing, {
    // The request is gone (deleted, or another account): the engine starts a new session.
    notFound: 'session-gone',
  });
  const upload = readUpload(json);
  if (!upload) {
    throw new UploadError('server', `${doing}: the reply has no readable Upload; will retry`);
  }
  return outcomeOf(account, job, { ...session, uploadId }, upload, call);
}

async function resultOf(
  account: AccountContext,
  job: JobContext,
  session: OktopostSession & { uploadId: string },
  upload: OktopostUpload,
  call: CallContext,
): Promise<UploadResult> {
  const name = upload.name ?? nameFor(job);
  if (upload.mediaId === null) {
    throw new UploadError(
      'server',
      `Oktopost reports the import of ${name} complete but gives no MediaId yet; will check again`,
    );
  }
  const mimeType = upload.mimeType ?? oktopostMimeType(job.source, job.options);
  const details: Record<string, unknown> = {
    uploadId: session.uploadId,
    mediaId: upload.mediaId,
    name,
    mimeType,
    totalSize: upload.totalSize,
  };
  if (session.adopted) {
    details.note =
      "Ferry's earlier request to Oktopost to import this file got no readable answer; Ferry found the import " +
      `that request created (upload ${session.uploadId}) and followed it rather than asking a second time`;
  }
  if (mimeType.toLowerCase().startsWith('video/'))
    Object.assign(details, await validateVideo(account, upload.mediaId, name, call));
  // The media is referenced by its MediaId in Oktopost; the API documents no public URL for it.
  return { remoteId: upload.mediaId, url: null, details };
}

export const oktopostAdapter: ProviderAdapter<OktopostSession> = {
  ...oktopostDescription,

  testConnection: testOktopostConnection,

  validateSource(source, options) {
    sourceUrl(source);
    oktopostMimeType(source, options);
    if (source.size !== null && source.size > OKTOPOST_MAX_FILE_SIZE) {
      throw new UploadError(
        'too-large',
        `${source.name} is ${formatBytes(source.size)}, over Oktopost's limit of 8 GiB (${formatBytes(OKTOPOST_MAX_FILE_SIZE)}) per file`,
      );
    }
  },

  parseSession: parseOktopostSession,

  // Oktopost documents no expiry for upload requests; a vanished one answers 404 (session-gone).
  sessionUsable: () => true,

  /**
   * Prepares the import without creating it: `finalize` sends the create request once this session is
   * persisted. `GET /me` says which user the API key belongs to (the `CreatedBy` of this job's request)
   * and, by its `Date` header, the time on Oktopost's clock before any create attempt.
   */
  async createSession(account, job, call) {
    const source = sourceUrl(job.source);
    const mimeType = oktopostMimeType(job.source, job.options);
    const name = nameFor(job);
    const doing = `Asking Oktopost which user the API key of "${account.name}" belongs to, before importing ${name}`;
    const me = await exchangeWithTime(account, '/me', { method: 'GET' }, call, doing, { notFound: 'invalid' });
    const notBefore = me.serverTime ?? Math.floor(Date.now() / 1000) - LOCAL_CLOCK_ALLOWANCE_S;
    return {
      source,
      name,
      mimeType,
      userId: readMeUserId(me.json),
      notBefore,
      uploadId: null,
      adopted: false,
      createdAt: Date.now(),
    };
  },

  // A pull provider: Oktopost fetches the bytes, Ferry sends none.
  planParts: () => [],

  uploadPart() {
    return Promise.reject(
      new UploadError('invalid', 'Oktopost pulls the file from its URL: there are no parts to send'),
    );
  },

  /**
   * Creates the import request (the engine has recorded that finalizing started, with the session
   * persisted). `resumed` means an earlier attempt may have created it and lost the reply: the request
   * that attempt made is looked up and adopted, and only when there is none is another one created.
   */
  async finalize(account, job, session, call): Promise<FinalizeOutcome<OktopostSession>> {
    const outcome =
      session.uploadId === null
        ? await startImport(account, job, session, call, call.resumed)
        : await inspect(account, job, session, call);
    return outcome.kind === 'completed' ? outcome : { kind: 'processing', session: outcome.session };
  },

  poll: inspect,
};
