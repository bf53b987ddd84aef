import type { ElectronBridge, Transport } from './types.ts';

/** The Electron transport: the preload's `window.ferry`, always connected. */
export function createElectronTransport(bridge: ElectronBridge, pathForFile?: (file: File) => string): Transport {
  const toPath = bridge.pathForFile ?? pathForFile;
  const reveal = bridge.revealInFolder ?? bridge.showItemInFolder;
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
    revealInFolder: reveal ? (path) => reveal(path) : null,
    stageFile: null,
  };
}
