/**
 * What an adapter reads a local file through: byte ranges for request bodies, checks that the file did
 * not change, whole-file digests. The implementation is the engine's (main/engine/fileSource.ts); the
 * adapters see only these interfaces, so that they depend on nothing but the core.
 */
import type { Readable } from 'node:stream';

/** Read size of range streams: the same 1 MiB reads as the floor clients of the benchmarks. */
export const RANGE_READ_SIZE = 1024 * 1024;

/** Bytes [start, end) of a file, opened only when `stream()` is called. */
export interface FileRange {
  readonly start: number;
  readonly end: number;
  /** end - start: the exact number of bytes `stream()` yields when the file is unchanged. */
  readonly size: number;
  /**
   * Opens the range as a Node stream (1 MiB reads). The caller owns it and must destroy it when the
   * request ends early; destroying closes the file descriptor.
   */
  stream(): Readable;
  /**
   * Reads up to `length` bytes at `position` into a pooled buffer that the caller gives back
   * (core/bufferPool.ts `giveBuffer`) once nothing references it, through the source's one shared
   * descriptor (opened by the first read, closed by `FileSource.close`); `bytesRead` is 0 at the end
   * of the file. Request bodies read their range this way (main/providers/multipartBody.ts).
   * A piece that covers a whole small range (at most 1 MiB) also starts reading the next range of the
   * same size, with its `unchanged` check right after that read: serial protocols with small parts
   * (SelfCommunity's 204,800 bytes) then find their next part's bytes ready, and `checked` is that
   * check (null when nothing was read ahead). It may read fewer than `length` bytes before the end
   * of the file (while a bandwidth limit applies, pieces are cut small); the caller reads on.
   */
  readPiece(length: number, position: number): Promise<FilePiece>;
  /**
   * Resolves when the file still has the size and mtime the job recorded; rejects with a
   * `local-file` UploadError saying the file changed otherwise (or when it is gone).
   */
  unchanged(): Promise<void>;
  /**
   * Starts measuring what one request body sends of this range: the returned function must see every
   * byte the body reads, in order, exactly once. Each call starts a new measurement that replaces the
   * previous one of the same byte range (a retried request sends its bytes again), so that
   * `FileSource.sentSha256` describes the last body. Null (and absent) when the source does not
   * measure (every job that is not from a watched folder: hashing is not free).
   */
  measureSent?(): ((chunk: Buffer) => void) | null;
}

export interface FilePiece {
  /** Pooled: give it back with `giveBuffer` once its bytes are no longer referenced. */
  buffer: Buffer;
  /** Where the bytes start in `buffer`: PIECE_HEADROOM when the buffer has room around them, else 0. */
  offset: number;
  bytesRead: number;
  /** The `unchanged` check made after these bytes were read ahead, or null. */
  checked: Promise<void> | null;
}

/**
 * Bytes kept free in front of (and after) a piece in its pooled buffer when the piece is small enough
 * (FilePiece.offset): a request body puts its short text head there (and its tail after the bytes),
 * so that a small part goes to the socket as one buffer, in one write, instead of three.
 */
export const PIECE_HEADROOM = 4096;

/** Ranges up to this size are read ahead (one buffer of the pool). */
export const READ_AHEAD_MAX = 1024 * 1024;

export interface FileSource {
  readonly path: string;
  readonly size: number;
  /**
   * Bytes [start, end) for a request body; rejects a range outside the file. Nothing is read yet: a
   * body reads the range and checks `unchanged` before its last bytes go out.
   */
  range(start: number, end: number): Promise<FileRange>;
  /**
   * Resolves when the file still has the size and mtime the job recorded; rejects with a `local-file`
   * UploadError saying it changed (or is gone) otherwise.
   */
  unchanged(): Promise<void>;
  /** Hex digest of the whole file, computed from a stream (MD5 for SelfCommunity's complete). */
  digest(algorithm: 'md5' | 'sha256', signal?: AbortSignal): Promise<string>;
  /**
   * The digest of the file built from the bytes of the parts as they are sent, for this source's
   * lifetime (one run of one job). The same object for every call with the same algorithm.
   */
  runningDigest(algorithm: 'md5' | 'sha256'): RunningDigest;
  /**
   * Closes the shared descriptor once its pending reads are over (FileHandle.close waits for them);
   * reads after this reject. The runner closes the source when a run of the job ends.
   */
  close(): Promise<void>;
  /** Whether request bodies measure what they send (`FileSourceOptions.measureSent`). */
  readonly measuresSent?: boolean;
  /**
   * Hex SHA-256 of the bytes the last body of the range [start, end) read, when that body read all of
   * them; null when the range was not measured (or not completely). Used when the server acknowledged
   * the part, so that the record says what was really sent rather than what was hashed before.
   */
  sentSha256?(start: number, end: number): string | null;
}

/**
 * The digest of a file built from the bytes of its parts as they are sent, in order; see the
 * engine's PrefixDigest for how a part extends it only once the server accepted it.
 */
export interface RunningDigest {
  /** Bytes [0, upTo) are in the digest. */
  readonly upTo: number;
  /**
   * A pending piece for the part [start, end), or null when it cannot extend the digest. Feed it every
   * byte of the part in order with `update`, then `commit` once the server has accepted the part.
   */
  begin(start: number, end: number): RunningDigestPiece | null;
  /** The hex digest when bytes [0, size) were all fed in order, otherwise null. */
  result(size: number): string | null;
}

export interface RunningDigestPiece {
  update(chunk: Buffer): void;
  commit(): void;
}
