/**
 * TwentyThree floor client: an OAuth 1.0a-signed upload-token call, then every Resumable.js chunk as a
 * multipart POST (file last, streamed from disk), `parallel` at once, by the floor size rule.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { rfc3986, signatureBaseString } from '../../sandbox/twentythree.ts';
import { config, expectStatus, finish, multipartFrame, pool, send } from './rawHttp.ts';

interface Config {
  baseUrl: string;
  keys: { consumerKey: string; consumerSecret: string; accessToken: string; accessTokenSecret: string };
  files: string[];
  chunkSize: number;
  parallel: number;
  filesAtOnce: number;
}

async function uploadToken(cfg: Config, title: string): Promise<string> {
  const url = `${cfg.baseUrl}/api/photo/get-upload-token`;
  // format=json + raw: the legacy API answers XML otherwise; return_url + background_return_p: the
  // completing chunk then says the photo id (as Ferry asks).
  const form = new URLSearchParams({
    title,
    valid_minutes: '1440',
    max_uploads: '1',
    return_url: cfg.baseUrl,
    background_return_p: '1',
    format: 'json',
    raw: '1',
  });
  const oauth = new Map([
    ['oauth_consumer_key', cfg.keys.consumerKey],
    ['oauth_token', cfg.keys.accessToken],
    ['oauth_signature_method', 'HMAC-SHA1'],
    ['oauth_timestamp', String(Math.floor(Date.now() / 1000))],
    ['oauth_nonce', randomBytes(12).toString('hex')],
    ['oauth_version', '1.0'],
  ]);
  const base = signatureBaseString('POST', url, oauth, new URLSearchParams(), form);
  const key = `${rfc3986(cfg.keys.consumerSecret)}&${rfc3986(cfg.keys.accessTokenSecret)}`;
  oauth.set('oauth_signature', createHmac('sha1', key).update(base).digest('base64'));
  const header = `OAuth ${[...oauth].map(([name, value]) => `${rfc3986(name)}="${rfc3986(value)}"`).join(', ')}`;
  const reply = expectStatus(
    await send('POST', url, { authorization: header, 'content-type': 'application/x-www-form-urlencoded' }, [
      form.toString(),
    ]),
    [200],
    'upload token',
  );
  const parsed = JSON.parse(reply.text) as {
    status?: string;
    message?: string;
    uploadtoken?: { upload_token: string };
  };
  if (parsed.status === 'error' || !parsed.uploadtoken) throw new Error(`upload token: ${reply.text.slice(0, 200)}`);
  return parsed.uploadtoken.upload_token;
}

async function upload(cfg: Config, path: string): Promise<void> {
  const { size } = await stat(path);
  const name = basename(path);
  const token = await uploadToken(cfg, name);
  const count = Math.max(1, Math.floor(size / cfg.chunkSize));
  const numbers = Array.from({ length: count }, (_, i) => i + 1);
  const identifier = `${size}-${name}`;
  await pool(numbers, cfg.parallel, async (number) => {
    const start = (number - 1) * cfg.chunkSize;
    const end = number === count ? size : start + cfg.chunkSize;
    const frame = multipartFrame(
      [
        ['upload_token', token],
        ['resumableChunkNumber', String(number)],
        ['resumableChunkSize', String(cfg.chunkSize)],
        ['resumableCurrentChunkSize', String(end - start)],
        ['resumableTotalSize', String(size)],
        ['resumableIdentifier', identifier],
        ['resumableFilename', name],
        ['resumableTotalChunks', String(count)],
      ],
      { field: 'file', filename: name, contentType: 'video/mp4' },
    );
    const reply = await send(
      'POST',
      `${cfg.baseUrl}/api/photo/redeem-upload-token`,
      { 'content-type': frame.contentType },
      [frame.head, { path, start, end }, frame.tail],
    );
    expectStatus(reply, [200], `chunk ${number}`);
    if (reply.text.startsWith('error')) throw new Error(reply.text);
  });
}

finish(
  (async () => {
    const cfg = config<Config>();
    await pool(cfg.files, cfg.filesAtOnce, (path) => upload(cfg, path));
    return { files: cfg.files.length };
  })(),
);
