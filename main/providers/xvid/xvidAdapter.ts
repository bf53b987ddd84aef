/**
 * Xvid MediaHub (docs/protocols.md, "xvid"): an OAuth2 client-credentials token authorizes the API; the
 * API creates an upload and hands out a signed S3 form; the file goes to S3 as one multipart POST
 * with every form field first and the file last; a finish call (`nb_chunks`) starts server-side
 * processing, polled until the upload leaves COMPLETING.
 *
 * MediaHub's multi-chunk key convention is undocumented, so the whole file is one chunk (the form
 * fields exactly as issued, `nb_chunks: 1`). That works up to S3's 5 GB single-POST limit, and
 * resuming means sending the whole file again; capabilities.resumeNote says so in the job details.
 *
 * Each job's object key is its own and every create says when MediaHub may delete the object if no
 * Job uses it (xvidObject.ts): by default never, where MediaHub's own default is 7 days.
 */
import mime from 'mime-types';
import type { Response } from 'got';
import { UploadError, type ErrorKind } from '../../core/errors.ts';
import type { FileRange, FileSource } from '../../core/fileSource.ts';
import { formatBytes, localFileOf, refuseEmptyFile, requireLocalFile } from '../adapterHelpers.ts';
import { bodyExcerpt, retryAfterMs, send, statusError, transportError } from '../http.ts';
import { multipartBody } from '../multipartBody.ts';
import type {
  AccountContext,
  CallContext,
  FinalizeOutcome,
  JobContext,
  PartOutcome,
  PollOutcome,
  ProviderAdapter,
  UploadResult,
  UploadSource,
} from '../types.ts';
import {
  readApiError,
  readS3Error,
  readS3PostResponse,
  readUploadReply,
  XVID_INVALID_TOKEN,
  type UploadReply,
} from './xvidReplies.ts';
import { parseXvidSession, xvidSessionUsable, type XvidSession } from './xvidSession.ts';
import { deletionTimeMs, expiresAtFor, expiryDays, expiryDetails, objectKeyFor } from './xvidObject.ts';
import { testXvidConnection } from './xvidConnection.ts';
import { XVID_MAX_FILE_BYTES, XVID_RESUME_NOTE, xvidDescription } from './xvidDescription.ts';
import { authorizedSend, clearXvidTokenCache } from './xvidToken.ts';

export type { XvidSession } from './xvidSession.ts';
export { clearXvidTokenCache } from './xvidToken.ts';

export { XVID_MAX_FILE_BYTES, XVID_RESUME_NOTE } from './xvidDescription.ts';

/**
 * MediaHub is a media pipeline service (transcoding, thumbnails, audio): Ferry offers it video, audio
 * and images and refuses other files before anything is sent, rather than letting a pipeline fail on
 * them after a long upload.
 */
const ACCEPTED_TYPES = /^(video|audio|image)\//;

const DISPLAY_NAME = xvidDescription.displayName;

/** The source's type, or the one its file name suggests when the caller gave none. */
function mediaType(source: UploadSource): string {
  const given = source.mime.toLowerCase();
  if (given && given !== 'application/octet-stream') return given;
  const guessed = mime.lookup(source.name);
  return guessed ? guessed.toLowerCase() : given;
}

function fileOf(job: JobContext): FileSource {
  return localFileOf(job, DISPLAY_NAME);
}

function uploadPath(uploadId: string): string {
  return `/files/uploads/${encodeURIComponent(uploadId)}`;
}

/**
 * An UploadError for an API reply the caller did not accept. 404 is the caller's to classify: the
 * same "Requested file does not exist" means "start again" before the finish call and "cannot tell
 * whether it went through" after it.
 */
function apiFailure(
  response: Response<string>,
  doing: string,
  notFound: { kind: ErrorKind; advice: string },
): UploadError {
  const status = response.statusCode;
  const error = readApiError(response.body);
  const said = `${doing}: ${status}${error.detail ? ` ${error.detail}` : ''}`;
  if (status === 403 && error.code === XVID_INVALID_TOKEN) {
    return new UploadError(
      'auth',
      `${said}, even with a freshly issued access token; check the client id and secret and their mediahub scope`,
      {
        status,
      },
    );
  }
  if (status === 404) return new UploadError(notFound.kind, `${said}; ${notFound.advice}`, { status });
  if (status === 400 || status === 422) {
    return new UploadError('invalid', `${said}; MediaHub refused the request, so a retry would not help`, { status });
  }
  // 401/403 auth, 429 rate-limited with Retry-After, 5xx server, anything else invalid.
  return statusError(response, doing, error.detail || undefined);
}

