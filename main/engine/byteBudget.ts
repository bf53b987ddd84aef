/**
 * The global bytes-in-flight budget: a weighted semaphore. A part reserves its size before it is sent
 * and releases it when the request settles, so parallel parts across every account never hold more
 * than the budget in buffers. A part larger than the whole budget may still go alone.
 */
export class ByteBudget {
  readonly #capacity: number;
  #used = 0;
  readonly #waiters: Array<{
    bytes: number;
    resolve: () => void;
    reject: (reason: unknown) => void;
    signal?: AbortSignal;
  }> = [];

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get used(): number {
    return this.#used;
  }

  async acquire(bytes: number, signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    const fits = (): boolean => this.#used === 0 || this.#used + bytes <= this.#capacity;
    if (this.#waiters.length === 0 && fits()) {
      this.#used += bytes;
      return this.#releaser(bytes);
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(signal?.reason);
        this.#drain();
      };
      // A waiter that gets its bytes removes its listener: the same job signal serves every part.
      const waiter = {
        bytes,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
        ...(signal ? { signal } : {}),
      };
      this.#waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    return this.#releaser(bytes);
  }

  #releaser(bytes: number): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#used -= bytes;
      this.#drain();
    };
  }

  #drain(): void {
    while (this.#waiters.length > 0) {
      const next = this.#waiters[0]!;
      if (!(this.#used === 0 || this.#used + next.bytes <= this.#capacity)) return;
      this.#waiters.shift();
      this.#used += next.bytes;
      next.resolve();
    }
  }
}
