/**
 * The two IPC channels between the main process and the preload. Shared by both (the preload bundles
 * this file), so it must stay free of Node and Electron imports.
 */

/** renderer → main, `ipcRenderer.invoke(CALL_CHANNEL, command, input)` → `ApiResult`. */
export const CALL_CHANNEL = 'ferry:call';

/** main → renderer, `webContents.send(EVENT_CHANNEL, {event, payload})`. */
export const EVENT_CHANNEL = 'ferry:event';

/**
 * renderer → main, `ipcRenderer.invoke(REVEAL_CHANNEL, jobId)` → `ApiResult<null>`: shows a job's
 * source file in the system's file manager. Desktop only, so it is not a command of the API table
 * (`ferry serve` could only open a file manager on the server's screen).
 */
export const REVEAL_CHANNEL = 'ferry:reveal';
