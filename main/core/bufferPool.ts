/**
 * 1 MiB read buffers, reused across file reads (request bodies, fingerprints, digests).
 *
 * Why: every 1 MiB read into a fresh Buffer is memory outside V8's heap that only a garbage
 * collection gives back, and V8 answers a steady stream of such allocations with full mark-compact
 * collections (about one per 20–30 MB sent) whose cost grows with the live heap; when the heap is
 * quiet instead, the dead buffers simply pile up in RSS (fingerprinting 40 files at enqueue used to
 * add 80 MB). A buffer comes back with `giveBuffer` once nothing references it any more.
 */
export const READ_BUFFER_SIZE = 1024 * 1024;
const POOL_MAX = 12;
/** An idle pool is released, so that a quiet desktop app does not keep 12 MiB for nothing. */
const POOL_IDLE_MS = 15_000;
const pool: Buffer[] = [];
let poolTimer: NodeJS.Timeout | null = null;

export function takeBuffer(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(READ_BUFFER_SIZE);
}

export function giveBuffer(buffer: Buffer): void {
  if (pool.length >= POOL_MAX || buffer.length !== READ_BUFFER_SIZE) return;
  pool.push(buffer);
  poolTimer?.refresh();
  poolTimer ??= setTimeout(() => {
    pool.length = 0;
    poolTimer = null;
  }, POOL_IDLE_MS).unref();
}
