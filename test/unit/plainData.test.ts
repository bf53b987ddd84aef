/**
 * The API's cheap plain-data check (main/api/plainData.ts) must accept exactly what the JSON round
 * trip it replaces would return unchanged: every value it accepts comes back from
 * `JSON.parse(JSON.stringify(value))` equal and in the same key order, and every value it refuses
 * would come back different (so the answer takes the round trip, as before).
 */
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isPlainData, plainAnswer } from '../../main/api/plainData.ts';

const roundTrip = (value: unknown): unknown => JSON.parse(JSON.stringify(value) as string) as unknown;

const nested = (depth: number): unknown => (depth === 0 ? 'leaf' : { down: nested(depth - 1) });

const PLAIN: Array<[string, unknown]> = [
  ['null', null],
  ['a string with quotes, a newline and a lone surrogate', 'say "hi"\n\ud800'],
  ['true', true],
  ['zero', 0],
  ['a fraction', -12.5],
  ['a large integer', 2 ** 53 - 1],
  ['an empty object', {}],
  ['an empty array', []],
  [
    'a job view',
    {
      id: 1,
      accountName: 'community',
      error: { kind: 'network', message: 'connect ECONNREFUSED é ✓' },
      result: { remoteId: 'r1', url: null, details: { a: [1, { b: 'c' }], '__proto__ like': 'x' } },
      actions: ['pause', 'cancel'],
      options: {},
    },
  ],
  ['an array of rows', [{ a: 1 }, { a: 2 }, [null, 'x']]],
  ['63 levels deep', nested(63)],
];

const NOT_PLAIN: Array<[string, unknown]> = [
  ['undefined', undefined],
  ['an undefined property', { a: 1, b: undefined }],
  ['NaN', { n: Number.NaN }],
  ['Infinity', [Number.POSITIVE_INFINITY]],
  ['minus zero', { n: -0 }],
  ['a Date', { at: new Date(0) }],
  ['an object without prototype', Object.assign(Object.create(null) as object, { a: 1 })],
  ['a Map', new Map([['a', 1]])],
  [
    'a class instance',
    new (class Row {
      a = 1;
    })(),
  ],
  ['a function', { f: () => 1 }],
  ['a bigint', { n: 1n }],
  ['a symbol', { s: Symbol('s') }],
  // eslint-disable-next-line no-sparse-arrays -- the hole is what is tested
  ['an array with a hole', [1, , 3]],
  ['a Buffer', { bytes: Buffer.from('ab') }],
  ['an object with toJSON', { toJSON: () => 'other' }],
];

/** Whether the JSON round trip returns something else than `value` (or throws, as for a bigint). */
function roundTripChanges(value: unknown): boolean {
  try {
    // Strict: prototypes, -0 and holes count.
    return !isDeepStrictEqual(roundTrip(value), value);
  } catch {
    return true;
  }
}

describe('isPlainData', () => {
  it.each(PLAIN)('accepts %s, which the JSON round trip returns unchanged', (_name, value) => {
    expect(isPlainData(value)).toBe(true);
    const copy = roundTrip(value);
    expect(isDeepStrictEqual(copy, value)).toBe(true);
    // toEqual ignores key order; the JSON text does not.
    expect(JSON.stringify(copy)).toBe(JSON.stringify(value));
  });

  it.each(NOT_PLAIN)('refuses %s, which the JSON round trip would change', (_name, value) => {
    expect(isPlainData(value)).toBe(false);
    expect(roundTripChanges(value)).toBe(true);
  });

  it('refuses anything deeper than 64 levels, which then takes the round trip', () => {
    expect(isPlainData(nested(65))).toBe(false);
    expect(plainAnswer(nested(65), true)).toEqual(nested(65));
  });
});

describe('plainAnswer', () => {
  it('hands a fresh, plain answer on as it is and copies everything else through JSON', () => {
    const page = { items: [{ id: 1, error: null }], total: 1 };
    expect(plainAnswer(page, true)).toBe(page);
    // Not marked fresh: copied, even when plain (the handler may share it with Ferry's state).
    const copied = plainAnswer(page, false);
    expect(copied).not.toBe(page);
    expect(copied).toEqual(page);
    // Marked fresh but not plain: the round trip, as before.
    expect(plainAnswer({ at: new Date(0), gone: undefined, n: Number.NaN }, true)).toEqual({
      at: '1970-01-01T00:00:00.000Z',
      n: null,
    });
    expect(plainAnswer(undefined, true)).toBeNull();
  });
});
