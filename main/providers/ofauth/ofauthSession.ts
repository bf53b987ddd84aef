/**
 * The persisted state of one OFAuth upload: the server's `mediaUploadId` and the plan `init` gave for
 * it. The plan is fixed for the life of the session (parts are a grid of `partSize` bytes), so the
 * engine's acknowledged parts stay valid across restarts.
 */
import { z } from 'zod';

/** `single`: one raw PUT of the whole file, which also finalizes. `multipart`: PUT parts, then complete. */
export type OfauthMode = 'single' | 'multipart';

export interface OfauthSession {
  /** The server's upload id, `upload:<uuid>`; always URL-encoded when it goes into a path. */
  mediaUploadId: string;
  mode: OfauthMode;
  /** Number of parts; 1 in single mode. */
  totalParts: number;
  /** Bytes per part except the last; the whole size in single mode. */
  partSize: number;
  /** The file size announced to `init`: the plan is cut from it. */
  size: number;
  /** When the server forgets the upload, in epoch milliseconds; null when it did not say. */
  expiresAt: number | null;
  /**
   * The plan's `uploadUrl`s by part number - 1 (multipart only), absolute and as given; null means
   * the documented `/v2/access/uploads/{id}/parts/{n}` paths. Where each one is sent, and whether with
   * the credentials, is decided at send time by `uploadTarget` (an OFAuth endpoint goes to the
   * account's own origin with them, a pre-signed storage URL as given without them).
   */
  partUrls: string[] | null;
  /** The plan's `completeUrl` when it names an OFAuth endpoint; null means `/v2/access/uploads/complete`. */
  completeUrl: string | null;
}

const sessionSchema = z
  .object({
    mediaUploadId: z.string().min(1),
    mode: z.enum(['single', 'multipart']),
    totalParts: z.number().int().min(1),
    partSize: z.number().int().min(1),
    size: z.number().int().min(1),
    expiresAt: z.number().finite().nullable(),
    partUrls: z.array(z.string().min(1)).nullable(),
    completeUrl: z.string().min(1).nullable(),
  })
  .refine((session) => Math.ceil(session.size / session.partSize) === session.totalParts, 'parts do not cover the size')
  .refine((session) => session.partUrls === null || session.partUrls.length === session.totalParts, 'one URL per part')
  .refine((session) => session.mode === 'multipart' || session.totalParts === 1, 'single mode has one part');

/** Returns the session, or null when `raw` is missing, corrupt or from an older shape. */
export function parseOfauthSession(raw: unknown): OfauthSession | null {
  const parsed = sessionSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

/**
 * A session this close to `expiresAt` is not used for new work: a part sent now could reach the
 * server after the upload is gone, and a fresh session is cheaper than a failed part.
 */
export const OFAUTH_EXPIRY_MARGIN_MS = 30_000;

/** False once the server's expiry (less the margin) has passed. An unknown expiry counts as usable. */
export function ofauthSessionUsable(session: OfauthSession, nowMs: number): boolean {
  return session.expiresAt === null || session.expiresAt - OFAUTH_EXPIRY_MARGIN_MS > nowMs;
}

/** Part `n` (1-based) of the plan: `[(n-1)*partSize, min(n*partSize, size))`. */
export function partRange(session: OfauthSession, partNumber: number): { start: number; end: number } {
  const start = (partNumber - 1) * session.partSize;
  return { start, end: Math.min(partNumber * session.partSize, session.size) };
}
