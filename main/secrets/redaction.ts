/**
 * Finds secret values in text in the forms they travel in, and replaces them with "[secret]":
 *
 * - as they are, and JSON-escaped (`\"`, `\\`, `\/`);
 * - URL-encoded: `encodeURIComponent`, form encoding (`+` for a space), any mix of upper- and
 *   lower-case `%xx` escapes, and partly encoded text — each character that some encoder escapes
 *   may appear as itself or as the percent escapes of its UTF-8 bytes (letters, digits and `-_.`
 *   are left as they are by every encoder, and are looked for as they are);
 * - inside base64 or base64url, wherever the secret sits in the encoded bytes: HTTP Basic auth sends
 *   `base64(user:password)`, in which the password starts at any byte offset. Base64 turns 3 bytes
 *   into 4 characters, so for each of the 3 offsets the characters that depend on the secret's bits
 *   alone are the same whatever surrounds it (GitHub Actions masks secrets in logs the same way).
 *   Those characters are found and replaced together with the one character on each side that mixes
 *   the secret's first or last bits with its neighbour's, and with the padding.
 *
 * Values shorter than MIN_SECRET_LENGTH are left alone (see knownSecrets.ts); base64 forms shorter
 * than MIN_BASE64_CORE characters are not looked for, since such short runs of letters occur in
 * ordinary text.
 */
import { MIN_SECRET_LENGTH, knownSecrets, knownSecretsVersion } from './knownSecrets.ts';

export const REDACTED = '[secret]';

const MIN_BASE64_CORE = 6;
/** Shortest start of a secret redacted before a closing ellipsis. */
const MIN_CUT = 6;
const BASE64_CHAR = /[A-Za-z0-9+/_-]/;
/** Characters that neither encodeURIComponent, form encoding nor JSON changes. */
const UNESCAPED = /^[A-Za-z0-9_.-]$/;

/** The secret values of one compiled set, found in every form listed above. */
export class Redaction {
  readonly #text: RegExp | null;
  readonly #base64: RegExp | null;
  /**
   * For each secret, its longest run of characters that no encoding changes ('' when it has none):
   * text without any of them cannot hold a secret, and most text is ruled out this way at the cost
   * of a few `includes` rather than a scan with a large regular expression.
   */
  readonly #anchors: string[];
  /** For each base64 core: how many partial characters sit before and after it. */
  readonly #edges = new Map<string, { before: number; after: number }>();
  readonly #cores: string[];
  readonly #secrets: string[];

