/**
 * What Ferry says about OFAuth: its account fields and capabilities.
 * Kept apart from the adapter, which loads the HTTP client and the reply parsers: `ferry providers`
 * and the provider registry's catalogue (../catalog.ts) read this without loading any of that.
 */
import type { ProviderDescription } from '../types.ts';

/**
 * The OnlyFans vault holds photos, videos and audio (the media `type` of seed 000). Anything else is
 * refused before upload rather than after the bytes went out.
 */
export const OFAUTH_MEDIA_PREFIXES = ['image/', 'video/', 'audio/'] as const;

export const ofauthDescription: ProviderDescription = {
  id: 'ofauth',
  displayName: 'OFAuth',
  fields: [
    {
      key: 'apiKey',
      label: 'API key',
      kind: 'secret',
      required: true,
      hint: 'OFAuth API key with the vault:write permission',
    },
    {
      key: 'connectionId',
      label: 'Connection id',
      kind: 'secret',
      required: true,
      hint: 'The OFAuth connection of the OnlyFans account to upload to (sent as x-connection-id)',
    },
  ],
  capabilities: {
    sources: 'file',
    // Parts may arrive in any order [guess]; two at a time keeps a 100-part file inside the budget
    // without one job hogging the connection's whole bucket.
    partOrder: 'parallel',
    maxParallelParts: 2,
    rateLimit: { perMinute: 60, burst: 90 },
    defaultBaseUrl: 'https://api-next.ofauth.com',
    accepts: OFAUTH_MEDIA_PREFIXES.map((prefix) => ({ type: `${prefix}*`, maxBytes: null })),
  },
};
