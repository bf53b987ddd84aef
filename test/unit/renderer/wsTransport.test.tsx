// @vitest-environment happy-dom
/**
 * The `ferry serve` transport's staging of dropped files, against a real loopback HTTP server: a
 * server busy receiving other files (503 + Retry-After) makes the file wait its turn, not fail.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createWsTransport } from '../../../renderer/transport/wsTransport.ts';

let server: Server | null = null;

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = null;
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

async function stagingServer(answers: Array<{ status: number; headers?: Record<string, string>; body: unknown }>) {
  const seen: Array<{ at: number; bytes: number }> = [];
  server = createServer((request, response) => {
    const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'content-type', 'access-control-expose-headers': 'retry-after' };
    if (request.method === 'OPTIONS') {
      // The page's origin differs from this server's: the browser asks first.
      response.writeHead(204, { ...cors, 'access-control-allow-methods': 'POST' });
      response.end();
      return;
    }
    let bytes = 0;
    request.on('data', (piece: Buffer) => (bytes += piece.length));
    request.on('end', () => {
      seen.push({ at: Date.now(), bytes });
      const answer = answers.shift() ?? { status: 500, body: { ok: false, error: { code: 'INTERNAL', message: 'no more answers' } } };
      response.writeHead(answer.status, { 'content-type': 'application/json', ...cors, ...answer.headers });
      response.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
}

describe('the serve transport stages a dropped file', () => {
  it('waits for Retry-After when the server is busy (503), then sends the file again', async () => {
    const busy = { ok: false, error: { code: 'CONFLICT', message: 'Ferry is receiving 4 files already' } };
    const { origin, seen } = await stagingServer([
      { status: 503, headers: { 'retry-after': '1' }, body: busy },
      { status: 200, body: { ok: true, value: [{ id: 7 }] } },
    ]);
    const transport = createWsTransport({ token: 't', origin, WebSocketImpl: SilentSocket as unknown as typeof WebSocket });
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
      { status: 413, body: { ok: false, error: { code: 'INVALID_INPUT', message: 'harbour.png is more than SelfCommunity accepts' } } },
    ]);
    const transport = createWsTransport({ token: 't', origin, WebSocketImpl: SilentSocket as unknown as typeof WebSocket });
    try {
      await expect(transport.stageFile!(new File(['x'], 'harbour.png'), 'community')).rejects.toThrow('harbour.png is more than SelfCommunity accepts');
      expect(seen).toHaveLength(1);
    } finally {
      transport.close();
    }
  });
});
