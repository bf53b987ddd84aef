/**
 * A queue on a real database in a test's data folder, the way the composition roots build one: the
 * test opens the database, hands it to the Queue (and to whatever else works on it: the API, the
 * engine, the watched folders) and closes it itself. The Queue keeps its own handle private.
 */
import { openDatabase, type Db } from '../../main/db/database.ts';
import { Queue, type QueueOptions } from '../../main/engine/queue.ts';
import { getAdapter } from '../../main/providers/registry.ts';
import { FileSecretStore } from '../../main/secrets/fileSecretStore.ts';

export interface TestQueue {
  /** The database the queue is on (`ferry.db` in the data folder). */
  readonly db: Db;
  readonly queue: Queue;
  /** Closes the database. */
  close(): void;
}

/** Opens `ferry.db` in `dataDir` (made if missing) and a Queue on it with every provider's adapter. */
export function openTestQueue(dataDir: string, adapterFor: QueueOptions['adapterFor'] = getAdapter): TestQueue {
  const db = openDatabase(dataDir);
  const queue = new Queue({ adapterFor, db, secrets: new FileSecretStore(dataDir) });
  return { db, queue, close: () => db.close() };
}