function unreadable(response: Response<string>, doing: string, expected: string): UploadError {
  return new UploadError(
    'server',
    `${doing}: MediaHub answered without ${expected} (${response.statusCode} ${bodyExcerpt(response.body) || 'empty body'}); will retry`,
    { status: response.statusCode },
  );
}

type Progress = 'working' | 'failed' | 'done';

/**
 * Where an upload stands by its status. COMPLETING is MediaHub's "processing"; UPLOADING after the
 * finish call (or no status at all) is read as "not there yet" rather than as a finished upload, so a
 * finish the server has not applied yet can never be reported as success. Every other status is
 * terminal: those that say FAIL or ERROR (and, to be safe, CANCEL, ABORT or EXPIR) are failures.
 */
function progressOf(status: string | null): Progress {
  if (status === null || status === 'COMPLETING' || status === 'UPLOADING') return 'working';
  if (/FAIL|ERROR|CANCEL|ABORT|EXPIR/.test(status)) return 'failed';
  return 'done';
}

function resultOf(reply: UploadReply, session: XvidSession): UploadResult {
  // MediaHub's object key (what a Job names), not S3's `tmp/<pipeline>/…` key of the form.
  const objectKey = reply.objectKey ?? session.objectKey;
  return {
    remoteId: reply.fileId ?? session.fileId ?? reply.id,
    url: reply.url,
    details: {
      uploadId: reply.id,
      fileId: reply.fileId ?? session.fileId,
      status: reply.status,
      objectKey,
      pipelineId: reply.pipelineId ?? session.pipelineId,
      storageType: reply.storageType,
      ...expiryDetails(objectKey, deletionTimeMs(session.expiresAt, session.createdAt)),
      resumeNote: XVID_RESUME_NOTE,
    },
  };
}

/** Turns a status reply into the engine's outcome; a failed status is an error that stops the job. */
function outcomeOf(
  reply: UploadReply,
  session: XvidSession,
  job: JobContext,
): { kind: 'processing'; session: XvidSession } | { kind: 'completed'; result: UploadResult } {
  const progress = progressOf(reply.status);
  switch (progress) {
    case 'working':
      return { kind: 'processing', session };
    case 'done':
      return { kind: 'completed', result: resultOf(reply, session) };
    case 'failed':
      throw new UploadError(
        'invalid',
        `Xvid MediaHub could not process ${job.source.name} (upload ${reply.id} ended as ${reply.status}); check the file and pipeline ${session.pipelineId} before uploading it again`,
      );
    default: {
      const unreachable: never = progress;
      throw new Error(`Unhandled progress ${String(unreachable)}`);
    }
  }
}

/** GET /files/uploads/{id}: the upload as MediaHub sees it now. */
async function fetchUpload(
  account: AccountContext,
  session: XvidSession,
  call: CallContext,
  doing: string,
  notFound: { kind: ErrorKind; advice: string },
): Promise<UploadReply> {
  const response = await authorizedSend(account, uploadPath(session.uploadId), { method: 'GET' }, call, doing);
  if (response.statusCode !== 200) throw apiFailure(response, doing, notFound);
  const reply = readUploadReply(response.body);
  if (!reply) throw unreadable(response, doing, 'the upload');
  return reply;
}

