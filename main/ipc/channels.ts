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

/** renderer → main, `ipcRenderer.invoke(OPEN_LOG_FOLDER_CHANNEL)` → `ApiResult<null>`: opens the log folder. Desktop only. */
export const OPEN_LOG_FOLDER_CHANNEL = 'ferry:open-log-folder';

/**
 * renderer → main, `ipcRenderer.invoke(LOG_CHANNEL, {level, message})` → `ApiResult<null>`: an error
 * of the window (an uncaught exception, a rejected promise, an error boundary) written to the app's
 * log by main, where it is redacted. Desktop only.
 */
export const LOG_CHANNEL = 'ferry:log';

/**
 * renderer → main, `ipcRenderer.invoke(STAGE_BYTES_CHANNEL, {account, name, bytes, options?})` →
 * the `jobs.enqueue` envelope: a file that has no path (a pasted screenshot) is copied into the
 * staging folder and queued, as `ferry serve`'s `POST /api/stage` does. Desktop only.
 */
export const STAGE_BYTES_CHANNEL = 'ferry:stage-bytes';
