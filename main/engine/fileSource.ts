/**
 * Streaming access to a local file. Nothing here reads a whole file into memory: parts are byte-range
 * streams read in 1 MiB pieces while the request body is written, and whole-file hashes are computed
 * from a stream. Memory therefore depends on part size, never on file size.
 *
 * A file that changes under a running upload must not be sent as a mix of old and new bytes. A body
 * checks, before the last bytes of its range go out, that the file still has the size and
 * modification time the job recorded; a change fails the request with a `local-file` UploadError
 * that says so. The runner also checks size, mtime and (on a resume) the edge hash before a run.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, fstatSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { giveBuffer, takeBuffer } from '../core/bufferPool.ts';
import { UploadError } from '../core/errors.ts';
import {
  PIECE_HEADROOM,
  RANGE_READ_SIZE,
  READ_AHEAD_MAX,
  type FilePiece,
  type FileSource,
  type RunningDigest,
  type RunningDigestPiece,
} from '../core/fileSource.ts';
import type { JobThrottle } from './bandwidth.ts';

export interface FileSourceOptions {
  /**
   * Hash the bytes each request body reads (one SHA-256 pass over the bytes already in memory; no
   * extra read). The runner asks for it only for jobs from watched folders, which may later move or
   * delete the file and must know what reached the provider.
   */
  measureSent?: boolean;
  /**
   * The bandwidth limit of the job (main/engine/bandwidth.ts): each piece a body reads waits for its
   * bytes first, and pieces are cut small while a limit applies. Absent or inactive: no cost.
   */
  throttle?: JobThrottle;
  /** Ends a wait on the throttle when the job stops. */
  signal?: AbortSignal;
}

/**
 * Hashes the file from the bytes that are read for sending, so that a protocol that wants a
 * whole-file hash at the end (SelfCommunity's MD5) does not read the file a second time.
 *
 * It only ever holds the hash of a prefix [0, upTo) that was sent in order and acknowledged: a part
 * feeds a copy of the hash (`begin`), and the copy replaces the prefix hash only when the server
 * accepted the part (`commit`). A part that does not start exactly at `upTo` (a resume after a
 * restart, a resync to another server offset) breaks the digest for good, and `result` returns null:
 * the caller then hashes the file from disk as before.
 */
export class PrefixDigest implements RunningDigest {
  #hash: Hash;
  #upTo = 0;
  #broken = false;

  constructor(algorithm: 'md5' | 'sha256') {
    this.#hash = createHash(algorithm);
  }

  /** Bytes [0, upTo) are in the digest. */
  get upTo(): number {
    return this.#upTo;
  }

