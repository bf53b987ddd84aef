/**
 * A raw HTTP request for tests of `ferry serve`: the exact path (no client-side normalisation), any
 * method and headers, and the whole answer read as text.
 */
import { request as httpRequest, type ClientRequest } from 'node:http';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request: exact path (no client-side normalisation) and any headers. */
export async function http(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<HttpAnswer> {
  const { request, answer } = openRequest(base, path, options);
  request.end(options.body);
  return answer;
}

/**
 * A request whose body the test writes itself (and ends), bit by bit: to hold an upload open, or
 * stall it. The headers go out at once.
 */
export function openRequest(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): { request: ClientRequest; answer: Promise<HttpAnswer> } {
  const url = new URL(base);
  let request!: ClientRequest;
  const answer = new Promise<HttpAnswer>((resolve, reject) => {
    request = httpRequest(
      { host: url.hostname, port: url.port, path, method: options.method ?? 'GET', headers: options.headers ?? {} },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
  });
  return { request, answer };
}
