/**
 * Number, size, time and duration formatting for rows and headers, through `Intl` in the window's
 * language (see i18n.ts). Formatters are cached per locale and shape: rows call these many times a
 * second, and building an Intl formatter is far dearer than using one.
 */
import { locale } from '../i18n.ts';

const UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'] as const;

const cache = new Map<string, Intl.NumberFormat>();

function numberFormat(key: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const lang = locale();
  const id = `${lang}|${key}`;
  let format = cache.get(id);
  if (!format) cache.set(id, (format = new Intl.NumberFormat(lang, options)));
  return format;
}

/**
 * Counts and sizes in the window's two languages without Intl. The first `Intl.NumberFormat` a page
 * builds loads ICU's number data (~50 ms in Chromium, measured on the queue's first rows), and a
 * start-up shows only counts and byte sizes: plain digit grouping and one decimal, the same in both
 * languages but for the separators. The unit test checks these against Intl for both languages.
 */
const SEPARATORS: Record<string, { group: string; decimal: string }> = {
  en: { group: ',', decimal: '.' },
  de: { group: '.', decimal: ',' },
};

/**
 * Intl's "short" display of these units after the number, space included: German puts a no-break
 * space before GB (CLDR's data), every other one a plain space.
 */
const SPACE_UNITS: Record<string, string> = {
  kilobyte: ' kB',
  megabyte: ' MB',
  gigabyte: ' GB',
  terabyte: ' TB',
  'kilobyte-per-second': ' kB/s',
  'megabyte-per-second': ' MB/s',
  'gigabyte-per-second': ' GB/s',
  'terabyte-per-second': ' TB/s',
};
const SYMBOLS: Record<string, Record<string, string>> = {
  en: SPACE_UNITS,
  de: { ...SPACE_UNITS, gigabyte: '\u00a0GB', 'gigabyte-per-second': '\u00a0GB/s' },
};

/**
 * `value` with exactly `digits` decimals, rounded half away from zero on its shortest decimal form
 * as Intl does, grouped by thousands; null where a case is not covered here (Intl then formats it).
 */
export function plainNumber(value: number, digits: number, lang: string): string | null {
  const separators = SEPARATORS[lang];
  if (!separators || !Number.isFinite(value) || value < 0 || value >= 1e15) return null;
  const text = String(value);
  if (text.includes('e')) return null;
  const point = text.indexOf('.');
  const whole = point === -1 ? text : text.slice(0, point);
  const fraction = point === -1 ? '' : text.slice(point + 1);
  let digitsText = whole + fraction.slice(0, digits).padEnd(digits, '0');
  if (fraction.length > digits && fraction.charCodeAt(digits) >= 53 /* '5' */) digitsText = plusOne(digitsText);
  const intPart = digitsText.slice(0, digitsText.length - digits) || '0';
  let grouped = '';
  for (let end = intPart.length; end > 0; end -= 3) {
    const start = Math.max(0, end - 3);
    grouped =
      start > 0 ? `${separators.group}${intPart.slice(start, end)}${grouped}` : intPart.slice(start, end) + grouped;
  }
  return digits > 0 ? `${grouped}${separators.decimal}${digitsText.slice(-digits)}` : grouped;
}

/** A string of decimal digits plus one ("199" → "200", "99" → "100"). */
function plusOne(digits: string): string {
  let i = digits.length - 1;
  while (i >= 0 && digits[i] === '9') i -= 1;
  const carried = '0'.repeat(digits.length - 1 - i);
  if (i < 0) return `1${carried}`;
  return `${digits.slice(0, i)}${String.fromCharCode(digits.charCodeAt(i) + 1)}${carried}`;
}

function unit(value: number, name: string, digits: number, display: 'short' | 'narrow' = 'short', pad = 1): string {
  const lang = locale();
  const symbol = display === 'short' && pad === 1 ? SYMBOLS[lang]?.[name] : undefined;
  if (symbol !== undefined) {
    const plain = plainNumber(value, digits, lang);
    if (plain !== null) return plain + symbol;
  }
  return numberFormat(`${name}|${digits}|${display}|${pad}`, {
    style: 'unit',
    unit: name,
    unitDisplay: display,
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
    minimumIntegerDigits: pad,
  }).format(value);
}

