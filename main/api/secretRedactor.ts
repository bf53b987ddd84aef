/**
 * The last line of defence for "secrets never reach the renderer". Views already leave secrets out;
 * this scrubs every string of every response and event for the stored secret values as well, because
 * text that Ferry does not write itself can carry one: a provider's error body echoing a client id,
 * a job error recorded by another process, a URL with a key in its query.
 *
 * It finds them in the forms they travel in (base64 as in HTTP Basic auth, URL- and form-encoded,
 * JSON-escaped: secrets/redaction.ts), and it also scrubs the secrets this process derived at run time
 * (an OAuth access token fetched with a client secret: secrets/knownSecrets.ts).
 *
 * Values shorter than MIN_SECRET_LENGTH are not scrubbed: replacing every "1" in a message would make
 * it unreadable, and no provider issues secrets that short.
 */
import { knownSecrets, knownSecretsVersion } from '../secrets/knownSecrets.ts';
import { Redaction } from '../secrets/redaction.ts';
import type { SecretStore } from '../secrets/secretStore.ts';

export { REDACTED } from '../secrets/redaction.ts';

export class SecretRedactor {
  #values = new Set<string>();
  /** Compiled for #values and the known secrets at #compiledFor; rebuilt when either changes. */
  #redaction: Redaction | null = null;
  #compiledFor = -1;

  /** Reloads the secret values of the given accounts. */
  async refresh(store: Pick<SecretStore, 'get'>, accountIds: readonly number[]): Promise<void> {
    const values = new Set<string>();
    for (const id of accountIds) for (const value of Object.values(await store.get(id))) values.add(value);
    this.#values = values;
    this.#redaction = null;
  }

  /** Adds values at once (before the store is re-read), e.g. secrets just given to a command. */
  remember(values: Iterable<string>): void {
    for (const value of values) this.#values.add(value);
    this.#redaction = null;
  }

  redactText(text: string): string {
    return this.#current().apply(text);
  }

  /** A deep copy of `value` with every string (and object key) scrubbed. */
  redact<T>(value: T): T {
    const redaction = this.#current();
    if (redaction.empty) return value;
    return this.#walk(redaction, value, 0) as T;
  }

  #current(): Redaction {
    const version = knownSecretsVersion();
    if (this.#redaction === null || this.#compiledFor !== version) {
      this.#redaction = new Redaction([...this.#values, ...knownSecrets()]);
      this.#compiledFor = version;
    }
    return this.#redaction;
  }

  #walk(redaction: Redaction, value: unknown, depth: number): unknown {
    if (typeof value === 'string') return redaction.apply(value);
    if (value === null || typeof value !== 'object' || depth > 64) return value;
    if (Array.isArray(value)) return value.map((item) => this.#walk(redaction, item, depth + 1));
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // defineProperty, not assignment: a "__proto__" key from a provider's JSON must stay a key.
      Object.defineProperty(copy, redaction.apply(key), {
        value: this.#walk(redaction, item, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return copy;
  }
}
