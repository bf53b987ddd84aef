/**
 * A stand-in for `ferry serve`'s staging endpoint, for the renderer's transport tests: answers each
 * POST with the next scripted answer, and records when each came and how many bytes it carried. It
 * lives here (Node types) because the renderer's tests typecheck without Node; they load it by path.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedAnswer {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

export interface StagingEndpoint {
  origin: string;
  seen: Array<{ at: number; bytes: number }>;
  close(): Promise<void>;
}

export async function startStagingEndpoint(answers: ScriptedAnswer[]): Promise<StagingEndpoint> {
  const seen: Array<{ at: number; bytes: number }> = [];
  const server = createServer((request, response) => {
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': 'content-type',
      'access-control-expose-headers': 'retry-after',
    };
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
      const answer = answers.shift() ?? {
        status: 500,
        body: { ok: false, error: { code: 'INTERNAL', message: 'no more answers' } },
      };
      response.writeHead(answer.status, { 'content-type': 'application/json', ...cors, ...answer.headers });
      response.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
