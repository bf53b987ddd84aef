/**
 * OFAuth (OnlyFans API) vault media upload (providers.md, "ofauth"; seed 000). `init` creates an
 * upload and gives its plan; a small file then goes as one raw PUT that also finalizes, a larger one
 * as numbered raw part PUTs (in any order, a re-PUT overwrites) followed by `complete`. Every call
 * carries the `apiKey` and `x-connection-id` headers and counts against the connection's token bucket
 * (60/min, burst 90), which the account lane paces from `capabilities.rateLimit`.
 *
 * Finalizing is at most once: the single PUT and `complete` are each sent once per call, and a call
 * whose outcome was lost is reconciled with `resumed` (see `finalize`).
 */
import type { Response } from 'got';
import mime from 'mime-types';
import { UploadError } from '../../engine/errors.ts';
import type { FileRange, FileSource } from '../../engine/fileSource.ts';
import { bodyExcerpt, send, statusError, transportError } from '../http.ts';
import { rangeBody } from '../multipartBody.ts';
import type {
  AccountContext,
  CallContext,
  FinalizeOutcome,
  JobContext,
  PartOutcome,
  PartSpec,
  ProviderAdapter,
  UploadResult,
  UploadSource,
} from '../types.ts';
import {
  isAlreadyCompleted,
  readErrorReply,
  readInitReply,
  readMediaReply,
  readPartReply,
  type OfauthErrorReply,
  type OfauthMedia,
} from './ofauthReplies.ts';
import { ofauthSessionUsable, parseOfauthSession, partRange, type OfauthSession } from './ofauthSession.ts';

export type { OfauthSession } from './ofauthSession.ts';

/**
 * OFAuth documents no size limit, so Ferry sets none beyond what it can count exactly; OnlyFans'
 * own limits surface as a readable refusal from `init`.
 */
export const OFAUTH_MAX_SIZE = Number.MAX_SAFE_INTEGER;

/**
 * The OnlyFans vault holds photos, videos and audio (the media `type` of seed 000). Anything else is
 * refused before upload rather than after the bytes went out.
 */
export const OFAUTH_MEDIA_PREFIXES = ['image/', 'video/', 'audio/'] as const;

const UPLOADS_PATH = '/v2/access/uploads';
const INIT_PATH = `${UPLOADS_PATH}/init`;
const COMPLETE_PATH = `${UPLOADS_PATH}/complete`;

/** Said with a media whose `isReady` is false. */
export const OFAUTH_PROCESSING_NOTE =
  'OnlyFans is still processing this media; it becomes usable in the vault once ready. OFAuth offers no way ' +
  'to ask about it, so Ferry does not wait.';

function formatBytes(bytes: number): string {
  return `${bytes.toLocaleString('en-US')} bytes`;
}

/** The type sent to OFAuth: the queued MIME type, or one guessed from the name when it is generic. */
export function ofauthMimeOf(source: UploadSource): string {
  const given = source.mime.trim().toLowerCase();
  if (given !== '' && given !== 'application/octet-stream') return given;
  const guessed = mime.lookup(source.name);
  return guessed === false ? given : guessed;
}

function isVaultMedia(type: string): boolean {
  return OFAUTH_MEDIA_PREFIXES.some((prefix) => type.startsWith(prefix));
}

function endpoint(account: AccountContext, path: string): string {
  return `${account.baseUrl.replace(/\/+$/, '')}${path}`;
}

/** `/v2/access/uploads/upload%3A…`: the id holds a colon and is always URL-encoded in paths. */
function uploadPath(session: OfauthSession): string {
  return `${UPLOADS_PATH}/${encodeURIComponent(session.mediaUploadId)}`;
}

function authHeaders(account: AccountContext): Record<string, string> {
  const apiKey = account.secrets.apiKey;
  const connectionId = account.secrets.connectionId;
  if (!apiKey || !connectionId) {
    const missing = !apiKey ? 'API key' : 'connection id';
    throw new UploadError('auth', `OFAuth account "${account.name}" has no ${missing}: add it in the account settings`);
  }
  return { apiKey, 'x-connection-id': connectionId, accept: 'application/json' };
}

function fileOf(job: JobContext): FileSource {
  if (!job.file) {
    throw new UploadError('unsupported', `${job.source.name}: OFAuth uploads local files, not URLs`);
  }
  return job.file;
}

