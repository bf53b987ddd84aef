/**
 * One "rig" per provider for the fault matrix (test/reliability/faults.*.test.ts): it starts the
 * provider's emulator, adds an account to a Queue, makes a multi-part file of the right type, names
 * the requests of each step (create / chunk / finalize / poll / auth) so that a fault can target
 * them, can expire the session or token, and checks that the emulator holds the file byte-exact as
 * exactly one finalized media.
 */
import type { IncomingMessage } from 'node:http';
import type { Queue } from '../../main/engine/queue.ts';
import { startFileHost } from '../sandbox/fileHost.ts';
import type { Fault, LoggedRequest } from '../sandbox/harness.ts';
import { startOfauthSandbox } from '../sandbox/ofauth.ts';
import { startOktopostSandbox } from '../sandbox/oktopost.ts';
import { startSelfCommunitySandbox } from '../sandbox/selfcommunity.ts';
import { startTwentyThreeSandbox } from '../sandbox/twentythree.ts';
import { startXvidSandbox } from '../sandbox/xvid.ts';
import { randomFile, type LocalFile } from './ferryHarness.ts';

export type Step = 'create' | 'chunk' | 'finalize' | 'poll' | 'auth';

export interface StepMatch {
  method?: string;
  path: string | RegExp;
  /** For `chunk`: only the second part, so that a fault lands mid-file after progress was made. */
  when?: (request: IncomingMessage) => boolean;
}

export interface Rig {
  provider: string;
  /** The emulator's request log (every request, faults included). */
  requests(): readonly LoggedRequest[];
  fault(fault: Fault): void;
  /** Requests that make up each step, as fault targets. */
  steps: Partial<Record<Step, StepMatch>>;
  /** Makes the current upload session (or access token) expire on the emulator. */
  expire(): void;
  /** Makes the access token expire (providers with a separate token only). */
  expireToken?(): void;
  /** The source to enqueue (a path, or a URL for Oktopost) and its bytes. */
  source: string;
  file: LocalFile;
  /** Problems with what the emulator holds (empty = byte-exact, one media, finalized once). */
  check(): string[];
  close(): Promise<void>;
}

const SC_CHUNK = 204_800;
const OF_PART = 65_536;
const T23_CHUNK = 65_536;

export async function selfCommunityRig(queue: Queue, dir: string): Promise<Rig> {
  const sandbox = await startSelfCommunitySandbox({ token: 'fault-sc-token-0123456789' });
  await queue.accounts.add({
    provider: 'selfcommunity',
    name: 'acct',
    baseUrl: sandbox.url,
    secrets: { accessToken: sandbox.token },
  });
  const file = await randomFile(dir, 'fault photo.png', 3 * SC_CHUNK + 11);
  const chunk = '/api/v2/media/upload/chunk/';
  return {
    provider: 'selfcommunity',
    requests: () => sandbox.requests,
    fault: (f) => sandbox.fault(f),
    steps: {
      chunk: {
        method: 'POST',
        path: chunk,
        when: (r) => String(r.headers['content-range'] ?? '').startsWith(`bytes ${SC_CHUNK}-`),
      },
      // The first chunk creates the upload (and is where a wrong token shows first).
      create: {
        method: 'POST',
        path: chunk,
        when: (r) => String(r.headers['content-range'] ?? '').startsWith('bytes 0-'),
      },
      auth: {
        method: 'POST',
        path: chunk,
        when: (r) => String(r.headers['content-range'] ?? '').startsWith('bytes 0-'),
      },
      finalize: { method: 'POST', path: '/api/v2/media/upload/complete/' },
    },
    expire: () => sandbox.expireAll(),
    source: file.path,
    file,
    check() {
      const problems: string[] = [];
      if (sandbox.media.length !== 1) problems.push(`${sandbox.media.length} media`);
      if (sandbox.media[0] && sandbox.media[0].sha256 !== file.sha256) problems.push('bytes differ');
      const completes = sandbox.completeCalls.filter((c) => c.status >= 200 && c.status < 300).length;
      if (completes !== 1) problems.push(`${completes} successful completes`);
      return problems;
    },
    close: () => sandbox.close(),
  };
}

export async function ofauthRig(queue: Queue, dir: string): Promise<Rig> {
  const sandbox = await startOfauthSandbox({ partSize: OF_PART, rateLimit: null, apiKey: 'of-fault-key-0123456789' });
  await queue.accounts.add({
    provider: 'ofauth',
    name: 'acct',
    baseUrl: sandbox.url,
    secrets: { apiKey: sandbox.apiKey, connectionId: sandbox.connectionId },
  });
  const file = await randomFile(dir, 'fault clip.jpg', 3 * OF_PART + 5);
  return {
    provider: 'ofauth',
    requests: () => sandbox.requests,
    fault: (f) => sandbox.fault(f),
    steps: {
      create: { method: 'POST', path: '/v2/access/uploads/init' },
      auth: { method: 'POST', path: '/v2/access/uploads/init' },
      chunk: { method: 'PUT', path: /\/parts\/2$/ },
      finalize: { method: 'POST', path: '/v2/access/uploads/complete' },
    },
    expire: () => sandbox.expireAll(),
    source: file.path,
    file,
    check() {
      const problems: string[] = [];
      if (sandbox.media.length !== 1) problems.push(`${sandbox.media.length} media`);
      if (sandbox.media[0] && sandbox.media[0].sha256 !== file.sha256) problems.push('bytes differ');
      const completes = sandbox.completeCalls.filter((c) => c.status >= 200 && c.status < 300).length;
      if (completes !== 1) problems.push(`${completes} successful completes`);
      return problems;
    },
    close: () => sandbox.close(),
  };
}

