/**
 * SelfCommunity floor client: for each file, 204,800-byte chunks strictly in series (first without
 * upload_id), MD5 computed while the chunks are read, then complete. `filesAtOnce` files in parallel,
 * as Ferry's account lane runs them.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { config, expectStatus, finish, multipartFrame, pool, send } from './rawHttp.ts';

interface Config {
  baseUrl: string;
  token: string;
  files: string[];
  filesAtOnce: number;
}

const CHUNK = 204_800;

async function upload(cfg: Config, path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const md5 = createHash('md5');
    const buffer = Buffer.allocUnsafe(CHUNK);
    let uploadId: string | null = null;
    for (let start = 0; start < size; start += CHUNK) {
      const length = Math.min(CHUNK, size - start);
      const { bytesRead } = await handle.read(buffer, 0, length, start);
      if (bytesRead !== length) throw new Error(`short read of ${path}`);
      const bytes = buffer.subarray(0, length);
      md5.update(bytes);
      const frame = multipartFrame(uploadId ? [['upload_id', uploadId]] : [], {
        field: 'image',
        filename: basename(path),
        contentType: 'image/png',
      });
      const reply = expectStatus(
        await send(
          'POST',
          `${cfg.baseUrl}/api/v2/media/upload/chunk/`,
          {
            'content-type': frame.contentType,
            authorization: `Bearer ${cfg.token}`,
            'content-range': `bytes ${start}-${start + length - 1}/${size}`,
          },
          [frame.head, bytes, frame.tail],
        ),
        [200, 201],
        'chunk',
      );
      uploadId = (JSON.parse(reply.text) as { upload_id: string }).upload_id;
    }
    // The same complete as Ferry's: the documented media type is sent, not left to the server's guess.
    const form = new URLSearchParams({ upload_id: uploadId ?? '', md5: md5.digest('hex'), type: 'image' }).toString();
    expectStatus(
      await send(
        'POST',
        `${cfg.baseUrl}/api/v2/media/upload/complete/`,
        { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${cfg.token}` },
        [form],
      ),
      [200, 201],
      'complete',
    );
  } finally {
    await handle.close();
  }
}

finish(
  (async () => {
    const cfg = config<Config>();
    await pool(cfg.files, cfg.filesAtOnce, (path) => upload(cfg, path));
    return { files: cfg.files.length };
  })(),
);