function said(response: Response<string>, reply: OfauthErrorReply): string {
  const code = reply.code !== null && !reply.text.toUpperCase().includes(reply.code) ? ` [${reply.code}]` : '';
  return `${response.statusCode}${reply.text ? ` ${reply.text}` : ''}${code}`;
}

type Step = 'init' | 'part' | 'finalize';

/**
 * The one mapping from an OFAuth refusal to an UploadError. `refused` names what was refused
 * ("OFAuth refused part 3 of 12 of clip.mp4"); the result adds the server's words and the way out.
 */
function refusal(account: AccountContext, response: Response<string>, reply: OfauthErrorReply, step: Step, refused: string): UploadError {
  const status = response.statusCode;
  const what = `${refused} (${said(response, reply)})`;
  if (reply.code === 'SESSION_EXPIRED' || status === 410) {
    return new UploadError('session-gone', `${what}: the upload session expired; starting a new upload`, { status });
  }
  if (status === 429 || reply.code === 'RATE_LIMIT_EXCEEDED') {
    // statusError reads the wait from Retry-After or X-RateLimit-Reset.
    return statusError(response, refused, reply.text || undefined, 'rate-limited');
  }
  if (status === 401 || status === 403 || (reply.code !== null && reply.code.startsWith('AUTH_'))) {
    return new UploadError('auth', `${what}: check the API key and connection id of OFAuth account "${account.name}"`, {
      status,
    });
  }
  if (status === 404) {
    if (step === 'init') {
      return new UploadError('invalid', `${what}: check the account's base URL (${account.baseUrl})`, { status });
    }
    return new UploadError('session-gone', `${what}: OFAuth no longer knows this upload; starting a new upload`, { status });
  }
  if (status >= 500) return statusError(response, refused, reply.text || undefined, 'server');
  return new UploadError('invalid', `${what}: a retry would not help; check the file and the account`, { status });
}

/** Sends bytes [start, end) of the file as a raw PUT body, streamed from disk. */
async function putBytes(
  account: AccountContext,
  url: string,
  file: FileSource,
  range: { start: number; end: number },
  contentType: string,
  call: CallContext,
  doing: string,
): Promise<Response<string>> {
  let bytes: FileRange;
  try {
    bytes = await file.range(range.start, range.end);
  } catch (error) {
    throw transportError(error, call.signal, doing);
  }
  // `send` destroys the body when the request is over, which closes the file.
  const { body, length } = rangeBody(bytes);
  return send(
    account,
    url,
    {
      method: 'PUT',
      body,
      headers: { ...authHeaders(account), 'content-type': contentType, 'content-length': String(length) },
    },
    call,
    doing,
  );
}

function details(media: OfauthMedia, session: OfauthSession): Record<string, unknown> {
  const files = media.files ?? null;
  const facts: Record<string, unknown> = {
    mediaUploadId: session.mediaUploadId,
    type: media.type,
    isReady: media.isReady,
    hasError: media.hasError,
    convertedToVideo: media.convertedToVideo,
    duration: media.duration,
    thumbUrl: files?.thumb?.url,
    previewUrl: files?.preview?.url,
    squarePreviewUrl: files?.squarePreview?.url,
    fullUrl: files?.full?.url,
    createdAt: media.createdAt,
  };
  for (const [key, value] of Object.entries(facts)) if (value === null || value === undefined) delete facts[key];
  if (media.isReady === false) facts.note = OFAUTH_PROCESSING_NOTE;
  if (media.hasError === true) facts.warning = 'OnlyFans reported an error with this media: check it in the vault';
  return facts;
}

/**
 * The finished upload. A media that is not ready yet is still reported as completed: OFAuth documents
 * no endpoint that tells how processing goes, so a `processing` outcome could only be polled with a
 * guess. Ferry's part (the bytes and the media record) is done; the note tells the user the rest.
 */
function resultOf(media: OfauthMedia, session: OfauthSession): UploadResult {
  const files = media.files ?? null;
  return {
    remoteId: String(media.id),
    url: files?.full?.url ?? files?.preview?.url ?? files?.thumb?.url ?? null,
    details: details(media, session),
  };
}

