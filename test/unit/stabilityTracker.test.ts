import { describe, expect, it } from 'vitest';
import { StabilityTracker, type FileSnapshot } from '../../main/sync/stabilityTracker.ts';
import { waitFor } from '../support/ferryHarness.ts';

/** A file system of one path whose size and mtime the test sets; counts the looks. */
function fakeFile(initial: FileSnapshot | null) {
  let current = initial;
  let looks = 0;
  return {
    set(next: FileSnapshot | null) {
      current = next;
    },
    get looks() {
      return looks;
    },
    stat: async () => {
      looks += 1;
      return current && { ...current };
    },
  };
}

function tracker(file: ReturnType<typeof fakeFile>, checks = 3) {
  const stable: FileSnapshot[] = [];
  const gone: string[] = [];
  const instance = new StabilityTracker(
    { checks, intervalMs: 5, stat: file.stat },
    { stable: (_key, _path, snapshot) => stable.push(snapshot), gone: (key) => gone.push(key) },
  );
  return { instance, stable, gone };
}

describe('stability tracker', () => {
  it('calls a file stable after the given number of identical looks', async () => {
    const file = fakeFile({ size: 10, mtimeMs: 1 });
    const t = tracker(file);
    t.instance.observe('k', '/a');
    await waitFor('stable', () => t.stable.length === 1, 2_000, 1);
    expect(t.stable).toEqual([{ size: 10, mtimeMs: 1 }]);
    expect(file.looks).toBe(3);
    expect(t.instance.size).toBe(0);
  });

  it('never calls a growing file stable, and does once it stops growing', async () => {
    const file = fakeFile({ size: 1, mtimeMs: 1 });
    const t = tracker(file);
    t.instance.observe('k', '/a');
    for (let i = 2; i < 30; i += 1) {
      await waitFor('another look', () => file.looks >= i, 2_000, 1);
      file.set({ size: i, mtimeMs: 1 });
      expect(t.stable).toHaveLength(0);
    }
    await waitFor('stable', () => t.stable.length === 1, 2_000, 1);
    expect(t.stable[0]!.size).toBe(29);
  });

  it('starts counting again on every event, and merges events for one path into one result', async () => {
    const file = fakeFile({ size: 5, mtimeMs: 1 });
    const t = tracker(file, 4);
    t.instance.observe('k', '/a');
    for (let i = 0; i < 20; i += 1) {
      t.instance.observe('k', '/a');
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await waitFor('stable', () => t.stable.length === 1, 2_000, 1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(t.stable).toHaveLength(1);
  });

  it('reports a file that disappears before it is stable, and forgets on request', async () => {
    const file = fakeFile({ size: 5, mtimeMs: 1 });
    const t = tracker(file);
    t.instance.observe('k', '/a');
    file.set(null);
    await waitFor('gone', () => t.gone.length === 1, 2_000, 1);
    expect(t.stable).toHaveLength(0);

    file.set({ size: 5, mtimeMs: 1 });
    t.instance.observe('rule1:/b', '/b');
    t.instance.forgetPrefix('rule1:');
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(t.stable).toHaveLength(0);
    expect(t.instance.size).toBe(0);
  });
});
