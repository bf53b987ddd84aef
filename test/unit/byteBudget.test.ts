import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ByteBudget } from '../../main/engine/byteBudget.ts';

type Release = () => void;

interface Tracked {
  state: 'pending' | 'granted' | 'rejected';
  release: Release;
  reason?: unknown;
}

/** Starts an acquire and records how it settles, without awaiting it. */
function acquire(budget: ByteBudget, bytes: number, signal?: AbortSignal, log?: string[], name?: string): Tracked {
  const tracked: Tracked = {
    state: 'pending',
    release: () => {
      throw new Error('released before it was granted');
    },
  };
  budget.acquire(bytes, signal).then(
    (release) => {
      tracked.state = 'granted';
      tracked.release = release;
      if (log && name) log.push(name);
    },
    (reason: unknown) => {
      tracked.state = 'rejected';
      tracked.reason = reason;
    },
  );
  return tracked;
}

/** Lets every pending promise callback run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('ByteBudget', () => {
  it('grants acquires that fit at once, up to exactly the capacity', async () => {
    const budget = new ByteBudget(100);
    const parts = [40, 35, 25].map((bytes) => acquire(budget, bytes));
    await settle();
    expect(parts.map((part) => part.state)).toEqual(['granted', 'granted', 'granted']);
    expect(budget.used).toBe(100);
  });

  it('makes an acquire that does not fit wait until enough is released', async () => {
    const budget = new ByteBudget(100);
    const first = acquire(budget, 60);
    const second = acquire(budget, 30);
    const third = acquire(budget, 50);
    await settle();
    expect(third.state).toBe('pending');
    expect(budget.used).toBe(90);

    second.release(); // 60 in flight: 50 more still does not fit.
    await settle();
    expect(third.state).toBe('pending');
    expect(budget.used).toBe(60);

    first.release();
    await settle();
    expect(third.state).toBe('granted');
    expect(budget.used).toBe(50);
  });

  it('serves waiters in order: a small part does not overtake a large one that asked first', async () => {
    const budget = new ByteBudget(100);
    const log: string[] = [];
    const inFlight = acquire(budget, 50);
    await settle();
    const large = acquire(budget, 80, undefined, log, 'large');
    const small = acquire(budget, 10, undefined, log, 'small'); // Would fit now, but must queue.
    await settle();
    expect([large.state, small.state]).toEqual(['pending', 'pending']);

    inFlight.release();
    await settle();
    expect(log).toEqual(['large', 'small']);
    expect(budget.used).toBe(90);
  });

  it('queues a new acquire behind waiters even when it would fit', async () => {
    const budget = new ByteBudget(100);
    const log: string[] = [];
    const inFlight = acquire(budget, 90);
    await settle();
    acquire(budget, 20, undefined, log, 'waiting');
    await settle();
    const late = acquire(budget, 5, undefined, log, 'late');
    await settle();
    expect(late.state).toBe('pending');
    inFlight.release();
    await settle();
    expect(log).toEqual(['waiting', 'late']);
  });

  describe('a part larger than the whole budget', () => {
    it('goes at once, alone, when nothing else is in flight', async () => {
      const budget = new ByteBudget(100);
      const huge = acquire(budget, 250);
      await settle();
      expect(huge.state).toBe('granted');
      expect(budget.used).toBe(250);

      const tiny = acquire(budget, 1);
      await settle();
      expect(tiny.state).toBe('pending');
      huge.release();
      await settle();
      expect(tiny.state).toBe('granted');
      expect(budget.used).toBe(1);
    });

    it('waits until everything in flight has been released', async () => {
      const budget = new ByteBudget(100);
      const a = acquire(budget, 10);
      const b = acquire(budget, 10);
      const huge = acquire(budget, 250);
      await settle();
      expect(huge.state).toBe('pending');
      a.release();
      await settle();
      expect(huge.state).toBe('pending');
      b.release();
      await settle();
      expect(huge.state).toBe('granted');
      expect(budget.used).toBe(250);
    });
  });

  describe('abort', () => {
    it('rejects an already aborted signal with its reason and reserves nothing', async () => {
      const budget = new ByteBudget(100);
      const reason = new Error('job canceled');
      await expect(budget.acquire(10, AbortSignal.abort(reason))).rejects.toBe(reason);
      expect(budget.used).toBe(0);
    });

    it('rejects an aborted waiter with the reason and lets the waiters behind it proceed', async () => {
      const budget = new ByteBudget(100);
      const inFlight = acquire(budget, 60);
      const controller = new AbortController();
      const head = acquire(budget, 80, controller.signal);
      const behind = acquire(budget, 30);
      await settle();
      expect([head.state, behind.state]).toEqual(['pending', 'pending']);

      const reason = new Error('job paused');
      controller.abort(reason);
      await settle();
      expect(head.state).toBe('rejected');
      expect(head.reason).toBe(reason);
      expect(behind.state).toBe('granted');
      expect(budget.used).toBe(90);

      inFlight.release();
      await settle();
      expect(budget.used).toBe(30);
    });

    it('ignores an abort that comes after the bytes were granted', async () => {
      const budget = new ByteBudget(100);
      const inFlight = acquire(budget, 100);
      const controller = new AbortController();
      const waiter = acquire(budget, 40, controller.signal);
      await settle();
      inFlight.release();
      await settle();
      expect(waiter.state).toBe('granted');
      controller.abort();
      await settle();
      expect(waiter.state).toBe('granted');
      expect(budget.used).toBe(40);
      waiter.release();
      expect(budget.used).toBe(0);
    });

    // A job passes one signal to every part it sends; a listener left behind per waited part leaks
    // memory and, past ten, makes Node print MaxListenersExceededWarning.
    it('leaves no abort listener on the signal once a waiter has been granted', async () => {
      const budget = new ByteBudget(100);
      const signal = new AbortController().signal;
      const before = getEventListeners(signal, 'abort').length;
      for (let i = 0; i < 3; i += 1) {
        const inFlight = acquire(budget, 100);
        const waiter = acquire(budget, 50, signal);
        await settle();
        inFlight.release();
        await settle();
        expect(waiter.state).toBe('granted');
        waiter.release();
      }
      expect(getEventListeners(signal, 'abort')).toHaveLength(before);
    });
  });

  it('treats a second release as a no-op', async () => {
    const budget = new ByteBudget(100);
    const a = acquire(budget, 60);
    const b = acquire(budget, 40);
    await settle();
    a.release();
    a.release();
    a.release();
    expect(budget.used).toBe(40);
    const c = acquire(budget, 60);
    await settle();
    expect(c.state).toBe('granted');
    expect(budget.used).toBe(100);
    // Had the repeated releases counted, 60 more would wrongly fit now.
    const d = acquire(budget, 60);
    await settle();
    expect(d.state).toBe('pending');
    b.release();
    c.release();
    await settle();
    expect(d.state).toBe('granted');
    expect(budget.used).toBe(60);
  });

  it('never holds more than the capacity, except for a single oversize part alone', async () => {
    const capacity = 1_000;
    const budget = new ByteBudget(capacity);
    // A fixed linear congruential generator keeps the run reproducible.
    let seed = 42;
    const next = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const outstanding: Tracked[] = [];
    const sizes = new Map<Tracked, number>();
    for (let step = 0; step < 500; step += 1) {
      if (next() < 0.6) {
        const bytes = next() < 0.05 ? 1_500 : 1 + Math.floor(next() * 600);
        const part = acquire(budget, bytes);
        sizes.set(part, bytes);
        outstanding.push(part);
      } else {
        const granted = outstanding.filter((part) => part.state === 'granted');
        const victim = granted[Math.floor(next() * granted.length)];
        if (victim) {
          victim.release();
          outstanding.splice(outstanding.indexOf(victim), 1);
        }
      }
      await settle();
      const holders = outstanding.filter((part) => part.state === 'granted');
      const held = holders.reduce((sum, part) => sum + sizes.get(part)!, 0);
      expect(budget.used).toBe(held);
      if (budget.used > capacity) expect(holders).toHaveLength(1);
    }
  });
});
