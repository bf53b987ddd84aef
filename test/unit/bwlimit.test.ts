import { describe, expect, it } from 'vitest';
import {
  activeLimit,
  formatRate,
  nextChange,
  parseBwLimit,
  parseRate,
  requireBwLimit,
} from '../../main/core/bwlimit.ts';

const K = 1024;
const M = 1024 * 1024;

/**
 * A local wall-clock time in the week of Monday 7 December 2026 (day 0 = Sunday 6 December). Built
 * from local fields, so the tests mean the same in every time zone (and no DST change falls in it).
 */
function at(day: number, hh: number, mm = 0): Date {
  return new Date(2026, 11, 6 + day, hh, mm, 0, 0);
}

describe('parseRate (rclone units: bytes per second, binary suffixes, KiB without one)', () => {
  it.each([
    ['off', null],
    ['OFF', null],
    ['0', null],
    ['512K', 512 * K],
    ['512k', 512 * K],
    ['2M', 2 * M],
    ['2Mi', 2 * M],
    ['2MiB', 2 * M],
    ['1.5M', 1.5 * M],
    ['1G', 1024 * M],
    ['1500B', 1500],
    ['100', 100 * K],
    ['1M:off', M],
    ['1M:512K', M],
    ['off:1M', null],
  ])('%s', (text, bytes) => {
    expect(parseRate(text)).toBe(bytes);
  });

  it.each(['2X', 'M', '-1M', '1,5M', '2BiB', '1M:fast', '1M:2M:3M', ''])('refuses %j', (text) => {
    expect(typeof parseRate(text)).toBe('string');
  });
});

describe('parseBwLimit', () => {
  it('reads a plain rate as one entry that applies all the time', () => {
    const parsed = requireBwLimit(' 2M ');
    expect(parsed).toEqual({ text: '2M', entries: [{ day: null, minute: 0, rate: 2 * M }] });
    expect(activeLimit(parsed, at(3, 12))).toBe(2 * M);
    expect(nextChange(parsed, at(3, 12))).toBeNull();
  });

  it('reads a daily timetable, separated by spaces or semicolons', () => {
    for (const text of ['08:00,512K 19:00,4M 23:00,off', '08:00,512K;19:00,4M; 23:00,off']) {
      expect(requireBwLimit(text).entries).toEqual([
        { day: null, minute: 8 * 60, rate: 512 * K },
        { day: null, minute: 19 * 60, rate: 4 * M },
        { day: null, minute: 23 * 60, rate: null },
      ]);
    }
  });

  it('reads weekday entries (short and long names, any case)', () => {
    expect(requireBwLimit('Mon-08:00,512K sunday-7:30,1M FRI-23:59,off').entries).toEqual([
      { day: 1, minute: 8 * 60, rate: 512 * K },
      { day: 0, minute: 7 * 60 + 30, rate: M },
      { day: 5, minute: 23 * 60 + 59, rate: null },
    ]);
  });

  it.each([
    ['8:0x,512K', '"8:0x" is not a time (HH:MM)'],
    ['08:00,512K 24:00,off', '"24:00" is not a time (HH:MM)'],
    ['08:60,512K', '"08:60" is not a time (HH:MM)'],
    ['Mox-08:00,512K', '"Mox" is not a weekday'],
    ['08:00,512X 19:00,off', '"512X" is not a rate'],
    ['08:00 19:00,off', '"08:00" is not a timetable entry'],
    ['08:00,1M,2M', '"08:00,1M,2M" is not a timetable entry'],
    ['08:00,1M 08:00,2M', '"08:00" appears twice'],
    ['fast', '"fast" is not a rate'],
    ['', 'is empty'],
  ])('refuses %j naming the bad token', (text, why) => {
    const parsed = parseBwLimit(text);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error).toBe(`bwlimit: "${text.trim()}" — ${parsed.error.split(' — ')[1]}`);
    expect(parsed.error).toContain(why);
    expect(parsed.error).not.toContain('\n');
    expect(parsed.reason).toBe(parsed.error.slice('bwlimit: '.length));
  });

  it('gives the exact message of the brief', () => {
    expect(parseBwLimit('8:0x,512K')).toMatchObject({
      ok: false,
      error: 'bwlimit: "8:0x,512K" — "8:0x" is not a time (HH:MM)',
    });
    expect(() => requireBwLimit('8:0x,512K')).toThrow('bwlimit: "8:0x,512K" — "8:0x" is not a time (HH:MM)');
  });
});

