/**
 * The one place where anything thrown by a handler becomes the `{code, message}` that crosses a
 * transport. Known failures keep their message (they were written for people); everything else
 * becomes INTERNAL with a generic message, and the details go to the log, never to the client.
 */
import { z } from 'zod';
import { UploadError } from '../core/errors.ts';
import { TransitionError } from '../core/jobState.ts';
import { FerryError } from '../core/errors.ts';
import { LockedError } from '../engine/runLock.ts';
import type { ApiErrorCode, ApiErrorPayload } from './contract.ts';

/**
 * How each API error code shows outside the process, in one table: the HTTP status of `ferry serve`
 * and the exit code of the `ferry` command (2: the request was refused, nothing changed; 1: Ferry
 * failed, the same code as a failed upload). Exit code 70 is not here: it belongs to the last-resort
 * handler (main/engine/lastResort.ts), for an error that escaped everything.
 */
export const ERROR_CODES_OUTSIDE: Readonly<Record<ApiErrorCode, { httpStatus: number; exitCode: number }>> = {
  INVALID_INPUT: { httpStatus: 400, exitCode: 2 },
  NOT_FOUND: { httpStatus: 404, exitCode: 2 },
  CONFLICT: { httpStatus: 409, exitCode: 2 },
  INTERNAL: { httpStatus: 500, exitCode: 1 },
};

export function httpStatusOf(code: ApiErrorCode): number {
  return ERROR_CODES_OUTSIDE[code].httpStatus;
}

export function exitCodeOf(code: ApiErrorCode): number {
  return ERROR_CODES_OUTSIDE[code].exitCode;
}

export class ApiError extends Error {
  readonly code: ApiErrorCode;
  constructor(code: ApiErrorCode, message: string) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
  }
}

const MAX_MESSAGE = 500;
const FILE_ERRORS = new Set(['EACCES', 'EPERM', 'ENOENT', 'ENOTDIR', 'EISDIR', 'ELOOP', 'ENAMETOOLONG']);

/** One line, bounded: a message is shown in a toast, not a log viewer. */
export function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_MESSAGE ? `${flat.slice(0, MAX_MESSAGE - 3)}...` : flat;
}

function fieldName(path: readonly PropertyKey[]): string {
  let name = '';
  for (const part of path) {
    if (typeof part === 'number') name += `[${part}]`;
    else {
      const text = String(part);
      const safe = /^[A-Za-z_$][\w$-]{0,39}$/.test(text) ? text : JSON.stringify(text.slice(0, 40));
      name += name === '' ? safe : `.${safe}`;
    }
  }
  return name;
}

/** "Invalid input for jobs.list: limit: must be at most 1000; states[0]: Invalid option: ..." */
export function describeZodError(command: string, error: z.ZodError): string {
  const shown = error.issues.slice(0, 3).map((issue) => {
    const field = fieldName(issue.path);
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 40)));
      return `${field ? `${field}: ` : ''}unknown field${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`;
    }
    // Parsed with reportInput, so a missing field reads "is required" rather than a type mismatch.
    if (issue.code === 'invalid_type' && 'input' in issue && issue.input === undefined)
      return `${field || 'input'}: is required`;
    return `${field || 'input'}: ${issue.message}`;
  });
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : '';
  return oneLine(`Invalid input for ${command}: ${shown.join('; ')}${more}`);
}

/**
 * Maps a thrown value to the error payload. `log` receives the unexpected ones (with their stack),
 * which is the only place such details go.
 */
export function toErrorPayload(
  command: string,
  error: unknown,
  log: (message: string, error: unknown) => void,
): ApiErrorPayload {
  if (error instanceof ApiError) return { code: error.code, message: oneLine(error.message) };
  if (error instanceof z.ZodError) return { code: 'INVALID_INPUT', message: describeZodError(command, error) };
  if (error instanceof FerryError) {
    const code: ApiErrorCode =
      error.code === 'not-found' ? 'NOT_FOUND' : error.code === 'conflict' ? 'CONFLICT' : 'INVALID_INPUT';
    return { code, message: oneLine(error.message) };
  }
  // Another process runs the uploads of this data folder (`ferry run` refuses to start a second engine).
  if (error instanceof LockedError) return { code: 'CONFLICT', message: oneLine(error.message) };
  if (error instanceof TransitionError) {
    return { code: 'CONFLICT', message: oneLine(`${error.message}; the job changed meanwhile, reload and try again`) };
  }
  if (error instanceof UploadError && ['invalid', 'local-file', 'unsupported', 'too-large'].includes(error.kind)) {
    return { code: 'INVALID_INPUT', message: oneLine(error.message) };
  }
  // A folder Ferry may not read while expanding an upload, and the like: the person can fix that.
  const errno = (error as NodeJS.ErrnoException | null)?.code;
  if (error instanceof Error && typeof errno === 'string' && FILE_ERRORS.has(errno)) {
    return { code: 'INVALID_INPUT', message: oneLine(`Could not read a file or folder: ${error.message}`) };
  }
  log(`${command} failed unexpectedly`, error);
  return {
    code: 'INTERNAL',
    message: `Ferry could not complete ${command} because of an internal error; the details are in Ferry's log`,
  };
}
