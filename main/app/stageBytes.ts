/**
 * Queues bytes that have no file of their own — a screenshot pasted in the window (the preload's
 * `stageBytes`), an image on the clipboard (clipboardUpload.ts) — the way `ferry serve` queues a
 * file sent by a browser (main/serve/httpServer.ts, `POST /api/stage`): the same checks before a byte
 * is written (a plain file name, an account that takes files, the provider's size limit and types,
 * free disk space), a copy in the data folder's `staging/` (deleted once its job completes or is
 * removed), then `jobs.enqueue`. When the enqueue is refused, the copy is deleted: nothing is left
 * half-way.
 */
import { Readable } from 'node:stream';
import mime from 'mime-types';
import type { ApiResult, CommandOutput } from '../api/contract.ts';
import type { FerryApi } from '../api/ferryApi.ts';
import { toErrorPayload } from '../api/apiError.ts';
import { StagingRefusal, checkStagedName, providerSizeLimit, tooLargeRefusal } from '../api/staging.ts';
import { findAdapter } from '../providers/registry.ts';

/** Bytes sent over IPC are held in memory twice on the way: pasted files above this must be dropped instead. */
export const MAX_STAGED_BYTES = 256 * 1024 * 1024;

export interface StageBytesRequest {
  account: string;
  name: string;
  bytes: Uint8Array;
  options?: Record<string, string>;
}

type EnqueueResult = ApiResult<CommandOutput<'jobs.enqueue'>>;

function refusal(message: string): EnqueueResult {
  return { ok: false, error: { code: 'INVALID_INPUT', message } };
}

/** Checks what came over IPC (anything may arrive) and returns the request, or a refusal. */
export function parseStageBytes(input: unknown): StageBytesRequest | EnqueueResult {
  const value = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const { account, name, bytes, options } = value;
  if (typeof account !== 'string' || account === '') return refusal('Queuing pasted data needs an account name');
  if (typeof name !== 'string') return refusal('Queuing pasted data needs a file name');
  if (!(bytes instanceof Uint8Array)) return refusal(`Queuing ${name} needs its bytes (a Uint8Array)`);
  if (options !== undefined) {
    if (typeof options !== 'object' || options === null || Array.isArray(options))
      return refusal(`The options for ${name} must be an object of texts`);
    for (const option of Object.values(options))
      if (typeof option !== 'string') return refusal(`The options for ${name} must be an object of texts`);
  }
  return { account, name, bytes, ...(options ? { options: options as Record<string, string> } : {}) };
}

/** Copies `request.bytes` into the staging folder and queues the copy for `request.account`. */
export async function stageAndEnqueue(
  api: FerryApi,
  request: StageBytesRequest,
  log: (message: string, error: unknown) => void,
): Promise<EnqueueResult> {
  const { account: accountName, name, bytes } = request;
  const options = request.options ?? {};
  let reservation;
  try {
    checkStagedName(name);
    if (bytes.byteLength > MAX_STAGED_BYTES) {
      return refusal(
        `${name} is ${Math.round(bytes.byteLength / 1024 / 1024)} MB: pasting takes up to 256 MB; drop the file on the window or pick it instead`,
      );
    }
    const account = api.queue.accounts.require(accountName);
    const adapter = findAdapter(account.provider);
    if (adapter?.capabilities.sources === 'url') {
      return refusal(`${adapter.displayName} imports files from a public URL; it cannot take ${name}`);
    }
    const type = mime.lookup(name) || 'application/octet-stream';
    const limit = adapter ? providerSizeLimit(adapter, type) : null;
    if (limit && bytes.byteLength > limit.maxBytes) throw tooLargeRefusal(name, limit, bytes.byteLength);
    adapter?.validateSource({ kind: 'file', path: name, name, size: bytes.byteLength, mime: type }, options);
    reservation = await api.staging.reserve({ name, length: bytes.byteLength, limit });
  } catch (error) {
    if (error instanceof StagingRefusal) {
      // 503 and 507 are about this computer's state, not the data: the same paste may work later.
      const code = error.status === 503 || error.status === 507 ? 'CONFLICT' : 'INVALID_INPUT';
      return { ok: false, error: { code, message: error.message } };
    }
    return { ok: false, error: toErrorPayload(`Queuing ${name}`, error, log) };
  }
  try {
    const path = await reservation.receive(
      Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]),
    );
    const result = (await api.call('jobs.enqueue', { account: accountName, paths: [path], options })) as EnqueueResult;
    if (!result.ok) await api.staging.release(path);
    return result;
  } finally {
    await reservation.end();
  }
}
