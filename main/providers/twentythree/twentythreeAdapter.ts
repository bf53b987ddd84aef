/**
 * TwentyThree video platform: an OAuth 1.0a-signed call gets a one-use upload token, then the file
 * goes to `/api/photo/redeem-upload-token` in Resumable.js chunks that may travel in parallel. The
 * request that completes the file carries the outcome (the new photo id), so that request is made
 * deterministic: `planParts` returns every chunk but the last, and `finalize` sends the last chunk
 * alone once all the others were acknowledged. Finalizing is therefore a single request, and a lost
 * reply to it is reconciled in `finalize({resumed: true})` instead of uploading the file twice.
 *
 * A token lives 15–1440 minutes, sized to the file. One that runs out mid-file loses the chunks sent
 * under it; the adapter then gets a new one itself (a `resync` to offset 0, so the engine re-sends
 * every chunk) and counts that in the session, which bounds the restarts even across restarts of
 * Ferry (see `renewToken`).
 */
import { randomBytes } from 'node:crypto';
import type { Response } from 'got';
import { z } from 'zod';
import { UploadError } from '../../core/errors.ts';
import type { FileRange, FileSource } from '../../core/fileSource.ts';
import { ACK_BATCH, joinUrl, localFileOf, refuseEmptyFile, requireLocalFile } from '../adapterHelpers.ts';
import { bodyExcerpt, send, statusError, transportError } from '../http.ts';
import type {
  AccountContext,
  AccountField,
  CallContext,
  FinalizeOutcome,
  JobContext,
  PartOutcome,
  PartSpec,
  ProviderAdapter,
  UploadResult,
  UploadSource,
} from '../types.ts';
import { planTwentyThreeChunks, type TwentyThreeChunk } from './twentythreeChunks.ts';
import { multipartBody } from '../multipartBody.ts';
import { testTwentyThreeConnection } from './twentythreeConnection.ts';
import { postSignedApi } from './twentythreeApi.ts';
import type { OAuthKeys } from './twentythreeOAuth.ts';
import { isTokenGoneText, parseOutcome, type ParsedOutcome } from './twentythreeOutcome.ts';
import { isAuthError, readApiReply } from './twentythreeReplies.ts';

export interface TwentyThreeSession {
  /** The one-use upload token; a credential, never shown in job details. */
  uploadToken: string;
  /** When the token stops working, in epoch milliseconds. */
  validUntil: number;
  /** `resumableIdentifier`: unique per file and token, so a new token never mixes with old chunks. */
  identifier: string;
  /** The nominal chunk size this session was planned with; the plan must not change mid-upload. */
  chunkSize: number;
  /**
   * How many times this job's token ran out and was replaced in place (each time the upload starts
   * over from chunk 1). Kept in the session so that the bound survives restarts of Ferry.
   */
  renewals: number;
}

export const TWENTYTHREE_DEFAULT_CHUNK_SIZE = 5 * 1024 * 1024;
const MIN_CHUNK_SIZE = 64 * 1024;
const MAX_CHUNK_SIZE = 1024 * 1024 * 1024;
/** The largest file any workspace takes [doc: 4–16 GB with chunks, depending on the workspace]. */
const MAX_FILE_SIZE = 16 * 1024 * 1024 * 1024;
/** The token lifetimes the vendor allows [doc: get-upload-token, "minimum 15 minutes, maximum 24 hours"]. */
const MIN_VALID_MINUTES = 15;
const MAX_VALID_MINUTES = 1440;
/**
 * The upload rate a token's lifetime is sized for: slow (about 0.8 Mbit/s) on purpose, because a token
 * that runs out mid-file costs the whole file again while a long-lived one costs nothing.
 */
const ASSUMED_BYTES_PER_SECOND = 100 * 1024;
/** Minutes added to every token for the requests around the bytes (token call, last chunk, retries). */
const VALID_MINUTES_SLACK = 15;
/**
 * How many times one job may replace a token that ran out. Each replacement doubles the lifetime
 * asked for, so the fourth token of a job is 8× the first (or the 24-hour maximum).
 */
const MAX_TOKEN_RENEWALS = 3;
/** A token this close to its end is not used for new work: a chunk sent now could outlive it. */
const EXPIRY_MARGIN_MS = 60_000;