/** Bytes in decimal units, as file managers and providers state limits: 1234567 → "1.2 MB" / "1,2 MB". */
function scaled(bytes: number, suffix: string): string {
  // Intl's short "byte" is a word in English ("999 byte"); B is the symbol in both languages.
  if (bytes < 1000) return `${formatCount(Math.round(bytes))} B${suffix ? '/s' : ''}`;
  let value = bytes;
  let index = 0;
  while (value >= 1000 && index < UNITS.length - 1) {
    value /= 1000;
    index += 1;
  }
  return unit(value, `${UNITS[index]}${suffix}`, value >= 100 ? 0 : 1);
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  return scaled(bytes, '');
}

export function formatSpeed(bytesPerSecond: number | null | undefined): string {
  if (!bytesPerSecond || bytesPerSecond <= 0) return '—';
  return scaled(bytesPerSecond, '-per-second');
}

/**
 * Seconds → "45s", "3m 05s", "2h 10m". German's narrow units are long ("3 Min. 05 Sek.") and would
 * overflow the ETA column, so it uses the clock notation German UIs use: "45 s", "3:05 min", "2:10 h".
 */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  if (locale() === 'de') return clockDuration(seconds);
  if (seconds < 1) return `<${unit(1, 'second', 0, 'narrow')}`;
  const s = Math.round(seconds);
  if (s < 60) return unit(s, 'second', 0, 'narrow');
  const m = Math.floor(s / 60);
  if (m < 60) return `${unit(m, 'minute', 0, 'narrow')} ${unit(s % 60, 'second', 0, 'narrow', 2)}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${unit(h, 'hour', 0, 'narrow')} ${unit(m % 60, 'minute', 0, 'narrow', 2)}`;
  return `${unit(Math.floor(h / 24), 'day', 0, 'narrow')} ${unit(h % 24, 'hour', 0, 'narrow')}`;
}

function clockDuration(seconds: number): string {
  const count = numberFormat('count', {});
  const two = numberFormat('two', { minimumIntegerDigits: 2 });
  if (seconds < 1) return '<1 s';
  const s = Math.round(seconds);
  if (s < 60) return `${count.format(s)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${count.format(m)}:${two.format(s % 60)} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${count.format(h)}:${two.format(m % 60)} h`;
  return `${unit(Math.floor(h / 24), 'day', 0, 'narrow')} ${count.format(h % 24)} h`;
}

export function etaSeconds(remainingBytes: number, bytesPerSecond: number): number | null {
  if (bytesPerSecond <= 0 || remainingBytes <= 0) return null;
  return remainingBytes / bytesPerSecond;
}

const dateCache = new Map<string, Intl.DateTimeFormat>();

function dateFormat(key: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const lang = locale();
  const id = `${lang}|${key}`;
  let format = dateCache.get(id);
  if (!format) dateCache.set(id, (format = new Intl.DateTimeFormat(lang, options)));
  return format;
}

/** A moment: its time today, else its day and time. */
export function formatTime(ms: number | null | undefined): string {
  if (!ms) return '—';
  const date = new Date(ms);
  const sameDay = date.toDateString() === new Date().toDateString();
  if (sameDay) return dateFormat('time', { hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(date);
  return dateFormat('dayTime', {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).format(date);
}

/** A day: "Dec 4, 2026" / "04.12.2026". */
export function formatDate(ms: number): string {
  return dateFormat('date', { dateStyle: 'medium' }).format(new Date(ms));
}

/** How far a moment is from now in words: "in 3 days", "5 minutes ago" / "in 3 Tagen", "vor 5 Minuten". */
export function formatRelative(ms: number, now = Date.now()): string {
  const seconds = Math.round((ms - now) / 1000);
  const abs = Math.abs(seconds);
  const [value, step]: [number, Intl.RelativeTimeFormatUnit] =
    abs < 60
      ? [seconds, 'second']
      : abs < 3600
        ? [Math.round(seconds / 60), 'minute']
        : abs < 86_400
          ? [Math.round(seconds / 3600), 'hour']
          : [Math.round(seconds / 86_400), 'day'];
  return new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' }).format(value, step);
}

export function formatCount(n: number): string {
  return (Number.isInteger(n) ? plainNumber(n, 0, locale()) : null) ?? numberFormat('count', {}).format(n);
}
