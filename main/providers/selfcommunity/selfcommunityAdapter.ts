/**
 * SelfCommunity chunk upload (docs/protocols.md, "selfcommunity"): chunks of at most 204,800 bytes go
 * strictly in series as multipart POSTs with an inclusive Content-Range; the first one creates the
 * upload and returns its `upload_id`, and a final `complete` call with the file's MD5 turns it into
 * a Media. The server's offset is the truth: an "Offsets do not match" reply says where to go on,
 * which is also how a chunk whose reply was lost is recovered. Complete always names the media type
 * (`doc` for a PDF, `image` for an image, or the `type` option), never leaving it to the server's
 * guess from the file's extension.
 */
import { UploadError } from '../../core/errors.ts';
import type { FileRange, FileSource } from '../../core/fileSource.ts';
import { ACK_BATCH, formatBytes, joinUrl, localFileOf, refuseEmptyFile, requireLocalFile } from '../adapterHelpers.ts';
import { send, statusError, transportError, bodyExcerpt } from '../http.ts';
import { multipartBody } from '../multipartBody.ts';
import type {
  AccountContext,
  FinalizeOutcome,
  JobContext,
  PartOutcome,
  PartSpec,
  ProviderAdapter,
  UploadResult,
  UploadSource,
} from '../types.ts';
import {
  isAlreadyComplete,
  isMd5Mismatch,
  isOffsetMismatch,
  MEDIA_DETAIL_KEYS,
  readChunkReply,
  readErrorReply,
  readMediaReply,
} from './selfcommunityReplies.ts';
import { testSelfCommunityConnection } from './selfcommunityConnection.ts';
import {
  parseSelfCommunitySession,
  selfCommunitySessionUsable,
  type SelfCommunityField,
  type SelfCommunitySession,
} from './selfcommunitySession.ts';

export type { SelfCommunitySession } from './selfcommunitySession.ts';

/** The documented maximum chunk size; every chunk but the last is exactly this long. */
export const SELFCOMMUNITY_CHUNK_SIZE = 204_800;

/** "5M" and "50M" in the vendor doc; the unit is unstated, so the stricter decimal reading is used. */
export const SELFCOMMUNITY_LIMITS: Readonly<Record<SelfCommunityField, number>> = {
  image: 5_000_000,
  document: 50_000_000,
};

/** Values of the `type` field of complete (the vendor's "Enumerated Values"). */
export const SELFCOMMUNITY_MEDIA_TYPES = ['image', 'doc', 'eimage'] as const;
export type SelfCommunityMediaType = (typeof SELFCOMMUNITY_MEDIA_TYPES)[number];

/**
 * The media types each chunk field may be completed as: `doc` is a PDF document; `image` an image and
 * `eimage` an image inserted into a contribution's text. The first is what Ferry sends by default.
 */
const TYPES_FOR_FIELD: Readonly<Record<SelfCommunityField, readonly SelfCommunityMediaType[]>> = {
  image: ['image', 'eimage'],
  document: ['doc'],
};

/**
 * The `type` sent with complete: the `type` option when given (validateSource checked it), else the
 * documented type of the field. Always sent, because without it the server picks "image or document
 * based on file extension", which files a PDF named without `.pdf` as an image.
 */
function mediaTypeFor(field: SelfCommunityField, options: Readonly<Record<string, string>>): SelfCommunityMediaType {
  const chosen = options.type;
  const allowed = TYPES_FOR_FIELD[field];
  return chosen !== undefined && (allowed as readonly string[]).includes(chosen)
    ? (chosen as SelfCommunityMediaType)
    : allowed[0]!;
}

const CHUNK_PATH = '/api/v2/media/upload/chunk/';
const COMPLETE_PATH = '/api/v2/media/upload/complete/';

function isPdf(source: UploadSource): boolean {
  return source.mime.toLowerCase() === 'application/pdf' || /\.pdf$/i.test(source.name);
}

/** The multipart field for a source, or null when SelfCommunity takes neither. */
function fieldFor(source: UploadSource): SelfCommunityField | null {
  if (isPdf(source)) return 'document';
  if (source.mime.toLowerCase().startsWith('image/')) return 'image';
  return null;
}

function endpoint(account: AccountContext, path: string): string {
  return joinUrl(account.baseUrl, path);
}

