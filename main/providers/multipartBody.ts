/**
 * Request bodies streamed from a byte range of a local file: a multipart/form-data body (encoded text
 * head, the file's bytes, closing boundary) or the raw bytes alone, each as one Node Readable with an
 * exact Content-Length.
 *
 * Why not `FormData` or a file-backed Blob: on Node 24, cancelling the body stream of a `FormData`
 * that holds a file-backed Blob makes undici reject a promise nobody handles, and a Blob streams a
 * file in 64 KiB pieces through web streams, which costs about twice the CPU of a 1 MiB
 * `fs.createReadStream` (measured in test/bench). Here the file is read by a plain ranged fs stream,
 * opened only when the body is first read (a request that never starts opens nothing), and the
 * "file changed underneath" check that `fs.openAsBlob` used to give is done by the range itself:
 * before it opens the file and again once its bytes have been read, so a changed file fails the
 * request with a `local-file` UploadError instead of sending a mix of old and new bytes.
 *
 * Ownership: whoever sends the body destroys it when the request is over (main/providers/http.ts
 * `send` does), because an aborted request only unpipes its body. Destroying closes the file
 * descriptor before the body's 'close' event.
 */
import { randomBytes } from 'node:crypto';
import { close, read } from 'node:fs';
import { Readable } from 'node:stream';
import { UploadError } from '../engine/errors.ts';
import { READ_BUFFER_SIZE, giveBuffer, takeBuffer } from '../engine/bufferPool.ts';
import type { FileRange } from '../engine/fileSource.ts';

export interface MultipartFile {
  field: string;
  filename: string;
  range: FileRange;
  contentType?: string;
}

export interface BodyOptions {
  /** Sees every file byte of the body, in order, as it is read (e.g. to hash the file on the way). */
  onFileBytes?: (chunk: Buffer) => void;
}

export interface StreamedBody {
  body: Readable;
  length: number;
}

export interface MultipartBody extends StreamedBody {
  contentType: string;
}

const EMPTY = Buffer.alloc(0);

