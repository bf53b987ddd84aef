/**
 * What Ferry says about TwentyThree: its account fields and capabilities.
 * Kept apart from the adapter, which loads the HTTP client and the reply parsers: `ferry providers`
 * and the provider registry's catalogue (../catalog.ts) read this without loading any of that.
 */
import { ACK_BATCH } from '../adapterHelpers.ts';
import type { AccountField, ProviderDescription } from '../types.ts';

export const TWENTYTHREE_DEFAULT_CHUNK_SIZE = 5 * 1024 * 1024;
export const MIN_CHUNK_SIZE = 64 * 1024;
/** The largest file any workspace takes [doc: 4–16 GB with chunks, depending on the workspace]. */
export const MAX_FILE_SIZE = 16 * 1024 * 1024 * 1024;

const fields: readonly AccountField[] = [
  {
    key: 'consumerKey',
    label: 'Consumer key',
    kind: 'secret',
    required: true,
    hint: 'From the OAuth application created in the TwentyThree backend (Settings → API).',
  },
  { key: 'consumerSecret', label: 'Consumer secret', kind: 'secret', required: true },
  {
    key: 'accessToken',
    label: 'Access token',
    kind: 'secret',
    required: true,
    hint: 'An access token of that application with write permission.',
  },
  { key: 'accessTokenSecret', label: 'Access token secret', kind: 'secret', required: true },
  {
    key: 'albumId',
    label: 'Album (channel) id',
    kind: 'setting',
    required: false,
    hint: 'Uploads go to this album unless an upload sets its own albumId.',
  },
  {
    key: 'callbackUrl',
    label: 'Callback URL',
    kind: 'setting',
    required: false,
    hint:
      "TwentyThree calls this address (a GET from its servers) after each upload; without one it never says the new video's id. " +
      "Default: the site's own address (the base URL), which is harmless. Set it to a URL you control if you want the notifications.",
  },
  {
    key: 'chunkSize',
    label: 'Chunk size (bytes)',
    kind: 'setting',
    required: false,
    default: String(TWENTYTHREE_DEFAULT_CHUNK_SIZE),
    hint:
      'Every chunk has exactly this size except the last, which also takes the remainder (between one and two chunk sizes); ' +
      `a file smaller than one chunk goes in a single request. At least ${MIN_CHUNK_SIZE} bytes.`,
  },
];

export const twentythreeDescription: ProviderDescription = {
  id: 'twentythree',
  displayName: 'TwentyThree',
  fields,
  capabilities: {
    sources: 'file',
    partOrder: 'parallel',
    maxParallelParts: 3,
    rateLimit: null,
    // The server is the authority on what it holds (see ProviderCapabilities.ackBatch).
    ackBatch: ACK_BATCH,
    defaultBaseUrl: null,
    accepts: [{ type: '*/*', maxBytes: MAX_FILE_SIZE }],
  },
};
