/**
 * The provider port. An adapter knows one upload protocol and nothing about the queue: it gets the
 * persisted session and the account, makes HTTP calls through `account.http`, and returns facts.
 * It never touches SQLite, timers, IPC or the retry policy; it reports failures by throwing an
 * UploadError whose kind tells the engine what to do (see main/engine/retryPolicy.ts).
 *
 * Abort contract: every call receives `call.signal`. When it fires (pause, cancel, shutdown, or the
 * engine's stall watchdog) the adapter must stop at once and let the rejection propagate; it must not
 * catch the abort and carry on. The engine decides what the abort means from `signal.reason`.
 */
import type { Got } from 'got';
import type { FileSource } from '../core/fileSource.ts';
import type { UploadResult } from '../core/results.ts';

export const PROVIDER_IDS = ['ofauth', 'selfcommunity', 'oktopost', 'xvid', 'twentythree'] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

/** One field of an account form: secrets go to the SecretStore, settings to the database. */
export interface AccountField {
  key: string;
  label: string;
  kind: 'secret' | 'setting';
  required: boolean;
  default?: string;
  hint?: string;
  /** When set, the value must be one of these. */
  choices?: readonly string[];
}

export interface ProviderCapabilities {
  /** What the provider can take: local files, or public http(s) URLs that it pulls itself. */
  sources: 'file' | 'url';
  /** `serial` parts are sent one after another; `parallel` up to `maxParallelParts` at once. */
  partOrder: 'serial' | 'parallel';
  maxParallelParts: number;
  /** The documented request budget of one account; the account's lane paces every call to it. */
  rateLimit: { perMinute: number; burst: number } | null;
  /** Default API origin, or null when every account must give its own base URL. */
  defaultBaseUrl: string | null;
  /** Said in the job details when resume is coarser than a part (e.g. "resume re-sends the file"). */
  resumeNote?: string;
  /**
   * Acknowledgements may be recorded in small batches (the parts of a batch, or those acknowledged
   * within `ms`, in one commit) rather than one commit per part: only for a protocol whose server is
   * the authority on what it holds, so that a kill that forgets a batch costs at most that batch
   * again (a re-sent chunk overwrites, or an offset check resynchronises). Absent: one commit per part.
   */
  ackBatch?: { parts: number; ms: number };
  /**
   * What `validateSource` accepts, declared so that a UI can refuse a file before queueing it: MIME
   * patterns (`image/*`, `application/pdf`, or `*\/*` for any type) with the largest size of each.
   * `validateSource` stays the authority; a unit test keeps the two in step.
   */
  accepts: readonly AcceptedType[];
}

export interface AcceptedType {
  /** A MIME type or a `major/*` pattern; `*\/*` matches every type. */
  type: string;
  /** The largest accepted size in bytes, or null when the provider states none. */
  maxBytes: number | null;
}

export type UploadSource =
  | { kind: 'file'; path: string; name: string; size: number; mime: string }
  | { kind: 'url'; url: string; name: string; size: number | null; mime: string };

/** What an adapter knows of the job it works on. */
export interface JobContext {
  jobId: number;
  source: UploadSource;
  /** Per-upload options given with the upload (`--set KEY=VALUE`), e.g. title or album. */
  options: Readonly<Record<string, string>>;
  /** Streaming access to the file; null for URL sources. */
  file: FileSource | null;
}

/** The account an adapter works for, with its secrets resolved and its paced HTTP client. */
export interface AccountContext {
  id: number;
  name: string;
  /** API origin without a trailing slash: the account's base URL or the provider default. */
  baseUrl: string;
  settings: Readonly<Record<string, string>>;
  secrets: Readonly<Record<string, string>>;
  /**
   * Got instance for this account: keep-alive agent, no automatic retries (the engine retries),
   * `throwHttpErrors: false`, and every request paced by the account's lane. Use it through
   * `main/providers/http.ts` helpers so that aborts and transport errors are mapped one way.
   */
  http: Got;
}

export interface CallContext {
  signal: AbortSignal;
  /**
   * Report upload progress of the request in flight: bytes of this request's payload sent so far.
   * Also feeds the stall watchdog, so call it whenever bytes move.
   */
  onBytes(sentInThisRequest: number): void;
  /**
   * Says that the request in flight has written its whole body: from now on the call waits for the
   * server's answer, which may legitimately take long (a last chunk assembled, a finalize while the
   * platform ingests), so the stall watchdog stops counting "no bytes moving" and waits up to the
   * step's reply deadline instead. The next `onBytes` (another request of the same call) counts as
   * sending again. `main/providers/http.ts` calls it for every request; optional for test doubles.
   */
  bodySent?(): void;
}

/** A byte range of the source; `end` is exclusive. `index` is 0-based and stable for a session. */
export interface PartSpec {
  index: number;
  start: number;
  end: number;
}

/** The result type lives in the core (the database records it too). */
export type { UploadResult };

