/**
 * Small rules every file adapter applies the same way, kept in one place so that a limit, an address
 * or a refusal reads alike whichever provider says it: byte counts in messages, URLs on the account's
 * base URL, and the checks that a source is a local file with at least one byte.
 */
import { UploadError } from '../core/errors.ts';
import type { FileSource } from '../core/fileSource.ts';
import type { JobContext, UploadSource } from './types.ts';

/** A local-file source, as `requireLocalFile` leaves it. */
export type LocalFileSource = Extract<UploadSource, { kind: 'file' }>;

/** A byte count as messages show it: exact, with thousands separators ("5,000,000 bytes"). */
export function formatBytes(bytes: number): string {
  return `${bytes.toLocaleString('en-US')} bytes`;
}

/**
 * The base URL without trailing slashes. Accounts store it that way already, but a default or a
 * hand-edited value may end in one, and a doubled slash is a different path to most servers.
 */
export function trimBaseUrl(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}

/** An API address: `path` (starting with "/") on the base URL. No normalisation, no validation. */
export function joinUrl(baseUrl: string, path: string): string {
  return `${trimBaseUrl(baseUrl)}${path}`;
}

/**
 * Refuses a URL source for a provider that uploads local files: UploadError `unsupported` naming the
 * upload, the URL and the provider (`provider` is its display name).
 */
export function requireLocalFile(source: UploadSource, provider: string): asserts source is LocalFileSource {
  if (source.kind !== 'file') {
    throw new UploadError('unsupported', `${source.name}: ${provider} uploads local files, not URLs (${source.url})`);
  }
}

/**
 * The job's open file. Throws UploadError `unsupported` when the job has none (a URL source), which
 * `validateSource` normally refused before the job was queued; this is the guard of the upload calls.
 */
export function localFileOf(job: JobContext, provider: string): FileSource {
  if (job.source.kind !== 'file' || job.file === null) {
    throw new UploadError('unsupported', `${job.source.name}: ${provider} uploads local files, not URLs`);
  }
  return job.file;
}

/**
 * Refuses an empty file: no provider Ferry knows creates a media from zero bytes, and each would
 * refuse it only after a session was made. `kind` is the error kind the adapter has always reported
 * for it (`invalid`, or `unsupported` for TwentyThree); job records and tests keep that kind.
 */
export function refuseEmptyFile(
  source: LocalFileSource,
  provider: string,
  kind: 'invalid' | 'unsupported' = 'invalid',
): void {
  if (source.size === 0) {
    throw new UploadError(kind, `${source.name} is empty: ${provider} needs at least one byte`);
  }
}

/**
 * The acknowledgement batch of the protocols whose server is the authority on what it holds
 * (ProviderCapabilities.ackBatch): eight parts, or what was acknowledged within a quarter second.
 */
export const ACK_BATCH = { parts: 8, ms: 250 } as const;
