/**
 * The type of `window.ferry` in the desktop app: the transport-agnostic FerryBridge of the contract
 * (`call`, `on`), one method per command, `pathForFile` for drag and drop and `revealInFolder`. Type-only and free of
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
}