  /**
   * A pending piece for the part [start, end), or null when it cannot extend the digest. Feed it every
   * byte of the part in order with `update`, then `commit` once the server has accepted the part.
   */
  begin(start: number, end: number): RunningDigestPiece | null {
    if (this.#broken) return null;
    if (start !== this.#upTo) {
      this.#broken = true;
      return null;
    }
    const pending = this.#hash.copy();
    let fed = 0;
    return {
      update: (chunk) => {
        pending.update(chunk);
        fed += chunk.length;
      },
      commit: () => {
        // A part whose bytes were not all seen (an empty or short read) cannot extend the prefix.
        if (this.#broken || this.#upTo !== start || fed !== end - start) {
          this.#broken = true;
          return;
        }
        this.#hash = pending;
        this.#upTo = end;
      },
    };
  }

  /** The hex digest when bytes [0, size) were all fed in order, otherwise null. */
  result(size: number): string | null {
    if (this.#broken || this.#upTo !== size) return null;
    return this.#hash.copy().digest('hex');
  }
}

/**
 * Opens a file of the given size. `mtimeMs` is the modification time (whole milliseconds) recorded
 * with the job; without it, the one seen by the first range is taken as the reference.
 */
export function openFileSource(
  path: string,
  size: number,
  mtimeMs?: number,
  options: FileSourceOptions = {},
): FileSource {
  let reference: Promise<number> | undefined = mtimeMs === undefined ? undefined : Promise.resolve(mtimeMs);
  const digests = new Map<'md5' | 'sha256', RunningDigest>();
  // The latest measurement per byte range "start:end" (only when measuring what is sent).
  const sent = new Map<string, SentMeasure>();
  const measure = (start: number, end: number): ((chunk: Buffer) => void) => {
    const entry: SentMeasure = { hash: createHash('sha256'), fed: 0, expected: end - start, digest: null };
    sent.set(`${start}:${end}`, entry);
    return (chunk) => {
      entry.hash.update(chunk);
      entry.fed += chunk.length;
    };
  };

  const changed = (why: string): UploadError =>
    new UploadError(
      'local-file',
      `${path} changed while it was being uploaded (${why}); Ferry will not upload a mix of old and new bytes. Retry the job to upload the new content from the start.`,
    );

  // One descriptor for every range of the job: opening and closing the file around each part cost
  // three thread-pool round trips per part, a third of a 204,800-byte part's time on the client.
  // Bytes read through it are the file that was opened even if the path is replaced meanwhile; an
  // in-place change shows in its size or mtime (checked by `unchanged` before a body's last bytes).
  let handle: Promise<FileHandle> | null = null;
  /** The shared descriptor once it is open (and until `close`), for the synchronous fstat below. */
  let openHandle: FileHandle | null = null;
  let closed = false;
  const openShared = async (): Promise<FileHandle> => {
    let opened: FileHandle;
    try {
      opened = await open(path, 'r');
    } catch (error) {
      throw localFileError(path, 'Reading', error);
    }
    if (reference === undefined) {
      // No mtime was recorded: the file as it is when first opened is the reference.
      try {
        reference = Promise.resolve(Math.trunc((await opened.stat()).mtimeMs));
      } catch (error) {
        await opened.close().catch(() => undefined);
        throw localFileError(path, 'Reading', error);
      }
    }
    return opened;
  };
  const shared = (): Promise<FileHandle> => {
    if (closed)
      return Promise.reject(new UploadError('aborted', `Reading ${path}: the upload that was reading it has stopped`));
    if (handle === null) {
      const attempt = openShared();
      handle = attempt;
      attempt.then(
        (ready) => {
          if (handle === attempt && !closed) openHandle = ready;
        },
        () => {
          // A failed open is tried again by the next read.
          if (handle === attempt) handle = null;
        },
      );
    }
    return handle;
  };

  const readShared = async (buffer: Buffer, length: number, position: number, offset = 0): Promise<number> => {
    const opened = await shared();
    try {
      return (await opened.read(buffer, offset, length, position)).bytesRead;
    } catch (error) {
      throw localFileError(path, 'Reading', error);
    }
  };

  // One range read ahead, taken by the read that asks for exactly those bytes; replaced by the next
  // read-ahead, and dropped when the source closes. Its buffer goes back to the pool if nobody takes it.
  let ahead: { position: number; length: number; piece: Promise<FilePiece> } | null = null;
  const dropAhead = (): void => {
    const dropped = ahead;
    ahead = null;
    dropped?.piece.then(
      (piece) => giveBuffer(piece.buffer),
      () => undefined,
    );
  };
  const readAhead = (position: number, length: number): void => {
    dropAhead();
    const buffer = takeBuffer();
    const offset = pieceOffset(buffer, length);
    const piece = readShared(buffer, length, position, offset).then(
      (bytesRead): FilePiece => {
        const checked = unchanged();
        checked.catch(() => undefined); // reported by the body that takes the piece, if one does
        return { buffer, offset, bytesRead, checked };
      },
      (error: unknown) => {
        giveBuffer(buffer);
        throw error;
      },
    );
    piece.catch(() => undefined);
    ahead = { position, length, piece };
  };

  const unchanged = async (): Promise<void> => {
    let info: { size: number; mtimeMs: number };
    if (openHandle !== null && !closed) {
      // fstat of a descriptor this process holds open answers from the kernel's inode in microseconds;
      // through the thread pool (FileHandle.stat) the round trip cost more than the check itself, once
      // per part (~6 % of the main thread on 204,800-byte parts).
      try {
        const stats = fstatSync(openHandle.fd);
        info = { size: stats.size, mtimeMs: Math.trunc(stats.mtimeMs) };
      } catch (error) {
        throw localFileError(path, 'Reading', error);
      }
    } else if (handle !== null && !closed) {
      try {
        const stats = await (await handle).stat();
        info = { size: stats.size, mtimeMs: Math.trunc(stats.mtimeMs) };
      } catch (error) {
        throw error instanceof UploadError ? error : localFileError(path, 'Reading', error);
      }
    } else {
      info = await statFile(path, 'Reading');
    }
    reference ??= Promise.resolve(info.mtimeMs);
    const expected = await reference;
    if (info.size !== size) throw changed(`its size is now ${info.size} bytes, not ${size}`);
    if (info.mtimeMs !== expected) throw changed('it was modified');
  };

  return {
    path,
    size,
    async range(start, end) {
      if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= size)) {
        throw new UploadError('invalid', `Reading ${path}: bytes ${start}-${end} are not inside its ${size} bytes`);
      }
      return {
        start,
        end,
        size: end - start,
        stream() {
          // createReadStream's `end` is inclusive, and an empty range must not read byte 0.
          if (end === start) return Readable.from([]);
          return createReadStream(path, { start, end: end - 1, highWaterMark: RANGE_READ_SIZE });
        },
        async readPiece(length, position) {
          const throttle = options.throttle;
          if (throttle?.active) {
            // A body may take fewer bytes than it asked for: small pieces keep a limited upload smooth
            // and let jobs that share the limit take turns.
            length = throttle.pieceSize(length);
            await throttle.take(length, options.signal);
          }
          let piece: Promise<FilePiece>;
          if (ahead !== null && ahead.position === position && ahead.length === length) {
            piece = ahead.piece;
            ahead = null;
          } else {
            const buffer = takeBuffer();
            const offset = pieceOffset(buffer, length);
            piece = readShared(buffer, length, position, offset).then(
              (bytesRead) => ({ buffer, offset, bytesRead, checked: null }),
              (error: unknown) => {
                giveBuffer(buffer);
                throw error;
              },
            );
          }
          // This piece is a whole small range and the file goes on: read the next one meanwhile.
          if (!closed && position === start && length === end - start && length <= READ_AHEAD_MAX && end < size) {
            readAhead(end, Math.min(length, size - end));
          }
          return piece;
        },
        unchanged,
        ...(options.measureSent ? { measureSent: () => measure(start, end) } : {}),
      };
    },
    measuresSent: options.measureSent === true,
    sentSha256(start, end) {
      const entry = sent.get(`${start}:${end}`);
      if (!entry || entry.fed !== entry.expected) return null;
      entry.digest ??= entry.hash.digest('hex');
      return entry.digest;
    },
    async close() {
      closed = true;
      openHandle = null;
      dropAhead();
      const pending = handle;
      handle = null;
      if (pending)
        await pending.then(
          (opened) => opened.close(),
          () => undefined,
        );
    },
    unchanged,
    async digest(algorithm, signal) {
      const hash = createHash(algorithm);
      await hashRanges(path, [[0, Number.MAX_SAFE_INTEGER]], hash, signal);
      return hash.digest('hex');
    },
    runningDigest(algorithm) {
      let digest = digests.get(algorithm);
      if (!digest) {
        digest = new PrefixDigest(algorithm);
        digests.set(algorithm, digest);
      }
      return digest;
    },
  };
}

