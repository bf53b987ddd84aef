/**
 * What Ferry says about SelfCommunity: its account fields and capabilities.
 * Kept apart from the adapter, which loads the HTTP client and the reply parsers: `ferry providers`
 * and the provider registry's catalogue (../catalog.ts) read this without loading any of that.
 */
import { ACK_BATCH } from '../adapterHelpers.ts';
import type { ProviderDescription } from '../types.ts';
import type { SelfCommunityField } from './selfcommunitySession.ts';

/** "5M" and "50M" in the vendor doc; the unit is unstated, so the stricter decimal reading is used. */
export const SELFCOMMUNITY_LIMITS: Readonly<Record<SelfCommunityField, number>> = {
  image: 5_000_000,
  document: 50_000_000,
};

export const selfcommunityDescription: ProviderDescription = {
  id: 'selfcommunity',
  displayName: 'SelfCommunity',
  fields: [
    {
      key: 'accessToken',
      label: 'Access token',
      kind: 'secret',
      required: true,
      hint: 'OAuth2 or JWT bearer token of a community user allowed to upload media',
    },
  ],
  capabilities: {
    sources: 'file',
    partOrder: 'serial',
    maxParallelParts: 1,
    rateLimit: null,
    // The server is the authority on what it holds (see ProviderCapabilities.ackBatch).
    ackBatch: ACK_BATCH,
    defaultBaseUrl: null,
    accepts: [
      { type: 'image/*', maxBytes: SELFCOMMUNITY_LIMITS.image },
      { type: 'application/pdf', maxBytes: SELFCOMMUNITY_LIMITS.document },
    ],
  },
};
