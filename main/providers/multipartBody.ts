/**
 * A multipart/form-data body whose file part stays a file-backed Blob, sent as a Node stream with a
 * known Content-Length.
 *
 * Why not `FormData` (what got would serialize itself): on Node 24, cancelling the body stream of a
 * `FormData` that holds a file-backed Blob (`fs.openAsBlob`) makes undici reject a promise nobody
 * handles ("ReadableStream is already closed"). Every aborted or reset chunk upload would then raise
 * an unhandled rejection, which ends a Node process. A Blob composed of the encoded text and the file
 * slice streams lazily from disk, cancels cleanly, keeps `openAsBlob`'s "file changed underneath"
 * check, and lets the server see a Content-Length instead of a chunked body.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';

export interface MultipartFile {
  field: string;
  filename: string;
  blob: Blob;
  contentType?: string;
}

export interface MultipartBody {
  body: Readable;
  contentType: string;
  length: number;
}

/** Escapes a name as the WHATWG HTML form encoding does for multipart headers. */
function escapeName(name: string): string {
  return name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/**
 * Encodes `fields` in order, then `file` as the last part. Text is UTF-8 (as browsers send it); the
 * file bytes are read from the Blob only while the body is being written.
 */
export function multipartBody(fields: ReadonlyArray<readonly [string, string]>, file: MultipartFile): MultipartBody {
  const boundary = `----FerryFormBoundary${randomBytes(12).toString('hex')}`;
  const head =
    fields
      .map(
        ([name, value]) =>
          `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(name)}"\r\n\r\n${value.replace(/\r?\n/g, '\r\n')}\r\n`,
      )
      .join('') +
    `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(file.field)}"; filename="${escapeName(file.filename)}"\r\n` +
    `Content-Type: ${file.contentType ?? 'application/octet-stream'}\r\n\r\n`;
  const whole = new Blob([head, file.blob, `\r\n--${boundary}--\r\n`]);
  return {
    body: Readable.fromWeb(whole.stream() as unknown as NodeReadableStream<Uint8Array>),
    contentType: `multipart/form-data; boundary=${boundary}`,
    length: whole.size,
  };
}