/** Where a piece of `length` bytes is read into `buffer`: after PIECE_HEADROOM when it leaves as much after it. */
function pieceOffset(buffer: Buffer, length: number): number {
  return length + 2 * PIECE_HEADROOM <= buffer.length ? PIECE_HEADROOM : 0;
}

interface SentMeasure {
  hash: Hash;
  fed: number;
  expected: number;
  digest: string | null;
}

/** The outcome of comparing the file as it is now with what its acknowledged parts sent. */
export type SentCheck =
  | { kind: 'confirmed'; sha256: string }
  /**
   * The parts cover [0, tail.start) and match; the rest is sent by finalize (TwentyThree's last
   * chunk). `sha256` is confirmed once finalize's body is known to have read bytes hashing to
   * `tail.sha256` (FileSource.sentSha256(tail.start, tail.end)).
   */
  | { kind: 'needs-tail'; sha256: string; tail: { start: number; end: number; sha256: string } }
  | { kind: 'unconfirmed'; reason: string };

/**
 * Reads the file once, computing the whole file's SHA-256 and each part range's SHA-256, and confirms
 * the whole-file hash as "what was sent" only when the parts cover [0, size) exactly and every
 * range hashes to the hash recorded when its part was acknowledged. With `tail`, parts that cover
 * only a prefix are accepted and the rest is hashed as the range finalize will send (`needs-tail`). Then the whole hash is the hash of
 * the concatenation of the bytes that were sent, even if the file changes during this read. Streams
 * through one pooled buffer: memory does not grow with the file.
 */
