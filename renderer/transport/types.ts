import type { FerryDesktopBridge } from '../../preload/bridge.ts';
/**
 * What the renderer needs from its host. The API contract is shared with main (type-only imports, it
 * has no Node imports); the extras below are what only one of the two hosts can do.
 */
import type { ApiResult, FerryBridge, JobView } from '../../main/api/contract.ts';

export type ConnectionState = 'connecting' | 'open' | 'closed';

/** A transport as the renderer sees it: the bridge plus what the host adds around it. */
export interface Transport {
  readonly kind: 'electron' | 'serve';
  readonly bridge: FerryBridge;
  /** Follows the connection (WebSocket); Electron's IPC is always open. Returns an unsubscribe. */
  onConnection(listener: (state: ConnectionState) => void): () => void;
  /** The absolute path of a dropped file (Electron); null when the host cannot tell one. */
  pathForFile(file: File): string | null;
  /**
   * Shows a job's source file in the system's file manager (Electron); null when the host cannot.
   * Rejects with an ApiCallError carrying the reason (a URL job, a browser copy, a file that is gone).
   */
  readonly revealInFolder: ((jobId: number) => Promise<void>) | null;
  /**
   * Sends a file's bytes to the server, which queues it (serve). Resolves with the queued jobs'
   * ids; rejects with an ApiCallError carrying the server's reason.
   */
  readonly stageFile: ((file: File, account: string, onProgress?: (sent: number) => void) => Promise<number[]>) | null;
  /** Opens the folder of Ferry's log files in the file manager (desktop app); null when the host cannot. */
  readonly openLogFolder: (() => Promise<void>) | null;
}

/** What Electron's preload puts on `window` (see preload/): the bridge, and its file helpers. */
export interface ElectronBridge extends FerryBridge {
  pathForFile?: (file: File) => string;
  revealInFolder?: (jobId: number) => Promise<ApiResult<null>>;
  /** Added by newer preloads: opens the log folder. Older ones lack it, so it is looked for, not assumed. */
  openLogFolder?: () => Promise<ApiResult<null>>;
  /**
   * Added by a newer preload (main-side staging of bytes): queues a file that has no path on disk, such
   * as a pasted screenshot, from its bytes. Looked for, not assumed.
   */
  stageBytes?: (input: { account: string; name: string; bytes: Uint8Array }) => Promise<ApiResult<JobView[]>>;
}

declare global {
  interface Window {
    ferry?: ElectronBridge;
    pathForFile?: (file: File) => string;
  }
}

// Compile-time check: what the desktop app's preload exposes fits what this transport looks for.
type DesktopBridgeFits<T extends ElectronBridge> = T;
export type CheckedDesktopBridge = DesktopBridgeFits<FerryDesktopBridge>;