export async function twentyThreeRig(queue: Queue, dir: string): Promise<Rig> {
  const secrets = {
    consumerKey: 'ck',
    consumerSecret: 'cs-fault-0123456789',
    accessToken: 'at',
    accessTokenSecret: 'as-fault-0123456789',
  };
  const sandbox = await startTwentyThreeSandbox(secrets);
  await queue.accounts.add({
    provider: 'twentythree',
    name: 'acct',
    baseUrl: sandbox.url,
    secrets,
    settings: { chunkSize: String(T23_CHUNK) },
  });
  const file = await randomFile(dir, 'fault video.mp4', 4 * T23_CHUNK + 100);
  return {
    provider: 'twentythree',
    requests: () => sandbox.requests,
    fault: (f) => sandbox.fault(f),
    steps: {
      create: { method: 'POST', path: '/api/photo/get-upload-token' },
      auth: { method: 'POST', path: '/api/photo/get-upload-token' },
      // Chunks go three at a time: the fault takes whichever chunk comes second.
      chunk: { method: 'POST', path: '/api/photo/redeem-upload-token', when: secondOnly() },
    },
    expire: () => sandbox.expireTokens(),
    source: file.path,
    file,
    check() {
      const problems: string[] = [];
      if (sandbox.photos.length !== 1) problems.push(`${sandbox.photos.length} photos`);
      if (sandbox.photos[0] && sandbox.photos[0].sha256 !== file.sha256) problems.push('bytes differ');
      if (sandbox.completions !== 1) problems.push(`${sandbox.completions} completions`);
      return problems;
    },
    close: () => sandbox.close(),
  };
}

/** A `when` that matches only the second request it sees. */
function secondOnly(): (request: IncomingMessage) => boolean {
  let seen = 0;
  return () => {
    seen += 1;
    return seen === 2;
  };
}

export async function xvidRig(queue: Queue, dir: string): Promise<Rig> {
  const sandbox = await startXvidSandbox({ completingPolls: 1, clientSecret: 'xvid-fault-secret-0123456789' });
  await queue.accounts.add({
    provider: 'xvid',
    name: 'acct',
    baseUrl: sandbox.apiUrl,
    secrets: { clientId: sandbox.clientId, clientSecret: sandbox.clientSecret },
    settings: { pipelineId: sandbox.pipelineId },
  });
  const file = await randomFile(dir, 'fault movie.mp4', 300_000);
  return {
    provider: 'xvid',
    requests: () => sandbox.requests,
    fault: (f) => sandbox.fault(f),
    steps: {
      auth: { method: 'POST', path: '/v1/oauth2/token/' },
      create: { method: 'POST', path: '/v1/files/uploads/' },
      chunk: { method: 'POST', path: /^\/s3\// },
      finalize: { method: 'PUT', path: /^\/v1\/files\/uploads\/[^/]+$/ },
      poll: { method: 'GET', path: /^\/v1\/files\/uploads\/[^/]+$/ },
    },
    // The signed S3 form expires: the session is gone and a new one sends the file again.
    expire: () => sandbox.expirePolicies(),
    expireToken: () => sandbox.expireTokens(),
    source: file.path,
    file,
    check() {
      const problems: string[] = [];
      const done = [...sandbox.uploads.values()].filter((u) => u.status === 'COMPLETED');
      if (done.length !== 1) problems.push(`${done.length} completed uploads`);
      if (done[0] && done[0].stored?.sha256 !== file.sha256) problems.push('bytes differ');
      const finishes = sandbox.finishCalls.filter((c) => c.status >= 200 && c.status < 300).length;
      if (finishes !== 1) problems.push(`${finishes} successful finishes`);
      return problems;
    },
    close: () => sandbox.close(),
  };
}

export async function oktopostRig(queue: Queue, dir: string): Promise<Rig> {
  const sandbox = await startOktopostSandbox({
    pullChunk: 64 * 1024,
    pullDelayMs: 5,
    perMinute: 100_000,
    apiKey: 'okto-fault-key-0123456789',
  });
  const host = await startFileHost();
  await queue.accounts.add({
    provider: 'oktopost',
    name: 'acct',
    baseUrl: sandbox.apiUrl,
    secrets: { accountId: sandbox.accountId, apiKey: sandbox.apiKey },
  });
  const file = await randomFile(dir, 'fault-import.mp4', 300_000);
  const published = await host.publish(file.path, file.name, 'video/mp4');
  return {
    provider: 'oktopost',
    requests: () => sandbox.requests,
    fault: (f) => sandbox.fault(f),
    steps: {
      create: { method: 'POST', path: /^\/v2\/upload\/?$/ },
      auth: { method: 'POST', path: /^\/v2\/upload\/?$/ },
      poll: { method: 'GET', path: /^\/v2\/upload\/[^/]+$/ },
    },
    // The import request vanished on Oktopost's side (404): a new one is created.
    expire() {
      for (const id of sandbox.uploads.keys()) sandbox.forget(id);
    },
    source: published.url,
    file,
    check() {
      const problems: string[] = [];
      // Media of import requests Oktopost still knows: one whose request vanished is Oktopost's own.
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

export const RIGS = {
  selfcommunity: selfCommunityRig,
  ofauth: ofauthRig,
  twentythree: twentyThreeRig,
  xvid: xvidRig,
  oktopost: oktopostRig,
} as const;
