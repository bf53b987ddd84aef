/** The adapters Ferry ships, by provider id. */
import { UploadError } from '../core/errors.ts';
import { ofauthAdapter } from './ofauth/ofauthAdapter.ts';
import { oktopostAdapter } from './oktopost/oktopostAdapter.ts';
import { selfcommunityAdapter } from './selfcommunity/selfcommunityAdapter.ts';
import { twentythreeAdapter } from './twentythree/twentythreeAdapter.ts';
import type { ProviderAdapter, ProviderId } from './types.ts';
import { xvidAdapter } from './xvid/xvidAdapter.ts';

const ADAPTERS: ReadonlyMap<string, ProviderAdapter> = new Map<string, ProviderAdapter>(
  [ofauthAdapter, selfcommunityAdapter, oktopostAdapter, xvidAdapter, twentythreeAdapter].map((adapter) => [
    adapter.id,
    adapter as ProviderAdapter,
  ]),
);

export function listAdapters(): ProviderAdapter[] {
  return [...ADAPTERS.values()];
}

export function findAdapter(id: string): ProviderAdapter | undefined {
  return ADAPTERS.get(id);
}

export function getAdapter(id: ProviderId | string): ProviderAdapter {
  const adapter = ADAPTERS.get(id);
  if (!adapter) {
    const known = [...ADAPTERS.keys()].join(', ');
    throw new UploadError('invalid', `Unknown provider "${id}": Ferry knows ${known}`);
  }
  return adapter;
}
