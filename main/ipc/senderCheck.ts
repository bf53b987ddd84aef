/**
 * Who may call the API over IPC: the main frame of one of Ferry's own windows, showing Ferry's own
 * page. Anything else — an iframe, a page the window was somehow navigated to, another webContents
 * (DevTools, a future helper window), a frame already gone — is refused. Electron documents
 * `senderFrame` as the thing to check; the sender's webContents alone says nothing about which
 * document in it sent the message.
 */
import { isAppUrl } from '../app/appProtocol.ts';

/** The part of `IpcMainInvokeEvent` checked here. */
export interface IpcSenderInfo {
  sender: { id: number };
  senderFrame: { url: string; parent: unknown } | null;
}

/** Why the sender is refused, or null when it may call. */
export function senderRefusal(event: IpcSenderInfo, trustedContents: ReadonlySet<number>): string | null {
  if (!trustedContents.has(event.sender.id)) return `webContents ${event.sender.id} is not a Ferry window`;
  const frame = event.senderFrame;
  if (frame === null) return 'the sending frame is gone (navigated or closed)';
  if (frame.parent !== null) return `a subframe (${truncate(frame.url)}) may not call Ferry`;
  if (!isAppUrl(frame.url)) return `the page ${truncate(frame.url)} is not Ferry's`;
  return null;
}

function truncate(url: string): string {
  return JSON.stringify(url.length > 120 ? `${url.slice(0, 117)}...` : url);
}
