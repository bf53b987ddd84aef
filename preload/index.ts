/**
 * The preload of Ferry's window: `window.ferry`, the FerryBridge of the contract. It runs sandboxed
 * (bundled into one CommonJS file, dist/preload/index.cjs, with `electron` left as the sandbox's own
 * require) and holds no logic:
 *
 * - one method per API command, each `ipcRenderer.invoke('ferry:call', name, input)`, plus the
 *   generic `call(name, input)` of FerryBridge — only names from COMMAND_NAMES are sent;
 * - `on(event, listener)` for each event name of EVENT_NAMES, returning the function that
 *   unsubscribes; the listener receives the payload only, never Electron's IPC event (whose `sender`
 *   would hand the page the raw ipcRenderer);
 * - `pathForFile(file)`: the path of a dropped File (`webUtils.getPathForFile`), as the page cannot
 *   read it with the sandbox on;
 * - `revealInFolder(jobId)`: `ipcRenderer.invoke('ferry:reveal', jobId)`, which shows that job's file in
 *   the file manager (main looks the path up; the page never names a path);
 * - `openLogFolder()`, `reportError(message)` and `stageBytes({account, name, bytes})`: one invoke
 *   each (main/ipc/channels.ts says what they do);
 * - the window's uncaught errors and unhandled rejections go to Ferry's log through `ferry:log`.
 *   The preload listens for them itself: DOM events reach the isolated world of the preload too, so
 *   this works with contextIsolation and the sandbox on, without giving the page electron-log's own
 *   bridge (which would be a second, unchecked way into main) or bundling a logger into the page.
 *
 * Raw `ipcRenderer` is never exposed.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import {
  COMMAND_NAMES,
  EVENT_NAMES,
  type ApiEvent,
  type ApiResult,
  type CommandName,
  type EventName,
} from '../main/api/contract.ts';
import {
  CALL_CHANNEL,
  EVENT_CHANNEL,
  LOG_CHANNEL,
  OPEN_LOG_FOLDER_CHANNEL,
  REVEAL_CHANNEL,
  STAGE_BYTES_CHANNEL,
} from '../main/ipc/channels.ts';
import type { FerryDesktopBridge, StageBytesInput } from './bridge.ts';

const commands = new Set<string>(COMMAND_NAMES);
const events = new Set<string>(EVENT_NAMES);

type Listener = (payload: unknown) => void;
const listeners = new Map<EventName, Set<Listener>>();

// One IPC listener for every event; the page's listeners are kept here, by event name.
ipcRenderer.on(EVENT_CHANNEL, (_event, message: unknown) => {
  if (typeof message !== 'object' || message === null) return;
  const { event, payload } = message as ApiEvent;
  for (const listener of listeners.get(event) ?? []) {
    try {
      listener(payload);
    } catch (error) {
      console.error(`ferry: a listener of ${event} failed`, error);
    }
  }
});

function call(command: string, input: unknown): Promise<ApiResult<unknown>> {
  if (!commands.has(command)) {
    const shown = typeof command === 'string' ? JSON.stringify(command.slice(0, 60)) : typeof command;
    return Promise.resolve({ ok: false, error: { code: 'NOT_FOUND', message: `Ferry has no command ${shown}` } });
  }
  return ipcRenderer.invoke(CALL_CHANNEL, command, input) as Promise<ApiResult<unknown>>;
}

function on(event: string, listener: (payload: never) => void): () => void {
  if (!events.has(event)) throw new Error(`Ferry has no event ${JSON.stringify(String(event).slice(0, 60))}`);
  if (typeof listener !== 'function') throw new Error(`Ferry needs a function to call on ${event}`);
  const name = event as EventName;
  let set = listeners.get(name);
  if (!set) listeners.set(name, (set = new Set()));
  const wrapped: Listener = (payload) => (listener as (payload: unknown) => void)(payload);
  set.add(wrapped);
  return () => {
    set.delete(wrapped);
  };
}

const methods = Object.fromEntries(COMMAND_NAMES.map((name) => [name, (input?: unknown) => call(name, input)])) as {
  [K in CommandName]: FerryDesktopBridge[K];
};

const bridge: FerryDesktopBridge = {
  ...methods,
  call: call as FerryDesktopBridge['call'],
  on: on as FerryDesktopBridge['on'],
  pathForFile: (file: File) => webUtils.getPathForFile(file),
  revealInFolder: (jobId: number) => ipcRenderer.invoke(REVEAL_CHANNEL, jobId) as Promise<ApiResult<null>>,
  openLogFolder: () => ipcRenderer.invoke(OPEN_LOG_FOLDER_CHANNEL) as Promise<ApiResult<null>>,
  reportError: (message: string) => report(message),
  stageBytes: (input: StageBytesInput) =>
    ipcRenderer.invoke(STAGE_BYTES_CHANNEL, input) as ReturnType<FerryDesktopBridge['stageBytes']>,
};

function report(message: string): Promise<ApiResult<null>> {
  return (ipcRenderer.invoke(LOG_CHANNEL, { message: String(message) }) as Promise<ApiResult<null>>).catch(
    (): ApiResult<null> => ({ ok: false, error: { code: 'INTERNAL', message: 'Ferry could not write its log' } }),
  );
}

// Errors of the window, for the log. `event.error` may be null across worlds; the message and place are not.
// Typed here by what is read, so that this file also compiles where the DOM's types are absent (unit tests).
interface PageErrors {
  addEventListener(
    type: 'error',
    listener: (event: { message: string; filename: string; lineno: number; colno: number; error: unknown }) => void,
  ): void;
  addEventListener(type: 'unhandledrejection', listener: (event: { reason: unknown }) => void): void;
}
const page = (globalThis as unknown as { window: PageErrors }).window;
page.addEventListener('error', (event) => {
  const error = event.error;
  const stack = error instanceof Error && error.stack ? `\n${error.stack}` : '';
  void report(
    `Uncaught error in the window: ${event.message} (${event.filename}:${event.lineno}:${event.colno})${stack}`,
  );
});
page.addEventListener('unhandledrejection', (event) => {
  const reason = event.reason;
  const text = reason instanceof Error ? (reason.stack ?? reason.message) : String(reason);
  void report(`Unhandled rejection in the window: ${text}`);
});

contextBridge.exposeInMainWorld('ferry', bridge);
