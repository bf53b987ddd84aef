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
 * this many values (an expired token can do no harm, and was redacted while it was in use). Stored
 * secrets are few and are never forgotten.
 */
const MAX_DERIVED = 1_000;

const stored = new Set<string>();
/** Insertion order is recency: remembering a value again moves it to the end. */
const derived = new Set<string>();
let version = 0;

/**
 * Adds a secret derived at run time, such as an access token fetched with the account's credentials
 * (values shorter than MIN_SECRET_LENGTH are ignored).
 */
export function rememberSecret(value: string): void {
  if (value.length < MIN_SECRET_LENGTH || stored.has(value)) return;
  if (derived.delete(value)) {
    derived.add(value);
    return;
  }
  derived.add(value);
  if (derived.size > MAX_DERIVED) {
    const oldest = derived.values().next().value;
    if (oldest !== undefined) derived.delete(oldest);
  }
  version += 1;
}

/** Adds the values of an account's stored secrets (the secret stores call this as they read or write). */
export function rememberSecrets(values: Iterable<string>): void {
  for (const value of values) {
    if (value.length < MIN_SECRET_LENGTH || stored.has(value)) continue;
    stored.add(value);
    derived.delete(value);
    version += 1;
  }
}

/** Every remembered value: stored secrets, then derived ones from the oldest. */
export function knownSecrets(): readonly string[] {
  return [...stored, ...derived];
}

/** Changes whenever a value is added or forgotten, so that compiled patterns can be cached. */
export function knownSecretsVersion(): number {
  return version;
}
