/**
 * Whether a provider can take a file or URL, from what `providers.list` declares. The picker uses it
 * to refuse a file with the reason before anything is queued; the server checks again when queuing.
 */
import type { ProviderInfo } from '../../main/api/contract.ts';
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
      ? 'images'
      : p === 'video/*'
        ? 'videos'
        : p === 'audio/*'
          ? 'audio'
          : p === 'application/pdf'
            ? 'PDF documents'
            : p,
  );
  return [...new Set(words)].join(', ');
}

/** Null when the provider can take it, else a sentence that says why not. */
export function refusalReason(candidate: Candidate, provider: ProviderInfo): string | null {
  const { sources, accepts } = provider.capabilities;
  if (sources === 'url' && candidate.kind === 'file') {
    return `${provider.name} imports from a public URL; it cannot take a local file. Publish the file and paste its link`;
  }
  if (sources === 'file' && candidate.kind === 'url') return `${provider.name} uploads local files, not links`;
  if (candidate.kind === 'file' && candidate.size === 0)
    return `The file is empty; ${provider.name} needs at least one byte`;
  const type = guessMime(candidate.name, candidate.type);
  // A link without a telling extension: only the provider can say once it looks.
  if (candidate.kind === 'url' && type === '') return null;
  if (accepts.length === 0) return null;
  const matching = accepts.filter((accepted) => matchesType(accepted.type, type));
  if (matching.length === 0) {
    return `${type ? `A ${type} file` : 'A file of unknown type'}: ${provider.name} takes ${describeAccepts(provider)}`;
  }
  const limit = Math.max(...matching.map((m) => m.maxBytes ?? Number.POSITIVE_INFINITY));
  if (candidate.size !== null && candidate.size > limit) {
    return `${formatBytes(candidate.size)} is over ${provider.name}'s limit of ${formatBytes(limit)} for this type`;
  }
  return null;
}
