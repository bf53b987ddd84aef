/**
 * A queue of many jobs without enqueueing files one by one: rows written straight into SQLite for a
 * paused account, so that nothing starts. The benchmarks (test/bench/suites/uiScale.ts) and the e2e
 * tests that need a large queue use it.
 */
import { openDatabase, transaction } from '../../main/db/database.ts';
import { JobsRepository, type NewJob } from '../../main/db/jobsRepository.ts';
import { Queue } from '../../main/engine/queue.ts';
import { getAdapter } from '../../main/providers/registry.ts';
import { FileSecretStore } from '../../main/secrets/fileSecretStore.ts';

/** Writes `count` queued jobs of a paused SelfCommunity account into a new data folder. */
export async function seedQueue(dataDir: string, count: number, baseUrl: string): Promise<void> {
  const db = openDatabase(dataDir);
  const queue = new Queue({ adapterFor: getAdapter, db, secrets: new FileSecretStore(dataDir) });
  try {
    const account = await queue.accounts.add({
      provider: 'selfcommunity',
      name: 'scale',
      baseUrl,
      secrets: { accessToken: 't' },
    });
    await queue.accounts.update(account.name, { paused: true });
    const now = Date.now();
    const BATCH = 5_000;
    for (let start = 0; start < count; start += BATCH) {
      const batch: NewJob[] = [];
      for (let i = start; i < Math.min(count, start + BATCH); i += 1) {
        batch.push({
          accountId: account.id,
          sourceKind: 'file',
          source: `/nonexistent/ferry-bench/photos/${Math.floor(i / 1000)}/IMG_${String(i).padStart(6, '0')}.png`,
          name: `IMG_${String(i).padStart(6, '0')}.png`,
          mime: 'image/png',
          size: 1_000_000 + (i % 4_000_000),
          mtimeMs: now,
          edgeHash: 'bench',
          options: {},
        });
      }
      transaction(db, () => new JobsRepository(db).insert(batch, now));
    }
  } finally {
    db.close();
  }
}
