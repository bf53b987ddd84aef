/**
 * What an account's HTTP client does before each request goes out — wait for the account lane's
 * pacing, choose the proxy — kept beside the client rather than in a got hook: a hook (async, run by
 * got for every request) cost more per request than the work itself on small parts. The engine
 * registers it when it builds the client (engine/accountHttp.ts); providers/http.ts runs it.
 */

/** The per-request options a route sets; absent (undefined) when the client's defaults apply. */
export interface RequestRoute {
  /** The keep-alive agents to use (a proxy's); got's `agent` option. */
  agent: { http?: unknown; https?: unknown };
  /** Recorded in got's `context` (which proxy, for error messages). */
  context?: Record<string, unknown>;
}

/** Resolves once the request may go out; rejects when `signal` aborts while it waits. */
export type PrepareRequest = (url: string, signal: AbortSignal | undefined) => Promise<RequestRoute | undefined>;

const preparations = new WeakMap<object, PrepareRequest>();

export function setRequestPreparation(client: object, prepare: PrepareRequest): void {
  preparations.set(client, prepare);
}

export function requestPreparationOf(client: object): PrepareRequest | undefined {
  return preparations.get(client);
}