function authorization(account: AccountContext): string {
  const token = account.secrets.accessToken;
  if (!token) {
    throw new UploadError(
      'auth',
      `SelfCommunity account "${account.name}" has no access token: add one in the account settings`,
    );
  }
  return `Bearer ${token}`;
}

function fileOf(job: JobContext): FileSource {
  return localFileOf(job, 'SelfCommunity');
}

/**
 * The server holds bytes [0, offset). Parts are a fixed grid, so an offset between grid lines (or past
 * the end) cannot be continued from without re-cutting parts; a fresh upload is the safe way out.
 */
function checkOffset(offset: number, total: number, job: JobContext, chunk: number): void {
  if (offset > total || (offset % SELFCOMMUNITY_CHUNK_SIZE !== 0 && offset !== total)) {
    throw new UploadError(
      'session-gone',
      `SelfCommunity says it holds ${formatBytes(offset)} of ${job.source.name} (${formatBytes(total)}) after chunk ${chunk}, ` +
        `which does not fall on Ferry's ${formatBytes(SELFCOMMUNITY_CHUNK_SIZE)} chunks: restarting the upload from the start`,
    );
  }
}

/**
 * The MD5 of the bytes sent in this run when they cover the whole file in order and the file is
 * still as queued; null otherwise (resumed after a restart, resynced, or changed: then the file is
 * hashed from disk, so that a change shows up as SelfCommunity's MD5 mismatch as before).
 */
async function sentDigest(file: FileSource): Promise<string | null> {
  const md5 = file.runningDigest('md5').result(file.size);
  if (md5 === null) return null;
  try {
    await file.unchanged();
  } catch {
    return null;
  }
  return md5;
}

function pickDetails(media: Record<string, unknown>, uploadId: string): Record<string, unknown> {
  const details: Record<string, unknown> = { uploadId };
  for (const key of MEDIA_DETAIL_KEYS) {
    if (media[key] !== undefined) details[key] = media[key];
  }
  return details;
}