/** Escapes a name as the WHATWG HTML form encoding does for multipart headers. */
function escapeName(name: string): string {
  return name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/**
 * Encodes `fields` in order, then `file` as the last part. Text is UTF-8 (as browsers send it); the
 * file bytes are read from disk only while the body is being written.
 */
export function multipartBody(
  fields: ReadonlyArray<readonly [string, string]>,
  file: MultipartFile,
  options: BodyOptions = {},
): MultipartBody {
  const boundary = `----FerryFormBoundary${randomBytes(12).toString('hex')}`;
  const head = Buffer.from(
    fields
      .map(
        ([name, value]) =>
          `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(name)}"\r\n\r\n${value.replace(/\r?\n/g, '\r\n')}\r\n`,
      )
      .join('') +
      `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(file.field)}"; filename="${escapeName(file.filename)}"\r\n` +
      `Content-Type: ${file.contentType ?? 'application/octet-stream'}\r\n\r\n`,
    'utf8',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8');
  return {
    body: new RangeBody(head, file.range, tail, options.onFileBytes),
    contentType: `multipart/form-data; boundary=${boundary}`,
    length: head.length + file.range.size + tail.length,
  };
}

/** The bytes of `range` alone, for raw request bodies (e.g. a PUT of one part). */
export function rangeBody(range: FileRange, options: BodyOptions = {}): StreamedBody {
  return { body: new RangeBody(EMPTY, range, EMPTY, options.onFileBytes), length: range.size };
}

/**
 * Read buffers come from the shared pool (main/engine/bufferPool.ts) and go back to it only once the
 * HTTP layer has reported their bytes written (`bodyBytesWritten`): nothing references them any
 * more. A body that is destroyed first simply drops its buffers to the garbage collector.
 */
const READ_SIZE = READ_BUFFER_SIZE;

/**
 * Tells a body built here that the first `total` bytes of it were written to the socket (got's
 * `uploadProgress.transferred`, which counts write callbacks), so that their read buffers can be
 * reused. Does nothing for other bodies.
 */
export function bodyBytesWritten(body: unknown, total: number): void {
  if (body instanceof RangeBody) body.written(total);
}

/**
 * head, then the file range (opened on the first read, read in 1 MiB pieces into pooled buffers,
 * back-pressured by not reading ahead), then — once the range has yielded exactly its size and the
 * file is confirmed unchanged — tail.
 */
class RangeBody extends Readable {
  readonly #head: Buffer;
  readonly #range: FileRange;
  readonly #tail: Buffer;
  readonly #tap: ((chunk: Buffer) => void) | undefined;
  #phase: 'head' | 'file' | 'checking' | 'done' = 'head';
  #fd: number | null = null;
  #busy = false;
  #position: number;
  #remaining: number;
  /** Body offset after the last pushed byte. */
  #pushed = 0;
  /** Pooled buffers pushed but not yet reported written, with the body offset where each ends. */
  #inFlight: Array<{ end: number; buffer: Buffer }> = [];
  #afterBusy: (() => void) | null = null;
  #wanted = false;

  constructor(head: Buffer, range: FileRange, tail: Buffer, tap: ((chunk: Buffer) => void) | undefined) {
    // One 1 MiB piece waiting in the readable buffer is enough to keep the socket busy.
    super({ highWaterMark: READ_SIZE });
    this.#head = head;
    this.#range = range;
    this.#tail = tail;
    this.#tap = tap;
    this.#position = range.start;
    this.#remaining = range.size;
  }

  written(total: number): void {
    while (this.#inFlight.length > 0 && this.#inFlight[0]!.end <= total) giveBuffer(this.#inFlight.shift()!.buffer);
  }

  override _read(): void {
    if (this.#phase === 'head') {
      this.#phase = 'file';
      if (this.#head.length > 0) {
        this.#pushed += this.#head.length;
        if (!this.push(this.#head)) return;
      }
    }
    if (this.#phase !== 'file') return;
    if (this.#busy) {
      // An open or read is under way; it continues reading when it ends.
      this.#wanted = true;
      return;
    }
    if (this.#remaining === 0) this.#fileDone();
    else if (this.#fd === null) this.#open();
    else this.#readNext();
  }

  #fail(error: NodeJS.ErrnoException): void {
    this.destroy(
      new UploadError('local-file', `Reading bytes ${this.#range.start}-${this.#range.end} of the file: ${error.message}`, {
        cause: error,
      }),
    );
  }

  /** Runs the destroy that waited for the open or read in progress; true when there was one. */
  #destroyWaiting(): boolean {
    const after = this.#afterBusy;
    if (!after) return false;
    this.#afterBusy = null;
    this.#busy = false;
    after();
    return true;
  }

  /**
   * Ends an open or read: goes on reading when more is wanted. `#busy` stays set until here, so that
   * a `_read` called from inside `push` cannot start a second read of the same bytes.
   */
  #idle(more: boolean): void {
    // `push` may have destroyed the body (a consumer that failed); its destroy waited for this.
    if (this.#destroyWaiting()) return;
    this.#busy = false;
    const wanted = this.#wanted;
    this.#wanted = false;
    if (this.destroyed || this.#phase !== 'file') return;
    if (this.#remaining === 0) this.#fileDone();
    else if (more || wanted) this.#readNext();
  }

  #open(): void {
    this.#busy = true;
    this.#range.open((error, fd) => {
      if (fd !== undefined) this.#fd = fd;
      if (this.#destroyWaiting()) return;
      if (error) {
        this.#busy = false;
        this.#fail(error);
        return;
      }
      this.#idle(true);
    });
  }

  #readNext(): void {
    const fd = this.#fd!;
    const buffer = takeBuffer();
    const length = Math.min(READ_SIZE, this.#remaining);
    this.#busy = true;
    read(fd, buffer, 0, length, this.#position, (error, bytesRead) => {
      if (this.#destroyWaiting()) {
        // Never pushed, so nobody else holds it.
        giveBuffer(buffer);
        return;
      }
      if (error || bytesRead === 0) {
        giveBuffer(buffer);
        this.#busy = false;
        if (error) this.#fail(error);
        else this.destroy(this.#changed(`it ended ${this.#remaining} bytes early`));
        return;
      }
      const chunk = buffer.subarray(0, bytesRead);
      this.#position += bytesRead;
      this.#remaining -= bytesRead;
      this.#pushed += bytesRead;
      this.#inFlight.push({ end: this.#pushed, buffer });
      this.#tap?.(chunk);
      this.#idle(this.push(chunk));
    });
  }

  #changed(why: string): UploadError {
    return new UploadError(
      'local-file',
      `Reading bytes ${this.#range.start}-${this.#range.end} of the file: ${why}, so it changed while it was being uploaded; Ferry will not upload a mix of old and new bytes. Retry the job to upload the new content from the start.`,
    );
  }

  #fileDone(): void {
    this.#phase = 'checking';
    this.#closeFile(() => {
      this.#range.unchanged().then(
        () => {
          if (this.destroyed) return;
          this.#phase = 'done';
          if (this.#tail.length > 0) this.push(this.#tail);
          this.push(null);
        },
        (error: unknown) => this.destroy(error as Error),
      );
    });
  }

  #closeFile(then: () => void): void {
    const fd = this.#fd;
    if (fd === null) {
      then();
      return;
    }
    this.#fd = null;
    close(fd, () => then());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Buffers still on their way to the socket may be referenced there: leave them to the GC.
    this.#inFlight = [];
    const finish = (): void => this.#closeFile(() => callback(error));
    // Report 'close' only once the descriptor is closed, so that "request over" means "file closed".
    if (this.#busy) this.#afterBusy = finish;
    else finish();
  }
}
