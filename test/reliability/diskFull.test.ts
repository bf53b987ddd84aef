/**
 * A full disk under Ferry's data folder, for real: the data folder is on a small tmpfs that is filled
 * up while a file is being uploaded. The engine must not die of it (no unhandled rejection), must put
 * the job aside with the reason, keep every acknowledged part, and finish once there is room again.
 * Mounting needs root (CI runs as root); elsewhere the test is skipped and says so.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { Fixtures, randomFile, runFerry, waitFor, within } from '../support/ferryHarness.ts';

const CHUNK = 204_800;
const CHUNK_PATH = '/api/v2/media/upload/chunk/';
const fixtures = new Fixtures();
const mounts: string[] = [];

afterEach(async () => {
  await fixtures.cleanup();
  for (const point of mounts.splice(0)) spawnSync('umount', ['-l', point]);
});

/** A tmpfs of `size` at a new folder, or null when this machine does not let us mount one. */
function smallDisk(root: string, size: string): string | null {
  const point = join(root, 'disk');
  mkdirSync(point, { recursive: true });
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', point], { stdio: 'ignore' });
  if (mounted.status !== 0) return null;
  mounts.push(point);
  return point;
}

const canMount = process.platform === 'linux' && process.getuid?.() === 0;

describe('a full disk under the data folder', () => {
  it.skipIf(!canMount)(
    'puts the upload aside with "Disk full", keeps the acknowledged parts, and finishes once there is room',
    async () => {
      const root = await fixtures.tempDir('ferry-full-');
      const disk = smallDisk(root, '16m');
      expect(disk, 'mounting a tmpfs as root').not.toBeNull();
      const data = join(disk!, 'data');
      const files = await fixtures.tempDir('ferry-full-files-');
      const handle = fixtures.openEngine(data, { machineFaultDelays: { firstMs: 200, maxMs: 400 } });
      const sandbox = fixtures.track(await startSelfCommunitySandbox());
      await handle.queue.accounts.add({
        provider: 'selfcommunity',
        name: 'community',
        baseUrl: sandbox.url,
        secrets: { accessToken: sandbox.token },
      });
      const file = await randomFile(files, 'harbour.png', 12 * CHUNK + 99);
      const ballast = join(disk!, 'ballast');
      // When the fifth chunk reaches the server, everything left on the disk is taken.
      sandbox.fault({
        method: 'POST',
        path: CHUNK_PATH,
        when: (request) => {
          if (!String(request.headers['content-range']).startsWith(`bytes ${4 * CHUNK}-`)) return false;
          fillUp(ballast);
          return true;
        },
        action: { type: 'delay', ms: 0 },
      });
      const faults: Array<{ jobId: number | null; message: string }> = [];
      handle.engine.on('fault', (fault) => faults.push(fault));
      const [queued] = await handle.queue.enqueue('community', [file.path]);
      handle.engine.start();

      await waitFor(
        'the disk-full fault',
        () => faults.find((fault) => /^Disk full: .* free in /.test(fault.message)),
        15_000,
      );
      // Still alive and still trying: nothing failed the job.
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(handle.queue.jobs.get(queued!.id)?.state).not.toBe('failed');
      expect(faults.every((fault) => fault.jobId === queued!.id || fault.jobId === null)).toBe(true);

      await rm(ballast);
      await within('the upload to finish once there is room', 20_000, handle.engine.whenIdle());

      const done = handle.queue.jobs.get(queued!.id)!;
      expect(done.state, JSON.stringify(done.error)).toBe('completed');
      const media = sandbox.media.find((m) => String(m.id) === done.result?.remoteId);
      expect(media?.sha256).toBe(file.sha256);
      expect(sandbox.completeCalls).toHaveLength(1);
      // Chunks acknowledged before the disk filled up were not accepted again. SelfCommunity's
      // acknowledgements are committed in batches (ProviderCapabilities.ackBatch): a batch whose commit
      // met the full disk is forgotten, and the first chunk sent after it meets the server's offset
      // check (one request sent again, refused, and the upload continues from the server's offset).
      let sentAgain = 0;
      for (let index = 0; index < 4; index += 1) {
        const sent = sandbox.chunkLog.filter((chunk) => chunk.start === index * CHUNK);
        expect(sent.filter((chunk) => chunk.status >= 200 && chunk.status < 300).length, `chunk ${index + 1}`).toBe(1);
        sentAgain += sent.length - 1;
      }
      expect(sentAgain).toBeLessThanOrEqual(1);
      const events = handle.queue.jobs.events(queued!.id).map((event) => event.message);
      expect(events.some((message) => /^Disk full: /.test(message))).toBe(true);
    },
  );
});

describe('a full disk under the data folder of the ferry command', () => {
  it.skipIf(!canMount)(
    'says "Disk full" once on stderr, keeps running, and exits 0 once the upload finished after room came back',
    async () => {
      const root = await fixtures.tempDir('ferry-full-cli-');
      const disk = smallDisk(root, '24m');
      expect(disk, 'mounting a tmpfs as root').not.toBeNull();
      const data = join(disk!, 'data');
      const files = await fixtures.tempDir('ferry-full-files-');
      const sandbox = fixtures.track(await startSelfCommunitySandbox());
      const added = await runFerry(data, [
        'accounts',
        'add',
        'selfcommunity',
        '--name',
        'community',
        '--base-url',
        sandbox.url,
        '--secret',
        `accessToken=${sandbox.token}`,
      ]);
      expect(added.code, added.stderr).toBe(0);
      const file = await randomFile(files, 'pier.png', 10 * CHUNK + 5);
      const ballast = join(disk!, 'ballast');
      let filled = false;
      sandbox.fault({
        method: 'POST',
        path: CHUNK_PATH,
        when: (request) => {
          if (!String(request.headers['content-range']).startsWith(`bytes ${3 * CHUNK}-`)) return false;
          fillUp(ballast);
          filled = true;
          return true;
        },
        action: { type: 'delay', ms: 0 },
      });
      const child = fixtures.spawnFerry(data, ['upload', '--account', 'community', '--wait', file.path], {
        env: { FERRY_FAULT_RETRY_MS: '300' },
        timeoutMs: 60_000,
      });
      await waitFor('the fault on stderr', () => (/Disk full: /.test(child.stderr) ? true : null), 30_000);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(child.child.exitCode, child.stderr).toBeNull();
      expect(filled).toBe(true);
      await rm(ballast);
      const result = await child.exited;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr.match(/Disk full: /g)).toHaveLength(1);
      expect(result.stderr).not.toMatch(/Unhandled|unhandled|TypeError|stack/i);
      expect(sandbox.media).toHaveLength(1);
      expect(sandbox.media[0]!.sha256).toBe(file.sha256);
    },
  );
});

/** Writes until the disk refuses (ENOSPC). */
function fillUp(path: string): void {
  const block = Buffer.alloc(64 * 1024, 1);
  let size = 0;
  try {
    for (;;) {
      writeFileSync(path, block, { flag: 'a' });
      size += block.length;
      if (size > 64 * 1024 * 1024) throw new Error('the small disk never filled up');
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  }
}