export const selfcommunityAdapter: ProviderAdapter<SelfCommunitySession> = {
  id: 'selfcommunity',
  displayName: 'SelfCommunity',
  fields: [
    {
      key: 'accessToken',
      label: 'Access token',
      kind: 'secret',
      required: true,
      hint: 'OAuth2 or JWT bearer token of a community user allowed to upload media',
    },
  ],
  capabilities: {
    sources: 'file',
    partOrder: 'serial',
    maxParallelParts: 1,
    rateLimit: null,
    // The server is the authority on what it holds (see ProviderCapabilities.ackBatch).
    ackBatch: ACK_BATCH,
    defaultBaseUrl: null,
    accepts: [
      { type: 'image/*', maxBytes: SELFCOMMUNITY_LIMITS.image },
      { type: 'application/pdf', maxBytes: SELFCOMMUNITY_LIMITS.document },
    ],
  },

  testConnection: testSelfCommunityConnection,

  validateSource(source, options) {
    requireLocalFile(source, 'SelfCommunity');
    const field = fieldFor(source);
    if (field === null) {
      throw new UploadError(
        'unsupported',
        `${source.name} is ${source.mime ? `of type ${source.mime}` : 'of an unknown type'}: SelfCommunity accepts images ` +
          `(image/*, up to ${formatBytes(SELFCOMMUNITY_LIMITS.image)}) and PDF documents (up to ${formatBytes(SELFCOMMUNITY_LIMITS.document)})`,
      );
    }
    const type = options.type;
    if (type !== undefined && !(TYPES_FOR_FIELD[field] as readonly string[]).includes(type)) {
      const fits = field === 'image' ? 'for an image use type=image or type=eimage' : 'for a PDF document use type=doc';
      const known = (SELFCOMMUNITY_MEDIA_TYPES as readonly string[]).includes(type);
      const what = !known
        ? `"${type}" is not a SelfCommunity media type`
        : `type=${type} is for ${type === 'doc' ? 'PDF documents' : 'images'}`;
      throw new UploadError('invalid', `${source.name}: ${what}; ${fits}, or leave it out`);
    }
    refuseEmptyFile(source, 'SelfCommunity');
    const limit = SELFCOMMUNITY_LIMITS[field];
    if (source.size > limit) {
      const what = field === 'image' ? 'images' : 'PDF documents';
      throw new UploadError(
        'too-large',
        `${source.name} is ${formatBytes(source.size)}, over SelfCommunity's limit of ${formatBytes(limit)} for ${what}`,
      );
    }
  },

  parseSession: parseSelfCommunitySession,

  sessionUsable: selfCommunitySessionUsable,

  async createSession(_account, job) {
    // Nothing to call: the first chunk (sent without upload_id) creates the upload on the server.
    fileOf(job);
    const field = fieldFor(job.source);
    if (field === null) {
      throw new UploadError('unsupported', `${job.source.name}: SelfCommunity accepts only images and PDF documents`);
    }
    return { uploadId: null, expires: null, createdAt: Date.now(), field, offset: 0 };
  },

  planParts(_session, job) {
    const total = job.file?.size ?? job.source.size ?? 0;
    const parts: PartSpec[] = [];
    for (let start = 0, index = 0; start < total; start += SELFCOMMUNITY_CHUNK_SIZE, index += 1) {
      parts.push({ index, start, end: Math.min(start + SELFCOMMUNITY_CHUNK_SIZE, total) });
    }
    return parts;
  },

  async uploadPart(account, job, session, part, call): Promise<PartOutcome<SelfCommunitySession>> {
    const file = fileOf(job);
    const name = job.source.name;
    const chunk = part.index + 1;
    const doing = `Sending chunk ${chunk} of ${name} to SelfCommunity`;
    const total = file.size;

    let range: FileRange;
    try {
      range = await file.range(part.start, part.end);
    } catch (error) {
      throw transportError(error, call.signal, doing);
    }
    // The MD5 that complete needs is built from the bytes as they are sent, when the file goes from
    // byte 0 in order within this run; otherwise `finalize` hashes the file from disk.
    const md5Piece = file.runningDigest('md5').begin(part.start, part.end);
    // Without upload_id the server creates a new upload. If the reply to a first chunk is lost, the
    // retry therefore starts another upload and the first one is left to expire on the server.
    const form = multipartBody(
      session.uploadId !== null ? [['upload_id', session.uploadId]] : [],
      {
        field: session.field,
        filename: name,
        range,
        // The file's own type, so that the server sees image/png rather than octet-stream.
        contentType: job.source.mime,
      },
      { onFileBytes: md5Piece?.update },
    );

    const response = await send(
      account,
      endpoint(account, CHUNK_PATH),
      {
        method: 'POST',
        body: form.body,
        headers: {
          'content-type': form.contentType,
          'content-length': String(form.length),
          authorization: authorization(account),
          accept: 'application/json',
          // SelfCommunity follows django-chunked-upload: the end of the range is inclusive.
          'content-range': `bytes ${part.start}-${part.end - 1}/${total}`,
        },
      },
      call,
      doing,
    );
    const status = response.statusCode;

    if (status === 200 || status === 201) {
      const reply = readChunkReply(response.body);
      if (!reply) {
        // The chunk was most likely stored; the retry of this part meets "Offsets do not match" and
        // resyncs from the server's offset, so nothing is sent twice for long.
        throw new UploadError(
          'server',
          `SelfCommunity answered chunk ${chunk} of ${name} with an unreadable reply (${status} ${bodyExcerpt(response.body) || 'empty body'}); will retry`,
          { status },
        );
      }
      checkOffset(reply.offset, total, job, chunk);
      const next: SelfCommunitySession = {
        ...session,
        uploadId: reply.uploadId,
        expires: reply.expires ?? session.expires,
        offset: reply.offset,
      };
      if (reply.offset !== part.end) return { kind: 'resync', session: next, serverOffset: reply.offset };
      md5Piece?.commit();
      return { kind: 'acked', session: next };
    }

    const error = readErrorReply(response.body);
    const refused = `SelfCommunity refused chunk ${chunk} of ${name} (${status}${error.detail ? ` ${error.detail}` : ''})`;
    switch (status) {
      case 400:
        if (isOffsetMismatch(error)) {
          // The server holds a different number of bytes than this chunk assumed, typically because
          // the reply to the previous attempt was lost after the server stored the chunk.
          checkOffset(error.offset, total, job, chunk);
          return { kind: 'resync', session: { ...session, offset: error.offset }, serverOffset: error.offset };
        }
        if (isAlreadyComplete(error)) {
          throw new UploadError(
            'invalid',
            `${refused}: upload ${session.uploadId ?? '(new)'} was already completed; check the community's media before uploading the file again`,
            { status },
          );
        }
        throw new UploadError(
          'invalid',
          `${refused}: the request did not follow the chunk rules, so a retry would not help`,
          {
            status,
          },
        );
      case 404:
        throw new UploadError(
          'session-gone',
          `${refused}: the server no longer knows upload ${session.uploadId ?? '(new)'}; restarting the upload from the start`,
          { status },
        );
      case 410:
        throw new UploadError('session-gone', `${refused}: restarting the upload from the start`, { status });
      default:
        // 401/403 auth, 429 rate-limited with Retry-After, 5xx server, anything else invalid.
        throw statusError(response, doing, error.detail || undefined);
    }
  },

  async finalize(account, job, session, call): Promise<FinalizeOutcome<SelfCommunitySession>> {
    const file = fileOf(job);
    const name = job.source.name;
    const doing = `Completing the SelfCommunity upload of ${name}`;
    const uploadId = session.uploadId;
    if (uploadId === null) {
      throw new UploadError(
        'session-gone',
        `${doing}: no chunk has been accepted yet; restarting the upload from the start`,
      );
    }

    let md5: string;
    try {
      md5 = (await sentDigest(file)) ?? (await file.digest('md5', call.signal));
    } catch (error) {
      throw transportError(error, call.signal, `${doing}: computing its MD5`);
    }
    const form: Record<string, string> = { upload_id: uploadId, md5, type: mediaTypeFor(session.field, job.options) };

    // One request, never repeated here: a second complete could create a second Media. If this one
    // fails without a readable answer the engine calls again with `resumed`, handled below.
    const response = await send(
      account,
      endpoint(account, COMPLETE_PATH),
      { method: 'POST', form, headers: { authorization: authorization(account), accept: 'application/json' } },
      call,
      doing,
    );
    const status = response.statusCode;

    if (status === 200 || status === 201) {
      const media = readMediaReply(response.body);
      if (!media) {
        // Most likely the Media exists now; the resumed call gets "already complete" and reports it.
        throw new UploadError(
          'server',
          `${doing}: SelfCommunity answered with an unreadable reply (${status} ${bodyExcerpt(response.body) || 'empty body'}); will check again`,
          { status },
        );
      }
      const result: UploadResult = {
        remoteId: String(media.id),
        url: media.url ?? media.image ?? null,
        details: pickDetails(media, uploadId),
      };
      return { kind: 'completed', result };
    }

    const error = readErrorReply(response.body);
    const refused = `SelfCommunity refused to complete the upload of ${name} (${status}${error.detail ? ` ${error.detail}` : ''})`;
    switch (status) {
      case 400:
        if (isAlreadyComplete(error)) {
          if (call.resumed) {
            // Our earlier complete went through but its reply never arrived. Completing is not
            // repeatable and SelfCommunity has no lookup by upload_id, so report success without an id.
            return {
              kind: 'completed',
              result: {
                remoteId: null,
                url: null,
                details: {
                  warning:
                    `SelfCommunity had already completed this upload (upload_id ${uploadId}) but its reply was lost; ` +
                    'the media exists on the server but Ferry could not read its id.',
                },
              },
            };
          }
          throw new UploadError(
            'invalid',
            `${refused}: upload ${uploadId} was already completed outside this job; check the community's media before uploading the file again`,
            { status },
          );
        }
        if (isMd5Mismatch(error)) {
          throw new UploadError(
            'invalid',
            `${refused}: the bytes SelfCommunity received do not match ${name} on disk (MD5 ${md5}); was the file changed during the upload? Upload it again`,
            { status },
          );
        }
        throw new UploadError('invalid', `${refused}: a retry would not help`, { status });
      case 404:
      case 410:
        if (call.resumed) {
          // An earlier complete may have created the Media before the upload disappeared; starting
          // over could publish the file twice, so a person decides.
          throw new UploadError(
            'invalid',
            `${refused}: Ferry cannot tell whether its earlier attempt to complete upload ${uploadId} went through; ` +
              "check the community's media before uploading the file again",
            { status },
          );
        }
        throw new UploadError('session-gone', `${refused}: restarting the upload from the start`, { status });
      default:
        throw statusError(response, doing, error.detail || undefined);
    }
  },
};
