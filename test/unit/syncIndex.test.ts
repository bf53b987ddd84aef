import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncRepository } from '../../main/db/syncRepository.ts';
import type { Queue } from '../../main/engine/queue.ts';
import {
  addSyncRule,
  listSyncRules,
  removeSyncRule,
  setAllSyncRulesPaused,
  setSyncRulePaused,
} from '../../main/sync/syncRules.ts';
import { openTestQueue, type TestQueue } from '../support/testQueue.ts';

let dir: string;
let store: TestQueue;
let queue: Queue;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-sync-unit-'));
  store = openTestQueue(join(dir, 'data'));
  queue = store.queue;
  await queue.accounts.add({
    provider: 'selfcommunity',
    name: 'community',
    baseUrl: 'http://127.0.0.1:9',
    secrets: { accessToken: 't' },
  });
  await queue.accounts.add({ provider: 'oktopost', name: 'social', secrets: { accountId: 'a', apiKey: 'k' } });
});

afterEach(async () => {
  store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('sync rules', () => {
  it('adds a rule with defaults, lists it with counts, pauses and removes it', async () => {
    const rule = await addSyncRule(store, { account: 'community', dir });
    expect(rule).toMatchObject({
      dir,
      include: [],
      exclude: [],
      recursive: true,
      afterUpload: 'keep',
      moveTo: 'uploaded',
      paused: false,
    });
    expect(listSyncRules(store).map((r) => r.counts)).toEqual([
      { pending: 0, queued: 0, uploaded: 0, duplicate: 0, refused: 0, failed: 0 },
    ]);
    expect(setSyncRulePaused(store, rule.id, true).paused).toBe(true);
    expect(setAllSyncRulesPaused(store, false)[0]!.paused).toBe(false);
    removeSyncRule(store, rule.id);
    expect(listSyncRules(store)).toEqual([]);
  });

  it.each([
    ['an unknown account', { account: 'nobody' }, 'not-found', /No account named "nobody"/],
    ['an account that takes URLs', { account: 'social' }, 'invalid', /cannot take files from a watched folder/],
    ['a relative folder', { dir: 'photos' }, 'invalid', /absolute path/],
    ['a missing folder', { dir: '/no/such/folder' }, 'invalid', /no such folder/],
    ['a bad move target', { afterUpload: 'move' as const, moveTo: '../up' }, 'invalid', /plain subfolder name/],
    ['an empty glob', { include: [''] }, 'invalid', /include/],
  ])('refuses %s', async (_what, input, code, message) => {
    await expect(addSyncRule(store, { account: 'community', dir, ...input })).rejects.toMatchObject({
      code,
      message: expect.stringMatching(message),
    });
  });

  it('refuses a file as the folder and the same folder twice for one account, even through a symlink', async () => {
    await writeFile(join(dir, 'file.png'), 'x');
    await expect(addSyncRule(store, { account: 'community', dir: join(dir, 'file.png') })).rejects.toMatchObject({
      code: 'invalid',
    });
    await addSyncRule(store, { account: 'community', dir });
    await symlink(dir, join(dir, 'data', 'link'));
    await expect(addSyncRule(store, { account: 'community', dir: join(dir, 'data', 'link') })).rejects.toMatchObject({
      code: 'conflict',
    });
    expect(() => removeSyncRule(store, 99)).toThrow(/No sync rule #99/);
  });
});

describe('sync index', () => {
  it('keeps the content index when a rule and its paths are removed', async () => {
    const repo = new SyncRepository(store.db);
    const rule = await addSyncRule(store, { account: 'community', dir });
    repo.upsertFile(rule.id, rule.accountId, join(dir, 'a.png'), {
      size: 3,
      mtimeMs: 1,
      sha256: 'abc',
      state: 'uploaded',
      uploadedAt: 5,
    });
    repo.putUpload(rule.accountId, 'abc', null, 'uploaded');
    expect(repo.countsByRule().get(rule.id)).toEqual({ uploaded: 1 });

    removeSyncRule(store, rule.id);
    expect(repo.files()).toEqual([]);
    expect(repo.upload(rule.accountId, 'abc')).toMatchObject({ state: 'uploaded', uploadedAt: expect.any(Number) });
  });

  it('clears what the after-upload action did when a path gets a new version', async () => {
    const repo = new SyncRepository(store.db);
    const rule = await addSyncRule(store, { account: 'community', dir, afterUpload: 'move' });
    const path = join(dir, 'a.png');
    repo.upsertFile(rule.id, rule.accountId, path, { size: 3, mtimeMs: 1, sha256: 'abc', state: 'uploaded' });
    repo.setDisposition(rule.id, path, 'moved', join(dir, 'uploaded', 'a.png'));
    expect(repo.file(rule.id, path)).toMatchObject({ disposition: 'moved', movedTo: join(dir, 'uploaded', 'a.png') });
    repo.upsertFile(rule.id, rule.accountId, path, { size: 4, mtimeMs: 2, sha256: 'def', state: 'pending' });
    expect(repo.file(rule.id, path)).toMatchObject({
      disposition: null,
      movedTo: null,
      state: 'pending',
      sha256: 'def',
    });
  });
});
