/**
 * The persisted state of one Oktopost import. Oktopost pulls the file itself, so Ferry keeps what it
 * asked for and, once it is known, the id of the upload request.
 *
 * The session is created (and persisted by the engine) before the create request is sent, and holds
 * what is needed to recognise that request among the account's others if its reply is lost: this
 * job's name for the file, the user the API key belongs to, and a time on Oktopost's own clock from
 * before the first attempt. A request that does not match all of them is someone else's, or older.
 */
import { z } from 'zod';

export interface OktopostSession {
  /** The public URL Oktopost pulls from, exactly as it is sent as `source`. */
  source: string;
  /** The `name` sent with the create request. */
  name: string;
  /** The `mimeType` sent with the create request. */
  mimeType: string;
  /** `User.Id` of the API key's user (from `GET /me`): the `CreatedBy` of this job's request. */
  userId: string | null;
  /**
   * Epoch seconds on Oktopost's clock (the `Date` of the `/me` reply), taken before the first create
   * attempt: this job's request has a `Created` at or after it.
   */
  notBefore: number;
  /** The upload request's `Id` (`0up…`), or null until a create reply (or the lookup) tells it. */
  uploadId: string | null;
  /** True when the request was found by the lookup after a lost create reply, not created in this attempt. */
  adopted: boolean;
  /** When Ferry created this session (ms since epoch). */
  createdAt: number;
}

const sessionSchema = z.object({
  source: z.string().min(1),
  name: z.string().min(1),
  mimeType: z.string().min(1),
  userId: z.string().min(1).nullable(),
  notBefore: z.number().finite().nonnegative(),
  uploadId: z.string().min(1).nullable(),
  adopted: z.boolean(),
  createdAt: z.number().finite(),
});

/**
 * The shape of the previous version, which created the request in `createSession` and kept only its
 * id. A job already following such a request goes on following it; nothing else is ever looked up for it.
 */
const legacySchema = z.object({
  uploadId: z.string().min(1),
  source: z.string().min(1),
  createdAt: z.number().finite(),
});

/** Returns the session, or null when `raw` is missing or corrupt. */
export function parseOktopostSession(raw: unknown): OktopostSession | null {
  const parsed = sessionSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const legacy = legacySchema.safeParse(raw);
  if (!legacy.success) return null;
  return {
    source: legacy.data.source,
    name: legacy.data.source,
    mimeType: 'application/octet-stream',
    userId: null,
    notBefore: 0,
    uploadId: legacy.data.uploadId,
    adopted: false,
    createdAt: legacy.data.createdAt,
  };
}
