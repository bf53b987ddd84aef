/**
 * The persisted state of one Oktopost import. Oktopost pulls the file itself, so the only thing Ferry
 * keeps is the id of the upload request it created (or found) and the source it asked for.
 */
import { z } from 'zod';

export interface OktopostSession {
  /** The upload request's `Id` (`0up…`). */
  uploadId: string;
  /** The public URL Oktopost pulls from, exactly as it was sent as `source`. */
  source: string;
  /** When Ferry created or adopted this request (ms since epoch). */
  createdAt: number;
}

const sessionSchema = z.object({
  uploadId: z.string().min(1),
  source: z.string().min(1),
  createdAt: z.number().finite(),
});

/** Returns the session, or null when `raw` is missing, corrupt or from an older shape. */
export function parseOktopostSession(raw: unknown): OktopostSession | null {
  const parsed = sessionSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}
