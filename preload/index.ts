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
 *   the file manager (main looks the path up; the page never names a path).
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
import { CALL_CHANNEL, EVENT_CHANNEL, REVEAL_CHANNEL } from '../main/ipc/channels.ts';
import type { FerryDesktopBridge } from './bridge.ts';

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
};

contextBridge.exposeInMainWorld('ferry', bridge);
