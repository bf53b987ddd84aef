/**
 * History export. CSV follows RFC 4180: fields with a comma, quote, CR or LF are quoted, quotes are
 * doubled, records end with CRLF, text is UTF-8 (non-Latin names pass through unchanged). Text cells
 * that a spreadsheet would run as a formula (starting with = + - @, tab or CR) get a leading
 * apostrophe, the usual guard against CSV injection through a crafted file name.
 */
import type { JobView } from './contract.ts';

export const HISTORY_COLUMNS = [
  'name',
  'account',
  'provider',
  'status',
  'remoteId',
  'url',
  'size',
  'finishedAt',
  'error',
] as const;

export interface HistoryRecord {
  name: string;
  account: string;
  provider: string;
  status: string;
  remoteId: string | null;
  url: string | null;
  size: number | null;
  /** ISO 8601, UTC. */
  finishedAt: string | null;
  error: string | null;
}

export function historyRecord(job: JobView): HistoryRecord {
  return {
    name: job.name,
    account: job.accountName ?? '',
    provider: job.provider ?? '',
    status: job.state,
    remoteId: job.result?.remoteId ?? null,
    url: job.result?.url ?? null,
    size: job.size,
    finishedAt: job.finishedAt === null ? null : new Date(job.finishedAt).toISOString(),
    error: job.error?.message ?? null,
  };
}

export function csvField(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const guarded = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replaceAll('"', '""')}"` : guarded;
}

export function toCsv(jobs: readonly JobView[]): string {
  const lines = [HISTORY_COLUMNS.join(',')];
  for (const job of jobs) {
    const record = historyRecord(job);
    lines.push(HISTORY_COLUMNS.map((column) => csvField(record[column])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** JSON export: the same records, plus the provider's details of each result. */
export function toJson(jobs: readonly JobView[]): string {
  return `${JSON.stringify(
    jobs.map((job) => ({ ...historyRecord(job), details: job.result?.details ?? null })),
    null,
    2,
  )}\n`;
}
