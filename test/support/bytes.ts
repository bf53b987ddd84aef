/** Byte helpers shared by the file-reading tests. */
import type { Readable } from 'node:stream';

/** Bytes that differ from their neighbours, so that an off-by-one in a range shows. */
export function pattern(size: number): Buffer {
  const buffer = Buffer.alloc(size);
  for (let i = 0; i < size; i += 1) buffer[i] = (i * 31 + (i >> 8)) % 251;
  return buffer;
}

/** Everything a stream yields, as one Buffer. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