const TOKEN_PATH = '/api/photo/get-upload-token';
const REDEEM_PATH = '/api/photo/redeem-upload-token';

const sessionSchema = z.object({
  uploadToken: z.string().min(1),
  validUntil: z.number().int().nonnegative(),
  identifier: z.string().min(1),
  chunkSize: z.number().int().min(1),
  // Sessions persisted before renewals were counted have had none.
  renewals: z.number().int().min(0).default(0),
});

const fields: readonly AccountField[] = [
  {
    key: 'consumerKey',
    label: 'Consumer key',
    kind: 'secret',
    required: true,
    hint: 'From the OAuth application created in the TwentyThree backend (Settings → API).',
  },
  { key: 'consumerSecret', label: 'Consumer secret', kind: 'secret', required: true },
  {
    key: 'accessToken',
    label: 'Access token',
    kind: 'secret',
    required: true,
    hint: 'An access token of that application with write permission.',
  },
  { key: 'accessTokenSecret', label: 'Access token secret', kind: 'secret', required: true },
  {
    key: 'albumId',
    label: 'Album (channel) id',
    kind: 'setting',
    required: false,
    hint: 'Uploads go to this album unless an upload sets its own albumId.',
  },
  {
    key: 'callbackUrl',
    label: 'Callback URL',
    kind: 'setting',
    required: false,
    hint:
      "TwentyThree calls this address (a GET from its servers) after each upload; without one it never says the new video's id. " +
      "Default: the site's own address (the base URL), which is harmless. Set it to a URL you control if you want the notifications.",
  },
  {
    key: 'chunkSize',
    label: 'Chunk size (bytes)',
    kind: 'setting',
    required: false,
    default: String(TWENTYTHREE_DEFAULT_CHUNK_SIZE),
    hint:
      'Every chunk has exactly this size except the last, which also takes the remainder (between one and two chunk sizes); ' +
      `a file smaller than one chunk goes in a single request. At least ${MIN_CHUNK_SIZE} bytes.`,
  },
];

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function readKeys(account: AccountContext): OAuthKeys {
  const keys = {
    consumerKey: nonEmpty(account.secrets.consumerKey),
    consumerSecret: nonEmpty(account.secrets.consumerSecret),
    accessToken: nonEmpty(account.secrets.accessToken),
    accessTokenSecret: nonEmpty(account.secrets.accessTokenSecret),
  };
  const missing = Object.entries(keys)
    .filter(([, value]) => value === undefined)
    .map(([key]) => key);
  if (missing.length > 0) {
    throw new UploadError(
      'auth',
      `TwentyThree account "${account.name}" lacks ${missing.join(', ')}: add the four OAuth keys to the account`,
    );
  }
  return keys as OAuthKeys;
}

function readChunkSize(account: AccountContext): number {
  const raw = nonEmpty(account.settings.chunkSize);
  if (raw === undefined) return TWENTYTHREE_DEFAULT_CHUNK_SIZE;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < MIN_CHUNK_SIZE || value > MAX_CHUNK_SIZE) {
    throw new UploadError(
      'invalid',
      `TwentyThree account "${account.name}" has chunk size "${raw}": use a whole number of bytes from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE}`,
    );
  }
  return value;
}

function requireFile(job: JobContext): FileSource {
  return localFileOf(job, 'TwentyThree');
}

/** The endpoint URL, normalised (lower-case host, no default port) as OAuth's base string wants it. */
function endpoint(baseUrl: string, path: string): string {
  try {
    return new URL(joinUrl(baseUrl, path)).href;
  } catch (error) {
    throw new UploadError(
      'invalid',
      `TwentyThree base URL "${baseUrl}" is not a valid URL: fix the account's base URL`,
      { cause: error },
    );
  }
}

function chunksOf(job: JobContext, session: TwentyThreeSession): TwentyThreeChunk[] {
  return planTwentyThreeChunks(job.source.size ?? 0, session.chunkSize);
}

function newIdentifier(source: UploadSource): string {
  // Resumable.js's own identifier is size + name; the random suffix keeps two uploads of the same
  // file (or a retry with a new token) from ever sharing chunks on the server.
  const name = source.name.replace(/[^0-9A-Za-z_-]/g, '').slice(0, 80);
  return `${source.size ?? 0}-${name}-${randomBytes(6).toString('hex')}`;
}

