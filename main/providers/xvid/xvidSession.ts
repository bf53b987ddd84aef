/**
 * The persisted state of one Xvid MediaHub upload: the upload the API created and the signed S3 form
 * it handed out. The signed policy is only good for a while, so the session knows when it was made
 * and whether the file already reached the bucket (after which the policy no longer matters).
 */
import { z } from 'zod';

/**
 * How long a session is used for sending the file. MediaHub does not state the policy's lifetime, but
 * its Uploads page example shows 30 minutes: the policy's `expiration` is 2017-08-03T17:40:22Z and the
 * upload id 598358fe… is a MongoDB ObjectId whose time part (0x598358fe) is 17:10:22Z. Five minutes of
 * margin keep a send from starting on a policy that dies under it; if MediaHub has changed the
 * lifetime since, S3's 403 still turns into a new session.
 */
export const XVID_SESSION_SEND_WINDOW_MS = 25 * 60 * 1000;

/** What S3 said when it stored the file (its `<PostResponse>`); fields are null when absent. */
export interface XvidStoredObject {
  location: string | null;
  bucket: string | null;
  key: string | null;
  etag: string | null;
}

export interface XvidSession {
  /** MediaHub's upload id (`upload.id`). */
  uploadId: string;
  /** MediaHub's file id (`upload.file.id`) when the create reply told it (the vendor's example does). */
  fileId: string | null;
  /** Where the file is POSTed (an S3 bucket endpoint). */
  formPostUrl: string;
  /**
   * Every `form_post_params` field as `[name, value]` pairs, in the order the API sent them. Pairs
   * rather than an object so that the order survives the database exactly as received.
   */
  formPostParams: Array<[string, string]>;
  /** When Ferry created this upload (ms since epoch); the signed policy's clock starts here. */
  createdAt: number;
  /** The object key asked for (unique per job, see xvidObject.ts), shown in the job details. */
  objectKey: string;
  pipelineId: string;
  /**
   * The `expires_at` sent on create: Unix seconds, 0 for never; null for a session made before Ferry
   * sent it (MediaHub's 7-day default applies to that upload).
   */
  expiresAt: number | null;
  /** Set once S3 accepted the file; from then on only the finish call and polling remain. */
  stored: XvidStoredObject | null;
}

const storedSchema = z.object({
  location: z.string().nullable(),
  bucket: z.string().nullable(),
  key: z.string().nullable(),
  etag: z.string().nullable(),
});

const sessionSchema = z.object({
  uploadId: z.string().min(1),
  // Absent in sessions persisted before it was kept.
  fileId: z.string().nullable().default(null),
  formPostUrl: z.string().min(1),
  formPostParams: z.array(z.tuple([z.string().min(1), z.string()])),
  createdAt: z.number().finite(),
  objectKey: z.string(),
  pipelineId: z.string(),
  // Absent in sessions persisted before expires_at was sent; they are still good to finish.
  expiresAt: z.number().int().nonnegative().nullable().default(null),
  stored: storedSchema.nullable(),
});

/** Returns the session, or null when `raw` is missing, corrupt or from an older shape. */
export function parseXvidSession(raw: unknown): XvidSession | null {
  const parsed = sessionSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

/**
 * False once the signed policy may have expired and the file has not reached S3 yet: sending with it
 * would only earn a 403. Once S3 stored the file the policy is no longer needed (finishing is an API
 * call with the account's token), so the session stays usable and the file is not sent again.
 */
export function xvidSessionUsable(session: XvidSession, nowMs: number): boolean {
  if (session.stored !== null) return true;
  return nowMs < session.createdAt + XVID_SESSION_SEND_WINDOW_MS;
}