export const ofauthAdapter: ProviderAdapter<OfauthSession> = {
  id: 'ofauth',
  displayName: 'OFAuth',
  fields: [
    { key: 'apiKey', label: 'API key', kind: 'secret', required: true, hint: 'OFAuth API key with the vault:write permission' },
    {
      key: 'connectionId',
      label: 'Connection id',
      kind: 'secret',
      required: true,
      hint: 'The OFAuth connection of the OnlyFans account to upload to (sent as x-connection-id)',
    },
  ],
  capabilities: {
    sources: 'file',
    // Parts may arrive in any order [guess]; two at a time keeps a 100-part file inside the budget
    // without one job hogging the connection's whole bucket.
    partOrder: 'parallel',
    maxParallelParts: 2,
    rateLimit: { perMinute: 60, burst: 90 },
    defaultBaseUrl: 'https://api-next.ofauth.com',
    accepts: OFAUTH_MEDIA_PREFIXES.map((prefix) => ({ type: `${prefix}*`, maxBytes: null })),
  },

  validateSource(source, options) {
    if (source.kind !== 'file') {
      throw new UploadError('unsupported', `${source.name}: OFAuth uploads local files, not URLs (${source.url})`);
    }
    const type = ofauthMimeOf(source);
    if (!isVaultMedia(type)) {
      throw new UploadError(
        'unsupported',
        `${source.name} is ${type ? `of type ${type}` : 'of an unknown type'}: the OnlyFans vault takes photos, videos and audio ` +
          '(image/*, video/*, audio/*)',
      );
    }
    if (source.size === 0) {
      throw new UploadError('invalid', `${source.name} is empty: OFAuth needs at least one byte`);
    }
    if (source.size > OFAUTH_MAX_SIZE) {
      throw new UploadError('too-large', `${source.name} is ${formatBytes(source.size)}, more than Ferry can upload to OFAuth`);
    }
    const vaultUpload = options.vaultUpload;
    if (vaultUpload !== undefined && vaultUpload !== 'true' && vaultUpload !== 'false') {
      throw new UploadError('invalid', `${source.name}: vaultUpload must be true or false, not "${vaultUpload}"`);
    }
  },

  parseSession: parseOfauthSession,

  sessionUsable: ofauthSessionUsable,

  async createSession(account, job, call) {
    const file = fileOf(job);
    const name = job.source.name;
    const doing = `Starting the OFAuth upload of ${name}`;
    const json: Record<string, unknown> = { filename: name, size: file.size, contentType: ofauthMimeOf(job.source) };
    if (job.options.vaultUpload !== undefined) json.vaultUpload = job.options.vaultUpload === 'true';

    // Not idempotent: if this reply is lost, the retry creates another upload and the first one is
    // left to expire on the server, unused.
    const response = await send(
      account,
      endpoint(account, INIT_PATH),
      { method: 'POST', json, headers: authHeaders(account) },
      call,
      doing,
    );
    const status = response.statusCode;
    if (status < 200 || status >= 300) {
      throw refusal(account, response, readErrorReply(response.body), 'init', `OFAuth refused to start the upload of ${name}`);
    }
    const reading = readInitReply(response.body, response.headers, file.size, account.baseUrl);
    switch (reading.kind) {
      case 'session':
        return reading.session;
      case 'unreadable':
        throw new UploadError(
          'server',
          `${doing}: OFAuth answered with an unreadable reply (${status} ${bodyExcerpt(response.body) || 'empty body'}); will retry`,
          { status },
        );
      case 'plan-problem':
        throw new UploadError(
          'invalid',
          `${doing}: OFAuth proposed an upload plan Ferry cannot follow for ${formatBytes(file.size)} (${reading.problem}, ` +
            `upload ${reading.mediaUploadId}); try again later, and report it if it persists`,
          { status },
        );
      default: {
        const never: never = reading;
        throw new Error(`unexpected init reading ${String(never)}`);
      }
    }
  },

  planParts(session) {
    // A single upload is one PUT that also finalizes, so it happens in `finalize`.
    if (session.mode === 'single') return [];
    const parts: PartSpec[] = [];
    for (let n = 1; n <= session.totalParts; n += 1) parts.push({ index: n - 1, ...partRange(session, n) });
    return parts;
  },

  async uploadPart(account, job, session, part, call): Promise<PartOutcome<OfauthSession>> {
    const file = fileOf(job);
    const name = job.source.name;
    const n = part.index + 1;
    const label = `part ${n} of ${session.totalParts} of ${name}`;
    const doing = `Sending ${label} to OFAuth`;
    const expected = partRange(session, n);
    if (session.mode !== 'multipart' || n > session.totalParts || part.start !== expected.start || part.end !== expected.end) {
      throw new UploadError('invalid', `${doing}: the part does not match the upload plan; retry the job to start over`);
    }

    const url = session.partUrls?.[n - 1] ?? endpoint(account, `${uploadPath(session)}/parts/${n}`);
    const response = await putBytes(account, url, file, part, 'application/octet-stream', call, doing);
    const status = response.statusCode;

    if (status >= 200 && status < 300) {
      const reply = readPartReply(response.body);
      if (!reply || (reply.partNumber !== null && reply.partNumber !== n)) {
        // The part was most likely stored; sending it again overwrites it, so a retry is safe.
        throw new UploadError(
          'server',
          `OFAuth answered ${label} with an unreadable reply (${status} ${bodyExcerpt(response.body) || 'empty body'}); will send the part again`,
          { status },
        );
      }
      return { kind: 'acked', session };
    }

    const reply = readErrorReply(response.body);
    if (isAlreadyCompleted(reply)) {
      throw new UploadError(
        'invalid',
        `OFAuth refused ${label} (${said(response, reply)}): upload ${session.mediaUploadId} was already completed; ` +
          'check the OnlyFans vault before uploading the file again',
        { status },
      );
    }
    throw refusal(account, response, reply, 'part', `OFAuth refused ${label}`);
  },

  /**
   * Single mode sends the whole file as one PUT, which also finalizes; multipart mode calls
   * `complete`. Either request is sent once per call.
   *
   * With `resumed`, an earlier call started and its outcome is unknown. OFAuth has no way to look an
   * upload up (`/uploads/check` dedupes by an etag whose hashing is undocumented, so it cannot prove
   * anything about this upload), so the same request is made once more and the reply decides:
   * - success: the earlier request never took effect, and this is the media;
   * - "already completed": the earlier one did; the media exists but its id was in the lost reply,
   *   so the job completes with a warning and no id;
   * - the upload is gone or expired: Ferry cannot tell whether the earlier request created the
   *   media, and starting over could publish the file twice, so a person decides.
   */
  async finalize(account, job, session, call): Promise<FinalizeOutcome<OfauthSession>> {
    const file = fileOf(job);
    const name = job.source.name;
    const single = session.mode === 'single';
    const doing = single ? `Uploading ${name} to OFAuth` : `Completing the OFAuth upload of ${name}`;

    const response = single
      ? await putBytes(
          account,
          endpoint(account, uploadPath(session)),
          file,
          { start: 0, end: session.size },
          ofauthMimeOf(job.source),
          call,
          doing,
        )
      : await send(
          account,
          session.completeUrl ?? endpoint(account, COMPLETE_PATH),
          { method: 'POST', json: { mediaUploadId: session.mediaUploadId }, headers: authHeaders(account) },
          call,
          doing,
        );
    const status = response.statusCode;

    if (status >= 200 && status < 300) {
      const media = readMediaReply(response.body);
      if (!media) {
        // The media most likely exists now; the resumed call meets "already completed" and says so.
        throw new UploadError(
          'server',
          `${doing}: OFAuth answered with an unreadable reply (${status} ${bodyExcerpt(response.body) || 'empty body'}); will check again`,
          { status },
        );
      }
      return { kind: 'completed', result: resultOf(media, session) };
    }

    const reply = readErrorReply(response.body);
    const refused = single ? `OFAuth refused the upload of ${name}` : `OFAuth refused to complete the upload of ${name}`;
    if (isAlreadyCompleted(reply)) {
      if (call.resumed) {
        return {
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
        };
      }
      throw new UploadError(
        'invalid',
        `${refused} (${said(response, reply)}): upload ${session.mediaUploadId} was already completed outside this job; ` +
          'check the OnlyFans vault before uploading the file again',
        { status },
      );
    }
    const gone = status === 404 || status === 410 || reply.code === 'SESSION_EXPIRED';
    if (call.resumed && gone) {
      throw new UploadError(
        'invalid',
        `${refused} (${said(response, reply)}): Ferry cannot tell whether its earlier attempt to finish upload ` +
          `${session.mediaUploadId} went through; check the OnlyFans vault before uploading the file again`,
        { status },
      );
    }
    throw refusal(account, response, reply, 'finalize', refused);
  },
};
