/** A translate function: i18next's `t`, or the row cache's `rowT`. */
type Translate = (key: string, options?: Record<string, unknown>) => string;

/** What the engine wrote on a job that waits for an unreachable host (see main/engine/engine.ts `#waitForNetwork`). */
const WAITING_FOR_NETWORK = /^Waiting for network: (\S+) cannot be reached(?: \(([^)]*)\))?/;

export interface NetworkWait {
  /** `host:port` as the engine names it. */
  host: string;
  /** Why it cannot be reached (ECONNREFUSED, ENOTFOUND...), or an empty string. */
  code: string;
}

/**
 * The host a waiting job waits for, read from the engine's English message, or null when the job
 * waits for something else (a retry, a rate limit). The message is the only place the API names it
 * per job; the window shows its own words around the host instead of the English sentence.
 */
export function networkWaitOf(message: string | null | undefined): NetworkWait | null {
  if (!message) return null;
  const match = WAITING_FOR_NETWORK.exec(message);
  return match ? { host: match[1]!, code: match[2] ?? '' } : null;
}

/**
 * A waiting row's message line in the person's language: for a network wait only the host (the
 * state chip next to it already says "Waiting for network", and a narrow column keeps the host
 * readable), anything else as it is.
 */
export function waitingMessage(message: string, t: Translate): string {
  const wait = networkWaitOf(message);
  return wait ? t('network.unreachable', { host: wait.host }) : message;
}

/** The tooltip of that line: the whole sentence with the reason, translated for a network wait. */
export function waitingTitle(message: string, t: Translate): string {
  const wait = networkWaitOf(message);
  return wait ? t('network.waitingFor', { host: wait.host, code: wait.code }) : message;
}