  constructor(values: Iterable<string>) {
    // Longest first, so that a secret containing another one is replaced whole.
    const secrets = [...new Set(values)]
      .filter((value) => value.length >= MIN_SECRET_LENGTH)
      .sort((a, b) => b.length - a.length);
    this.#text = secrets.length > 0 ? new RegExp(secrets.map(textPattern).join('|'), 'g') : null;
    this.#anchors = secrets.map(anchorOf);
    this.#secrets = secrets;
    for (const secret of secrets) {
      for (const core of base64Cores(secret)) {
        const known = this.#edges.get(core.text);
        this.#edges.set(core.text, {
          before: Math.max(core.before, known?.before ?? 0),
          after: Math.max(core.after, known?.after ?? 0),
        });
      }
    }
    this.#cores = [...this.#edges.keys()].sort((a, b) => b.length - a.length);
    this.#base64 = this.#cores.length > 0 ? new RegExp(this.#cores.map(escapeRegExp).join('|'), 'g') : null;
  }

  get empty(): boolean {
    return this.#text === null;
  }

  apply(text: string): string {
    if (this.#text === null) return text;
    let result = this.#anchors.some((anchor) => text.includes(anchor)) ? text.replace(this.#text, REDACTED) : text;
    result = this.#withoutCutSecrets(result);
    if (this.#base64 === null || !this.#cores.some((core) => result.includes(core))) return result;
    const spans: Array<[number, number]> = [];
    for (const match of result.matchAll(this.#base64)) {
      const edges = this.#edges.get(match[0]) ?? { before: 0, after: 0 };
      let start = match.index;
      let end = start + match[0].length;
      for (let i = 0; i < edges.before && start > 0 && BASE64_CHAR.test(result[start - 1]!); i += 1) start -= 1;
      for (let i = 0; i < edges.after && end < result.length && BASE64_CHAR.test(result[end]!); i += 1) end += 1;
      while (result[end] === '=') end += 1;
      const last = spans.at(-1);
      if (last && start <= last[1]) last[1] = Math.max(last[1], end);
      else spans.push([start, end]);
    }
    for (const [start, end] of spans.reverse()) result = result.slice(0, start) + REDACTED + result.slice(end);
    return result;
  }

  /**
   * Provider replies are quoted cut short ("401 Invalid key sk-live-4f9a1c...; check the key"): the
   * start of a secret just before an ellipsis gives part of it away, so it goes too — at least MIN_CUT
   * characters of it, so that a word that merely starts like a secret is left alone.
   */
  #withoutCutSecrets(text: string): string {
    if (!text.includes('...') && !text.includes('\u2026')) return text;
    let result = '';
    let from = 0;
    for (const ellipsis of text.matchAll(/\.{3}|\u2026/g)) {
      let before = text.slice(from, ellipsis.index);
      for (const secret of this.#secrets) {
        const length = cutLength(before, secret);
        if (length > 0) {
          before = `${before.slice(0, before.length - length)}${REDACTED}`;
          break;
        }
      }
      result += before + ellipsis[0];
      from = ellipsis.index + ellipsis[0].length;
    }
    return result + text.slice(from);
  }
}

/** How many characters at the end of `text` are the start of `secret` (0 if fewer than MIN_CUT). */
function cutLength(text: string, secret: string): number {
  const head = secret.slice(0, MIN_CUT);
  // Earliest first, so that the longest start is found; only where a start shorter than the secret fits.
  for (
    let at = text.indexOf(head, Math.max(0, text.length - secret.length + 1));
    at >= 0;
    at = text.indexOf(head, at + 1)
  ) {
    if (secret.startsWith(text.slice(at))) return text.length - at;
  }
  return 0;
}

/** One regular expression source matching `secret` as itself, JSON-escaped or URL-encoded. */
function textPattern(secret: string): string {
  let pattern = '';
  for (const char of secret) {
    if (UNESCAPED.test(char)) {
      pattern += escapeRegExp(char);
      continue;
    }
    const forms = new Set([escapeRegExp(char)]);
    forms.add([...Buffer.from(char, 'utf8')].map((byte) => `%${hexDigitsPattern(byte)}`).join(''));
    if (char === ' ') forms.add('\\+');
    if (char === '"') forms.add('\\\\"');
    if (char === '\\') forms.add('\\\\\\\\');
    if (char === '/') forms.add('\\\\/');
    pattern += forms.size === 1 ? [...forms][0]! : `(?:${[...forms].join('|')})`;
  }
  return pattern;
}

/** The longest run of `secret` that every encoding leaves as it is. */
function anchorOf(secret: string): string {
  let longest = '';
  for (const run of secret.split(/[^A-Za-z0-9_.-]+/)) if (run.length > longest.length) longest = run;
  return longest;
}

/** `byte` as two hex digits, each letter in either case. */
function hexDigitsPattern(byte: number): string {
  return [...byte.toString(16).padStart(2, '0')]
    .map((digit) => (/[0-9]/.test(digit) ? digit : `[${digit}${digit.toUpperCase()}]`))
    .join('');
}

interface Base64Core {
  text: string;
  before: number;
  after: number;
}

/** The base64 and base64url characters determined by `secret` alone, at each of the 3 byte offsets. */
function base64Cores(secret: string): Base64Core[] {
  const bytes = Buffer.from(secret, 'utf8');
  const cores: Base64Core[] = [];
  for (let offset = 0; offset < 3; offset += 1) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const firstBit = offset * 8;
    const endBit = (offset + bytes.length) * 8;
    // Character i holds bits [6i, 6i + 6): keep those entirely within the secret's bits.
    const text = encoded.slice(Math.ceil(firstBit / 6), Math.floor(endBit / 6));
    if (text.length < MIN_BASE64_CORE) continue;
    const before = firstBit % 6 === 0 ? 0 : 1;
    const after = endBit % 6 === 0 ? 0 : 1;
    cores.push({ text, before, after });
    const url = text.replaceAll('+', '-').replaceAll('/', '_');
    if (url !== text) cores.push({ text: url, before, after });
  }
  return cores;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Compiled sets by the values they hold; a few are enough (the known secrets, plus one account's). */
const compiled = new Map<string, Redaction>();
const MAX_COMPILED = 16;

/**
 * `text` without the secrets this process knows (knownSecrets.ts) and the `extra` values, in every
 * form above.
 */
export function redactSecrets(text: string, extra: readonly string[] = []): string {
  if (text.length === 0) return text;
  const key = `${knownSecretsVersion()}\u0000${extra.join('\u0000')}`;
  let redaction = compiled.get(key);
  if (!redaction) {
    redaction = new Redaction([...knownSecrets(), ...extra]);
    if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, redaction);
  }
  return redaction.apply(text);
}

/**
 * `stream` with every string or buffer written to it redacted first (stderr of the `ferry` command
 * and of `ferry serve`). Everything else is the stream's own.
 */
export function redactingWriter<T extends NodeJS.WritableStream>(stream: T): T {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  const redactedWrite = (chunk: unknown, ...rest: unknown[]): boolean => {
    if (typeof chunk === 'string') return write(redactSecrets(chunk), ...rest);
    if (chunk instanceof Uint8Array)
      return write(Buffer.from(redactSecrets(Buffer.from(chunk).toString('utf8')), 'utf8'), ...rest);
    return write(chunk, ...rest);
  };
  return new Proxy(stream, {
    get(target, key) {
      if (key === 'write') return redactedWrite;
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