function header(response: Response<string>, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Reads `valid_until` as epoch seconds, epoch milliseconds or a date string. */
function parseValidUntil(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value > 1e12 ? value : value * 1000;
  if (typeof value === 'string' && value.trim() !== '') {
    const trimmed = value.trim();
    if (/^\d+(\.\d+)?$/.test(trimmed)) return parseValidUntil(Number(trimmed));
    const parsed = Date.parse(trimmed);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  return undefined;
}

const AUTH_ADVICE =
  'check the four OAuth keys of the account (consumer key, consumer secret, access token, access token secret) and that the access token may upload';

function tokenRequestError(response: Response<string>, doing: string): UploadError {
  const status = response.statusCode;
  const reply = readApiReply(response.body);
  if (status >= 200 && status < 300 && reply.status === 'error') {
    // The legacy API reports every refusal, a bad signature included, as HTTP 200 with
    // status="error" [doc: api-requests]: neither kind is worth retrying.
    const said = `${reply.code ?? 'error'}${reply.message ? ` "${reply.message}"` : ''}`;
    if (isAuthError(reply))
      return new UploadError('auth', `${doing}: TwentyThree refused the request (${said}); ${AUTH_ADVICE}`, { status });
    return new UploadError(
      'invalid',
      `${doing}: TwentyThree refused the request (${said}); check the upload's options (title, album, publish) and the account's album and callback URL`,
      { status },
    );
  }
  const detail = reply.message ?? bodyExcerpt(response.body);
  if (status === 401 || status === 403) {
    return new UploadError('auth', `${doing}: ${status}${detail ? ` ${detail}` : ''}; ${AUTH_ADVICE}`, { status });
  }
  if (status >= 300 && status < 400) {
    const location = header(response, 'location');
    return new UploadError(
      'invalid',
      `${doing}: ${status} redirect${location ? ` to ${location}` : ''}; check the account's base URL (https, exact site domain)`,
      { status },
    );
  }
  if (status < 300) {
    // A 2xx that is none of the API's forms (a proxy page, a maintenance notice).
    return new UploadError(
      'server',
      `${doing}: ${status} without an upload token (${detail || 'empty reply'}); will retry`,
      { status },
    );
  }
  return statusError(response, doing, detail || undefined);
}

/**
 * The token lifetime to ask for: the whole file at a slow rate, doubled for every token of this job
 * that already ran out, within the vendor's 15–1440 minutes.
 */
export function tokenMinutes(size: number, renewals: number): number {
  const minutes = Math.ceil(size / ASSUMED_BYTES_PER_SECOND / 60) + VALID_MINUTES_SLACK;
  return Math.min(MAX_VALID_MINUTES, Math.max(MIN_VALID_MINUTES, minutes * 2 ** renewals));
}

/** Where TwentyThree calls back after the upload: the account's setting, else the site itself. */
function callbackUrl(account: AccountContext): string {
  const raw = nonEmpty(account.settings.callbackUrl) ?? account.baseUrl;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UploadError(
      'invalid',
      `TwentyThree account "${account.name}" has callback URL "${raw}": use an http(s) address, or leave it empty for the site's own address`,
    );
  }
  return url.href;
}

/** Asks for a one-use upload token; `renewals` says how many tokens of this job already ran out. */
async function requestToken(
  account: AccountContext,
  job: JobContext,
  call: CallContext,
  chunkSize: number,
  renewals: number,
): Promise<TwentyThreeSession> {
  const keys = readKeys(account);
  const doing = `Getting a TwentyThree upload token for ${job.source.name}`;
  const minutes = tokenMinutes(job.source.size ?? 0, renewals);

  const params: Record<string, string> = { title: nonEmpty(job.options.title) ?? job.source.name };
  const description = nonEmpty(job.options.description);
  if (description !== undefined) params.description = description;
  const tags = nonEmpty(job.options.tags);
  if (tags !== undefined) params.tags = tags;
  const albumId = nonEmpty(job.options.albumId) ?? nonEmpty(account.settings.albumId);
  if (albumId !== undefined) params.album_id = albumId;
  const publish = nonEmpty(job.options.publish);
  if (publish !== undefined) {
    // "Valid values: 0 or 1" [doc: get-upload-token]; anything else would only come back refused.
    if (publish !== '0' && publish !== '1') {
      throw new UploadError(
        'invalid',
        `TwentyThree upload option publish="${publish}" for ${job.source.name}: use 1 (publish at once) or 0 (keep unpublished)`,
      );
    }
    params.publish = publish;
  }
  params.valid_minutes = String(minutes);
  // One upload per token: a token can then never create a second copy of the file.
  params.max_uploads = '1';
  // Without a return_url the completing chunk answers a bare "OK" and never says the photo id
  // [doc: get-upload-token]; with background_return_p=1 TwentyThree calls the URL from its own
  // servers and the completing chunk answers `ok <domain> <tree_id> <photo_id> …` as text.
  params.return_url = callbackUrl(account);
  params.background_return_p = '1';
  const url = endpoint(account.baseUrl, TOKEN_PATH);
  const requestedAt = Date.now();
  const response = await postSignedApi(account, url, params, keys, call, doing);
  const reply = response.statusCode >= 200 && response.statusCode < 300 ? readApiReply(response.body) : undefined;
  const found = reply?.status !== 'error' ? reply?.uploadToken : null;
  if (!found) throw tokenRequestError(response, doing);

  // Trust the server's expiry only where it is plausible: a date string without a zone is read in
  // local time and may be hours off, and a token is never valid longer than what was asked for.
  const asked = requestedAt + minutes * 60_000;
  const told = parseValidUntil(found.validUntil);
  const validUntil = told !== undefined && told > Date.now() + 2 * EXPIRY_MARGIN_MS ? Math.min(told, asked) : asked;

  return {
    uploadToken: found.token,
    validUntil: Math.round(validUntil),
    identifier: newIdentifier(job.source),
    chunkSize,
    renewals,
  };
}

/**
 * Replacements of tokens that ran out, by the old token: up to three chunks of one job travel at
 * once and all of them learn at about the same moment that the token is gone; they share one new
 * token (and count one renewal). Entries are few and small; the oldest go first.
 */
const renewalsInFlight = new Map<string, Promise<TwentyThreeSession>>();
const RENEWALS_REMEMBERED = 64;

/**
 * The token of `session` ran out before the file was complete: the chunks the server holds under it
 * are lost, so a new token (living twice as long) takes the upload over from chunk 1. The engine
 * learns it as a `resync` to offset 0, which makes it forget every acknowledged chunk and persist the
 * new session, renewal count included.
 */
async function renewToken(
  account: AccountContext,
  job: JobContext,
  session: TwentyThreeSession,
  call: CallContext,
  why: string,
): Promise<PartOutcome<TwentyThreeSession>> {
  const shared = renewalsInFlight.get(session.uploadToken);
  if (shared !== undefined) return joinRenewal(shared, job, call);
  if (session.renewals >= MAX_TOKEN_RENEWALS) {
    const asked = tokenMinutes(job.source.size ?? 0, session.renewals);
    throw new UploadError(
      'invalid',
      `TwentyThree's upload token for ${job.source.name} ran out before the file was complete (${why}), for the ${session.renewals + 1}th time, although the last one was asked to live ${asked} minutes; ` +
        'Ferry stopped rather than start the file over once more: upload it over a faster connection, or retry the job to try again with fresh tokens',
    );
  }
  const pending = requestToken(account, job, call, session.chunkSize, session.renewals + 1);
  renewalsInFlight.set(session.uploadToken, pending);
  pending.catch(() => renewalsInFlight.delete(session.uploadToken));
  while (renewalsInFlight.size > RENEWALS_REMEMBERED) {
    const oldest = renewalsInFlight.keys().next().value;
    if (oldest === undefined) break;
    renewalsInFlight.delete(oldest);
  }
  return { kind: 'resync', session: await pending, serverOffset: 0 };
}

/**
 * Waits for the new token a sibling chunk is getting. Its request runs under the sibling's call: if
 * that call is aborted (its own stall watchdog, say), this chunk was not, and the failure is
 * retryable here rather than final.
 */
async function joinRenewal(
  pending: Promise<TwentyThreeSession>,
  job: JobContext,
  call: CallContext,
): Promise<PartOutcome<TwentyThreeSession>> {
  try {
    return { kind: 'resync', session: await pending, serverOffset: 0 };
  } catch (error) {
    if (error instanceof UploadError && error.kind === 'aborted' && !call.signal.aborted) {
      throw new UploadError(
        'network',
        `Getting a new TwentyThree upload token for ${job.source.name} was interrupted; will retry`,
        { cause: error },
      );
    }
    throw error;
  }
}

function tokenLive(session: TwentyThreeSession, nowMs: number): boolean {
  return nowMs < session.validUntil - EXPIRY_MARGIN_MS;
}

async function sendChunk(
  account: AccountContext,
  job: JobContext,
  session: TwentyThreeSession,
  chunk: TwentyThreeChunk,
  totalChunks: number,
  call: CallContext,
  doing: string,
): Promise<Response<string>> {
  const file = requireFile(job);
  const url = endpoint(account.baseUrl, REDEEM_PATH);
  let range: FileRange;
  try {
    range = await file.range(chunk.start, chunk.end);
  } catch (error) {
    throw transportError(error, call.signal, doing);
  }
  // Resumable.js field names [doc]; the file goes last, as Resumable.js sends it, so that a server
  // streaming the body has every parameter before the bytes arrive. No OAuth: the token authorizes.
  const multipart = multipartBody(
    [
      ['upload_token', session.uploadToken],
      ['resumableChunkNumber', String(chunk.number)],
      ['resumableChunkSize', String(session.chunkSize)],
      ['resumableCurrentChunkSize', String(chunk.end - chunk.start)],
      ['resumableTotalSize', String(job.source.size ?? 0)],
      ['resumableIdentifier', session.identifier],
      ['resumableFilename', job.source.name],
      ['resumableTotalChunks', String(totalChunks)],
    ],
    { field: 'file', filename: job.source.name, range, contentType: job.source.mime || undefined },
  );
  return send(
    account,
    url,
    {
      method: 'POST',
      body: multipart.body,
      headers: { 'content-type': multipart.contentType, 'content-length': String(multipart.length) },
    },
    call,
    doing,
  );
}

/** Maps a chunk reply other than 200 by the documented rule: 500 cancels, anything else retries. */
function chunkError(response: Response<string>, job: JobContext, chunk: TwentyThreeChunk, doing: string): UploadError {
  const status = response.statusCode;
  const excerpt = bodyExcerpt(response.body);
  const refused = `TwentyThree refused chunk ${chunk.number} of ${job.source.name} (${status}${excerpt ? ` ${excerpt}` : ''})`;
  if (status === 500) {
    return new UploadError('unsupported', `${refused}: the file is not supported; the upload was canceled`, { status });
  }
  if (isTokenGoneText(response.body)) {
    return new UploadError(
      'session-gone',
      `${refused}: the upload token is no longer valid; restarting the upload with a new token`,
      {
        status,
      },
    );
  }
  if (status === 429) return statusError(response, doing);
  // "Anything else: something went wrong, but try reuploading" [doc], whatever the status says.
  return statusError(response, doing, excerpt || undefined, 'server');
}

/** The callback URL as shown: TwentyThree adds the upload token to it, and that is a credential. */
function withoutUploadToken(value: string): string {
  try {
    const url = new URL(value);
    url.searchParams.delete('upload_token');
    return url.href;
  } catch {
    return value.replace(/([?&])upload_token=[^&\s]*&?/g, '$1').replace(/[?&]$/, '');
  }
}

function completedResult(
  account: AccountContext,
  session: TwentyThreeSession,
  outcome: Extract<ParsedOutcome, { kind: 'photo' }>,
): UploadResult {
  const details: Record<string, unknown> = {
    photoId: outcome.photoId,
    treeId: outcome.treeId,
    domain: outcome.domain,
    outcomeForm: outcome.form,
  };
  // The outcome's `token` is the new photo's embed token. It is shown, but never if a server echoes
  // the upload token there: that one is a credential.
  if (outcome.token !== null && outcome.token !== session.uploadToken) details.token = outcome.token;
  if (outcome.callbackUrl !== null) details.callbackUrl = withoutUploadToken(outcome.callbackUrl);
  return {
    remoteId: outcome.photoId,
    // The video's page in the site's backend, on the account's base URL. The outcome's domain may be
    // a public or CDN domain and its callback URL is the caller's return_url, so neither is a
    // reliable link to the video itself; both stay in the details.
    url: joinUrl(account.baseUrl, `/manage/video/${encodeURIComponent(outcome.photoId)}`),
    details,
  };
}

export const twentythreeAdapter: ProviderAdapter<TwentyThreeSession> = {
  id: 'twentythree',
  displayName: 'TwentyThree',
  fields,
  capabilities: {
    sources: 'file',
    partOrder: 'parallel',
    maxParallelParts: 3,
    rateLimit: null,
    // The server is the authority on what it holds (see ProviderCapabilities.ackBatch).
    ackBatch: ACK_BATCH,
    defaultBaseUrl: null,
    accepts: [{ type: '*/*', maxBytes: MAX_FILE_SIZE }],
  },

  testConnection: testTwentyThreeConnection,

  validateSource(source) {
    requireLocalFile(source, 'TwentyThree');
    // `unsupported` rather than the other adapters' `invalid`: what TwentyThree has always reported.
    refuseEmptyFile(source, 'TwentyThree', 'unsupported');
    if (source.size > MAX_FILE_SIZE) {
      throw new UploadError(
        'too-large',
        `${source.name} is ${source.size} bytes: TwentyThree takes at most 16 GiB per file (less on some workspaces)`,
      );
    }
  },

  parseSession(raw) {
    const parsed = sessionSchema.safeParse(raw);
    return parsed.success ? parsed.data : null;
  },

  sessionUsable(session, nowMs) {
    // A token that ran out is replaced in place (see `renewToken`), which keeps the count of
    // renewals; only a session that has used them all up is dropped, so that retrying a job that
    // failed for it starts with a fresh allowance.
    return tokenLive(session, nowMs) || session.renewals < MAX_TOKEN_RENEWALS;
  },

  async createSession(account, job, call) {
    requireFile(job);
    return requestToken(account, job, call, readChunkSize(account), 0);
  },

  planParts(session, job) {
    // Every chunk but the last: the last one completes the file, so `finalize` sends it (see top).
    return chunksOf(job, session)
      .slice(0, -1)
      .map((chunk): PartSpec => ({ index: chunk.number - 1, start: chunk.start, end: chunk.end }));
  },

  async uploadPart(account, job, session, part, call): Promise<PartOutcome<TwentyThreeSession>> {
    const chunks = chunksOf(job, session);
    const chunk = chunks[part.index];
    if (!chunk || chunk.start !== part.start || chunk.end !== part.end || chunk.number === chunks.length) {
      // Sending the last chunk here would complete the file outside `finalize` and lose the outcome.
      throw new UploadError(
        'invalid',
        `TwentyThree part ${part.index} of ${job.source.name} is not in this session's chunk plan`,
      );
    }
    if (!tokenLive(session, Date.now())) {
      return renewToken(account, job, session, call, `it expired before chunk ${chunk.number} was sent`);
    }
    const doing = `Sending chunk ${chunk.number} of ${chunks.length} of ${job.source.name} to TwentyThree`;
    const response = await sendChunk(account, job, session, chunk, chunks.length, call, doing);
    const gone = response.statusCode !== 500 && isTokenGoneText(response.body);
    // 200: "accepted and correct, no need to re-upload" [doc], unless the body is the token refusal,
    // whose status the vendor does not document.
    if (response.statusCode === 200 && !gone) {
      // A sibling chunk found the token gone while this one travelled, and the upload starts over
      // under a new token: this chunk belongs to the old one and must not count for the new.
      const renewed = renewalsInFlight.get(session.uploadToken);
      if (renewed !== undefined) return joinRenewal(renewed, job, call);
      return { kind: 'acked', session };
    }
    if (gone)
      return renewToken(
        account,
        job,
        session,
        call,
        `TwentyThree refused chunk ${chunk.number}: ${bodyExcerpt(response.body)}`,
      );
    throw chunkError(response, job, chunk, doing);
  },

  async finalize(account, job, session, call): Promise<FinalizeOutcome<TwentyThreeSession>> {
    const chunks = chunksOf(job, session);
    const last = chunks[chunks.length - 1];
    if (!last) throw new UploadError('invalid', `TwentyThree has no chunk plan for ${job.source.name}`);
    const doing = `Sending the last chunk (${last.number} of ${chunks.length}) of ${job.source.name} to TwentyThree`;
    if (!call.resumed && !tokenLive(session, Date.now())) {
      // The chunks the server holds under this token are lost with it; sending the last one would
      // only be refused.
      throw new UploadError(
        'session-gone',
        `The TwentyThree upload token for ${job.source.name} expired before its last chunk was sent; restarting the upload with a new token`,
      );
    }
    // Resumed or not, the last chunk is sent again: the server either completes the file now or says
    // the one-use token is spent, which (with max_uploads=1) means the file was already completed.
    const response = await sendChunk(account, job, session, last, chunks.length, call, doing);
    const status = response.statusCode;
    const outcome = parseOutcome(
      { status, location: header(response, 'location'), body: response.body },
      account.baseUrl,
    );

    switch (outcome.kind) {
      case 'photo':
        if (status < 400) return { kind: 'completed', result: completedResult(account, session, outcome) };
        break;
      case 'accepted':
        if (status < 400) {
          // The token had no return_url (or the site ignored it): the file was taken but its id
          // was not told. Failing would invite a duplicate upload, so the job completes and says so.
          return {
            kind: 'completed',
            result: {
              remoteId: null,
              url: null,
              details: {
                outcomeForm: 'ok',
                warning: `TwentyThree took ${job.source.name} but did not say the new video's id (it answered a bare "OK"): find the video in the site's library.`,
              },
            },
          };
        }
        break;
      case 'token-gone': {
        if (!call.resumed) {
          throw new UploadError(
            'session-gone',
            `TwentyThree refused the last chunk of ${job.source.name} (${status} ${bodyExcerpt(outcome.message)}): the upload token is no longer valid; restarting the upload with a new token`,
            { status },
          );
        }
        // An earlier send of this chunk started and its reply was lost. Starting over would upload a
        // duplicate, so the job completes with what is known: the file is most likely in the library.
        const expired = Date.now() >= session.validUntil;
        const warning = expired
          ? `TwentyThree no longer accepts this upload's token. It most likely had already received the whole file and its reply with the photo id was lost, but the token may also simply have expired: look for ${job.source.name} in the site's library and upload it again only if it is missing.`
          : `TwentyThree had already received the whole file but its reply with the photo id was lost: look for ${job.source.name} in the site's library.`;
        return { kind: 'completed', result: { remoteId: null, url: null, details: { warning } } };
      }
      case 'error': {
        // A gateway's 502/503/504 page that happens to start with "error" is not the site's verdict.
        if (status > 500) break;
        const unsupported = /not supported|unsupported|file type|format/i.test(outcome.message);
        throw new UploadError(
          unsupported || status === 500 ? 'unsupported' : 'invalid',
          `TwentyThree refused ${job.source.name}: ${outcome.message}`,
          { status },
        );
      }
      case 'unknown':
        break;
      default: {
        const unexpected: never = outcome;
        throw new Error(`unexpected outcome ${String(unexpected)}`);
      }
    }

    if (status === 500) {
      throw new UploadError(
        'unsupported',
        `TwentyThree refused the last chunk of ${job.source.name} (500 ${bodyExcerpt(response.body)}): the file is not supported; the upload was canceled`,
        { status },
      );
    }
    if (status === 429) throw statusError(response, doing);
    if (status >= 400) {
      // Retryable: the engine calls `finalize` again with `resumed`, which copes with either outcome.
      throw statusError(response, doing, bodyExcerpt(response.body) || undefined, 'server');
    }
    // A success status with nothing readable (or a redirect without photo_id): the file may well be
    // in the library, so do not start over (a duplicate); stop and say what came back.
    const location = header(response, 'location');
    throw new UploadError(
      'invalid',
      `TwentyThree took the last chunk of ${job.source.name} but its reply could not be read (${status}${location ? ` to ${location}` : ''} ${bodyExcerpt(response.body) || 'empty body'}): check the site's library before uploading it again`,
      { status },
    );
  },
};
