/**
 * What Ferry says about Oktopost: its account fields and capabilities.
 * Kept apart from the adapter, which loads the HTTP client and the reply parsers: `ferry providers`
 * and the provider registry's catalogue (../catalog.ts) read this without loading any of that.
 */
import type { ProviderDescription } from '../types.ts';
import { OKTOPOST_US_BASE_URL } from './oktopostRegion.ts';

/** The documented `mimeType` values; `image/jpg` is Oktopost's own spelling next to `image/jpeg`. */
export const OKTOPOST_MIME_TYPES = ['video/mp4', 'image/gif', 'image/png', 'image/jpg', 'image/jpeg'] as const;

/** 8 GiB per file [doc]; the 32 GiB per 24 h account quota is left to Oktopost to enforce. */
export const OKTOPOST_MAX_FILE_SIZE = 8 * 1024 * 1024 * 1024;

export const oktopostDescription: ProviderDescription = {
  id: 'oktopost',
  displayName: 'Oktopost',
  fields: [
    {
      key: 'accountId',
      label: 'Account ID',
      kind: 'secret',
      required: true,
      hint: 'Oktopost account id (the user name of the API)',
    },
    {
      key: 'apiKey',
      label: 'API key',
      kind: 'secret',
      required: true,
      hint: 'Oktopost API key of a user allowed to upload media',
    },
    {
      key: 'region',
      label: 'Data centre',
      kind: 'setting',
      required: false,
      default: 'us',
      choices: ['us', 'eu'],
      hint: 'us: api.oktopost.com, eu: eu-api.oktopost.com',
    },
  ],
  capabilities: {
    sources: 'url',
    partOrder: 'serial',
    maxParallelParts: 1,
    rateLimit: { perMinute: 60, burst: 60 },
    defaultBaseUrl: OKTOPOST_US_BASE_URL,
    accepts: OKTOPOST_MIME_TYPES.map((type) => ({ type, maxBytes: OKTOPOST_MAX_FILE_SIZE })),
    resumeNote: 'Oktopost pulls the file from its URL and resumes on its own side',
  },
};
