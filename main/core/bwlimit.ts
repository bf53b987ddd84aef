/**
 * rclone's `--bwlimit` syntax, parsed without any dependency, and which limit a timetable gives at a
 * moment of local time.
 *
 * Accepted (as rclone does):
 * - `off` (or `0`): no limit.
 * - A rate in bytes per second with a binary suffix: `512K` = 512 KiB/s, `2M` = 2 MiB/s; also `B`,
 *   `G`, `T`, `P`, an optional `i` and `B` (`2Mi`, `2MiB`) and a decimal fraction (`1.5M`). Without a
 *   suffix the unit is KiB/s (`100` = 100 KiB/s), as in rclone.
 * - An upload:download pair, `1M:off`: Ferry only uploads, so the first (upload) part is used and the
 *   download part is checked but ignored.
 * - A timetable: entries `[Day-]HH:MM,RATE` separated by spaces or semicolons, e.g.
 *   `08:00,512K 19:00,4M 23:00,off` or `Mon-08:00,512K Sat-00:00,off`. An entry without a day applies
 *   every day. The active entry is the latest one at or before the moment in the week; before the
 *   week's (or day's) first entry, the last one still applies (it wraps around).
 *
 * Times are the machine's local wall-clock time (JavaScript `Date`'s local fields), so a DST change
 * moves the boundaries with the clock, as a person reading the timetable expects.
 */

export interface BwEntry {
  /** 0 = Sunday … 6 = Saturday; null = every day. */
  day: number | null;
  /** Minutes after midnight, 0…1439. */
  minute: number;
  /** Bytes per second, or null for no limit. */
  rate: number | null;
}

export interface BwSchedule {
  /** The text as given (trimmed). */
  text: string;
  /** Entries in the order given; a plain rate is one entry at 00:00 every day. */
  entries: BwEntry[];
}

/** `error` is the whole one-line message; `reason` is the same without the leading `bwlimit: `. */
export type BwParseResult = { ok: true; schedule: BwSchedule } | { ok: false; error: string; reason: string };

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const FULL_DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
/** A week in minutes: the period of a timetable. */
const WEEK = 7 * 24 * 60;

/** Parses a rate: bytes per second, or null for no limit; a string is the reason it is not a rate. */
export function parseRate(token: string): number | null | string {
  const pair = token.split(':');
  if (pair.length > 2) return `"${token}" is not a rate (e.g. 512K, 2M or off)`;
  if (pair.length === 2) {
    // upload:download, as rclone writes it; the download part must still be a rate.
    const download = parseRate(pair[1]!);
    if (typeof download === 'string') return download;
    return parseRate(pair[0]!);
  }
  if (token.toLowerCase() === 'off') return null;
  const match = /^(\d+(?:\.\d+)?)(?:([bkmgtp])(i?b?)?)?$/i.exec(token);
  if (!match) return `"${token}" is not a rate (e.g. 512K, 2M or off)`;
  const unit = UNITS[(match[2] ?? 'k').toLowerCase()]!;
  // "2B" makes sense; "2BiB" does not.
  if (match[2]?.toLowerCase() === 'b' && match[3]) return `"${token}" is not a rate (e.g. 512K, 2M or off)`;
  const bytes = Math.round(Number(match[1]) * unit);
  if (!Number.isFinite(bytes) || bytes > Number.MAX_SAFE_INTEGER) return `"${token}" is too large a rate (at most 8P)`;
  if (bytes === 0) return null;
  return bytes;
}

function parseTime(token: string): { day: number | null; minute: number } | string {
  let day: number | null = null;
  let time = token;
  const dash = token.indexOf('-');
  if (dash >= 0) {
    const name = token.slice(0, dash).toLowerCase();
    const index = DAYS.indexOf(name) >= 0 ? DAYS.indexOf(name) : FULL_DAYS.indexOf(name);
    if (index < 0) return `"${token.slice(0, dash)}" is not a weekday (Mon, Tue, Wed, Thu, Fri, Sat, Sun)`;
    day = index;
    time = token.slice(dash + 1);
  }
  const match = /^(\d{1,2}):(\d{2})$/.exec(time);
  if (!match || Number(match[1]) > 23 || Number(match[2]) > 59) return `"${time}" is not a time (HH:MM)`;
  return { day, minute: Number(match[1]) * 60 + Number(match[2]) };
}

/**
 * Parses `off`, a rate or a timetable. The error is one line that quotes the whole value and names
 * the token that is wrong, e.g. `bwlimit: "8:0x,512K" — "8:0x" is not a time (HH:MM)`.
 */
