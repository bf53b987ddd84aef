/**
 * The type of `window.ferry` in the desktop app: the transport-agnostic FerryBridge of the contract
 * (`call`, `on`), one method per command, `pathForFile` for drag and drop, `revealInFolder`,
 * `openLogFolder`, `reportError` and `stageBytes`. Type-only and free of
 * Node and Electron types, so the renderer can import it:
 *
 *   import type { FerryDesktopBridge } from '../preload/bridge.ts';
 *   declare global { interface Window { ferry?: FerryDesktopBridge } }
 */
import type { ApiResult, CommandInput, CommandName, CommandOutput, FerryBridge } from '../main/api/contract.ts';

/** A command as a method; commands without input may be called without an argument. */
export type CommandMethod<K extends CommandName> =
  undefined extends CommandInput<K>
    ? (input?: CommandInput<K>) => Promise<ApiResult<CommandOutput<K>>>
    : (input: CommandInput<K>) => Promise<ApiResult<CommandOutput<K>>>;

export type CommandMethods = { readonly [K in CommandName]: CommandMethod<K> };

export interface FerryDesktopBridge extends FerryBridge, CommandMethods {
  /**
   * The absolute path of a File from a drop or an <input type="file"> (Electron's
   * `webUtils.getPathForFile`); "" for a File made in the page.
   */
  pathForFile(file: File): string;
  /**
   * Shows the source file of job `jobId` in the system's file manager. Refused (as an envelope) for
   * URL jobs, copies uploaded through the browser, unknown jobs and files that are gone.
   */
  revealInFolder(jobId: number): Promise<ApiResult<null>>;
  /** Opens the folder of Ferry's log files in the system's file manager (Settings' "Open log folder"). */
  openLogFolder(): Promise<ApiResult<null>>;
  /**
   * Writes an error of the window to Ferry's log (redacted there); for an error boundary. Uncaught
   * errors and rejected promises of the window are reported by the preload itself.
   */
  reportError(message: string): Promise<ApiResult<null>>;
  /**
   * Queues a file that has no path (a pasted screenshot, a File made in the page) for `account`: main
   * copies the bytes into the staging folder and enqueues that copy, like `ferry serve`'s
   * `POST /api/stage` (the same checks: a plain file name, the provider's size limit and types, free
   * disk space). At most 256 MiB per call; bigger files are dropped or picked, which gives a path.
   */
  stageBytes(input: StageBytesInput): Promise<ApiResult<CommandOutput<'jobs.enqueue'>>>;
}

/** What `stageBytes` takes. */
export interface StageBytesInput {
  account: string;
  /** A plain file name (no folders), e.g. `Screenshot 2026-12-04 10.31.07.png`. */
  name: string;
  bytes: Uint8Array;
  /** The account's per-upload options, as with `jobs.enqueue`. */
  options?: Record<string, string>;
}
