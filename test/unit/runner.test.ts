/**
 * The runner's watchdog has two phases: while a request sends its body, no byte moving for the stall
 * timeout aborts it; once the body is sent, the call waits up to the step's reply deadline for the
 * answer. The work below plays one adapter call through the CallContext it is given.
 */
import { describe, expect, it } from 'vitest';
import { UploadError } from '../../main/core/errors.ts';
import { withWatchdog } from '../../main/engine/runner.ts';
import type { CallContext } from '../../main/providers/types.ts';

const LIMITS = { stallMs: 150, replyMs: 900 };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves when the call's signal fires, with its reason; never resolves otherwise. */
function untilAborted(call: CallContext): Promise<never> {
  return new Promise((_resolve, reject) => {
    call.signal.addEventListener('abort', () => reject(call.signal.reason as Error), { once: true });
  });
}

async function outcome(
  work: (call: CallContext) => Promise<string>,
): Promise<{ value?: string; error?: UploadError; ms: number }> {
  const started = Date.now();
  try {
    const value = await withWatchdog('Sending part 1 of 1 of clip.mp4', new AbortController().signal, LIMITS, work);
    return { value, ms: Date.now() - started };
  } catch (error) {
    return { error: error as UploadError, ms: Date.now() - started };
  }
}

describe('withWatchdog', () => {
  it('aborts a request whose body stops moving mid-way after the stall timeout', async () => {
    const result = await outcome(async (call) => {
      call.onBytes(0);
      call.onBytes(65_536);
      return untilAborted(call);
    });
    expect(result.error).toBeInstanceOf(UploadError);
    expect(result.error!.kind).toBe('timeout');
    expect(result.error!.message).toMatch(/clip\.mp4: nothing moved for 0 s \(stalled\); will retry/);
    expect(result.ms).toBeLessThan(LIMITS.replyMs);
  });

  it('watches overlapping calls with one shared timer: one ending leaves the others watched, and a later call is watched again', async () => {
    const stall = async (call: CallContext): Promise<string> => {
      call.onBytes(0);
      call.onBytes(10);
      return untilAborted(call);
    };
    const quick = outcome(async (call) => {
      call.onBytes(0);
      return 'answered';
    });
    const stalled = [outcome(stall), outcome(stall)];
    expect((await quick).value).toBe('answered');
    for (const result of await Promise.all(stalled)) expect(result.error?.kind).toBe('timeout');
    // Every call has ended: the shared timer stops at its next tick, and a new call starts another.
    await sleep(LIMITS.stallMs);
    expect((await outcome(stall)).error?.kind).toBe('timeout');
  });

  it('waits past the stall timeout for the answer once the whole body was sent', async () => {
    const result = await outcome(async (call) => {
      call.onBytes(0);
      call.onBytes(1_000);
      call.bodySent?.();
      // got reports the finished body once more; that is not a new request.
      call.onBytes(1_000);
      await sleep(LIMITS.stallMs * 3);
      return 'answered';
    });
    expect(result.error).toBeUndefined();
    expect(result.value).toBe('answered');
  });

  it('gives up on an answer that does not come within the reply deadline', async () => {
    const result = await outcome(async (call) => {
      call.onBytes(0);
      call.bodySent?.();
      return untilAborted(call);
    });
    expect(result.error!.kind).toBe('timeout');
    expect(result.error!.message).toMatch(/everything was sent, but the server did not answer within 1 s \(stalled\)/);
    expect(result.ms).toBeGreaterThanOrEqual(LIMITS.replyMs - 50);
  });

  it('counts the next request of the same call as sending again', async () => {
    const result = await outcome(async (call) => {
      call.onBytes(0);
      call.bodySent?.();
      await sleep(LIMITS.stallMs * 2);
      call.onBytes(0);
      call.onBytes(10);
      return untilAborted(call);
    });
    expect(result.error!.message).toMatch(/nothing moved/);
    expect(result.ms).toBeLessThan(LIMITS.replyMs);
  });
});
