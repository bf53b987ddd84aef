/**
 * A value read from the database for every request (the proxy settings) without reading it every
 * time: re-read as soon as this connection has changed anything (SQLite's total_changes(), ~1 µs),
 * and at least every `maxAgeMs` for a change made by another process. Reading and validating the
 * settings rows cost ~0.2 ms per request, several per cent of a 204,800-byte part; SQLite's own
 * `data_version` check (which would catch other processes at once) costs ~15 µs per call on a WAL
 * database.
 */
import { prepared, type Db } from './database.ts';

export function recentRead<T>(db: Db, read: () => T, maxAgeMs = 1_000): () => T {
  let cached: { value: T; changes: number; at: number } | null = null;
  return () => {
    const changes = (prepared(db, 'SELECT total_changes() AS c').get() as { c: number }).c;
    const now = Date.now();
    if (cached === null || cached.changes !== changes || now - cached.at >= maxAgeMs) {
      cached = { value: read(), changes, at: now };
    }
    return cached.value;
  };
}