export function parseBwLimit(input: string): BwParseResult {
  const text = input.trim();
  const fail = (why: string): BwParseResult => {
    const reason = `"${text}" — ${why}`;
    return { ok: false, error: `bwlimit: ${reason}`, reason };
  };
  if (text === '') return fail('is empty; give off, a rate such as 2M or a timetable such as "08:00,512K 23:00,off"');
  const tokens = text.split(/[\s;]+/).filter((token) => token !== '');
  if (tokens.length === 1 && !tokens[0]!.includes(',')) {
    const rate = parseRate(tokens[0]!);
    if (typeof rate === 'string') return fail(rate);
    return { ok: true, schedule: { text, entries: [{ day: null, minute: 0, rate }] } };
  }
  const entries: BwEntry[] = [];
  const seen = new Set<string>();
  for (const token of tokens) {
    const parts = token.split(',');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '')
      return fail(`"${token}" is not a timetable entry ([Day-]HH:MM,RATE, e.g. Mon-08:00,512K)`);
    const time = parseTime(parts[0]!);
    if (typeof time === 'string') return fail(time);
    const rate = parseRate(parts[1]!);
    if (typeof rate === 'string') return fail(rate);
    const key = `${time.day ?? '*'}-${time.minute}`;
    if (seen.has(key)) return fail(`"${parts[0]}" appears twice in the timetable`);
    seen.add(key);
    entries.push({ ...time, rate });
  }
  return { ok: true, schedule: { text, entries } };
}

/** Parses or throws an Error with the one-line reason. */
export function requireBwLimit(input: string): BwSchedule {
  const parsed = parseBwLimit(input);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.schedule;
}

/** Each entry as the minutes-into-the-week where it starts (daily entries become seven), sorted. */
function weekly(schedule: BwSchedule): Array<{ at: number; rate: number | null; order: number }> {
  const slots: Array<{ at: number; rate: number | null; order: number }> = [];
  schedule.entries.forEach((entry, index) => {
    // Sorted after the daily ones of the same minute, a weekday entry is the one that applies there.
    const order = index + (entry.day === null ? 0 : schedule.entries.length);
    if (entry.day === null)
      for (let day = 0; day < 7; day += 1) slots.push({ at: day * 1440 + entry.minute, rate: entry.rate, order });
    else slots.push({ at: entry.day * 1440 + entry.minute, rate: entry.rate, order });
  });
  slots.sort((a, b) => a.at - b.at || a.order - b.order);
  return slots;
}

function minuteOfWeek(date: Date): number {
  return date.getDay() * 1440 + date.getHours() * 60 + date.getMinutes();
}

/** The limit in bytes per second at `date` (local time), or null when uploads are not limited. */
export function activeLimit(schedule: BwSchedule, date: Date): number | null {
  const slots = weekly(schedule);
  if (slots.length === 0) return null;
  const now = minuteOfWeek(date);
  // The latest slot at or before now; before the week's first slot, the week's last one (wrap).
  let active = slots[slots.length - 1]!;
  for (const slot of slots) {
    if (slot.at <= now) active = slot;
    else break;
  }
  return active.rate;
}

/**
 * The next moment after `date` at which the timetable switches to another limit, or null when it
 * never does (a plain rate, `off`, or every entry giving the same limit).
 */
export function nextChange(schedule: BwSchedule, date: Date): Date | null {
  const slots = weekly(schedule);
  if (slots.length === 0) return null;
  const current = activeLimit(schedule, date);
  if (slots.every((slot) => slot.rate === current)) return null;
  const now = minuteOfWeek(date);
  // Walk the slots after now, wrapping into next week, to the first one with another rate.
  for (let step = 0; step < 2 * slots.length; step += 1) {
    const week = Math.floor(step / slots.length);
    const slot = slots[step % slots.length]!;
    const at = slot.at + week * WEEK;
    if (at <= now) continue;
    if (slot.rate === current) continue;
    // Local wall-clock arithmetic: set the fields, so that DST shifts are taken care of by Date.
    const next = new Date(date.getTime());
    next.setSeconds(0, 0);
    next.setMinutes(next.getMinutes() + (at - now));
    return next;
  }
  return null;
}

/** A rate in rclone's notation (`512K`, `2M`, `1536B`), the shortest exact one. */
export function formatRate(bytesPerSecond: number | null): string {
  if (bytesPerSecond === null) return 'off';
  for (const [suffix, unit] of [
    ['G', 1024 ** 3],
    ['M', 1024 ** 2],
    ['K', 1024],
  ] as const) {
    if (bytesPerSecond % unit === 0) return `${bytesPerSecond / unit}${suffix}`;
  }
  return `${bytesPerSecond}B`;
}
