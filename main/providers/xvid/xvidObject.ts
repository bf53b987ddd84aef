/**
 * What Ferry asks MediaHub to call an uploaded object, and how long MediaHub keeps it while no Job
 * uses it. Both are decided once, when the upload is created, and kept in the session.
 *
 * Expiry [doc: https://mediahub.xvid.com/manual/api/files/uploads/POST.html, `expires_at`]: an
 * "Epoch timestamp that indicates when to auto-delete the uploaded object from storage again if it
 * hasn't been used with a Job meanwhile. If not set, the default expiry time is 7 days", and 0 means
 * never. Left to that default, a user would find a week later that the file is gone, so Ferry always
 * sends `expires_at`: by default 0 (never, the longest the vendor allows), or a number of days the
 * account sets. The page does not say seconds or milliseconds; "Epoch timestamp" next to an
 * `ip2long()` example reads as Unix seconds, which Ferry sends.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { UploadError } from '../../core/errors.ts';
import type { AccountContext, JobContext } from '../types.ts';
import { XVID_EXPIRY_LABEL, XVID_EXPIRY_NEVER, XVID_EXPIRY_SETTING, XVID_MAX_EXPIRY_DAYS } from './xvidDescription.ts';

export { XVID_EXPIRY_LABEL, XVID_EXPIRY_NEVER, XVID_EXPIRY_SETTING, XVID_MAX_EXPIRY_DAYS };
/** The vendor's default when create has no `expires_at`; sessions from before Ferry sent it had this. */
export const XVID_DEFAULT_EXPIRY_DAYS = 7;

const DAY_MS = 24 * 60 * 60 * 1000;

/** Days to keep an unused upload, or null for never, as the account setting says. */
export function expiryDays(account: AccountContext): number | null {
  const raw = (account.settings[XVID_EXPIRY_SETTING] ?? '').trim();
  if (raw === '' || raw.toLowerCase() === XVID_EXPIRY_NEVER) return null;
  const days = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(days >= 1 && days <= XVID_MAX_EXPIRY_DAYS)) {
    throw new UploadError(
      'invalid',
      `Xvid MediaHub account "${account.name}": "${XVID_EXPIRY_LABEL}" must be "${XVID_EXPIRY_NEVER}" or a whole number of days from 1 to ${XVID_MAX_EXPIRY_DAYS} (got "${raw.slice(0, 40)}"); change it in the account settings`,
    );
  }
  return days;
}

/** The `expires_at` to send: Unix seconds, or 0 for never. */
export function expiresAtFor(days: number | null, nowMs: number): number {
  return days === null ? 0 : Math.floor((nowMs + days * DAY_MS) / 1000);
}

/**
 * When MediaHub deletes the object unless a Job uses it (ms since epoch), or null for never. A session
 * without `expiresAt` was created without `expires_at`: the vendor's 7 days from create apply.
 */
export function deletionTimeMs(expiresAt: number | null, createdAtMs: number): number | null {
  if (expiresAt === null) return createdAtMs + XVID_DEFAULT_EXPIRY_DAYS * DAY_MS;
  return expiresAt === 0 ? null : expiresAt * 1000;
}

/** What the job's details say about the expiry: `expiresAt`, and a `warning` when there is one. */
export function expiryDetails(objectKey: string, deleteAtMs: number | null): { expiresAt: string; warning?: string } {
  if (deleteAtMs === null) return { expiresAt: XVID_EXPIRY_NEVER };
  const when = new Date(deleteAtMs).toISOString();
  return {
    expiresAt: when,
    warning:
      `MediaHub deletes ${objectKey} at ${when.replace('T', ' ').replace(/:\d\d\.\d+Z$/, ' UTC')} unless a Job uses it before then; ` +
      `to keep uploads no Job has used, set "${XVID_EXPIRY_LABEL}" to ${XVID_EXPIRY_NEVER} in the account settings`,
  };
}

/**
 * The object key for a job's upload: `<prefix>ferry-<job id>-<8 hex>/<file name>`. MediaHub stores the
 * object under this key, and S3 replaces an object when a second upload uses the same key, so two
 * `clip.mp4` from different folders must not share one. The file name stays the last segment, as
 * given, so the key reads as the file it holds.
 *
 * The same job always gets the same key, also when its upload is started anew (expired form, restart):
 * the 8 hex digits are a hash of the account, the job id and the file's path, size and mtime, never a
 * random number. The job id alone would collide between two Ferry installations (or a reset database)
 * sharing one pipeline; the file's path, size and mtime make that as unlikely as the same file.
 */
export async function objectKeyFor(account: AccountContext, job: JobContext, path: string): Promise<string> {
  let mtimeMs = 0;
  try {
    mtimeMs = (await stat(path)).mtimeMs;
  } catch {
    // Unreadable now: the send that follows reports the file itself; the key stays deterministic.
  }
  const id = createHash('sha256')
    .update([account.id, job.jobId, path, job.source.size ?? '', Math.trunc(mtimeMs)].join('\n'))
    .digest('hex')
    .slice(0, 8);
  return `${account.settings.objectKeyPrefix ?? ''}ferry-${job.jobId}-${id}/${job.source.name}`;
}
