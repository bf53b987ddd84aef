/**
 * Measuring one client process against loopback emulators that run in the benchmark process.
 *
 * - The transfer window is taken on the server side, from Node's HTTP diagnostics channels: from the
 *   moment the first request of the client arrives to the moment the reply to its last "work" request
 *   (data or finalize; not status polls) is sent. Process start-up (loading modules, opening SQLite)
 *   and shutdown are outside it, for Ferry and the floor client alike.
 * - CPU of the client over that window comes from /proc/<pid>/stat, read at both ends of the window.
 * - Peak RSS and whole-process CPU come from the child itself (lib/probe.mjs, preloaded).
 */
import { execFileSync, spawn } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PROBE = join(REPO_ROOT, 'test', 'bench', 'lib', 'probe.mjs');
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** CPU seconds (user + system) used so far by process `pid`, or null once it is gone. */
export function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields are counted after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of proc(5) (utime, stime) are at 11 and 12 once pid and comm are dropped.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

export interface Window {
  /** Seconds from the first request's arrival to the last work reply. */
  seconds: number;
  /** Client CPU seconds over the window (null when it could not be read). */
  cpuSeconds: number | null;
  requests: number;
}

interface ServerMessage {
  request: IncomingMessage;
  server: Server;
}

/**
 * Watches the servers listening on `ports` while one client (process `pid`, once known) works.
 * `isWork` tells which requests end the window (default: anything but GET).
 */
export class ServerWatch {
  readonly #ports: Set<number>;
  readonly #isWork: (method: string, path: string) => boolean;
  #pid: number | null = null;
  #startAt: number | null = null;
  #endAt: number | null = null;
  #cpuStart: number | null = null;
  #cpuEnd: number | null = null;
  #requests = 0;
  readonly #onStart = (message: unknown): void => {
    const { server } = message as ServerMessage;
    if (!this.#ours(server)) return;
    this.#requests += 1;
    if (this.#startAt === null) {
      this.#startAt = performance.now();
      this.#cpuStart = this.#pid === null ? null : cpuSecondsOf(this.#pid);
    }
  };
  readonly #onFinish = (message: unknown): void => {
    const { request, server } = message as ServerMessage;
    if (!this.#ours(server)) return;
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    if (!this.#isWork(request.method ?? 'GET', path)) return;
    this.#endAt = performance.now();
    this.#cpuEnd = this.#pid === null ? null : cpuSecondsOf(this.#pid);
  };

  constructor(
    urls: readonly string[],
    isWork: (method: string, path: string) => boolean = (method) => method !== 'GET',
  ) {
    this.#ports = new Set(urls.map((url) => Number(new URL(url).port)));
    this.#isWork = isWork;
    subscribe('http.server.request.start', this.#onStart);
    subscribe('http.server.response.finish', this.#onFinish);
  }

  set pid(pid: number) {
    this.#pid = pid;
  }

  #ours(server: Server): boolean {
    const address = server.address() as AddressInfo | null;
    return address !== null && this.#ports.has(address.port);
  }

  stop(): Window {
    unsubscribe('http.server.request.start', this.#onStart);
    unsubscribe('http.server.response.finish', this.#onFinish);
    if (this.#startAt === null || this.#endAt === null)
      throw new Error('the client sent no work request to the emulator');
    const cpu = this.#cpuStart !== null && this.#cpuEnd !== null ? this.#cpuEnd - this.#cpuStart : null;
    return { seconds: (this.#endAt - this.#startAt) / 1000, cpuSeconds: cpu, requests: this.#requests };
  }
}

export interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
  wallSeconds: number;
  maxRssBytes: number | null;
  /** CPU of the whole process, start-up included. */
  processCpuSeconds: number | null;
}

let probeCounter = 0;

/**
 * Runs `node [--import probe] script args…` to completion and returns its output and self-measured
 * usage. `onSpawn` receives the pid at once (for /proc sampling).
 */
export async function runNode(
  script: string,
  args: readonly string[],
  options: {
    env?: NodeJS.ProcessEnv;
    onSpawn?: (pid: number) => void;
    timeoutMs?: number;
    nodeArgs?: readonly string[];
  } = {},
): Promise<ChildRun> {
  const probeFile = join(tmpdir(), `ferry-bench-probe-${process.pid}-${probeCounter++}.json`);
  const started = performance.now();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', PROBE, script, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_NO_WARNINGS: '1', ...options.env, FERRY_BENCH_PROBE: probeFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30 * 60_000);
  const code = await new Promise<number | null>((done) => child.on('close', (exit) => done(exit)));
  clearTimeout(timer);
  const wallSeconds = (performance.now() - started) / 1000;
  const usage = await readFile(probeFile, 'utf8').then(
    (text) => JSON.parse(text) as { maxRssBytes: number; userCpuSeconds: number; systemCpuSeconds: number },
    () => null,
  );
  await rm(probeFile, { force: true });
  return {
    code,
    stdout,
    stderr,
    wallSeconds,
    maxRssBytes: usage?.maxRssBytes ?? null,
    processCpuSeconds: usage ? usage.userCpuSeconds + usage.systemCpuSeconds : null,
  };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export const mb = (bytes: number): number => bytes / 1e6;
export const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;
