/**
 * The file operations of an enqueue, through fs's callback functions: one promise per file and step
 * instead of one per system call. Enqueueing 100,000 small files is mostly these calls, and with
 * fs/promises each one cost about four times the CPU of its callback form (a FileHandle object, a
 * promise and its reactions per call: ~65 against ~27 µs a file for stat, open, read and close, same
 * run). The work still happens on libuv's threads, so a slow disk never blocks the event loop.
 */
import { createHash } from 'node:crypto';
import { close, open, read, stat, type Stats } from 'node:fs';
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
