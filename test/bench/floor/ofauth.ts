/**
 * OFAuth floor client: init (plan in the body), every part as a raw PUT to its `uploadUrl` streamed
 * from disk, `parallel` at once, then complete. Credentials go only to the API origin (a pre-signed
 * storage URL takes none). Requests are paced by the documented per-connection budget (60/min,
 * burst 90) exactly as Ferry's lane paces them: that limit is part of the protocol.
 */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { config, expectStatus, finish, pool, send } from './rawHttp.ts';

interface Config {
  baseUrl: string;
  apiKey: string;
  connectionId: string;
  files: string[];
  parallel: number;
  filesAtOnce: number;
  rateLimit: { perMinute: number; burst: number } | null;
}

interface Plan {
  mediaUploadId: string;
  parts: Array<{ partNumber: number; uploadUrl: string; byteRange: { start: number; end: number } }>;
  completeUrl: string | null;
}

function bucket(limit: Config['rateLimit']): () => Promise<void> {
  if (!limit) return async () => undefined;
  let tokens = limit.burst;
  let at = Date.now();
  const perMs = limit.perMinute / 60_000;
  return async () => {
    for (;;) {
      const now = Date.now();
      tokens = Math.min(limit.burst, tokens + (now - at) * perMs);
      at = now;
      if (tokens >= 1) {
        tokens -= 1;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.ceil((1 - tokens) / perMs)));
    }
  };
}

async function upload(cfg: Config, pace: () => Promise<void>, path: string): Promise<void> {
  const { size } = await stat(path);
  const auth = { apikey: cfg.apiKey, 'x-connection-id': cfg.connectionId };
  await pace();
  const init = expectStatus(
    await send('POST', `${cfg.baseUrl}/v2/access/uploads/init`, { ...auth, 'content-type': 'application/json' }, [
      JSON.stringify({ filename: basename(path), size, contentType: 'video/mp4' }),
    ]),
    [200, 201],
    'init',
  );
  const plan = JSON.parse(init.text) as Plan;
  await pool(plan.parts, cfg.parallel, async (part) => {
    await pace();
    const range = { path, start: part.byteRange.start, end: part.byteRange.end + 1 };
    const headers =
      new URL(part.uploadUrl).origin === new URL(cfg.baseUrl).origin
        ? { ...auth, 'content-type': 'video/mp4' }
        : { 'content-type': 'video/mp4' };
    expectStatus(await send('PUT', part.uploadUrl, headers, [range]), [200, 201], `part ${part.partNumber}`);
  });
  if (plan.completeUrl) {
    await pace();
    expectStatus(
      await send('POST', plan.completeUrl, { ...auth, 'content-type': 'application/json' }, [
        JSON.stringify({ mediaUploadId: plan.mediaUploadId }),
      ]),
      [200, 201],
      'complete',
    );
  }
}

finish(
  (async () => {
    const cfg = config<Config>();
    const pace = bucket(cfg.rateLimit);
    await pool(cfg.files, cfg.filesAtOnce, (path) => upload(cfg, pace, path));
    return { files: cfg.files.length };
  })(),
);
