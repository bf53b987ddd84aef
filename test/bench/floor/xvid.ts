/**
 * Xvid MediaHub floor client: token, create, one S3 form POST (every issued field, then the file,
 * streamed from disk), finish, and status polls every 50 ms until the upload leaves COMPLETING.
 */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { config, expectStatus, finish, multipartFrame, pool, send } from './rawHttp.ts';

interface Config {
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  pipelineId: string;
  files: string[];
  filesAtOnce: number;
}

interface Upload {
  upload: { id: string; status: string; form_post_url: string; form_post_params: Record<string, string> };
}

async function upload(cfg: Config, bearer: string, path: string): Promise<void> {
  const { size } = await stat(path);
  const auth = { authorization: `Bearer ${bearer}` };
  const key = `bench/${basename(path)}-${Math.random().toString(16).slice(2)}`;
  const created = JSON.parse(
    expectStatus(
      await send(
        'POST',
        `${cfg.apiUrl}/files/uploads/?object_key=${encodeURIComponent(key)}&pipeline_id=${encodeURIComponent(cfg.pipelineId)}&expires_at=0`,
        auth,
      ),
      [200, 201],
      'create',
    ).text,
  ) as Upload;
  const frame = multipartFrame(Object.entries(created.upload.form_post_params), {
    field: 'file',
    filename: basename(path),
    contentType: 'application/octet-stream',
  });
  expectStatus(
    await send('POST', created.upload.form_post_url, { 'content-type': frame.contentType }, [
      frame.head,
      { path, start: 0, end: size },
      frame.tail,
    ]),
    [201],
    'S3 form POST',
  );
  const uploadUrl = `${cfg.apiUrl}/files/uploads/${encodeURIComponent(created.upload.id)}`;
  expectStatus(
    await send('PUT', uploadUrl, { ...auth, 'content-type': 'application/json' }, [
      JSON.stringify({ upload: { nb_chunks: 1 } }),
    ]),
    [200],
    'finish',
  );
  for (;;) {
    const status = (JSON.parse(expectStatus(await send('GET', uploadUrl, auth), [200], 'status').text) as Upload).upload
      .status;
    if (status !== 'COMPLETING') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

finish(
  (async () => {
    const cfg = config<Config>();
    const form = new URLSearchParams({
      grant_type: 'client_credential',
      client_id: cfg.clientId,
      client_secret: cfg.clientSecret,
      scope: 'mediahub',
    });
    const token = JSON.parse(
      expectStatus(
        await send('POST', `${cfg.apiUrl}/oauth2/token/`, { 'content-type': 'application/x-www-form-urlencoded' }, [
          form.toString(),
        ]),
        [200],
        'token',
      ).text,
    ) as { access_token: string };
    await pool(cfg.files, cfg.filesAtOnce, (path) => upload(cfg, token.access_token, path));
    return { files: cfg.files.length };
  })(),
);
