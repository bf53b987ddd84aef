import { describe, expect, it } from 'vitest';
import { UploadError } from '../../main/core/errors.ts';
import type { FileSource } from '../../main/core/fileSource.ts';
import {
  formatBytes,
  joinUrl,
  localFileOf,
  refuseEmptyFile,
  requireLocalFile,
  trimBaseUrl,
  type LocalFileSource,
} from '../../main/providers/adapterHelpers.ts';
import { listAdapters } from '../../main/providers/registry.ts';
import type { JobContext, UploadSource } from '../../main/providers/types.ts';

const fileSource = (name: string, size: number, mime = 'video/mp4'): LocalFileSource => ({
  kind: 'file',
  path: `/tmp/${name}`,
  name,
  size,
  mime,
});
const urlSource = (name: string): UploadSource => ({
  kind: 'url',
  url: `https://files.example/${name}`,
  name,
  size: 10,
  mime: 'video/mp4',
});

function thrown(run: () => unknown): UploadError {
  try {
    run();
  } catch (error) {
    if (error instanceof UploadError) return error;
    throw error;
  }
  throw new Error('expected an UploadError');
}

describe('formatBytes', () => {
  it.each([
    [0, '0 bytes'],
    [999, '999 bytes'],
    [204_800, '204,800 bytes'],
    [5_000_000_000, '5,000,000,000 bytes'],
  ])('shows %d as "%s", exact and with thousands separators', (bytes, shown) => {
    expect(formatBytes(bytes)).toBe(shown);
  });
});

describe('joinUrl and trimBaseUrl', () => {
  it('puts a path on the base URL with exactly one slash between them', () => {
    expect(joinUrl('https://api.example/v1', '/files/')).toBe('https://api.example/v1/files/');
    expect(joinUrl('https://api.example/v1/', '/files/')).toBe('https://api.example/v1/files/');
    expect(joinUrl('https://api.example/v1///', '/files/')).toBe('https://api.example/v1/files/');
  });

  it('leaves the rest of the address as given (no normalisation)', () => {
    expect(joinUrl('HTTPS://API.example:443/v1', '/a?b=c')).toBe('HTTPS://API.example:443/v1/a?b=c');
    expect(trimBaseUrl('https://api.example')).toBe('https://api.example');
    expect(trimBaseUrl('https://api.example//')).toBe('https://api.example');
  });
});

describe('the local-file checks', () => {
  it('refuses a URL source as unsupported, naming the upload, the URL and the provider', () => {
    const error = thrown(() => requireLocalFile(urlSource('a.mp4'), 'Example'));
    expect(error.kind).toBe('unsupported');
    expect(error.message).toBe('a.mp4: Example uploads local files, not URLs (https://files.example/a.mp4)');
    expect(() => requireLocalFile(fileSource('a.mp4', 10), 'Example')).not.toThrow();
  });

  it('gives the job its open file, and refuses a job without one', () => {
    const file = { path: '/tmp/a.mp4', size: 10 } as unknown as FileSource;
    const job: JobContext = { jobId: 1, source: fileSource('a.mp4', 10), options: {}, file };
    expect(localFileOf(job, 'Example')).toBe(file);
    const error = thrown(() =>
      localFileOf({ jobId: 2, source: urlSource('b.mp4'), options: {}, file: null }, 'Example'),
    );
    expect(error.kind).toBe('unsupported');
    expect(error.message).toBe('b.mp4: Example uploads local files, not URLs');
  });

  it('refuses an empty file as invalid unless the adapter says otherwise, and takes one byte', () => {
    const empty = thrown(() => refuseEmptyFile(fileSource('e.mp4', 0), 'Example'));
    expect(empty.kind).toBe('invalid');
    expect(empty.message).toBe('e.mp4 is empty: Example needs at least one byte');
    expect(thrown(() => refuseEmptyFile(fileSource('e.mp4', 0), 'Example', 'unsupported')).kind).toBe('unsupported');
    expect(() => refuseEmptyFile(fileSource('one.mp4', 1), 'Example')).not.toThrow();
  });
});

// Every adapter that uploads local files applies the same rules, in the same words.
describe.each(
  listAdapters()
    .filter((adapter) => adapter.capabilities.sources === 'file')
    .map((adapter) => [adapter.id, adapter] as const),
)('%s', (_id, adapter) => {
  it('refuses a URL and an empty file with the shared wording', () => {
    const mime = adapter.capabilities.accepts[0]!.type.replace('*/*', 'application/zip').replace('/*', '/png');
    const url = thrown(() => adapter.validateSource({ ...urlSource('clip.png'), mime }, {}));
    expect(url.kind).toBe('unsupported');
    expect(url.message).toBe(
      `clip.png: ${adapter.displayName} uploads local files, not URLs (https://files.example/clip.png)`,
    );
    const empty = thrown(() => adapter.validateSource(fileSource('empty.png', 0, mime), {}));
    expect(empty.message).toBe(`empty.png is empty: ${adapter.displayName} needs at least one byte`);
  });
});
