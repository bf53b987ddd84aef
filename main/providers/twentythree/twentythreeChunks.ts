/**
 * TwentyThree's chunk-size rule, as a pure function. The server checks every chunk against it, so the
 * adapter and the sandbox emulator must agree on it exactly.
 */

/** One chunk of a TwentyThree upload: `number` is 1-based, `end` is exclusive. */
export interface TwentyThreeChunk {
  number: number;
  start: number;
  end: number;
}

/**
 * Splits `total` bytes by the floor rule [doc]: there are `max(1, floor(total / chunkSize))` chunks;
 * every chunk is exactly `chunkSize` bytes except the last, which takes the remainder as well and is
 * therefore at least `chunkSize` and less than `2 × chunkSize` bytes (or the whole file when the file is
 * smaller than one chunk). This is Resumable.js's `forceChunkSize: false` behaviour, which the server
 * was written against: a short tail never becomes a chunk of its own.
 *
 * Throws RangeError for a negative or fractional size or a chunk size below 1.
 */
export function planTwentyThreeChunks(total: number, chunkSize: number): TwentyThreeChunk[] {
  if (!Number.isSafeInteger(total) || total < 0) throw new RangeError(`invalid file size ${total}`);
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new RangeError(`invalid chunk size ${chunkSize}`);
  const count = Math.max(1, Math.floor(total / chunkSize));
  const chunks: TwentyThreeChunk[] = [];
  for (let number = 1; number <= count; number += 1) {
    const start = (number - 1) * chunkSize;
    chunks.push({ number, start, end: number === count ? total : start + chunkSize });
  }
  return chunks;
}
