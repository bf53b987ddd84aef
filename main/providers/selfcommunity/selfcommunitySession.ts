/**
 * The persisted state of one SelfCommunity upload. The first chunk creates the upload on the server,
 * so a session starts without an `upload_id` and learns it from the first reply.
 */
import { z } from 'zod';

/** Which multipart field carries the chunks: SelfCommunity takes images and PDF documents. */
export type SelfCommunityField = 'image' | 'document';

export interface SelfCommunitySession {
  /** The server's `upload_id`, or null until the first chunk has been accepted. */
  uploadId: string | null;
  /** The server's expiry time as it sent it (ISO 8601), or null when it has not said yet. */
  expires: string | null;
  /** When Ferry created this session (ms since epoch). */
  createdAt: number;
  field: SelfCommunityField;
  /** Bytes the server said it holds in its last reply; for diagnostics, the engine tracks parts. */
  offset: number;
}

const sessionSchema = z.object({
  uploadId: z.string().min(1).nullable(),
  expires: z.string().nullable(),
  createdAt: z.number().finite(),
  field: z.enum(['image', 'document']),
  offset: z.number().int().nonnegative(),
});

/** Returns the session, or null when `raw` is missing, corrupt or from an older shape. */
export function parseSelfCommunitySession(raw: unknown): SelfCommunitySession | null {
  const parsed = sessionSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

/**
 * False once the server's expiry has passed: SelfCommunity answers 410 to any later chunk, so a new
 * upload is needed. An unknown or unreadable expiry counts as usable; a 410 still corrects it.
 */
export function selfCommunitySessionUsable(session: SelfCommunitySession, nowMs: number): boolean {
  if (session.expires === null) return true;
  const expiresMs = Date.parse(session.expires);
  return Number.isNaN(expiresMs) || expiresMs > nowMs;
}