export async function confirmSentParts(
  path: string,
  size: number,
  parts: ReadonlyArray<{ start: number; end: number; sha256: string | null }>,
  options: { tail?: boolean } = {},
): Promise<SentCheck> {
  const sorted = [...parts].sort((a, b) => a.start - b.start);
  let covered = 0;
  for (const part of sorted) {
    if (part.sha256 === null)
      return {
        kind: 'unconfirmed',
        reason: `the hash of the bytes sent for bytes ${part.start}-${part.end} was not recorded`,
      };
    if (part.start !== covered || part.end < part.start)
      return {
        kind: 'unconfirmed',
        reason: `the acknowledged parts do not cover the file without gaps (at byte ${covered})`,
      };
    covered = part.end;
  }
  if (covered > size || (size > 0 && sorted.length === 0 && !options.tail)) {
    return { kind: 'unconfirmed', reason: `the acknowledged parts cover ${covered} of ${size} bytes` };
  }
  if (covered < size && !options.tail)
    return { kind: 'unconfirmed', reason: `the acknowledged parts cover ${covered} of ${size} bytes` };
  // The bytes after the parts, sent by finalize: hashed here too, compared once finalize has sent them.
  const ranges = covered < size ? [...sorted, { start: covered, end: size, sha256: null, tail: true }] : sorted;
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    return { kind: 'unconfirmed', reason: localFileError(path, 'Reading', error).message };
  }
  const whole = createHash('sha256');
  const buffer = takeBuffer();
  let tail: { start: number; end: number; sha256: string } | null = null;
  try {
    for (const part of ranges) {
      const hash = createHash('sha256');
      let position = part.start;
      while (position < part.end) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, part.end - position), position);
        if (bytesRead === 0)
          return { kind: 'unconfirmed', reason: `the file is now shorter than the ${size} bytes that were sent` };
        const chunk = buffer.subarray(0, bytesRead);
        hash.update(chunk);
        whole.update(chunk);
        position += bytesRead;
      }
      const digest = hash.digest('hex');
      if ('tail' in part) tail = { start: part.start, end: part.end, sha256: digest };
      else if (digest !== part.sha256) {
        return {
          kind: 'unconfirmed',
          reason: `bytes ${part.start}-${part.end} on disk are not the bytes that were sent`,
        };
      }
    }
    const { bytesRead } = await handle.read(buffer, 0, 1, size);
    if (bytesRead !== 0)
      return { kind: 'unconfirmed', reason: `the file is now longer than the ${size} bytes that were sent` };
  } catch (error) {
    return { kind: 'unconfirmed', reason: localFileError(path, 'Reading', error).message };
  } finally {
    giveBuffer(buffer);
    await handle.close().catch(() => undefined);
  }
  return tail
    ? { kind: 'needs-tail', sha256: whole.digest('hex'), tail }
    : { kind: 'confirmed', sha256: whole.digest('hex') };
}

export interface Fingerprint {
  size: number;
  mtimeMs: number;
  /** SHA-256 of the first and last MiB (the whole file when it is smaller than 2 MiB). */
  edgeHash: string;
}

const EDGE = 1024 * 1024;

/**
 * Size, mtime and a hash of the file's first and last MiB: cheap, and catches in-place edits. `known`
 * is a stat the caller has just made (enqueueing a folder stats each file once, not twice).
 */
export async function fingerprintFile(path: string, known?: { size: number; mtimeMs: number }): Promise<Fingerprint> {
  const info = known ?? (await statFile(path, 'reading'));
  const hash = createHash('sha256');
  const ranges: Array<[number, number]> =
    info.size <= 2 * EDGE
      ? [[0, info.size]]
      : [
          [0, EDGE],
          [info.size - EDGE, EDGE],
        ];
  await hashRanges(path, ranges, hash);
  return { size: info.size, mtimeMs: Math.trunc(info.mtimeMs), edgeHash: hash.digest('hex') };
}

/**
 * Feeds [position, position + length) of each range to `hash`, stopping early at the end of the file,
 * through one pooled buffer (the hash copies what it needs, so the buffer is free after each update).
 */
async function hashRanges(
  path: string,
  ranges: ReadonlyArray<readonly [number, number]>,
  hash: Hash,
  signal?: AbortSignal,
): Promise<void> {
  signal?.throwIfAborted();
  const handle = await open(path, 'r');
  const buffer = takeBuffer();
  try {
    for (const [position, length] of ranges) {
      let done = 0;
      while (done < length) {
        signal?.throwIfAborted();
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, length - done), position + done);
        if (bytesRead === 0) break;
        hash.update(buffer.subarray(0, bytesRead));
        done += bytesRead;
      }
    }
  } finally {
    giveBuffer(buffer);
    await handle.close();
  }
}

/** stat() with the errors a person can act on turned into local-file UploadErrors. */
export async function statFile(path: string, doing: string): Promise<{ size: number; mtimeMs: number }> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw localFileError(path, doing, error);
  }
  if (!info.isFile()) {
    throw new UploadError('local-file', `${doing} ${path}: it is not a regular file (a folder?)`);
  }
  return { size: info.size, mtimeMs: Math.trunc(info.mtimeMs) };
}

/** A failed file operation as a local-file UploadError that says what to check. */
function localFileError(path: string, doing: string, error: unknown): UploadError {
  const code = (error as NodeJS.ErrnoException)?.code;
  const why =
    code === 'ENOENT'
      ? 'the file does not exist (moved or deleted?)'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied: check that you can read it'
        : `cannot read it (${code ?? String(error)})`;
  return new UploadError('local-file', `${doing} ${path}: ${why}`, { cause: error });
}
