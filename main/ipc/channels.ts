/**
 * The two IPC channels between the main process and the preload. Shared by both (the preload bundles
 * this file), so it must stay free of Node and Electron imports.
 */

/** renderer → main, `ipcRenderer.invoke(CALL_CHANNEL, command, input)` → `ApiResult`. */
export const CALL_CHANNEL = 'ferry:call';

/** main → renderer, `webContents.send(EVENT_CHANNEL, {event, payload})`. */
export const EVENT_CHANNEL = 'ferry:event';
