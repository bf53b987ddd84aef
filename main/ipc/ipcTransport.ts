/**
 * The Electron transport of the API table: ONE invoke channel (`ferry:call`) that answers every
 * command with the `{ok, value | error}` envelope, and ONE event channel (`ferry:event`) that pushes
 * every API event to each trusted window. Beside the table, the desktop-only channels (`ferry:reveal`:
 * show a job's file in its folder; `ferry:open-log-folder`; `ferry:log`: the window's errors for the
 * log; `ferry:stage-bytes`: queue a file that has no path) go through the same sender check.
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
import {
  CALL_CHANNEL,
  EVENT_CHANNEL,
  LOG_CHANNEL,
  OPEN_LOG_FOLDER_CHANNEL,
  REVEAL_CHANNEL,
  STAGE_BYTES_CHANNEL,
} from './channels.ts';
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
  /** Opens the log folder in the file manager; no channel without it. */
  openLogFolder?: () => Promise<ApiResult<null>>;
  /** Writes an error of the window to the log (main redacts it); no channel without it. */
  rendererLog?: (message: string) => void;
  /** Stages bytes without a path and queues them (see app/stageBytes.ts); no channel without it. */
  stageBytes?: (input: unknown) => Promise<ApiResult<unknown>>;
  log?: (message: string, error?: unknown) => void;
}

export class IpcTransport {
  readonly #options: IpcTransportOptions;
  /** Trusted webContents ids, each with the function that stops its event stream. */
  readonly #windows = new Map<number, () => void>();
  readonly #desktopChannels: string[] = [];
  #closed = false;

  constructor(options: IpcTransportOptions) {
    this.#options = options;
    options.ipcMain.handle(CALL_CHANNEL, (event, command, input) => this.#handle(event, command, input));
    const { reveal, openLogFolder, rendererLog, stageBytes } = options;
    if (reveal)
      this.#desktop(REVEAL_CHANNEL, 'reveal', 'Could not show a file in its folder', (jobId) => reveal(jobId));
    if (openLogFolder)
      this.#desktop(OPEN_LOG_FOLDER_CHANNEL, 'open log folder', 'Could not open the log folder', () => openLogFolder());
    if (rendererLog) {
      this.#desktop(LOG_CHANNEL, 'log', 'Could not log an error of the window', (entry) => {
        const message = (entry as { message?: unknown } | null)?.message;
        if (typeof message !== 'string') {
          return { ok: false, error: { code: 'INVALID_INPUT', message: 'A log entry needs a message (text)' } };
        }
        // A page in a loop must not fill the disk: one entry is at most 8 KB of text.
        rendererLog(message.length > 8_192 ? `${message.slice(0, 8_192)}… (cut)` : message);
        return { ok: true, value: null };
      });
    }
    if (stageBytes) this.#desktop(STAGE_BYTES_CHANNEL, 'stage bytes', 'Could not queue pasted bytes', stageBytes);
  }

  /** A desktop-only invoke channel: sender check, refused while quitting, and never a raw throw. */
  #desktop(
    channel: string,
    what: string,
    failure: string,
    handler: (input: unknown) => ApiResult<unknown> | Promise<ApiResult<unknown>>,
  ): void {
    this.#desktopChannels.push(channel);
    this.#options.ipcMain.handle(channel, async (event, input) => {
      this.#check(event, what);
      if (this.#closed)
        return {
          ok: false,
          error: { code: 'CONFLICT', message: 'Ferry is quitting; the request was not carried out' },
        };
      try {
        return await handler(input);
      } catch (error) {
        this.#options.log?.(failure, error);
        return {
          ok: false,
          error: { code: 'INTERNAL', message: `${failure}; the details are in Ferry's log` },
        };
      }
    });
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
    for (const channel of this.#desktopChannels) this.#options.ipcMain.removeHandler(channel);
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
