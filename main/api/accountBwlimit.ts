/**
 * An account's own bandwidth limit: the generic account setting `bwlimit` (every provider has it, in
 * rclone syntax like the global one). Both it and the global limit apply to the account's uploads.
 */
import { parseBwLimit } from '../core/bwlimit.ts';
import { ApiError } from './apiError.ts';

export const ACCOUNT_BWLIMIT_KEY = 'bwlimit';

/** Refuses a malformed account limit with the one-line reason naming the bad token ('' = none). */
export function checkAccountBwlimit(settings: Record<string, string>): void {
  const value = settings[ACCOUNT_BWLIMIT_KEY];
  if (value === undefined || value === '') return;
  const parsed = parseBwLimit(value);
  if (!parsed.ok) throw new ApiError('INVALID_INPUT', `Account ${parsed.error}`);
}