/** How an S3 refusal of the form POST reads, and what the engine should do about it. */
function s3Failure(response: Response<string>, doing: string): UploadError {
  const status = response.statusCode;
  const error = readS3Error(response.body);
  const said = `${doing}: S3 answered ${status}${error.detail ? ` ${error.detail}` : ''}`;
  const options = { status, retryAfterMs: retryAfterMs(response.headers) };
  if (status === 403 || error.code === 'ExpiredToken') {
    // The signature, policy or its expiry were issued by MediaHub with the upload: a new upload gets
    // a new form. The engine bounds how many times in a row it starts over.
    return new UploadError(
      'session-gone',
      `${said}; the signed upload form is no longer valid, starting a new upload`,
      options,
    );
  }
  if (error.code === 'EntityTooLarge' || status === 413) {
    return new UploadError('too-large', `${said}; the file is larger than the upload form allows`, options);
  }
  if (error.code === 'RequestTimeout') {
    return new UploadError('timeout', `${said}; will retry`, options);
  }
  if (error.code === 'IncompleteBody') {
    return new UploadError('network', `${said}; will retry`, options);
  }
  if (status === 429 || error.code === 'SlowDown') {
    return new UploadError('rate-limited', `${said}; waiting before trying again`, options);
  }
  if (status >= 500) return new UploadError('server', `${said}; will retry`, options);
  if (status >= 300 && status < 400) {
    // S3 redirects a POST to a new bucket's regional endpoint until DNS has caught up. The streamed
    // body cannot be replayed to another host here, so the whole send is retried later.
    const location = response.headers.location;
    return new UploadError(
      'server',
      `${doing}: S3 redirected the upload${location ? ` to ${location}` : ''} (${status}); will retry`,
      options,
    );
  }
  if (status === 404) {
    return new UploadError(
      'invalid',
      `${said}; the bucket of the upload form does not exist: check the pipeline's storage in MediaHub`,
      options,
    );
  }
  return new UploadError('invalid', `${said}; S3 refused the form, so a retry would not help`, options);
}

