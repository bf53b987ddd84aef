/**
 * The file operations of an enqueue, through fs's callback functions: one promise per file and step
 * instead of one per system call. Enqueueing 100,000 small files is mostly these calls, and with
 * fs/promises each one cost about four times the CPU of its callback form (a FileHandle object, a
 * promise and its reactions per call: ~65 against ~27 µs a file for stat, open, read and close, same
 * run). The work still happens on libuv's threads, so a slow disk never blocks the event loop.
 */
import { createHash } from 'node:crypto';
import { close, open, read, stat, type Stats } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { giveBuffer, takeBuffer } from '../core/bufferPool.ts';
import type { Fingerprint } from './fileSource.ts';

/** `stat` of fs/promises, without its per-call overhead. */
export function statPath(path: string): Promise<Stats> {
  return new Promise((resolve, reject) => {
    stat(path, (error, info) => (error ? reject(error) : resolve(info)));
  });
}

const EDGE = 1024 * 1024;

/**
 * What `fingerprintFile(path, known)` (engine/fileSource.ts) gives for a file the caller has just
 * stat'ed: the size and mtime of that stat, and the SHA-256 of the first and last MiB (the whole file
 * up to 2 MiB), reading until the end of the file if it is shorter now. A test checks both agree.
 */
export function fingerprintStatted(path: string, known: { size: number; mtimeMs: number }): Promise<Fingerprint> {
  const ranges: Array<[number, number]> =
    known.size <= 2 * EDGE
      ? [[0, known.size]]
      : [
          [0, EDGE],
          [known.size - EDGE, EDGE],
        ];
  return new Promise((resolve, reject) => {
    open(path, 'r', (openError, fd) => {
      if (openError) return reject(openError);
      const hash = createHash('sha256');
      const buffer = takeBuffer();
      let range = 0;
      let done = 0;
      const finish = (error: Error | null): void => {
        giveBuffer(buffer);
        close(fd, (closeError) => {
          const failure = error ?? closeError;
          if (failure) reject(failure);
          else resolve({ size: known.size, mtimeMs: Math.trunc(known.mtimeMs), edgeHash: hash.digest('hex') });
        });
      };
      const step = (): void => {
        const current = ranges[range];
        if (!current) return finish(null);
        const [position, length] = current;
        if (done >= length) {
          range += 1;
          done = 0;
          return step();
        }
        read(fd, buffer, 0, Math.min(buffer.length, length - done), position + done, (readError, bytesRead) => {
          if (readError) return finish(readError);
          if (bytesRead === 0) {
            // The file ends early (it shrank since the stat): the next range, as fileSource does.
            range += 1;
            done = 0;
          } else {
            hash.update(buffer.subarray(0, bytesRead));
            done += bytesRead;
          }
          step();
        });
      };
      step();
    });
  });
}

/** A stat made by the file worker: what enqueueing needs of it, or the error fs gave. */
export type WorkerStat = { size: number; mtimeMs: number; isFile: boolean; isDirectory: boolean } | WorkerError;
export interface WorkerError {
  error: { message: string; code?: string; errno?: number; syscall?: string; path?: string };
}

/** Below this many files a batch goes through the callback functions above (a worker starts in ~40 ms). */
export const WORKER_MIN_FILES = 200;
/** A worker left idle this long ends (it holds a 1 MiB buffer and a V8 isolate). */
const WORKER_IDLE_MS = 5_000;

/**
 * The worker's code, run with `eval` so that it needs no file of its own (the same in the sources,
 * the build, the packaged app and the tests); it takes Node's modules from `getBuiltinModule`, which
 * works whether the worker evaluates it as a script or as a module (it inherits the process's flags). It stats, or reads the edges of, a whole
 * batch with fs's synchronous functions: ~35 against ~100 µs of CPU a file for the callback functions
 * on libuv's threads (same run, 1,000-file batches), and the event loop is never blocked.
 */
const WORKER_CODE = `
const { parentPort } = process.getBuiltinModule('node:worker_threads');
const { statSync, openSync, readSync, closeSync } = process.getBuiltinModule('node:fs');
const { createHash } = process.getBuiltinModule('node:crypto');
const EDGE = ${EDGE};
const buffer = Buffer.allocUnsafe(EDGE);
const failure = (e) => ({ error: { message: String(e && e.message), code: e && e.code, errno: e && e.errno, syscall: e && e.syscall, path: e && e.path } });
const stat = (path) => {
  try {
    const info = statSync(path);
    return { size: info.size, mtimeMs: info.mtimeMs, isFile: info.isFile(), isDirectory: info.isDirectory() };
  } catch (e) { return failure(e); }
};
const edges = ({ path, size }) => {
  try {
    const ranges = size <= 2 * EDGE ? [[0, size]] : [[0, EDGE], [size - EDGE, EDGE]];
    const hash = createHash('sha256');
    const fd = openSync(path, 'r');
    try {
      for (const [position, length] of ranges) {
        let done = 0;
        while (done < length) {
          const n = readSync(fd, buffer, 0, Math.min(buffer.length, length - done), position + done);
          if (n === 0) break;
          hash.update(buffer.subarray(0, n));
          done += n;
        }
      }
    } finally { closeSync(fd); }
    return { edgeHash: hash.digest('hex') };
  } catch (e) { return failure(e); }
};
parentPort.on('message', ({ id, kind, items }) => {
  parentPort.postMessage({ id, results: items.map(kind === 'stat' ? stat : edges) });
});
`;

