/**
 * The machine's physical limit: one raw HTTP PUT of a whole file over loopback to a sink server that
 * discards the bytes. No protocol, no multipart, no hashing on either side.
 */
import { stat } from 'node:fs/promises';
import { config, expectStatus, finish, send } from './rawHttp.ts';

interface Config {
  url: string;
  file: string;
}

finish(
  (async () => {
    const cfg = config<Config>();
    const { size } = await stat(cfg.file);
    expectStatus(
      await send('PUT', cfg.url, { 'content-type': 'application/octet-stream' }, [
        { path: cfg.file, start: 0, end: size },
      ]),
      [200, 201, 204],
      'PUT',
    );
    return { bytes: size };
  })(),
);
