/**
 * Every secret value this process has handled, for the redaction of logs, stored errors and API
 * answers: the stored secrets (the secret stores remember each value they read or write) and the ones
 * derived from them at run time, such as an OAuth access token fetched with a client secret — the
 * adapter that fetches one calls `rememberSecret`. A module of its own, importing nothing, so that
 * adapters can report a token without depending on the API layer, and a log can be redacted before
 * any store exists.
 *
 * Process-wide on purpose: a log line or an error can come from any part of the process, and a value
 * that is a secret for one part is one for all of them.
 */

/** Shorter values are not secrets any provider issues, and scrubbing them would garble messages. */
export const MIN_SECRET_LENGTH = 4;

/**
 * Derived tokens are renewed every few minutes in a long-running app; the oldest are forgotten past
 * this many values (an expired token can do no harm, and was redacted while it was in use).
 */
const MAX_REMEMBERED = 1_000;

/** Insertion order is recency: remembering a value again moves it to the end. */
const remembered = new Set<string>();
let version = 0;

/** Adds a secret value (values shorter than MIN_SECRET_LENGTH are ignored). */
export function rememberSecret(value: string): void {
  if (value.length < MIN_SECRET_LENGTH) return;
  if (remembered.has(value)) {
    remembered.delete(value);
    remembered.add(value);
    return;
  }
  remembered.add(value);
  if (remembered.size > MAX_REMEMBERED) {
    const oldest = remembered.values().next().value;
    if (oldest !== undefined) remembered.delete(oldest);
  }
  version += 1;
}

/** Adds each value of an account's secrets. */
export function rememberSecrets(values: Iterable<string>): void {
  for (const value of values) rememberSecret(value);
}

/** The remembered values, oldest first. */
export function knownSecrets(): readonly string[] {
  return [...remembered];
}

/** Changes whenever a new value is added or one is forgotten, so that compiled patterns can be cached. */
export function knownSecretsVersion(): number {
  return version;
}
