/**
 * Watched folders that move or delete after upload must never lose a file (issue 14, "Nothing lost,
 * ever"). Real folders, the real chokidar watcher, a real SQLite queue and Engine, SelfCommunity
 * emulators over loopback; assertions are on what the emulators received and on the files left on
 * disk (in the folder, in the move target, in Ferry's trash).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, statSync, utimesSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile, readdir, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SettingsStore } from '../../main/api/settingsStore.ts';
import { SyncRepository } from '../../main/db/syncRepository.ts';
import { SyncService, type SyncFileEvent, type SyncServiceOptions } from '../../main/sync/syncService.ts';
import { addSyncRule, getSyncRule, type SyncRuleInput } from '../../main/sync/syncRules.ts';
import { listTrash, purgeTrash, restoreFromTrash } from '../../main/sync/syncTrash.ts';
import { startOfauthSandbox } from '../sandbox/ofauth.ts';
import { startSelfCommunitySandbox, type SelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { startTwentyThreeSandbox } from '../sandbox/twentythree.ts';
import { Fixtures, sha256, sleep, waitFor, within, type EngineHandle } from '../support/ferryHarness.ts';
import { JobsRepository } from '../../main/db/jobsRepository.ts';

const fixtures = new Fixtures();
const services: SyncService[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.allSettled(services.splice(0).map((service) => service.stop()));
  await fixtures.cleanup();
});

const QUICK: Omit<SyncServiceOptions, 'queue' | 'db'> = {
  stableChecks: 3,
  stableIntervalMs: 100,
  batchDelayMs: 50,
  rescanIntervalMs: 60_000,
  quietPeriodMs: 300,
  inUseRecheckMs: 100,
};

interface World {
  data: string;
  dir: string;
  sandbox: SelfCommunitySandbox;
  engine: EngineHandle;
  sync: SyncService;
  ruleId: number;
  events: SyncFileEvent[];
}

async function world(
  rule: Partial<SyncRuleInput>,
  options: Omit<SyncServiceOptions, 'queue' | 'db'> = QUICK,
  start: { engine?: boolean; data?: string } = {},
): Promise<World> {
  const data = start.data ?? (await fixtures.tempDir('ferry-safety-data-'));
  const watched = await fixtures.tempDir('ferry-safety-watched-');
  const sandbox = fixtures.track(await startSelfCommunitySandbox());
  const engine = fixtures.openEngine(data, { maxJobsInFlight: 4 });
  await engine.queue.accounts.add({
    provider: 'selfcommunity',
    name: 'community',
    baseUrl: sandbox.url,
    secrets: { accessToken: sandbox.token },
  });
  const added = await addSyncRule(engine, { account: 'community', dir: watched, ...rule });
  const sync = new SyncService({ queue: engine.queue, db: engine.db, ...options });
  services.push(sync);
  const events: SyncFileEvent[] = [];
  sync.on('file', (event) => void events.push(event));
  sync.on('error', (error) => console.warn(`sync: ${error.message}`));
  if (start.engine ?? true) engine.engine.start();
  await sync.start();
  return { data, dir: added.dir, sandbox, engine, sync, ruleId: added.id, events };
}

async function settle(w: World, ms = 20_000): Promise<void> {
  await within('the sync service to settle', ms, w.sync.whenSettled());
  await within('the engine to become idle', ms, w.engine.engine.whenIdle());
  await within('the sync service to settle after the uploads', ms, w.sync.whenSettled());
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null)) !== null;
}

function hashes(sandbox: SelfCommunitySandbox): string[] {
  return sandbox.media.map((media) => media.sha256).sort();
}

describe('watched folders never lose a file when they move or delete it', () => {
  it('waits for a quiet period before deleting, so a writer that paused longer than the stability check is not cut off', async () => {
    // Stable after ~200 ms without a write; the writer pauses 1.2 s in the middle (a slow card reader).
    const w = await world({ afterUpload: 'delete' }, { ...QUICK, quietPeriodMs: 2_500 });
    const path = join(w.dir, 'card.png');
    const head = randomBytes(150_000);
    const tail = [randomBytes(100_000), randomBytes(100_000)];
    await writeFile(path, head);
    // The partial file looks finished and is uploaded during the pause; that is allowed.
    await waitFor('the partial file to be uploaded', () => w.sandbox.media.length >= 1, 10_000, 20);
    await sleep(400);
    expect(await exists(path), 'the file is still there while its writer pauses').toBe(true);
    for (const piece of tail) {
      await appendFile(path, piece);
      await sleep(150);
    }
    const whole = sha256(Buffer.concat([head, ...tail]));

    await waitFor(
      'the complete file to reach the trash',
      async () => (await listTrash(w.engine.db)).some((entry) => entry.sha256 === whole),
      20_000,
      50,
    );
    await settle(w);

    expect(hashes(w.sandbox)).toContain(whole);
    expect(await exists(path)).toBe(false);
    const [entry] = (await listTrash(w.engine.db)).filter((e) => e.sha256 === whole);
    expect(sha256(await readFile(entry!.trashPath))).toBe(whole);
    // Only the complete file was deleted: the partial one was never acted on.
    expect(w.events.filter((event) => event.state === 'deleted')).toHaveLength(1);
  }, 40_000);

  it('keeps a file that another process still has open, and deletes it once that process closed it', async () => {
    const w = await world({ afterUpload: 'delete' });
    const path = join(w.dir, 'held.png');
    const bytes = randomBytes(5_000);
    await writeFile(path, bytes);
    // A program that holds the file open without writing (a viewer, a copy tool between two writes).
    const holder = spawn(
      process.execPath,
      ['-e', `require('fs').openSync(${JSON.stringify(path)}, 'r'); console.log('open'); setInterval(() => {}, 1000);`],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    children.push(holder);
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));

    await waitFor('the upload', () => w.sandbox.media.length >= 1, 10_000, 20);
    await waitFor(
      'the file to be kept because it is open',
      () =>
        w.events.some(
          (event) => event.state === 'kept' && event.path === path && event.reason?.includes(`process ${holder.pid}`),
        ),
      10_000,
      20,
    );
    await sleep(500);
    expect(await exists(path), 'kept while another process has it open').toBe(true);
    expect(new SyncRepository(w.engine.db).file(w.ruleId, path)!.reason).toMatch(
      /another program \(process \d+\) still has it open/,
    );

    holder.kill('SIGKILL');
    await waitFor('the file to be deleted once closed', async () => !(await exists(path)), 10_000, 50);
    const [entry] = await listTrash(w.engine.db);
    expect(sha256(await readFile(entry!.trashPath))).toBe(sha256(bytes));
  }, 30_000);

  it('moves or deletes only content a completed job really sent, not what was hashed before the file changed', async () => {
    // The engine starts only after the file was hashed and queued, so that the change lands in between.
    const w = await world({ afterUpload: 'delete' }, QUICK, { engine: false });
    const path = join(w.dir, 'photo.png');
    const hashed = randomBytes(20_000);
    await writeFile(path, hashed);
    await waitFor('the file to be queued', () => w.events.some((event) => event.state === 'queued'), 10_000, 20);
    // Rewritten in place with the same size and its old mtime put back (as `cp -p` or a camera
    // importer does): size and mtime cannot tell, so the job will send these bytes.
    const before = await stat(path);
    const sent = randomBytes(20_000);
    await writeFile(path, sent);
    // (Half a millisecond in, so that the time reads back as the same whole millisecond.)
    await utimes(path, before.atime, (Math.trunc(before.mtimeMs) + 0.5) / 1000);
    expect(Math.trunc((await stat(path)).mtimeMs)).toBe(Math.trunc(before.mtimeMs));
    w.engine.engine.start();

    await waitFor(
      'the changed file to be uploaded and deleted',
      async () => w.sandbox.media.length >= 1 && !(await exists(path)),
      20_000,
      50,
    );
    await settle(w);
    expect(hashes(w.sandbox)).toEqual([sha256(sent)]);
    const job = w.engine.queue.jobs.list()[0]!;
    expect(w.engine.queue.jobs.sentSha256(job.id)).toBe(sha256(sent));

    // A copy with the content that was hashed but never sent is not a duplicate: it is uploaded,
    // and only then deleted.
    const copy = join(w.dir, 'copy.png');
    await writeFile(copy, hashed);
    await waitFor('the copy to be deleted', async () => !(await exists(copy)), 20_000, 50);
    await settle(w);
    expect(hashes(w.sandbox)).toEqual([sha256(hashed), sha256(sent)].sort());
    const trashed = (await listTrash(w.engine.db)).map((entry) => entry.sha256).sort();
    expect(trashed).toEqual([sha256(hashed), sha256(sent)].sort());
  }, 40_000);

  it('keeps a file whose content no completed job sent, and says why', async () => {
    const w = await world({ afterUpload: 'move' });
    const path = join(w.dir, 'unconfirmed.png');
    const bytes = randomBytes(3_000);
    // What a job whose parts could not be confirmed (or one from an older Ferry) leaves: no sent hash.
    w.engine.queue.on('job', (changed) => {
      if (changed.state === 'completed' && changed.source === path)
        new JobsRepository(w.engine.db).setSentSha256(changed.id, null);
    });
    await writeFile(path, bytes);
    await waitFor('the upload', () => w.sandbox.media.length >= 1, 10_000, 20);
    await settle(w);
    await sleep(400);
    expect(sha256(await readFile(path))).toBe(sha256(bytes));
    expect(await exists(join(w.dir, 'uploaded', 'unconfirmed.png'))).toBe(false);
    expect(new SyncRepository(w.engine.db).file(w.ruleId, path)!.reason).toMatch(
      /no completed upload to "community" sent exactly this content/,
    );
    // `ferry sync list` and the Sync view show it with the rule's problems.
    expect(getSyncRule(w.engine, w.ruleId).problems).toEqual([
      {
        path,
        state: 'kept',
        reason: expect.stringMatching(/^Kept: no completed upload to "community" sent exactly this content/),
      },
    ]);
  }, 30_000);

  it('never deletes a file while an unfinished job of another account still reads it', async () => {
    const w = await world({ afterUpload: 'delete' });
    const other = fixtures.track(await startSelfCommunitySandbox());
    await w.engine.queue.accounts.add({
      provider: 'selfcommunity',
      name: 'other',
      baseUrl: other.url,
      secrets: { accessToken: other.token },
    });
    const bytes = randomBytes(8_000);
    // A manual upload of the very file the watched folder will get, held paused.
    const path = join(w.dir, 'shared.png');
    await writeFile(path, bytes);
    const [manual] = await w.engine.queue.enqueue('other', [path]);
    await w.engine.queue.pause(manual!.id);

    await waitFor('the watched-folder upload', () => w.sandbox.media.length >= 1, 10_000, 20);
    await waitFor(
      'the file to be kept for the paused job',
      () => /still reads it/.test(new SyncRepository(w.engine.db).file(w.ruleId, path)?.reason ?? ''),
      10_000,
      20,
    );
    await sleep(500);
    expect(await exists(path)).toBe(true);

    await w.engine.queue.resume(manual!.id);
    await waitFor(
      'the other account to get it and the file to go',
      async () => other.media.length >= 1 && !(await exists(path)),
      20_000,
      50,
    );
    expect(other.media[0]!.sha256).toBe(sha256(bytes));
    expect(w.engine.queue.jobs.get(manual!.id)!.state).toBe('completed');
  }, 40_000);
});

describe('a job whose parts carry two versions of the file', () => {
  it('does not take a job as sending the file when a part acknowledged earlier is no longer what is on disk (OFAuth emulator, retried part)', async () => {
    const data = await fixtures.tempDir('ferry-safety-mix-data-');
    const watched = await fixtures.tempDir('ferry-safety-mix-');
    const sandbox = fixtures.track(await startOfauthSandbox({ partSize: 262_144, rateLimit: null }));
    const engine = fixtures.openEngine(data, { maxJobsInFlight: 2 });
    await engine.queue.accounts.add({
      provider: 'ofauth',
      name: 'vault',
      baseUrl: sandbox.url,
      secrets: { apiKey: sandbox.apiKey, connectionId: sandbox.connectionId },
    });
    const rule = await addSyncRule(engine, { account: 'vault', dir: watched, afterUpload: 'delete' });
    const path = join(rule.dir, 'clip.jpg');
    const original = randomBytes(3 * 1024 * 1024);
    await writeFile(path, original);
    // When part 9 arrives, part 5 (bytes 1,048,576-1,310,720, away from the first and last MiB that
    // the resume check hashes) went out long ago: the file is edited there in place with its mtime
    // put back, and part 9 fails, so the retry resumes and sends the rest.
    const edited = Buffer.from(original);
    randomBytes(64).copy(edited, 1_100_000);
    sandbox.fault({
      method: 'PUT',
      path: /\/parts\/9$/,
      when: () => {
        const before = statSync(path);
        const handle = openSync(path, 'r+');
        writeSync(handle, edited, 1_100_000, 64, 1_100_000);
        closeSync(handle);
        utimesSync(path, before.atime, (Math.trunc(before.mtimeMs) + 0.5) / 1000);
        return true;
      },
      action: { type: 'status', status: 500, body: '{"error":"try again","type":"server"}' },
    });
    const sync = new SyncService({ queue: engine.queue, db: engine.db, ...QUICK });
    services.push(sync);
    engine.engine.start();
    await sync.start();

    // The job completes, but its part 5 is not what is on disk now: nothing confirms the edited
    // bytes were sent, so the edit is a new version with its own upload, and only then deleted.
    await waitFor(
      'the edited version to reach the trash',
      async () => (await listTrash(engine.db)).length >= 1,
      20_000,
      50,
    );
    await within('the engine to become idle', 20_000, engine.engine.whenIdle());
    await within('the sync service to settle', 20_000, sync.whenSettled());

    const [first, second] = engine.queue.jobs.list().sort((a, b) => a.id - b.id);
    expect(first!.state).toBe('completed');
    expect(engine.queue.jobs.sentSha256(first!.id), 'the mixed job confirms nothing').toBeNull();
    expect(sandbox.media[0]!.sha256, 'part 5 went before the edit').toBe(sha256(original));
    expect(engine.queue.jobs.sentSha256(second!.id)).toBe(sha256(edited));
    expect(sandbox.media.map((media) => media.sha256)).toEqual([sha256(original), sha256(edited)]);
    const trashed = await listTrash(engine.db);
    expect(trashed.map((entry) => entry.sha256)).toEqual([sha256(edited)]);
    expect(sha256(await readFile(trashed[0]!.trashPath))).toBe(sha256(edited));
  }, 40_000);
});

describe('a protocol whose finalize sends the last bytes', () => {
  it('confirms what TwentyThree received (the last chunk goes with finalize) and then deletes the file', async () => {
    const data = await fixtures.tempDir('ferry-safety-t23-data-');
    const watched = await fixtures.tempDir('ferry-safety-t23-');
    const sandbox = fixtures.track(await startTwentyThreeSandbox());
    const engine = fixtures.openEngine(data, { maxJobsInFlight: 2 });
    await engine.queue.accounts.add({
      provider: 'twentythree',
      name: 'video',
      baseUrl: sandbox.url,
      secrets: { consumerKey: 'ck', consumerSecret: 'cs', accessToken: 'at', accessTokenSecret: 'as' },
      settings: { chunkSize: String(65_536) },
    });
    const rule = await addSyncRule(engine, { account: 'video', dir: watched, afterUpload: 'delete' });
    const path = join(rule.dir, 'talk.mp4');
    const bytes = randomBytes(5 * 65_536 + 100);
    await writeFile(path, bytes);
    const sync = new SyncService({ queue: engine.queue, db: engine.db, ...QUICK });
    services.push(sync);
    engine.engine.start();
    await sync.start();

    // The trash row is written before the file moves (for its folder's id): wait for the move itself.
    await waitFor(
      'the file to reach the trash',
      async () => (await listTrash(engine.db)).some((entry) => entry.present) && !(await exists(path)),
      20_000,
      50,
    );
    expect(sandbox.photos.map((photo) => photo.sha256)).toEqual([sha256(bytes)]);
    const [job] = engine.queue.jobs.list();
    expect(engine.queue.jobs.sentSha256(job!.id)).toBe(sha256(bytes));
    // Every part but the last is recorded with the hash of what it sent; the last went with finalize.
    expect(engine.queue.jobs.sentParts(job!.id).map((part) => part.sha256)).toEqual(
      [0, 1, 2, 3].map((i) => sha256(bytes.subarray(i * 65_536, (i + 1) * 65_536))),
    );
    expect(await exists(path)).toBe(false);
  }, 30_000);
});

describe("Ferry's trash", () => {
  it('lists what "delete" put there, restores it as it was, never over a file, and purges after the set days', async () => {
    const w = await world({ afterUpload: 'delete' });
    const path = join(w.dir, 'doc.png');
    const bytes = randomBytes(4_000);
    await writeFile(path, bytes);
    const mtime = (await stat(path)).mtimeMs;
    await waitFor('the delete', async () => !(await exists(path)), 20_000, 20);
    await settle(w);

    const [entry] = await listTrash(w.engine.db);
    expect(entry).toMatchObject({ originalPath: path, size: 4_000, sha256: sha256(bytes), present: true });
    expect(entry!.trashPath.startsWith(join(w.data, 'trash'))).toBe(true);

    // A new file at that path: restoring must not replace it.
    await w.sync.stop();
    const newcomer = randomBytes(100);
    await writeFile(path, newcomer);
    await expect(restoreFromTrash(w.engine.db, entry!.id)).rejects.toThrow(
      /exists again and Ferry never restores over a file/,
    );
    expect(sha256(await readFile(path))).toBe(sha256(newcomer));
    expect(await exists(entry!.trashPath)).toBe(true);

    await unlink(path);
    await restoreFromTrash(w.engine.db, entry!.id);
    expect(sha256(await readFile(path))).toBe(sha256(bytes));
    expect(Math.trunc((await stat(path)).mtimeMs)).toBe(Math.trunc(mtime));
    expect(await listTrash(w.engine.db)).toEqual([]);
    await expect(restoreFromTrash(w.engine.db, entry!.id)).rejects.toThrow(/already restored/);

    // Watching again: the restored file counts as uploaded and is not deleted a second time.
    const again = new SyncService({ queue: w.engine.queue, db: w.engine.db, ...QUICK });
    services.push(again);
    await again.start();
    await again.rescan();
    await within('settle', 10_000, again.whenSettled());
    await sleep(600);
    expect(sha256(await readFile(path))).toBe(sha256(bytes));
    expect(w.sandbox.media).toHaveLength(1);

    // Purge: entries older than syncTrashDays go for good.
    const other = join(w.dir, 'old.png');
    await writeFile(other, randomBytes(2_000));
    await waitFor('the second delete', async () => !(await exists(other)), 20_000, 20);
    const [old] = await listTrash(w.engine.db);
    new SettingsStore(w.engine.db).set({ syncTrashDays: 2 });
    expect(await purgeTrash(w.engine.db, Date.now() + 1 * 86_400_000)).toBe(0);
    expect(await purgeTrash(w.engine.db, Date.now() + 3 * 86_400_000)).toBe(1);
    expect(await exists(old!.trashPath)).toBe(false);
    expect(await listTrash(w.engine.db)).toEqual([]);
    expect(await readdir(join(w.data, 'trash'))).toEqual([]);
  }, 40_000);

  it('copies into the trash across file systems (data folder on another device), checking the bytes', async () => {
    const shm = '/dev/shm';
    if (!(await exists(shm)) || (await stat(shm)).dev === (await stat(await fixtures.tempDir())).dev) return;
    const data = join(shm, `ferry-safety-${process.pid}-${Date.now()}`);
    await mkdir(data);
    const w = await world({ afterUpload: 'delete' }, QUICK, { data });
    try {
      const path = join(w.dir, 'far.png');
      const bytes = randomBytes(300_000);
      await writeFile(path, bytes);
      const mtime = Math.trunc((await stat(path)).mtimeMs);
      await waitFor('the delete', async () => !(await exists(path)), 20_000, 20);
      const [entry] = await listTrash(w.engine.db);
      expect(sha256(await readFile(entry!.trashPath))).toBe(sha256(bytes));
      expect(Math.trunc((await stat(entry!.trashPath)).mtimeMs)).toBe(mtime);
    } finally {
      await w.sync.stop();
      await w.engine.close();
      await rm(data, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('overlapping watched folders', () => {
  async function twoAccounts(): Promise<{ engine: EngineHandle; root: string }> {
    const data = await fixtures.tempDir('ferry-safety-overlap-data-');
    const root = await fixtures.tempDir('ferry-safety-overlap-');
    const sandbox = fixtures.track(await startSelfCommunitySandbox());
    const engine = fixtures.openEngine(data);
    for (const name of ['first', 'second']) {
      await engine.queue.accounts.add({
        provider: 'selfcommunity',
        name,
        baseUrl: sandbox.url,
        secrets: { accessToken: sandbox.token },
      });
    }
    await mkdir(join(root, 'inner', 'deeper'), { recursive: true });
    return { engine, root };
  }

  it('refuses a rule that moves or deletes where another rule can see the same files, with the reason', async () => {
    const { engine, root } = await twoAccounts();
    const outer = await addSyncRule(engine, { account: 'first', dir: root });
    // The same folder for another account, with delete: the file could be gone before "first" uploads it.
    await expect(addSyncRule(engine, { account: 'second', dir: root, afterUpload: 'delete' })).rejects.toThrow(
      new RegExp(
        `Cannot watch ${root}: it is the folder of sync rule #${outer.id} .*"first".* this rule would delete its files`,
      ),
    );
    // A folder inside it, and with move.
    await expect(
      addSyncRule(engine, { account: 'second', dir: join(root, 'inner'), afterUpload: 'move' }),
    ).rejects.toThrow(/is inside the folder of sync rule/);
    // The same account, a nested folder.
    await expect(
      addSyncRule(engine, { account: 'first', dir: join(root, 'inner'), afterUpload: 'delete' }),
    ).rejects.toThrow(/is inside the folder of sync rule/);
    // Rules that only keep files may overlap: each account gets its copy.
    await addSyncRule(engine, { account: 'second', dir: root });
    await addSyncRule(engine, { account: 'second', dir: join(root, 'inner') });
    // A deleting rule around folders already watched is refused too.
    const deeper = join(root, 'inner', 'deeper');
    const keepDeeper = await addSyncRule(engine, { account: 'first', dir: deeper });
    expect(keepDeeper.id).toBeGreaterThan(0);
    const elsewhere = await fixtures.tempDir('ferry-safety-elsewhere-');
    await mkdir(join(elsewhere, 'sub'));
    await addSyncRule(engine, { account: 'first', dir: join(elsewhere, 'sub') });
    await expect(addSyncRule(engine, { account: 'second', dir: elsewhere, afterUpload: 'delete' })).rejects.toThrow(
      /contains the folder of sync rule #\d+ .* this rule would delete its files/,
    );
    // Without subfolders it cannot see the inner rule's files: allowed.
    await addSyncRule(engine, { account: 'second', dir: elsewhere, afterUpload: 'delete', recursive: false });
  }, 20_000);
});
