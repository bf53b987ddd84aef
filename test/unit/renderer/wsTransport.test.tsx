// @vitest-environment happy-dom
/**
 * The `ferry serve` transport's staging of dropped files, against a real loopback HTTP server: a
 * server busy receiving other files (503 + Retry-After) makes the file wait its turn, not fail.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createWsTransport } from '../../../renderer/transport/wsTransport.ts';

interface StagingEndpoint {
  origin: string;
  seen: Array<{ at: number; bytes: number }>;
  close(): Promise<void>;
}
type Answer = { status: number; headers?: Record<string, string>; body: unknown };

// The stand-in server is Node code (test/support/stagingEndpoint.ts); loaded by a path held in a
// variable, so that this file, typechecked as renderer code without Node types, does not pull it in.
const ENDPOINT_MODULE = '../../support/stagingEndpoint.ts';
let endpoint: StagingEndpoint | null = null;

async function stagingServer(answers: Answer[]): Promise<StagingEndpoint> {
  const loaded = (await import(/* @vite-ignore */ ENDPOINT_MODULE)) as {
    startStagingEndpoint(answers: Answer[]): Promise<StagingEndpoint>;
  };
  endpoint = await loaded.startStagingEndpoint(answers);
  return endpoint;
}

afterEach(async () => {
  await endpoint?.close();
  endpoint = null;
});

/** A WebSocket that never connects: these tests are about the staging endpoint only. */
class SilentSocket {
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onmessage: (() => void) | null = null;
  readyState = 0;
  send(): void {}
  close(): void {}
}

describe('the serve transport stages a dropped file', () => {
  it('waits for Retry-After when the server is busy (503), then sends the file again', async () => {
    const busy = { ok: false, error: { code: 'CONFLICT', message: 'Ferry is receiving 4 files already' } };
    const { origin, seen } = await stagingServer([
      { status: 503, headers: { 'retry-after': '1' }, body: busy },
      { status: 200, body: { ok: true, value: [{ id: 7 }] } },
    ]);
    const transport = createWsTransport({
      token: 't',
      origin,
      WebSocketImpl: SilentSocket as unknown as typeof WebSocket,
    });
    try {
      const ids = await transport.stageFile!(new File(['harbour bytes'], 'harbour.png'), 'community');
      expect(ids).toEqual([7]);
      expect(seen).toHaveLength(2);
      expect(seen[1]!.bytes).toBe('harbour bytes'.length);
      expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(900);
    } finally {
      transport.close();
    }
  });

  it('says what the server said when it refuses for another reason (no retry)', async () => {
    const { origin, seen } = await stagingServer([
      {
        status: 413,
        body: {
          ok: false,
          error: { code: 'INVALID_INPUT', message: 'harbour.png is more than SelfCommunity accepts' },
        },
      },
    ]);
    const transport = createWsTransport({
      token: 't',
      origin,
      WebSocketImpl: SilentSocket as unknown as typeof WebSocket,
    });
    try {
      await expect(transport.stageFile!(new File(['x'], 'harbour.png'), 'community')).rejects.toThrow(
        'harbour.png is more than SelfCommunity accepts',
      );
      expect(seen).toHaveLength(1);
    } finally {
      transport.close();
    }
  });
});