describe('activeLimit: the latest entry at or before the moment, wrapping around', () => {
  const daily = requireBwLimit('08:00,512K 19:00,4M 23:00,off');

  it.each([
    [0, 0, 0, null], // before 08:00: yesterday's 23:00 entry (wrap around the day)
    [3, 7, 0, null],
    [3, 7, 59, null],
    [3, 8, 0, 512 * K],
    [3, 12, 0, 512 * K],
    [3, 18, 59, 512 * K],
    [3, 19, 0, 4 * M],
    [3, 22, 59, 4 * M],
    [3, 23, 0, null],
    [6, 23, 59, null],
  ])('daily timetable on day %i at %i:%i', (day, hh, mm, rate) => {
    expect(activeLimit(daily, at(day, hh, mm))).toBe(rate);
  });

  const weekly = requireBwLimit('Mon-08:00,512K Fri-18:00,4M Sat-10:00,off');

  it.each([
    [1, 7, 59, null], // Monday before the week's first entry: Saturday's "off" still applies
    [1, 8, 0, 512 * K],
    [3, 3, 0, 512 * K], // Wednesday: Monday's entry goes on
    [5, 17, 59, 512 * K],
    [5, 18, 0, 4 * M],
    [6, 9, 59, 4 * M],
    [6, 10, 0, null],
    [0, 12, 0, null], // Sunday: wraps from the end of the week
  ])('weekly timetable on day %i at %i:%i', (day, hh, mm, rate) => {
    expect(activeLimit(weekly, at(day, hh, mm))).toBe(rate);
  });

  it('mixes daily and weekday entries; a weekday entry beats a daily one at the same minute', () => {
    const mixed = requireBwLimit('Sat-08:00,off 08:00,1M 20:00,2M');
    expect(activeLimit(mixed, at(6, 9))).toBe(null);
    expect(activeLimit(mixed, at(5, 9))).toBe(M);
    expect(activeLimit(mixed, at(6, 21))).toBe(2 * M);
    expect(activeLimit(mixed, at(0, 7))).toBe(2 * M);
  });

  it('with one weekday entry, applies it all week', () => {
    expect(activeLimit(requireBwLimit('Wed-10:00,1M'), at(1, 0))).toBe(M);
  });
});

describe('nextChange', () => {
  it('is the next boundary with another rate, wrapping into the next day and week', () => {
    const daily = requireBwLimit('08:00,512K 19:00,4M 23:00,off');
    expect(nextChange(daily, at(3, 12, 30))).toEqual(at(3, 19));
    expect(nextChange(daily, at(3, 23, 30))).toEqual(at(4, 8));
    expect(nextChange(daily, at(3, 8))).toEqual(at(3, 19));
    const weekly = requireBwLimit('Mon-08:00,512K Sat-10:00,off');
    expect(nextChange(weekly, at(6, 11))).toEqual(at(8, 8)); // next Monday
    expect(nextChange(weekly, at(1, 9))).toEqual(at(6, 10));
  });

  it('skips entries that keep the same rate, and is null when the rate never changes', () => {
    expect(nextChange(requireBwLimit('08:00,1M 12:00,1M 20:00,off'), at(3, 9))).toEqual(at(3, 20));
    expect(nextChange(requireBwLimit('08:00,1M 20:00,1M'), at(3, 9))).toBeNull();
    expect(nextChange(requireBwLimit('off'), at(3, 9))).toBeNull();
  });
});

describe('formatRate', () => {
  it.each([
    [null, 'off'],
    [512 * K, '512K'],
    [2 * M, '2M'],
    [256_000, '250K'],
    [1500, '1500B'],
  ])('%s → %s', (bytes, text) => {
    expect(formatRate(bytes)).toBe(text);
    expect(parseRate(text)).toBe(bytes);
  });
});