export type PartOutcome<S> =
  /** The server accepted the part; `session` is the (possibly updated) session to persist. */
  | { kind: 'acked'; session: S }
  /**
   * The server holds exactly bytes [0, serverOffset) (e.g. SelfCommunity's offset-mismatch reply).
   * The engine keeps the parts that end at or before it and sends the rest again.
   */
  | { kind: 'resync'; session: S; serverOffset: number };

export type FinalizeOutcome<S> =
  | { kind: 'completed'; result: UploadResult }
  /** The server still works on the file; the engine polls with `poll` until it is done. */
  | { kind: 'processing'; session: S; result?: UploadResult };

export type PollOutcome<S> =
  | { kind: 'processing'; session: S; progress?: { done: number; total: number } }
  | { kind: 'completed'; result: UploadResult };

/**
 * The outcome of a connection test. `checked` says in words what was actually asked, so that a pass
 * never claims more than was tested; `message` says why it failed and what the user can do.
 */
export type ConnectionCheck =
  { ok: true; checked: string; message: null } | { ok: false; checked: string; message: string };

/**
 * What Ferry says about a provider without loading its code (no HTTP client, no reply parsers): each
 * provider keeps it in `<id>Description.ts`, its adapter spreads it, and catalog.ts lists them.
 */
export type ProviderDescription = Pick<ProviderAdapter, 'id' | 'displayName' | 'fields' | 'capabilities'>;

export interface ProviderAdapter<S = unknown> {
  readonly id: ProviderId;
  readonly displayName: string;
  readonly fields: readonly AccountField[];
  readonly capabilities: ProviderCapabilities;

  /**
   * Checks, before anything is sent or queued, that the provider can take this source (kind, type,
   * size). Throws UploadError `too-large` or `unsupported` with a message that names the file and
   * the limit, or `invalid` for an upload option the provider does not take (and, for most adapters,
   * an empty file; see `refuseEmptyFile` in adapterHelpers.ts).
   */
  validateSource(source: UploadSource, options: Readonly<Record<string, string>>): void;

  /** Parses a persisted session; returns null when it is missing, corrupt or from an older shape. */
  parseSession(raw: unknown): S | null;

  /** False when the session can no longer be used (e.g. past its expiry): a new one is created. */
  sessionUsable(session: S, nowMs: number): boolean;

  /** Starts a new remote upload (or prepares one locally when the first part creates it). */
  createSession(account: AccountContext, job: JobContext, call: CallContext): Promise<S>;

  /**
   * The parts to send for this session, in order. Pure. Parts the engine already holds as
   * acknowledged for this session are skipped. May be empty (pull providers; single-request uploads
   * that happen in `finalize`).
   */
  planParts(session: S, job: JobContext): PartSpec[];

  /** Sends one part; resolves only once the server has accepted it. */
  uploadPart(
    account: AccountContext,
    job: JobContext,
    session: S,
    part: PartSpec,
    call: CallContext,
  ): Promise<PartOutcome<S>>;

  /**
   * Completes the upload after every part was acknowledged. Called at most once per session unless
   * `resumed` is true: then a previous call started and its outcome is unknown (crash or lost reply),
   * and the adapter must reconcile in the provider's own way instead of blindly finalizing twice.
   */
  finalize(
    account: AccountContext,
    job: JobContext,
    session: S,
    call: CallContext & { resumed: boolean },
  ): Promise<FinalizeOutcome<S>>;

  /** Asks how server-side processing goes; required when `finalize` can return `processing`. */
  poll?(account: AccountContext, job: JobContext, session: S, call: CallContext): Promise<PollOutcome<S>>;

  /** Best effort removal of a remote upload the user canceled. Errors are ignored by the engine. */
  cancelRemote?(account: AccountContext, session: S, signal: AbortSignal): Promise<void>;

  /**
   * "Test connection": the cheapest request the provider answers only for valid credentials, sent
   * through `main/providers/http.ts`. It must leave nothing behind that a user would notice (or say in
   * `checked` what it leaves, e.g. an unused token that expires). The caller has already checked that
   * every required secret is present, and gives a base URL without a trailing slash, a throwaway HTTP
   * client and a deadline in `call.signal`.
   *
   * Every reply of the server, refusals and server errors included, resolves to a ConnectionCheck that
   * says what failed; it rejects only when no reply came (the UploadError `send` throws for a
   * transport failure, an abort or the deadline), which the caller reports as "could not reach".
   * Optional: a provider without it has no connection test, and the caller says so.
   */
  testConnection?(account: AccountContext, call: CallContext): Promise<ConnectionCheck>;

  /**
   * Called after the user changed the credentials, base URL or settings of one of this provider's
   * accounts: drop anything derived from the old values, such as cached access tokens. It may drop
   * more than that account's state (the next call simply fetches again); it must not throw.
   */
  credentialsChanged?(): void;
}
