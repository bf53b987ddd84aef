/**
 * The last line of defence for "secrets never reach the renderer". Views already leave secrets out;
 * this scrubs every string of every response and event for the stored secret values as well, because
 * text that Ferry does not write itself can carry one: a provider's error body echoing a client id,
 * a job error recorded by another process, a URL with a key in its query.
 *
 * Values shorter than MIN_LENGTH are not scrubbed: replacing every "1" in a message would make it
 * unreadable, and no provider issues secrets that short.
 */
import type { SecretStore } from '../secrets/secretStore.ts';

export const REDACTED = '[secret]';
const MIN_LENGTH = 4;

export class SecretRedactor {
  #values: string[] = [];

  /** Reloads the secret values of the given accounts. */
  async refresh(store: SecretStore, accountIds: readonly number[]): Promise<void> {
    const values = new Set<string>();
    for (const id of accountIds) {
      for (const value of Object.values(await store.get(id))) if (value.length >= MIN_LENGTH) values.add(value);
    }
    // Longest first, so that a secret containing another one is replaced whole.
    this.#values = [...values].sort((a, b) => b.length - a.length);
  }

  /** Adds values at once (before the store is re-read), e.g. secrets just given to a command. */
  remember(values: Iterable<string>): void {
    const merged = new Set(this.#values);
    for (const value of values) if (value.length >= MIN_LENGTH) merged.add(value);
    this.#values = [...merged].sort((a, b) => b.length - a.length);
  }

  redactText(text: string): string {
    let result = text;
    for (const value of this.#values) if (result.includes(value)) result = result.replaceAll(value, REDACTED);
    return result;
  }

  /** A deep copy of `value` with every string (and object key) scrubbed. */
  redact<T>(value: T): T {
    if (this.#values.length === 0) return value;
    return this.#walk(value, 0) as T;
  }

  #walk(value: unknown, depth: number): unknown {
    if (typeof value === 'string') return this.redactText(value);
    if (value === null || typeof value !== 'object' || depth > 64) return value;
    if (Array.isArray(value)) return value.map((item) => this.#walk(item, depth + 1));
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // defineProperty, not assignment: a "__proto__" key from a provider's JSON must stay a key.
      Object.defineProperty(copy, this.redactText(key), { value: this.#walk(item, depth + 1), enumerable: true, writable: true, configurable: true });
    }
    return copy;
  }
}
