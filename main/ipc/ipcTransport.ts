/**
 * The Electron transport of the API table: ONE invoke channel (`ferry:call`) that answers every
 * command with the `{ok, value | error}` envelope, and ONE event channel (`ferry:event`) that pushes
 * every API event to each trusted window. Beside the table, the desktop-only `ferry:reveal` (show a
 * job's file in its folder) goes through the same sender check.
 *
 * - Unknown channels have no handler (Electron rejects the invoke); unknown commands and malformed
 *   input come back as `{ok: false}` from `FerryApi.call`, which never throws.
 * - A call from anything but the main frame of a trusted window, showing Ferry's page, is refused:
 *   the invoke rejects and the attempt is logged. It is not an envelope on purpose — no Ferry page
 *   sent it, so there is no UI to show an error to.
 *
 * Electron is reached through the small interfaces below, so tests drive it with fakes.
 */
import type { ApiEvent, ApiResult } from '../api/contract.ts';
import { CALL_CHANNEL, EVENT_CHANNEL, REVEAL_CHANNEL } from './channels.ts';
import { senderRefusal, type IpcSenderInfo } from './senderCheck.ts';

/** The part of `ipcMain` used here. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcSenderInfo, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

/** The part of a window's `webContents` used here. */
export interface EventTargetContents {
  readonly id: number;
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
  once(event: 'destroyed', listener: () => void): unknown;
}

export interface IpcTransportOptions {
  ipcMain: IpcMainLike;
  /** The API dispatcher: never throws, always an envelope. */
  call: (command: string, input: unknown) => Promise<ApiResult<unknown>>;
  /** Subscribes to every API event; returns the function that unsubscribes. */
  subscribe: (listener: (event: ApiEvent) => void) => () => void;
  /** Shows a job's source file in the file manager (see revealInFolder.ts); no channel without it. */
  reveal?: (jobId: unknown) => ApiResult<null> | Promise<ApiResult<null>>;
  log?: (message: string, error?: unknown) => void;
}

export class IpcTransport {
  readonly #options: IpcTransportOptions;
  /** Trusted webContents ids, each with the function that stops its event stream. */
  readonly #windows = new Map<number, () => void>();
  #closed = false;

  constructor(options: IpcTransportOptions) {
    this.#options = options;
    options.ipcMain.handle(CALL_CHANNEL, (event, command, input) => this.#handle(event, command, input));
    const reveal = options.reveal;
    if (reveal) {
      options.ipcMain.handle(REVEAL_CHANNEL, async (event, jobId) => {
        this.#check(event, 'reveal');
        if (this.#closed)
          return {
            ok: false,
            error: { code: 'CONFLICT', message: 'Ferry is quitting; the request was not carried out' },
          };
        try {
          return await reveal(jobId);
        } catch (error) {
          this.#options.log?.('Could not show a file in its folder', error);
          return {
            ok: false,
            error: { code: 'INTERNAL', message: 'Ferry could not open the folder; the details are in its log' },
          };
        }
      });
    }
  }

  /**
   * Trusts a window's webContents and streams every API event to it until it is destroyed (or the
   * returned function is called). A reload keeps the stream: the preload listens again.
   */
  attach(contents: EventTargetContents): () => void {
    this.#windows.get(contents.id)?.();
    const unsubscribe = this.#options.subscribe((event) => {
      if (contents.isDestroyed()) return;
      contents.send(EVENT_CHANNEL, event);
    });
    const detach = (): void => {
      if (this.#windows.get(contents.id) !== detach) return;
      this.#windows.delete(contents.id);
      unsubscribe();
    };
    this.#windows.set(contents.id, detach);
    contents.once('destroyed', detach);
    return detach;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#options.ipcMain.removeHandler(CALL_CHANNEL);
    if (this.#options.reveal) this.#options.ipcMain.removeHandler(REVEAL_CHANNEL);
    for (const detach of [...this.#windows.values()]) detach();
  }

  /** Throws (the invoke rejects) when the sender is not the main frame of a trusted window. */
  #check(event: IpcSenderInfo, what: string): void {
    const refusal = senderRefusal(event, new Set(this.#windows.keys()));
    if (refusal === null) return;
    this.#options.log?.(`Refused an IPC call (${what}): ${refusal}`);
    throw new Error('Ferry refused this call: it did not come from the Ferry window');
  }

  async #handle(event: IpcSenderInfo, command: unknown, input: unknown): Promise<ApiResult<unknown>> {
    this.#check(event, typeof command === 'string' ? command.slice(0, 60) : typeof command);
    if (this.#closed)
      return { ok: false, error: { code: 'CONFLICT', message: 'Ferry is quitting; the request was not carried out' } };
    return this.#options.call(command as string, input);
  }
}
