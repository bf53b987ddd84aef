/**
 * Whether a provider can take a file or URL, from what `providers.list` declares. The picker uses it
 * to refuse a file with the reason before anything is queued; the server checks again when queuing.
 */
import type { ProviderInfo } from '../../main/api/contract.ts';
import { t } from '../i18n.ts';
import { formatBytes } from './format.ts';
import { guessMime } from './mime.ts';

export interface Candidate {
  name: string;
  size: number | null;
  /** The browser's type, if any; the extension wins, as on the server. */
  type: string;
  kind: 'file' | 'url';
}

export function matchesType(pattern: string, type: string): boolean {
  if (pattern === '*/*') return true;
  if (pattern.endsWith('/*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

function describeAccepts(provider: ProviderInfo): string {
  const patterns = provider.capabilities.accepts.map((a) => a.type);
  const words = patterns.map((p) =>
    p === 'image/*'
      ? t('accepts.images')
      : p === 'video/*'
        ? t('accepts.videos')
        : p === 'audio/*'
          ? t('accepts.audio')
          : p === 'application/pdf'
            ? t('accepts.pdf')
            : p,
  );
  return [...new Set(words)].join(', ');
}

/** Null when the provider can take it, else a sentence that says why not. */
export function refusalReason(candidate: Candidate, provider: ProviderInfo): string | null {
  const { sources, accepts } = provider.capabilities;
  if (sources === 'url' && candidate.kind === 'file') {
    return t('accepts.urlOnly', { provider: provider.name });
  }
  if (sources === 'file' && candidate.kind === 'url') return t('accepts.filesOnly', { provider: provider.name });
  if (candidate.kind === 'file' && candidate.size === 0) return t('accepts.empty', { provider: provider.name });
  const type = guessMime(candidate.name, candidate.type);
  // A link without a telling extension: only the provider can say once it looks.
  if (candidate.kind === 'url' && type === '') return null;
  if (accepts.length === 0) return null;
  const matching = accepts.filter((accepted) => matchesType(accepted.type, type));
  if (matching.length === 0) {
    return type
      ? t('accepts.wrongType', { type, provider: provider.name, takes: describeAccepts(provider) })
      : t('accepts.unknownType', { provider: provider.name, takes: describeAccepts(provider) });
  }
  const limit = Math.max(...matching.map((m) => m.maxBytes ?? Number.POSITIVE_INFINITY));
  if (candidate.size !== null && candidate.size > limit) {
    return t('accepts.tooLarge', {
      size: formatBytes(candidate.size),
      provider: provider.name,
      limit: formatBytes(limit),
    });
  }
  return null;
}