export const xvidAdapter: ProviderAdapter<XvidSession> = {
  ...xvidDescription,

  testConnection: testXvidConnection,

  // A cached access token belongs to the old client id and secret or the old address.
  credentialsChanged: clearXvidTokenCache,

  validateSource(source) {
    requireLocalFile(source, DISPLAY_NAME);
    const type = mediaType(source);
    if (!ACCEPTED_TYPES.test(type)) {
      throw new UploadError(
        'unsupported',
        `${source.name} is ${type ? `of type ${type}` : 'of an unknown type'}: Ferry sends video, audio and image files to Xvid MediaHub`,
      );
    }
    refuseEmptyFile(source, DISPLAY_NAME);
    if (source.size > XVID_MAX_FILE_BYTES) {
      throw new UploadError(
        'too-large',
        `${source.name} is ${formatBytes(source.size)}, over the ${formatBytes(XVID_MAX_FILE_BYTES)} (5 GB) that Xvid MediaHub takes in one S3 upload`,
      );
    }
  },

  parseSession: parseXvidSession,

  sessionUsable: xvidSessionUsable,

  async createSession(account, job, call) {
    fileOf(job);
    const name = job.source.name;
    const pipelineId = account.settings.pipelineId?.trim();
    if (!pipelineId) {
      throw new UploadError(
        'invalid',
        `Xvid MediaHub account "${account.name}" has no pipeline id: set it in the account settings`,
      );
    }
    const days = expiryDays(account);
    const objectKey = await objectKeyFor(account, job, fileOf(job).path);
    const doing = `Creating the Xvid MediaHub upload of ${name}`;
    const createdAt = Date.now();
    const expiresAt = expiresAtFor(days, createdAt);
    // encodeURIComponent rather than URLSearchParams: a space must arrive as %20, not as "+", which
    // not every server decodes in a query.
    const query = `object_key=${encodeURIComponent(objectKey)}&pipeline_id=${encodeURIComponent(pipelineId)}&expires_at=${expiresAt}`;
    // `/files/uploads/` with its slash, as every vendor example writes it; the bare path is redirected.
    const response = await authorizedSend(account, `/files/uploads/?${query}`, { method: 'POST' }, call, doing);
    if (response.statusCode !== 200 && response.statusCode !== 201) {
      throw apiFailure(response, doing, {
        kind: 'invalid',
        advice: `check the pipeline id (${pipelineId}) in the account settings`,
      });
    }
    const reply = readUploadReply(response.body);
    if (!reply || !reply.formPostUrl || !reply.formPostParams) throw unreadable(response, doing, 'the upload form');
    return {
      uploadId: reply.id,
      fileId: reply.fileId,
      formPostUrl: reply.formPostUrl,
      formPostParams: reply.formPostParams,
      createdAt,
      objectKey: reply.objectKey ?? objectKey,
      pipelineId,
      expiresAt,
      stored: null,
    };
  },

  planParts(_session, job) {
    // One chunk: the whole file, as the default in docs/protocols.md.
    const size = job.file?.size ?? job.source.size ?? 0;
    return [{ index: 0, start: 0, end: size }];
  },

  async uploadPart(account, job, session, part, call): Promise<PartOutcome<XvidSession>> {
    const file = fileOf(job);
    const name = job.source.name;
    const doing = `Sending ${name} to Xvid MediaHub's storage`;
    if (part.index !== 0 || part.start !== 0 || part.end !== file.size) {
      throw new UploadError(
        'invalid',
        `${doing}: Ferry sends this file as one chunk, not bytes ${part.start}-${part.end}`,
      );
    }
    let range: FileRange;
    try {
      range = await file.range(0, file.size);
    } catch (error) {
      throw transportError(error, call.signal, doing);
    }
    // The fields exactly as issued and in their order, then the file, last: S3 ignores every field
    // after the file, so a policy field sent later would fail the signature check.
    const form = multipartBody(session.formPostParams, {
      field: 'file',
      filename: name,
      range,
      contentType: mediaType(job.source) || 'application/octet-stream',
    });
    // No Authorization header: the signed policy is the credential, and S3 refuses a second one.
    const response = await send(
      account,
      session.formPostUrl,
      {
        method: 'POST',
        body: form.body,
        headers: { 'content-type': form.contentType, 'content-length': String(form.length) },
      },
      call,
      doing,
    );
    const status = response.statusCode;
    if (status >= 200 && status < 300) {
      const stored = readS3PostResponse(response.body);
      return {
        kind: 'acked',
        session: {
          ...session,
          stored: stored ?? { location: null, bucket: null, key: null, etag: null },
        },
      };
    }
    throw s3Failure(response, doing);
  },

  async finalize(account, job, session, call): Promise<FinalizeOutcome<XvidSession>> {
    const name = job.source.name;
    const doing = `Finishing the Xvid MediaHub upload of ${name}`;
    if (call.resumed) {
      // A finish call went out before and its outcome is unknown. The finish is not documented as
      // repeatable, so ask first; only an upload still UPLOADING has certainly not been finished.
      const current = await fetchUpload(account, session, call, `${doing}: checking upload ${session.uploadId}`, {
        kind: 'invalid',
        advice: `Ferry cannot tell whether its earlier finish of upload ${session.uploadId} went through; check the MediaHub files before uploading ${name} again`,
      });
      if (current.status !== 'UPLOADING') return outcomeOf(current, session, job);
    }
    const response = await authorizedSend(
      account,
      uploadPath(session.uploadId),
      { method: 'PUT', json: { upload: { nb_chunks: 1 } } },
      call,
      doing,
    );
    if (response.statusCode !== 200 && response.statusCode !== 201) {
      throw apiFailure(
        response,
        doing,
        call.resumed
          ? {
              kind: 'invalid',
              advice: `the upload disappeared while Ferry finished it; check the MediaHub files before uploading ${name} again`,
            }
          : { kind: 'session-gone', advice: 'MediaHub no longer knows the upload: starting a new one' },
      );
    }
    const reply = readUploadReply(response.body);
    // The finish was most likely applied; the engine's next try is `resumed` and asks before acting.
    if (!reply) throw unreadable(response, doing, 'the upload');
    return outcomeOf(reply, session, job);
  },

  async poll(account, job, session, call): Promise<PollOutcome<XvidSession>> {
    const name = job.source.name;
    const reply = await fetchUpload(account, session, call, `Checking on ${name} at Xvid MediaHub`, {
      kind: 'invalid',
      advice: `the upload disappeared after Ferry finished it; check the MediaHub files before uploading ${name} again`,
    });
    return outcomeOf(reply, session, job);
  },
};
