import { ApiCallError } from './apiCallError.ts';
import type { ElectronBridge, Transport } from './types.ts';

/** The Electron transport: the preload's `window.ferry`, always connected. */
export function createElectronTransport(bridge: ElectronBridge, pathForFile?: (file: File) => string): Transport {
  const toPath = bridge.pathForFile ?? pathForFile;
  const reveal = bridge.revealInFolder;
  return {
    kind: 'electron',
    bridge,
    onConnection(listener) {
      listener('open');
      return () => undefined;
    },
    pathForFile: (file) => {
      const path = toPath?.(file) ?? '';
      return path === '' ? null : path;
    },
    revealInFolder: reveal
      ? async (jobId) => {
          const result = await reveal(jobId);
          if (!result.ok) throw new ApiCallError(result.error.code, result.error.message);
        }
      : null,
    stageFile: null,
  };
}
