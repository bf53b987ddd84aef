/**
 * The providers Ferry ships, described without their code: what `ferry providers` prints and the
 * account form shows. Loading the adapters (registry.ts) costs a few hundred modules (the HTTP client,
 * zod and each provider's reply parsers); this list costs six small files. The registry holds the same
 * descriptions, in the same order (test/unit/providerCatalog.test.ts keeps the two in step).
 */
import { ofauthDescription } from './ofauth/ofauthDescription.ts';
import { oktopostDescription } from './oktopost/oktopostDescription.ts';
import { selfcommunityDescription } from './selfcommunity/selfcommunityDescription.ts';
import { twentythreeDescription } from './twentythree/twentythreeDescription.ts';
import type { ProviderDescription } from './types.ts';
import { xvidDescription } from './xvid/xvidDescription.ts';

export const PROVIDER_DESCRIPTIONS: readonly ProviderDescription[] = [
  ofauthDescription,
  selfcommunityDescription,
  oktopostDescription,
  xvidDescription,
  twentythreeDescription,
];

/** The description of provider `id`, or undefined for an id Ferry does not know. */
export function findDescription(id: string): ProviderDescription | undefined {
  return PROVIDER_DESCRIPTIONS.find((description) => description.id === id);
}
