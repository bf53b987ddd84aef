/**
 * Streaming access to a local file. Nothing here reads a whole file into memory: parts are Blobs
 * backed by the file (read lazily when the request body is written) or byte-range streams, and whole
 * file hashes are computed from a stream. Memory therefore depends on part size, never on file size.
 */
import { createHash } from 'node:crypto';
import { createReadStream, openAsBlob } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { UploadError } from './errors.ts';

export interface FileSource {
  readonly path: string;
  readonly size: number;
  /** Bytes [start, end) as a file-backed Blob, for multipart bodies. */
  slice(start: number, end: number): Promise<Blob>;
  /** Bytes [start, end) as a stream, for raw request bodies. */
  stream(start: number, end: number): Readable;
  /** Hex digest of the whole file, computed from a stream (MD5 for SelfCommunity's complete). */
  digest(algorithm: 'md5' | 'sha256', signal?: AbortSignal): Promise<string>;
}

export function openFileSource(path: string, size: number): FileSource {
  let blob: Promise<Blob> | undefined;
  return {
    path,
    size,
    async slice(start, end) {
      // openAsBlob fails reads with NotReadableError if the file changes underneath it, which turns a
      // silently corrupted upload into a clear local-file error.
      blob ??= openAsBlob(path);
      return (await blob).slice(start, end);
    },
    stream(start, end) {
      // createReadStream's `end` is inclusive; an empty range must not read byte 0.
      if (end <= start) return Readable.from([]);
      return createReadStream(path, { start, end: end - 1, highWaterMark: 256 * 1024 });
    },
    async digest(algorithm, signal) {
      const hash = createHash(algorithm);
      const stream = createReadStream(path, { highWaterMark: 1024 * 1024, signal });
      for await (const chunk of stream) hash.update(chunk as Buffer);
      return hash.digest('hex');
    },
  };
}

export interface Fingerprint {
  size: number;
  mtimeMs: number;
  /** SHA-256 of the first and last MiB (the whole file when it is smaller than 2 MiB). */
  edgeHash: string;
}

const EDGE = 1024 * 1024;

/** Size, mtime and a hash of the file's first and last MiB: cheap, and catches in-place edits. */
export async function fingerprintFile(path: string): Promise<Fingerprint> {
  const info = await statFile(path, 'reading');
  const hash = createHash('sha256');
  const handle = await open(path, 'r');
  try {
    const ranges: Array<[number, number]> =
      info.size <= 2 * EDGE ? [[0, info.size]] : [[0, EDGE], [info.size - EDGE, EDGE]];
    for (const [position, length] of ranges) {
      const buffer = Buffer.alloc(length);
      let read = 0;
      while (read < length) {
        const { bytesRead } = await handle.read(buffer, read, length - read, position + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      hash.update(buffer.subarray(0, read));
    }
  } finally {
    await handle.close();
  }
  return { size: info.size, mtimeMs: Math.trunc(info.mtimeMs), edgeHash: hash.digest('hex') };
}

/** stat() with the errors a person can act on turned into local-file UploadErrors. */
export async function statFile(path: string, doing: string): Promise<{ size: number; mtimeMs: number }> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'the file does not exist (moved or deleted?)'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied: check that you can read it'
          : `cannot read it (${code ?? String(error)})`;
    throw new UploadError('local-file', `${doing} ${path}: ${why}`, { cause: error });
  }
  if (!info.isFile()) {
    throw new UploadError('local-file', `${doing} ${path}: it is not a regular file (a folder?)`);
  }
  return { size: info.size, mtimeMs: Math.trunc(info.mtimeMs) };
}