interface Pending {
  resolve: (results: unknown[]) => void;
  reject: (error: Error) => void;
}

interface FileWorker {
  worker: Worker;
  pending: Map<number, Pending>;
  idle: NodeJS.Timeout | null;
}

/**
 * Two workers: on two cores one worker alone waits on the disk or the other process half of the time
 * (same run: one worker halved the CPU of the callback functions but not their wall time).
 */
const WORKERS = 2;
const fileWorkers: Array<FileWorker | null> = Array.from({ length: WORKERS }, () => null);
let nextRequest = 0;

/** Sends a batch to file worker `slot` (started on first use, ended after a quiet moment). */
function askWorker(slot: number, kind: 'stat' | 'edges', items: unknown[]): Promise<unknown[]> {
  let state = fileWorkers[slot];
  if (!state) {
    const worker = new Worker(WORKER_CODE, { eval: true });
    const made: FileWorker = { worker, pending: new Map(), idle: null };
    const fail = (error: Error): void => {
      if (fileWorkers[slot] === made) fileWorkers[slot] = null;
      for (const pending of made.pending.values()) pending.reject(error);
      made.pending.clear();
    };
    worker.on('message', ({ id, results }: { id: number; results: unknown[] }) => {
      made.pending.get(id)?.resolve(results);
      made.pending.delete(id);
      if (made.pending.size > 0) return;
      // Nothing in flight: the worker must not keep a finished command alive, and ends if unused.
      worker.unref();
      made.idle = setTimeout(() => {
        if (fileWorkers[slot] === made) fileWorkers[slot] = null;
        void worker.terminate();
      }, WORKER_IDLE_MS).unref();
    });
    worker.on('error', fail);
    worker.on('exit', () => fail(new Error('The file worker of enqueue stopped unexpectedly')));
    fileWorkers[slot] = made;
    state = made;
  }
  const current = state;
  if (current.idle) clearTimeout(current.idle);
  current.idle = null;
  current.worker.ref();
  const id = (nextRequest += 1);
  return new Promise((resolve, reject) => {
    current.pending.set(id, { resolve, reject });
    current.worker.postMessage({ id, kind, items });
  });
}

/** `items` split in contiguous parts, one per worker, and the results put back in order. */
async function inWorkers(kind: 'stat' | 'edges', items: readonly unknown[]): Promise<unknown[]> {
  const part = Math.ceil(items.length / WORKERS);
  const parts = await Promise.all(
    Array.from({ length: WORKERS }, (_, slot) => items.slice(slot * part, (slot + 1) * part))
      .filter((slice) => slice.length > 0)
      .map((slice, slot) => askWorker(slot, kind, slice)),
  );
  return parts.flat();
}

/** The error fs gave in the worker, as an Error with the same message and fields. */
export function workerError(result: WorkerError): Error {
  return Object.assign(new Error(result.error.message), result.error);
}

/** The error of a failed fs call, in the shape the worker reports it. */
function asWorkerError(error: unknown): WorkerError {
  const e = error as NodeJS.ErrnoException;
  return { error: { message: String(e?.message), code: e?.code, errno: e?.errno, syscall: e?.syscall, path: e?.path } };
}

/** How many files the fallback works on at once (each holds a descriptor and a pooled buffer). */
const FALLBACK_AT_ONCE = 8;

/** `work` for each item, `FALLBACK_AT_ONCE` at a time, results in order. */
async function inSteps<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += FALLBACK_AT_ONCE) {
    results.push(...(await Promise.all(items.slice(start, start + FALLBACK_AT_ONCE).map(work))));
  }
  return results;
}

/**
 * Stats of `paths`, in order, each the stat or the error it met (made in the file worker). A worker
 * that cannot start or dies (a host without worker threads, an isolate that ran out of memory) must
 * not fail the user's enqueue: the batch is then done with the callback functions on this thread.
 */
export async function statMany(paths: readonly string[]): Promise<WorkerStat[]> {
  try {
    return (await inWorkers('stat', paths)) as WorkerStat[];
  } catch {
    return inSteps(paths, (path) =>
      statPath(path).then(
        (info): WorkerStat => ({
          size: info.size,
          mtimeMs: info.mtimeMs,
          isFile: info.isFile(),
          isDirectory: info.isDirectory(),
        }),
        asWorkerError,
      ),
    );
  }
}

/**
 * `fingerprintStatted` of each file, in order, made in the file worker; a file that cannot be read
 * gives its error. The same fingerprints (a test checks).
 */
export async function fingerprintMany(
  files: ReadonlyArray<{ path: string; size: number; mtimeMs: number }>,
): Promise<Array<Fingerprint | WorkerError>> {
  let results: Array<{ edgeHash: string } | WorkerError>;
  try {
    results = (await inWorkers(
      'edges',
      files.map(({ path, size }) => ({ path, size })),
    )) as Array<{ edgeHash: string } | WorkerError>;
  } catch {
    // The worker failed (see statMany): the same fingerprints, made on this thread.
    return inSteps(files, (file) => fingerprintStatted(file.path, file).catch(asWorkerError));
  }
  return results.map((result, index) =>
    'error' in result
      ? result
      : { size: files[index]!.size, mtimeMs: Math.trunc(files[index]!.mtimeMs), edgeHash: result.edgeHash },
  );
}
