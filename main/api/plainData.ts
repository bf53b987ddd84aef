/**
 * The API answers with plain data on every transport: what `JSON.parse(JSON.stringify(answer))` makes
 * of an answer. That round trip costs more than anything else in a large answer (a page of 1,000 jobs:
 * more than reading the rows from SQLite), so a command whose handler builds its answer afresh from
 * literals on every call (`fresh` in the command table) is checked instead of copied: when every value
 * in it is one the round trip keeps as it is, the answer already is that plain data.
 */

/** Deeper than any answer Ferry builds; a deeper value takes the round trip (which rejects cycles). */
const MAX_DEPTH = 64;

/**
 * True when `value` is a tree of null, booleans, strings, finite numbers (not -0, which JSON writes as
 * 0), arrays without holes and objects whose prototype is Object.prototype, with no undefined,
 * function, symbol or bigint value anywhere: the values `JSON.parse(JSON.stringify(value))` returns
 * unchanged (test/unit/plainData.test.ts checks that against the round trip). It does not look for
 * accessors, symbol keys or an object that appears twice: a handler marked `fresh` builds its answer
 * from object literals, which have none of them.
 */
export function isPlainData(value: unknown, depth = 0): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth >= MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return false;
    // A hole reads as undefined, which fails the check.
    for (let index = 0; index < value.length; index += 1) if (!isPlainData(value[index], depth + 1)) return false;
    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key in value) {
    if (!isPlainData((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

/**
 * The answer as plain data: a `fresh` answer that passes `isPlainData` as it is, anything else through
 * the JSON round trip (undefined becomes null, as an absent answer).
 */
export function plainAnswer(value: unknown, fresh: boolean): unknown {
  if (value === undefined) return null;
  if (fresh && isPlainData(value)) return value;
  return JSON.parse(JSON.stringify(value)) as unknown;
}
