/**
 * Every failure that crosses the engine is an UploadError with a kind. The kind alone decides what
 * the retry policy does; the message is what a person reads, so it says what was being done, with
 * what, and what they can do.
 */
export const ERROR_KINDS = [
  'network',
  'timeout',
  'server',
  'rate-limited',
  'conflict',
  'session-gone',
  'auth',
  'too-large',
  'unsupported',
  'local-file',
  'aborted',
  'invalid',
] as const;

export type ErrorKind = (typeof ERROR_KINDS)[number];

export interface UploadErrorOptions {
  /** HTTP status of the reply that caused the error, when there was one. */
  status?: number;
  /** Server-requested delay (Retry-After, X-RateLimit-Reset), already converted to milliseconds. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class UploadError extends Error {
  readonly kind: ErrorKind;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(kind: ErrorKind, message: string, options: UploadErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UploadError';
    this.kind = kind;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function isUploadError(value: unknown): value is UploadError {
  return value instanceof UploadError;
}

/** Turns anything thrown into an UploadError; unknown failures are `invalid` so that they stop. */
export function toUploadError(value: unknown, doing: string): UploadError {
  if (value instanceof UploadError) return value;
  if (value instanceof Error && value.name === 'AbortError') {
    return new UploadError('aborted', `${doing}: stopped`, { cause: value });
  }
  const text = value instanceof Error ? value.message : String(value);
  return new UploadError('invalid', `${doing}: ${text}`, { cause: value });
}

/**
 * A refusal of a command by the queue or the API (bad input, an unknown id, a state that does not
 * allow it), as opposed to an UploadError, which is about one upload. Transports map `code` to
 * their own form (API error code, HTTP status, exit code).
 */
export class FerryError extends Error {
  readonly code: 'invalid' | 'not-found' | 'conflict';
  constructor(code: FerryError['code'], message: string) {
    super(message);
    this.name = 'FerryError';
    this.code = code;
  }
}
