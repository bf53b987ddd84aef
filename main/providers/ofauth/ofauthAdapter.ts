/**
 * OFAuth (OnlyFans API) vault media upload, as the "Upload Media" guide
 * (https://docs.ofauth.com/guides/how-to/upload-media) and the OpenAPI description
 * (https://api.ofauth.com/openapi.json, rendered at https://docs.ofauth.com/api-reference/upload/)
 * describe it; docs/protocols-ofauth.md lists every request and every choice made where they are
 * silent. `init` creates an upload and gives its plan; a small file then goes as one raw PUT that
 * also finalizes, a larger one as raw PUTs to each part's `uploadUrl` followed by `complete`.
 *
 * Credentials go only to the account's own API origin: every API call carries the `apiKey` and
 * `x-connection-id` headers and counts against the connection's token bucket (60/min, burst 90), which
 * the account lane paces from `capabilities.rateLimit`; a part URL on another host (pre-signed
 * storage) gets the bytes and nothing else.
 *
 * Finalizing is at most once: the single PUT and `complete` are each sent once per call, and a call
 * whose outcome was lost is reconciled with `resumed` (see `finalize`).
 */
import type { Response } from 'got';
import mime from 'mime-types';
import { UploadError } from '../../core/errors.ts';
import type { FileRange, FileSource } from '../../core/fileSource.ts';
import { formatBytes, joinUrl, localFileOf, refuseEmptyFile, requireLocalFile } from '../adapterHelpers.ts';
import { bodyExcerpt, retryAfterMs, send, statusError, transportError } from '../http.ts';
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
  readFinalizeReply,
  readInitReply,
  readPartReply,
  uploadTarget,
  type OfauthErrorReply,
  type OfauthMedia,
  type UploadTarget,
} from './ofauthReplies.ts';
import { testOfauthConnection } from './ofauthConnection.ts';
import { OFAUTH_MEDIA_PREFIXES, ofauthDescription } from './ofauthDescription.ts';
import { ofauthSessionUsable, parseOfauthSession, partRange, type OfauthSession } from './ofauthSession.ts';

export type { OfauthSession } from './ofauthSession.ts';

/**
 * OFAuth documents no size limit, so Ferry sets none beyond what it can count exactly; OnlyFans'
 * own limits surface as a readable refusal from `init`.
 */
export const OFAUTH_MAX_SIZE = Number.MAX_SAFE_INTEGER;

export { OFAUTH_MEDIA_PREFIXES } from './ofauthDescription.ts';

const UPLOADS_PATH = '/v2/access/uploads';
const INIT_PATH = `${UPLOADS_PATH}/init`;
const COMPLETE_PATH = `${UPLOADS_PATH}/complete`;

/**
 * The documented `vaultUpload.mode` values (OpenAPI `vaultUpload: {mode?: "message", userId?:
 * string}`, default "message"), offered as the `vaultMode` upload option.
 */
export const OFAUTH_VAULT_MODES = ['message'] as const;

/** Said with a media whose `isReady` is false. */
export const OFAUTH_PROCESSING_NOTE =
  'OnlyFans is still processing this media; it becomes usable in the vault once ready. OFAuth offers no way ' +
  'to ask about it, so Ferry does not wait.';

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

