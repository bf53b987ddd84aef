/**
 * File sources for adapter tests that call adapters directly (without the runner, which closes each
 * job's source when its run ends): every source made here is closed after each test.
 */
import { afterEach } from 'vitest';
import { type FileSource } from '../../main/core/fileSource.ts';
import { openFileSource } from '../../main/engine/fileSource.ts';

const opened: FileSource[] = [];

afterEach(async () => {
  for (const source of opened.splice(0)) await source.close();
});

export function testFileSource(path: string, size: number, mtimeMs?: number): FileSource {
  const source = openFileSource(path, size, mtimeMs);
  opened.push(source);
  return source;
}
