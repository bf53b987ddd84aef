import { createElectronTransport } from './electronTransport.ts';
import { takeToken } from './token.ts';
import type { Transport } from './types.ts';
import { createWsTransport, takeEarlySocket } from './wsTransport.ts';

/**
 * Chooses how to reach the API: Electron's preload bridge when it is there, else the WebSocket of
 * `ferry serve` that served this page. Returns null when neither is possible (a served page opened
 * without its token), so the app can say how to open it properly.
 */
export function pickTransport(): Transport | null {
  if (window.ferry) return createElectronTransport(window.ferry, window.pathForFile);
  // The socket renderer/public/early-socket.js opened while this bundle loaded, if any.
  const early = takeEarlySocket();
  const token = takeToken();
  if (!token) {
    early?.socket?.close();
    return null;
  }
  return createWsTransport({ token, early });
}
