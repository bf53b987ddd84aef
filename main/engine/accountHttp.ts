/**
 * The HTTP client of one account: got with keep-alive agents, no automatic retries (the engine owns
 * retries so that they are counted, logged and bounded), every status returned to the adapter, and a
 * pacing hook that waits for the account lane's token bucket before each request goes out.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import got, { type Got } from 'got';

export interface AccountHttpOptions {
  /** Awaited before every request (rate limit and lane-wide 429 pause). Rejects when aborted. */
  pace?: (signal: AbortSignal | undefined) => Promise<void>;
  /** Sockets kept per origin; parallel parts need as many as the lane runs at once. */
  maxSockets?: number;
}

export const USER_AGENT = 'Ferry/0.1 (+desktop upload manager)';

export function createAccountHttp(options: AccountHttpOptions = {}): Got {
  const maxSockets = options.maxSockets ?? 16;
  const pace = options.pace;
  return got.extend({
    agent: {
      http: new HttpAgent({ keepAlive: true, maxSockets }),
      https: new HttpsAgent({ keepAlive: true, maxSockets }),
    },
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    // Connection set-up gets a bound here; a transfer that stops moving is caught by the engine's
    // stall watchdog, which knows when bytes last moved.
    timeout: { lookup: 15_000, connect: 15_000, secureConnect: 15_000 },
    headers: { 'user-agent': USER_AGENT },
    hooks: pace
      ? {
          beforeRequest: [
            async (requestOptions) => {
              await pace(requestOptions.signal as AbortSignal | undefined);
            },
          ],
        }
      : {},
  });
}
