import type { ApiErrorPayload, ApiResult, JobView } from '../../main/api/contract.ts';
import { ApiCallError } from './apiCallError.ts';
import type { ElectronBridge, Transport } from './types.ts';

/** The Electron transport: the preload's `window.ferry`, always connected. */
export function createElectronTransport(bridge: ElectronBridge, pathForFile?: (file: File) => string): Transport {
  const toPath = bridge.pathForFile ?? pathForFile;
  const reveal = bridge.revealInFolder;
  const stageBytes = bridge.stageBytes;
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
    // A file without a path (a pasted screenshot) goes to main as bytes, when the preload offers it.
    stageFile: stageBytes
      ? async (file, account, onProgress) => {
          const result = await stageBytes({
            account,
            name: file.name,
            bytes: new Uint8Array(await file.arrayBuffer()),
          });
          if (!result.ok) throw new ApiCallError(result.error.code, result.error.message);
          onProgress?.(file.size);
          return result.value.map((job: JobView) => job.id);
        }
      : null,
    openLogFolder: bridge.openLogFolder
      ? async () => {
          const result = await bridge.openLogFolder!();
          // It may answer with the API's envelope; a refusal carries the reason to show.
          if (typeof result === 'object' && result !== null && (result as ApiResult<unknown>).ok === false) {
            const { error } = result as { error: ApiErrorPayload };
            throw new ApiCallError(error.code, error.message);
          }
        }
      : null,
  };
}