function endpoint(account: AccountContext, path: string): UploadTarget {
  return { url: joinUrl(account.baseUrl, path), credentials: true };
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

/** The headers of a request to `target`: credentials only for the account's own API origin. */
function headersFor(account: AccountContext, target: UploadTarget): Record<string, string> {
  return target.credentials ? authHeaders(account) : {};
}

/**
 * The `vaultUpload` object of the init body from the upload options `vaultMode` and `vaultUserId`,
 * or undefined when neither is given. Throws `invalid` for a value OFAuth does not document.
 *
 * The old `vaultUpload=true|false` option sent a boolean, which the API reference does not accept.
 * `false` meant "no vault options" and is read as that; `true` maps to no documented mode (the only
 * one, "message", targets a user), so it is refused with the way out rather than guessed.
 */
export function ofauthVaultUpload(
  name: string,
  options: Readonly<Record<string, string>>,
): { mode?: string; userId?: string } | undefined {
  const legacy = options.vaultUpload;
  if (legacy !== undefined && legacy !== 'false') {
    throw new UploadError(
      'invalid',
      `${name}: the vaultUpload option is no longer accepted (OFAuth's vaultUpload is an object, not ${JSON.stringify(legacy)}); ` +
        `use vaultMode=${OFAUTH_VAULT_MODES.join('|')} and vaultUserId=<OnlyFans user id> instead`,
    );
  }
  const mode = options.vaultMode?.trim();
  const userId = options.vaultUserId?.trim();
  if (mode !== undefined && !(OFAUTH_VAULT_MODES as readonly string[]).includes(mode)) {
    throw new UploadError(
      'invalid',
      `${name}: vaultMode must be ${OFAUTH_VAULT_MODES.join(' or ')} (the modes OFAuth documents), not "${options.vaultMode}"`,
    );
  }
  if (userId !== undefined && userId === '')
    throw new UploadError('invalid', `${name}: vaultUserId is empty; give the OnlyFans user id or leave it out`);
  if (mode === undefined && userId === undefined) return undefined;
  return { ...(mode !== undefined ? { mode } : {}), ...(userId !== undefined ? { userId } : {}) };
}

function fileOf(job: JobContext): FileSource {
  return localFileOf(job, 'OFAuth');
}

function said(response: Response<string>, reply: OfauthErrorReply): string {
  const code = reply.code !== null && !reply.text.toUpperCase().includes(reply.code) ? ` [${reply.code}]` : '';
  const request = reply.requestId !== null ? `, request ${reply.requestId}` : '';
  return `${response.statusCode}${reply.text ? ` ${reply.text}` : ''}${code}${request}`;
}

/** Error types of https://docs.ofauth.com/reference/error-handling.md that a retry cures. */
const RETRY_TYPES = new Set(['RULES_OUTDATED']);
/** Error types saying the OnlyFans session behind the connection is gone: OFAuth Link renews it. */
const RELINK_TYPES = new Set(['SESSION_EXPIRED', 'SESSION_NOT_PROVIDED']);

type Step = 'init' | 'part' | 'finalize';

/**
 * The one mapping from an OFAuth refusal to an UploadError. `refused` names what was refused
 * ("OFAuth refused part 3 of 12 of clip.mp4"); the result adds the server's words and the way out.
 * The documented types decide first (error-handling page), then the status.
 */
function refusal(
  account: AccountContext,
  response: Response<string>,
  reply: OfauthErrorReply,
  step: Step,
  refused: string,
): UploadError {
  const status = response.statusCode;
  const what = `${refused} (${said(response, reply)})`;
  const type = reply.code;
  if (status === 429 || type === 'RATE_LIMIT_EXCEEDED') {
    // statusError reads the wait from Retry-After or X-RateLimit-Reset.
    return statusError(response, refused, reply.text || undefined, 'rate-limited');
  }
  if (type !== null && RETRY_TYPES.has(type)) {
    // "Dynamic rules need updating: retry, OFAuth handles this automatically."
    return new UploadError('server', `${what}: OFAuth is updating its OnlyFans rules; will retry`, {
      status,
      retryAfterMs: retryAfterMs(response.headers),
    });
  }
  if (type !== null && RELINK_TYPES.has(type)) {
    return new UploadError(
      'auth',
      `${what}: connection ${account.secrets.connectionId ?? ''} of OFAuth account "${account.name}" is unknown or its OnlyFans ` +
        'session has expired; check the connection id, or reconnect the account through OFAuth Link, then retry',
      { status },
    );
  }
  if (status === 403 || type === 'FORBIDDEN') {
    return new UploadError(
      'auth',
      `${what}: the API key or connection of OFAuth account "${account.name}" lacks the vault:write permission`,
      { status },
    );
  }
  if (status === 401 || (type !== null && (type === 'UNAUTHORIZED' || type.startsWith('AUTH_')))) {
    return new UploadError('auth', `${what}: check the API key and connection id of OFAuth account "${account.name}"`, {
      status,
    });
  }
  if (status === 404 && type === 'ROUTE_NOT_FOUND') {
    return new UploadError('invalid', `${what}: check the account's base URL (${account.baseUrl})`, { status });
  }
  if (status === 404) {
    if (step === 'init')
      return new UploadError('invalid', `${what}: check the account's base URL (${account.baseUrl})`, { status });
    return new UploadError(
      'session-gone',
      `${what}: OFAuth no longer knows this upload (expired?); starting a new upload`,
      { status },
    );
  }
  // OFAuth documents no status for an expired upload; a 410, or a 400 that says so, is taken as one.
  if (step !== 'init' && (status === 410 || (status === 400 && /\bexpired?\b/i.test(reply.text)))) {
    return new UploadError('session-gone', `${what}: the upload session expired; starting a new upload`, { status });
  }
  if (status >= 500) return statusError(response, refused, reply.text || undefined, 'server');
  return new UploadError('invalid', `${what}: a retry would not help; check the file and the account`, { status });
}

/**
 * A refusal from a pre-signed storage host (S3-like XML or anything else): 403 is a signature that
 * no longer holds (expired URL), 404 an upload the storage no longer has; either needs the new URLs
 * of a new upload. OFAuth's credentials never went there, so no refusal here is about them.
 */
function storageRefusal(response: Response<string>, reply: OfauthErrorReply, refused: string): UploadError {
  const status = response.statusCode;
  const what = `${refused} (${said(response, reply)})`;
  if (status === 403 || status === 404 || status === 410) {
    return new UploadError('session-gone', `${what}: the upload URL is no longer valid; starting a new upload`, {
      status,
    });
  }
  if (status === 429 || status === 503) return statusError(response, refused, reply.text || undefined, 'rate-limited');
  if (status >= 500) return statusError(response, refused, reply.text || undefined, 'server');
  return new UploadError('invalid', `${what}: a retry would not help; check the file`, { status });
}

/** Sends bytes [start, end) of the file as a raw PUT body, streamed from disk. */
async function putBytes(
  account: AccountContext,
  target: UploadTarget,
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
    target.url,
    {
      method: 'PUT',
      body,
      headers: { ...headersFor(account, target), 'content-type': contentType, 'content-length': String(length) },
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

/** Said when `complete` (or the single PUT) succeeded without naming the media. */
export const OFAUTH_NO_MEDIA_NOTE =
  'OFAuth accepted the upload without naming the vault media (its reply has no media): look for it in the ' +
  'OnlyFans vault; the upload id can be used once as a mediaItems reference.';

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
  ...ofauthDescription,

  testConnection: testOfauthConnection,

  validateSource(source, options) {
    requireLocalFile(source, 'OFAuth');
    const type = ofauthMimeOf(source);
    if (!isVaultMedia(type)) {
      throw new UploadError(
        'unsupported',
        `${source.name} is ${type ? `of type ${type}` : 'of an unknown type'}: the OnlyFans vault takes photos, videos and audio ` +
          '(image/*, video/*, audio/*)',
      );
    }
    refuseEmptyFile(source, 'OFAuth');
    if (source.size > OFAUTH_MAX_SIZE) {
      throw new UploadError(
        'too-large',
        `${source.name} is ${formatBytes(source.size)}, more than Ferry can upload to OFAuth`,
      );
    }
    ofauthVaultUpload(source.name, options);
  },

  parseSession: parseOfauthSession,

  sessionUsable: ofauthSessionUsable,

  async createSession(account, job, call) {
    const file = fileOf(job);
    const name = job.source.name;
    const doing = `Starting the OFAuth upload of ${name}`;
    // The body of the OpenAPI `POST /v2/access/uploads/init`: `{filename, size, contentType,
    // vaultUpload?}`. (The SDK helpers' `filesize`/`mimeType` keys are not the documented ones.)
    const json: Record<string, unknown> = { filename: name, size: file.size, contentType: ofauthMimeOf(job.source) };
    const vaultUpload = ofauthVaultUpload(name, job.options);
    if (vaultUpload !== undefined) json.vaultUpload = vaultUpload;

    // Not idempotent: if this reply is lost, the retry creates another upload and the first one is
    // left to expire on the server, unused.
    const response = await send(
      account,
      endpoint(account, INIT_PATH).url,
      { method: 'POST', json, headers: authHeaders(account) },
      call,
      doing,
    );
    const status = response.statusCode;
    if (status < 200 || status >= 300) {
      throw refusal(
        account,
        response,
        readErrorReply(response.body),
        'init',
        `OFAuth refused to start the upload of ${name}`,
      );
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
    if (
      session.mode !== 'multipart' ||
      n > session.totalParts ||
      part.start !== expected.start ||
      part.end !== expected.end
    ) {
      throw new UploadError(
        'invalid',
        `${doing}: the part does not match the upload plan; retry the job to start over`,
      );
    }

    // The plan's URL for this part (the guide: "upload file data to each uploadUrl"), else the
    // documented `PUT /v2/access/uploads/{id}/parts/{n}`.
    const planned = session.partUrls?.[n - 1];
    const target =
      (planned !== undefined ? uploadTarget(planned, account.baseUrl) : null) ??
      endpoint(account, `${uploadPath(session)}/parts/${n}`);
    // The SDK helpers send each part with the file's type; a pre-signed URL may be signed for it.
    const response = await putBytes(account, target, file, part, ofauthMimeOf(job.source), call, doing);
    const status = response.statusCode;

    if (status >= 200 && status < 300) {
      // A storage host answers in its own way (S3: an empty body and an ETag header); only the
      // OFAuth endpoint's `{mediaUploadId, partNumber, etag}` is read.
      if (!target.credentials) return { kind: 'acked', session };
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
    if (!target.credentials) throw storageRefusal(response, reply, `The storage host refused ${label}`);
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
   * Single mode sends the whole file as one PUT to the documented `PUT /v2/access/uploads/{id}`,
   * which also finalizes; multipart mode calls `complete` with `{mediaUploadId}` (the OpenAPI body:
   * no part list, no ETags). Either request is sent once per call.
   *
   * With `resumed`, an earlier call started and its outcome is unknown (a crash, a lost reply, or a
   * reply that never came within the engine's wait). OFAuth documents no way to look an upload up:
   * `/uploads/check` dedupes by an etag whose hashing is undocumented and proves nothing about this
   * upload, and the vault list cannot be matched to it. The only upload-scoped question is the
   * finalize request itself, so it is made once more and its reply decides:
   * - the media (or a success without one): the earlier request never took effect, or OFAuth answers
   *   a repeated finalize with the same result; either way this is the upload's outcome;
   * - "already completed": the earlier one did; the media exists but its id was in the lost reply,
   *   so the job completes with a warning and no id;
   * - any other refusal that is not about credentials or pace (the upload gone, expired, refused):
   *   Ferry cannot tell whether the earlier request created the media, and starting over could put
   *   the file in the vault twice, so a person decides.
   */
  async finalize(account, job, session, call): Promise<FinalizeOutcome<OfauthSession>> {
    const file = fileOf(job);
    const name = job.source.name;
    const single = session.mode === 'single';
    const doing = single ? `Uploading ${name} to OFAuth` : `Completing the OFAuth upload of ${name}`;
    const completeTarget =
      (session.completeUrl !== null ? uploadTarget(session.completeUrl, account.baseUrl) : null) ??
      endpoint(account, COMPLETE_PATH);

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
          completeTarget.url,
          { method: 'POST', json: { mediaUploadId: session.mediaUploadId }, headers: authHeaders(account) },
          call,
          doing,
        );
    const status = response.statusCode;

    if (status >= 200 && status < 300) {
      const reading = readFinalizeReply(response.body);
      switch (reading.kind) {
        case 'media':
          return { kind: 'completed', result: resultOf(reading.media, session) };
        case 'no-media':
          return {
            kind: 'completed',
            result: {
              remoteId: null,
              url: null,
              details: { mediaUploadId: session.mediaUploadId, note: OFAUTH_NO_MEDIA_NOTE },
            },
          };
        case 'unreadable':
          // The media most likely exists now; the resumed call reconciles (see above).
          throw new UploadError(
            'server',
            `${doing}: OFAuth answered with an unreadable reply (${status} ${bodyExcerpt(response.body) || 'empty body'}); will check again`,
            { status },
          );
        default: {
          const never: never = reading;
          throw new Error(`unexpected finalize reading ${String(never)}`);
        }
      }
    }

    const reply = readErrorReply(response.body);
    const refused = single
      ? `OFAuth refused the upload of ${name}`
      : `OFAuth refused to complete the upload of ${name}`;
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
    const mapped = refusal(account, response, reply, 'finalize', refused);
    if (call.resumed && (mapped.kind === 'session-gone' || mapped.kind === 'invalid')) {
      throw new UploadError(
        'invalid',
        `${refused} (${said(response, reply)}): Ferry cannot tell whether its earlier attempt to finish upload ` +
          `${session.mediaUploadId} went through; check the OnlyFans vault before uploading the file again`,
        { status },
      );
    }
    throw mapped;
  },
};
