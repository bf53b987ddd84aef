/**
 * Ferry's trash: where a watched folder's "delete" puts a file once it is uploaded, because deleting
 * is final and an upload can turn out to be wrong later (the wrong account, a provider that lost it).
 * The trash is the folder `trash/` of the data folder, one subfolder per entry (`trash/<id>/<name>`),
 * recorded in `sync_trash`. Entries are kept `syncTrashDays` days (a setting, default 30) and then
 * purged. A restore puts the file back where it was, and never over a file that is there now.
 *
 * Used by the SyncService (trash, purge) and by the `ferry sync trash` command and the API (list,
 * restore), which may run while another process watches the folders: every step is a file system
 * operation that fails rather than overwrites, plus one row.
 */
import { rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Db } from '../db/database.ts';
import { SyncRepository, type TrashEntry } from '../db/syncRepository.ts';
import { FerryError } from '../core/errors.ts';
import { TargetExistsError, identityOf, placeFile, type FileIdentity } from './placeFile.ts';
import { createSyncFilter } from './syncFilter.ts';
import { readSyncSetting } from './syncSettings.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface TrashView extends TrashEntry {
  /** When it will be purged (trashedAt + the trash setting's days). */
  expiresAt: number;
  /** Whether its file is still in the trash folder. */
  present: boolean;
}

/** The trash folder of the data folder that holds `db`; null for an in-memory database. */
export function trashDir(db: Db): string | null {
  const location = db.location();
  return location === null ? null : join(dirname(location), 'trash');
}

export function trashDays(db: Db): number {
  return readSyncSetting(db, 'syncTrashDays');
}

/**
 * Moves `path` into the trash (never overwriting; across file systems by a checked copy) and records
 * it. `expect` and `sha256` are what the caller checked right before: the file is left where it is if
 * it changed since. Throws when the file could not be moved; nothing is recorded then.
 */
export async function moveToTrash(
  db: Db,
  file: { ruleId: number; accountId: number; path: string; jobId: number | null },
  expect: FileIdentity,
  sha256: string,
  now = Date.now(),
): Promise<TrashEntry> {
  const root = trashDir(db);
  if (root === null)
    throw new Error('Ferry has no data folder to keep a trash in (in-memory database); the file is kept');
  const repo = new SyncRepository(db);
  // The row first, for its id (the entry's folder); a crash before the move leaves a row whose file
  // is missing (listed as such), never a file in the trash that nothing lists.
  const entry = repo.insertTrash({
    ruleId: file.ruleId,
    accountId: file.accountId,
    originalPath: file.path,
    trashPath: join(root, '0', basename(file.path)),
    size: expect.size,
    mtimeMs: expect.mtimeMs,
    sha256,
    jobId: file.jobId,
    trashedAt: now,
  });
  const wanted = join(root, String(entry.id), basename(file.path));
  repo.setTrashPath(entry.id, wanted);
  try {
    const placed = await placeFile(file.path, wanted, { expect, sha256 });
    if (placed !== wanted) repo.setTrashPath(entry.id, placed);
    return repo.trashEntry(entry.id)!;
  } catch (error) {
    repo.removeTrash(entry.id);
    await rm(join(root, String(entry.id)), { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
}

/** Entries in the trash, newest first, with when each expires and whether its file is there. */
export async function listTrash(db: Db): Promise<TrashView[]> {
  const days = trashDays(db);
  const entries = new SyncRepository(db).trashEntries();
  return Promise.all(
    entries.map(async (entry) => ({
      ...entry,
      expiresAt: entry.trashedAt + days * DAY_MS,
      present: (await identityOf(entry.trashPath)) !== null,
    })),
  );
}

/**
 * Puts an entry's file back at its original path. Refuses (conflict) when something is there now:
 * a restore never replaces a file. The sync index then counts the path as uploaded and leaves it
 * alone until it changes (it is not deleted a second time).
 */
export async function restoreFromTrash(db: Db, id: number, now = Date.now()): Promise<TrashEntry> {
  const repo = new SyncRepository(db);
  const entry = Number.isInteger(id) ? repo.trashEntry(id) : undefined;
  if (!entry) throw new FerryError('not-found', `No trash entry #${id} (the list of the trash shows them)`);
  if (entry.restoredAt !== null)
    throw new FerryError('conflict', `Trash entry #${id} (${entry.originalPath}) was already restored`);
  if (entry.purgedAt !== null)
    throw new FerryError(
      'conflict',
      `Trash entry #${id} (${entry.originalPath}) was purged after its days in the trash; it cannot be restored`,
    );
  const identity = await identityOf(entry.trashPath);
  if (identity === null) {
    throw new FerryError(
      'conflict',
      `Cannot restore ${entry.originalPath} (trash entry #${id}): its copy ${entry.trashPath} is missing from Ferry's trash folder`,
    );
  }
  const existing = await stat(entry.originalPath).catch(() => null);
  if (existing) {
    throw new FerryError(
      'conflict',
      `Cannot restore trash entry #${id}: ${entry.originalPath} exists again and Ferry never restores over a file; move or rename it, then restore again`,
    );
  }
  try {
    await placeFile(entry.trashPath, entry.originalPath, { expect: identity, sha256: entry.sha256, otherNames: false });
  } catch (error) {
    if (error instanceof TargetExistsError) {
      throw new FerryError(
        'conflict',
        `Cannot restore trash entry #${id}: ${entry.originalPath} exists again and Ferry never restores over a file; move or rename it, then restore again`,
      );
    }
    throw new FerryError(
      'conflict',
      `Restoring ${entry.originalPath} from trash entry #${id} failed (${(error as Error).message}); the file is still in the trash`,
    );
  }
  repo.markTrashRestored(id, now);
  // Every rule of the account that sees the path (the entry's own, or one added again since) counts the
  // file as uploaded and restored, so that it is not deleted a second time.
  for (const rule of repo.rules()) {
    if (rule.accountId !== entry.accountId || !createSyncFilter(rule).accepts(entry.originalPath)) continue;
    if (!repo.file(rule.id, entry.originalPath)) {
      repo.upsertFile(rule.id, rule.accountId, entry.originalPath, {
        size: identity.size,
        mtimeMs: identity.mtimeMs,
        sha256: entry.sha256,
        jobId: entry.jobId,
        state: 'uploaded',
        uploadedAt: entry.trashedAt,
      });
    }
    repo.markRestored(rule.id, entry.originalPath, identity.size, identity.mtimeMs, now);
  }
  // The entry's folder is empty now.
  await rmdir(dirname(entry.trashPath)).catch(() => undefined);
  return repo.trashEntry(id)!;
}

/** Removes the entries older than the trash setting's days; returns how many. */
export async function purgeTrash(db: Db, now = Date.now()): Promise<number> {
  const repo = new SyncRepository(db);
  const limit = now - trashDays(db) * DAY_MS;
  let purged = 0;
  const root = trashDir(db);
  for (const entry of repo.trashEntries()) {
    if (entry.trashedAt > limit) continue;
    // Only ever an entry folder of this data folder's trash.
    const folder = dirname(entry.trashPath);
    if (root !== null && dirname(folder) === root) await rm(folder, { recursive: true, force: true });
    repo.markTrashPurged(entry.id, now);
    purged += 1;
  }
  return purged;
}
