/**
 * A value read from the database for every request (the proxy settings) without reading it every
 * time: re-read as soon as this connection has written to one of the tables it comes from, and at
 * least every `maxAgeMs` for a change made by another process. Reading and validating the settings
 * rows cost ~0.2 ms per request, several per cent of a 204,800-byte part.
 *
 * How a write of this connection is seen: a TEMP trigger on each table (temporary triggers belong to
 * the connection that made them and fire only for its own writes) calls a function that bumps a
 * counter kept here, so checking costs one comparison. Without named tables, any change of the
 * connection counts (SQLite's total_changes(), ~1 µs): that also re-read after every unrelated write,
 * e.g. each batch of acknowledged parts. SQLite's own `data_version` check (which would catch other
 * processes at once) costs ~15 µs per call on a WAL database.
 */
import { prepared, type Db } from './database.ts';

export interface RecentReadOptions {
  /** The tables the value is read from: only a write of this connection to one of them re-reads at once. */
  tables?: readonly string[];
  /** A change made by another process is seen after at most this long. */
  maxAgeMs?: number;
}

const TABLE_NAME = /^[a-z_][a-z0-9_]*$/;
const BUMP_FUNCTION = 'ferry_recent_read_changed';

/** Per connection: how many writes each watched table has had through it (bumped by the triggers). */
const writeCounts = new WeakMap<Db, Map<string, number>>();

function watchTable(db: Db, table: string): Map<string, number> {
  if (!TABLE_NAME.test(table)) throw new Error(`recentRead: "${table}" is not a plain table name`);
  let counts = writeCounts.get(db);
  if (!counts) {
    const created = new Map<string, number>();
    counts = created;
    db.function(BUMP_FUNCTION, { deterministic: false, directOnly: false }, (name) => {
      const key = String(name);
      created.set(key, (created.get(key) ?? 0) + 1);
      return null;
    });
    writeCounts.set(db, counts);
  }
  if (!counts.has(table)) {
    for (const event of ['INSERT', 'UPDATE', 'DELETE']) {
      db.exec(
        `CREATE TEMP TRIGGER IF NOT EXISTS ferry_recent_${table}_${event.toLowerCase()} AFTER ${event} ON main.${table} ` +
          `BEGIN SELECT ${BUMP_FUNCTION}('${table}'); END`,
      );
    }
    counts.set(table, 0);
  }
  return counts;
}

export function recentRead<T>(db: Db, read: () => T, options: RecentReadOptions | number = {}): () => T {
  const { tables, maxAgeMs = 1_000 } = typeof options === 'number' ? { maxAgeMs: options } : options;
  let writes: () => number;
  if (tables && tables.length > 0) {
    let counts: Map<string, number> | undefined;
    for (const table of tables) counts = watchTable(db, table);
    const watched = counts!;
    writes = () => {
      let total = 0;
      for (const table of tables) total += watched.get(table) ?? 0;
      return total;
    };
  } else {
    writes = () => (prepared(db, 'SELECT total_changes() AS c').get() as { c: number }).c;
  }
  let cached: { value: T; writes: number; at: number } | null = null;
  return () => {
    const now = Date.now();
    const seen = writes();
    if (cached === null || cached.writes !== seen || now - cached.at >= maxAgeMs) {
      cached = { value: read(), writes: seen, at: now };
    }
    return cached.value;
  };
}
