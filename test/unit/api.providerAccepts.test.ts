import { describe, expect, it } from 'vitest';
import { UploadError } from '../../main/core/errors.ts';
import { listAdapters } from '../../main/providers/registry.ts';
import type { ProviderAdapter, UploadSource } from '../../main/providers/types.ts';

/** A concrete MIME type for a declared pattern, with a file extension that says the same. */
function sample(pattern: string): { mime: string; ext: string } {
  const byPattern: Record<string, { mime: string; ext: string }> = {
    'image/*': { mime: 'image/png', ext: 'png' },
    'video/*': { mime: 'video/mp4', ext: 'mp4' },
    'audio/*': { mime: 'audio/mpeg', ext: 'mp3' },
    '*/*': { mime: 'application/zip', ext: 'zip' },
  };
  return byPattern[pattern] ?? { mime: pattern, ext: pattern.split('/')[1]! };
}

function source(adapter: ProviderAdapter, mime: string, ext: string, size: number): UploadSource {
  const name = `sample.${ext}`;
  return adapter.capabilities.sources === 'url'
    ? { kind: 'url', url: `https://files.example/${name}`, name, size, mime }
    : { kind: 'file', path: `/tmp/${name}`, name, size, mime };
}

function refusal(run: () => void): string | null {
  try {
    run();
    return null;
  } catch (error) {
    if (error instanceof UploadError) return error.kind;
    throw error;
  }
}

// The renderer refuses files before queueing from `capabilities.accepts`; validateSource stays the
// authority. These keep the two in step for every provider.
describe.each(listAdapters().map((adapter) => [adapter.id, adapter] as const))(
  '%s declares what validateSource accepts',
  (_id, adapter) => {
    it('accepts each declared type up to its limit, and refuses one byte more', () => {
      expect(adapter.capabilities.accepts.length).toBeGreaterThan(0);
      for (const accepted of adapter.capabilities.accepts) {
        const { mime, ext } = sample(accepted.type);
        const size = accepted.maxBytes ?? 10_000_000;
        expect(
          refusal(() => adapter.validateSource(source(adapter, mime, ext, size), {})),
          `${accepted.type} at ${size}`,
        ).toBeNull();
        if (accepted.maxBytes !== null) {
          expect(refusal(() => adapter.validateSource(source(adapter, mime, ext, accepted.maxBytes! + 1), {}))).toBe(
            'too-large',
          );
        }
      }
    });

    it('refuses a type it does not declare', () => {
      if (adapter.capabilities.accepts.some((a) => a.type === '*/*')) return;
      expect(refusal(() => adapter.validateSource(source(adapter, 'text/plain', 'txt', 100), {}))).not.toBeNull();
    });
  },
);
