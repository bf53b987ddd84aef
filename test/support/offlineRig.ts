/**
 * Uploads of every provider that a test can take off the network in the middle: each "subject"
 * starts its emulator, adds an account, holds one request mid-upload (a stalled part, or a poll for
 * Oktopost, whose server pulls the file itself), and says which hosts to unplug, which parts the
 * emulator acknowledged (to count re-sent ones) and what it holds in the end. Shared by the fast
 * test (test/integration/offline.test.ts) and the real-time soak (test/reliability/offlineSoak.ts).
 */
import type { Queue } from '../../main/engine/queue.ts';
import type { Clock } from '../../main/engine/tokenBucket.ts';
import { startFileHost } from '../sandbox/fileHost.ts';
import type { Fault, LoggedRequest } from '../sandbox/harness.ts';
import { startOfauthSandbox } from '../sandbox/ofauth.ts';
import { startOktopostSandbox } from '../sandbox/oktopost.ts';
import { startSelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { startTwentyThreeSandbox } from '../sandbox/twentythree.ts';
import { startXvidSandbox } from '../sandbox/xvid.ts';
import { randomFile, type LocalFile } from './ferryHarness.ts';

export interface OfflineSubject {
  provider: string;
  account: string;
  /** What to enqueue (a path, or a URL for Oktopost) and the file's bytes. */
  source: string;
  file: LocalFile;
  /** Origins the upload talks to that the test takes off the network (OFAuth: its storage host only). */
  hosts: string[];
  /** Holds one request in the middle of the upload (it never gets an answer until the host goes). */
  hold(): void;
  /** Whether the held request has arrived. */
  held(): boolean;
  /** Makes the same step answer 503 `times` times instead (a server that answers but fails). */
  fail503(times: number): void;
  /** One key per request whose part the emulator acknowledged (a key seen twice is a re-sent part). */
  acked(): string[];
  /** Problems with what the emulator holds (empty: byte-exact, one media, finalized once). */
  check(): string[];
  close(): Promise<void>;
}

const SC_CHUNK = 204_800;
const OF_PART = 65_536;
const T23_CHUNK = 65_536;
const ok = (status: number): boolean => status >= 200 && status < 300;
const stalled = (requests: readonly LoggedRequest[]): boolean => requests.some((r) => r.fault === 'stall');

export type OfflineProvider = 'selfcommunity' | 'ofauth' | 'twentythree' | 'xvid' | 'oktopost';
export const OFFLINE_PROVIDERS: OfflineProvider[] = ['selfcommunity', 'ofauth', 'twentythree', 'xvid', 'oktopost'];

export async function offlineSubject(provider: OfflineProvider, queue: Queue, dir: string): Promise<OfflineSubject> {
  switch (provider) {
    case 'selfcommunity': {
      const sandbox = await startSelfCommunitySandbox({ token: 'offline-sc-token-0123456789' });
      await queue.accounts.add({
        provider,
        name: 'acct',
        baseUrl: sandbox.url,
        secrets: { accessToken: sandbox.token },
      });
      const file = await randomFile(dir, 'offline photo.png', 4 * SC_CHUNK + 11);
      const second = (action: Fault['action'], times = 1): Fault => ({
        method: 'POST',
        path: '/api/v2/media/upload/chunk/',
        when: (r) => String(r.headers['content-range'] ?? '').startsWith(`bytes ${2 * SC_CHUNK}-`),
        times,
        action,
      });
      return {
        provider,
        account: 'acct',
        source: file.path,
        file,
        hosts: [sandbox.url],
        hold: () => sandbox.fault(second({ type: 'stall' })),
        held: () => stalled(sandbox.requests),
        fail503: (times) => sandbox.fault(second({ type: 'status', status: 503 }, times)),
        acked: () => sandbox.chunkLog.filter((c) => ok(c.status)).map((c) => String(c.start)),
        check() {
          const problems: string[] = [];
          if (sandbox.media.length !== 1) problems.push(`${sandbox.media.length} media`);
          if (sandbox.media[0] && sandbox.media[0].sha256 !== file.sha256) problems.push('bytes differ');
          if (sandbox.media[0] && sandbox.media[0].size !== file.bytes.length) problems.push('size differs');
          const completes = sandbox.completeCalls.filter((c) => ok(c.status)).length;
          if (completes !== 1) problems.push(`${completes} successful completes`);
          return problems;
        },
        close: () => sandbox.close(),
      };
    }
    case 'ofauth': {
      // Parts go to a separate pre-signed storage host; only that host goes away (the API stays up).
      const sandbox = await startOfauthSandbox({
        partSize: OF_PART,
        rateLimit: null,
        partsOn: 'storage',
        apiKey: 'of-offline-key-0123456789',
      });
      await queue.accounts.add({
        provider,
        name: 'acct',
        baseUrl: sandbox.url,
        secrets: { apiKey: sandbox.apiKey, connectionId: sandbox.connectionId },
      });
      const file = await randomFile(dir, 'offline clip.jpg', 4 * OF_PART + 5);
      const third = (action: Fault['action'], times = 1): Fault => ({ method: 'PUT', path: /\/3$/, times, action });
      return {
        provider,
        account: 'acct',
        source: file.path,
        file,
        hosts: [sandbox.storage.url],
        hold: () => sandbox.storage.fault(third({ type: 'stall' })),
        held: () => stalled(sandbox.storage.requests),
        fail503: (times) => sandbox.storage.fault(third({ type: 'status', status: 503 }, times)),
        acked: () => sandbox.storage.partLog.filter((c) => ok(c.status)).map((c) => String(c.part)),
        check() {
          const problems: string[] = [];
          if (sandbox.media.length !== 1) problems.push(`${sandbox.media.length} media`);
          if (sandbox.media[0] && sandbox.media[0].sha256 !== file.sha256) problems.push('bytes differ');
          if (sandbox.media[0] && sandbox.media[0].size !== file.bytes.length) problems.push('size differs');
          const completes = sandbox.completeCalls.filter((c) => ok(c.status)).length;
          if (completes !== 1) problems.push(`${completes} successful completes`);
          return problems;
        },
        close: () => sandbox.close(),
      };
    }
    case 'twentythree': {
      const secrets = {
        consumerKey: 'ck',
        consumerSecret: 'cs-offline-0123456789',
        accessToken: 'at',
        accessTokenSecret: 'as-offline-0123456789',
      };
      const sandbox = await startTwentyThreeSandbox(secrets);
      await queue.accounts.add({
        provider,
        name: 'acct',
        baseUrl: sandbox.url,
        secrets,
        settings: { chunkSize: String(T23_CHUNK) },
      });
      const file = await randomFile(dir, 'offline video.mp4', 6 * T23_CHUNK + 100);
      let seen = 0;
      // Chunks go several at a time: the fault takes whichever comes fourth, after some were acknowledged.
      const fourth = (action: Fault['action'], times = 1): Fault => ({
        method: 'POST',
        path: '/api/photo/redeem-upload-token',
        when: () => (seen += 1) >= 4,
        times,
        action,
      });
      return {
        provider,
        account: 'acct',
        source: file.path,
        file,
        hosts: [sandbox.url],
        hold: () => sandbox.fault(fourth({ type: 'stall' })),
        held: () => stalled(sandbox.requests),
        fail503: (times) => sandbox.fault(fourth({ type: 'status', status: 503 }, times)),
        acked: () => sandbox.chunks.filter((c) => ok(c.status)).map((c) => String(c.number)),
        check() {
          const problems: string[] = [];
          if (sandbox.photos.length !== 1) problems.push(`${sandbox.photos.length} photos`);
          if (sandbox.photos[0] && sandbox.photos[0].sha256 !== file.sha256) problems.push('bytes differ');
          if (sandbox.photos[0] && sandbox.photos[0].size !== file.bytes.length) problems.push('size differs');
          if (sandbox.completions !== 1) problems.push(`${sandbox.completions} completions`);
          return problems;
        },
        close: () => sandbox.close(),
      };
    }
    case 'xvid': {
      const sandbox = await startXvidSandbox({ completingPolls: 1, clientSecret: 'xvid-offline-secret-0123456789' });
      await queue.accounts.add({
        provider,
        name: 'acct',
        baseUrl: sandbox.apiUrl,
        secrets: { clientId: sandbox.clientId, clientSecret: sandbox.clientSecret },
        settings: { pipelineId: sandbox.pipelineId },
      });
      const file = await randomFile(dir, 'offline movie.mp4', 300_000);
      const post = (action: Fault['action'], times = 1): Fault => ({ method: 'POST', path: /^\/s3\//, times, action });
      return {
        provider,
        account: 'acct',
        source: file.path,
        file,
        hosts: [sandbox.url],
        hold: () => sandbox.fault(post({ type: 'stall' })),
        held: () => stalled(sandbox.requests),
        fail503: (times) => sandbox.fault(post({ type: 'status', status: 503 }, times)),
        acked: () => sandbox.s3Posts.filter((c) => ok(c.status)).map(() => 'file'),
        check() {
          const problems: string[] = [];
          const done = [...sandbox.uploads.values()].filter((u) => u.status === 'COMPLETED');
          if (done.length !== 1) problems.push(`${done.length} completed uploads`);
          if (done[0] && done[0].stored?.sha256 !== file.sha256) problems.push('bytes differ');
          if (done[0] && done[0].stored?.size !== file.bytes.length) problems.push('size differs');
          const finishes = sandbox.finishCalls.filter((c) => ok(c.status)).length;
          if (finishes !== 1) problems.push(`${finishes} successful finishes`);
          return problems;
        },
        close: () => sandbox.close(),
      };
    }
    case 'oktopost': {
      const sandbox = await startOktopostSandbox({
        pullChunk: 64 * 1024,
        pullDelayMs: 5,
        perMinute: 100_000,
        apiKey: 'okto-offline-key-0123456789',
      });
      const host = await startFileHost();
      await queue.accounts.add({
        provider,
        name: 'acct',
        baseUrl: sandbox.apiUrl,
        secrets: { accountId: sandbox.accountId, apiKey: sandbox.apiKey },
      });
      const file = await randomFile(dir, 'offline-import.mp4', 300_000);
      const published = await host.publish(file.path, file.name, 'video/mp4');
      // Oktopost pulls the file itself: what Ferry sends is the import request, then polls.
      const poll = (action: Fault['action'], times = 1): Fault => ({
        method: 'GET',
        path: /^\/v2\/upload\/[^/]+$/,
        times,
        action,
      });
      return {
        provider,
        account: 'acct',
        source: published.url,
        file,
        hosts: [sandbox.url],
        hold: () => sandbox.fault(poll({ type: 'stall' })),
        held: () => stalled(sandbox.requests),
        fail503: (times) => sandbox.fault(poll({ type: 'status', status: 503 }, times)),
        acked: () => sandbox.createCalls.filter((c) => ok(c.status)).map(() => 'import'),
        check() {
          const problems: string[] = [];
          const media = [...sandbox.media.values()].filter((m) => sandbox.uploads.has(m.uploadId));
          if (media.length !== 1) problems.push(`${media.length} media`);
          if (media[0] && media[0].sha256 !== file.sha256) problems.push('bytes differ');
          return problems;
        },
        async close() {
          await sandbox.close();
          await host.close();
        },
      };
    }
  }
}

/**
 * A clock that moves only when told to: the network monitor's backoff runs on it, so that a test can
 * live through a five-minute outage (every probe of it, each a real connection attempt on loopback)
 * in well under a second.
 */
export class ManualClock implements Clock {
  #now = 1_000_000;
  readonly #timers: Array<{ at: number; fire: () => void }> = [];

  now(): number {
    return this.#now;
  }

  /** Timers waiting on this clock. */
  get pending(): number {
    return this.#timers.length;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const timer = {
        at: this.#now + ms,
        fire: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const index = this.#timers.indexOf(timer);
        if (index >= 0) this.#timers.splice(index, 1);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#timers.push(timer);
    });
  }

  /**
   * Moves time forward by `ms`, firing each timer due on the way in order; after each, waits (in real
   * time, bounded) until `settled()` says the woken work is over (the monitor probed and slept again).
   */
  async advance(ms: number, settled: () => boolean): Promise<void> {
    const end = this.#now + ms;
    for (let fired = 0; fired < 10_000; fired += 1) {
      this.#timers.sort((a, b) => a.at - b.at);
      const next = this.#timers[0];
      if (!next || next.at > end) break;
      this.#timers.shift();
      this.#now = next.at;
      next.fire();
      const deadline = Date.now() + 10_000;
      while (!settled()) {
        if (Date.now() > deadline) throw new Error('the network monitor did not settle after a probe');
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
    this.#now = end;
  }
}
