/**
 * jobs.list answers without the JSON round trip (its handler is marked `fresh`: main/api/plainData.ts)
 * and must still keep the API's two guarantees: plain data, the same as the round trip would give,
 * and no secret value anywhere (the redactor sees the whole answer). Also: each answer is its own
 * tree (changing one changes no later answer), and a `fresh` handler whose answer is not plain data
 * still goes through JSON.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView, Page } from '../../main/api/contract.ts';
import { FerryApi } from '../../main/api/ferryApi.ts';
import { isPlainData } from '../../main/api/plainData.ts';
import { REDACTED } from '../../main/api/secretRedactor.ts';
import { JobsRepository } from '../../main/db/jobsRepository.ts';
import { Fixtures, randomFile } from '../support/ferryHarness.ts';
import { openTestQueue, type TestQueue } from '../support/testQueue.ts';

const SECRET = 'tok-0123456789-abcdefghij';
const fixtures = new Fixtures();
let store: TestQueue;
let api: FerryApi;

function unwrap<T>(result: { ok: true; value: T } | { ok: false; error: { code: string; message: string } }): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

beforeAll(async () => {
  const dir = await fixtures.tempDir('ferry-api-plain-');
  store = openTestQueue(join(dir, 'data'));
  api = new FerryApi({ queue: store.queue, db: store.db, dataDir: join(dir, 'data') });
  await store.queue.accounts.add({
    provider: 'selfcommunity',
    name: 'community',
    baseUrl: 'http://127.0.0.1:9',
    secrets: { accessToken: SECRET },
  });
  await api.start(); // reads the secret to scrub
  const paths = await Promise.all(
    ['a.png', 'b.png', 'c.png'].map(async (name) => (await randomFile(dir, name, 64)).path),
  );
  const [failed, completed] = await store.queue.enqueue('community', paths, { title: `about ${SECRET}` });
  // What another process or a provider's answer may have left in the rows: the secret, in an error
  // message and in the result's details, nested.
  const jobs = new JobsRepository(store.db);
  jobs.update(failed!.id, { state: 'failed', error: { kind: 'auth', message: `401 for token ${SECRET}` } });
  jobs.update(completed!.id, {
    state: 'completed',
    result: { remoteId: 'r1', url: `http://127.0.0.1:9/m?key=${SECRET}`, details: { echo: { token: SECRET }, n: 1 } },
  });
});

afterAll(async () => {
  api.close();
  store.close();
  await fixtures.cleanup();
});

describe('jobs.list without the JSON round trip', () => {
  it('answers plain data equal to what the round trip gives, with every secret scrubbed', async () => {
    const answer = unwrap(await api.invoke('jobs.list', { limit: 10 }));
    expect(answer.items).toHaveLength(3);
    const text = JSON.stringify(answer);
    expect(text).not.toContain(SECRET);
    expect(text).toContain(REDACTED);
    expect(answer.items[0]!.options.title).toBe(`about ${REDACTED}`);
    expect(answer.items[0]!.error?.message).toBe(`401 for token ${REDACTED}`);
    expect(answer.items[1]!.result?.details).toEqual({ echo: { token: REDACTED }, n: 1 });
    // The same as the handler's own answer sent through JSON, key order included.
    const raw = (await api.commands['jobs.list'].handler({ limit: 10, offset: 0 })) as Page<JobView>;
    expect(JSON.stringify(answer)).toBe(
      JSON.stringify(JSON.parse(JSON.stringify(raw)))
        .split(SECRET)
        .join(REDACTED),
    );
    // And the check, not the copy, is what let it through: a page of real rows is plain data as built.
    expect(isPlainData(raw)).toBe(true);
  });

  it('hands out a new tree each time: changing one answer changes no later one', async () => {
    const first = unwrap(await api.invoke('jobs.list', { limit: 10 }));
    first.items[0]!.name = 'changed';
    first.items[0]!.actions.push('remove');
    first.items[1]!.result!.details.n = 2;
    const second = unwrap(await api.invoke('jobs.list', { limit: 10 }));
    expect(second.items[0]!.name).toBe('a.png');
    expect(second.items[1]!.result!.details.n).toBe(1);
    expect(second.items[0]).not.toBe(first.items[0]);
  });

  it('sends an answer that is not plain data through JSON, fresh or not', async () => {
    const spec = api.commands['jobs.list'];
    const original = spec.handler;
    spec.handler = () =>
      ({ items: [{ at: new Date(0), gone: undefined, n: Number.NaN }], total: 1 }) as unknown as Page<JobView>;
    try {
      const answer = unwrap(await api.invoke('jobs.list', { limit: 10 }));
      expect(answer).toEqual({ items: [{ at: '1970-01-01T00:00:00.000Z', n: null }], total: 1 });
      expect(Object.keys(answer.items[0]!)).toEqual(['at', 'n']);
    } finally {
      spec.handler = original;
    }
  });
});
