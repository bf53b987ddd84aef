/**
 * Request bodies streamed from a byte range of a local file: a multipart/form-data body (encoded text
 * head, the file's bytes, closing boundary) or the raw bytes alone, each as one Node Readable with an
 * exact Content-Length.
 *
 * Why not `FormData` or a file-backed Blob: on Node 24, cancelling the body stream of a `FormData`
 * that holds a file-backed Blob makes undici reject a promise nobody handles, and a Blob streams a
 * file in 64 KiB pieces through web streams, which costs about twice the CPU of a 1 MiB
 * `fs.createReadStream` (measured in test/bench). Here the file's bytes are read in 1 MiB pieces
 * through the job's shared descriptor (FileSource, opened by the first read of the job, so a request
 * that never starts opens nothing), and the "file changed underneath" check that `fs.openAsBlob` used
 * to give is done before the range's last bytes go out, so a changed file fails the request with a
 * `local-file` UploadError instead of sending a mix of old and new bytes.
 *
 * Ownership: whoever sends the body destroys it when the request is over (main/providers/http.ts
 * `send` does), because an aborted request only unpipes its body. The descriptor belongs to the
 * FileSource, which the runner closes when the job's run ends.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { UploadError } from '../core/errors.ts';
import { READ_BUFFER_SIZE, giveBuffer } from '../core/bufferPool.ts';
import type { FileRange } from '../core/fileSource.ts';

export interface MultipartFile {
  field: string;
  filename: string;
  range: FileRange;
  contentType?: string;
}

export interface BodyOptions {
  /**
   * Sees every file byte of the body, in order, once it was handed on (e.g. to hash the file on the
   * way): at the latest when the body is destroyed, which `send` (providers/http.ts) does before it
   * returns the reply, or when its buffer goes back to the pool.
   */
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

/**
 * Boundaries: 96 random bits per process and a counter, so that no two bodies share one (the random
 * part keeps a file's own bytes from matching it) without asking the CSPRNG for every small part.
 */
const BOUNDARY_PREFIX = `----FerryFormBoundary${randomBytes(12).toString('hex')}`;
let boundaries = 0;

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
  boundaries += 1;
  const boundary = `${BOUNDARY_PREFIX}${boundaries.toString(36)}`;
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
 * head, then the file range (read through the job's shared descriptor in 1 MiB pieces into pooled
 * buffers, back-pressured by not reading ahead), then tail. The range's last piece is held back until
 * the file is confirmed unchanged: a server takes a body as complete once its Content-Length has
 * arrived, so a check after the last file byte was out would come too late for a raw body.
 */
class RangeBody extends Readable {
  readonly #range: FileRange;
  /** Pushed with the first bytes of the range, once they are read (see the constructor). */
  #head: Buffer | null;
  readonly #tail: Buffer;
  readonly #tap: ((chunk: Buffer) => void) | undefined;
  /** Hashes what this body sends, for jobs whose source measures it (FileRange.measureSent). */
  readonly #sent: ((chunk: Buffer) => void) | null;
  #phase: 'file' | 'done' = 'file';
  /** A read (or the final check) is under way. */
  #busy = false;
  #position: number;
  #remaining: number;
  /** Body offset after the last pushed byte. */
  #pushed = 0;
  /** Pooled buffers pushed but not yet reported written, with the body offset where each ends. */
  #inFlight: Array<{ end: number; buffer: Buffer }> = [];
  #wanted = false;
  /** File bytes pushed but not yet shown to `#tap` and `#sent` (see `#deliver`). */
  #untapped: Buffer[] = [];
  #tapLater: NodeJS.Immediate | null = null;

  constructor(head: Buffer, range: FileRange, tail: Buffer, tap: ((chunk: Buffer) => void) | undefined) {
    // One 1 MiB piece waiting in the readable buffer is enough to keep the socket busy.
    super({ highWaterMark: READ_SIZE });
    this.#range = range;
    this.#tail = tail;
    this.#tap = tap;
    this.#sent = range.measureSent?.() ?? null;
    this.#position = range.start;
    this.#remaining = range.size;
    // Start reading at once: the first piece (and, for a small part, the check before the last one)
    // is then read while the HTTP client sets the request up, instead of after its headers went out.
    // The head goes out with that piece, in the same turn: a small part's head, bytes and tail then
    // reach the socket in one write instead of one per turn of the event loop.
    this.#phase = 'file';
    this.#head = head.length > 0 ? head : null;
    this.#pushed += head.length;
    this.#readNext();
  }

  written(total: number): void {
    // A buffer goes back to the pool only after its bytes were hashed. (got reports 0 bytes written
    // as the request starts, before any byte went out: that releases nothing and hashes nothing.)
    if (this.#inFlight.length === 0 || this.#inFlight[0]!.end > total) return;
    this.#runTaps();
    while (this.#inFlight.length > 0 && this.#inFlight[0]!.end <= total) giveBuffer(this.#inFlight.shift()!.buffer);
  }

  override _read(): void {
    if (this.#phase !== 'file') return;
    if (this.#busy) {
      // A read is under way; it continues reading when it ends.
      this.#wanted = true;
      return;
    }
    this.#readNext();
  }

  #readNext(): void {
    this.#busy = true;
    if (this.#remaining === 0) {
      // An empty range: only the check.
      this.#range.unchanged().then(
        () => this.#deliver(null, 0),
        (error: unknown) => this.#deliver(null, 0, error),
      );
      return;
    }
    const length = Math.min(READ_SIZE, this.#remaining);
    this.#range.readPiece(length, this.#position).then(
      async ({ buffer, offset, bytesRead, checked }) => {
        try {
          // Before the last bytes go out: a piece read ahead was checked right after it was read.
          if (bytesRead > 0 && bytesRead === this.#remaining) await (checked ?? this.#range.unchanged());
        } catch (error) {
          this.#deliver(buffer, 0, error);
          return;
        }
        this.#deliver(buffer, bytesRead, undefined, offset);
      },
      (error: unknown) => this.#deliver(null, 0, error),
    );
  }

  /**
   * Ends a read: pushes its bytes (and the tail after the last ones) or fails the body. `#busy` stays
   * set while pushing, so that a `_read` called from inside `push` cannot start a second read.
   */
  #deliver(buffer: Buffer | null, bytesRead: number, error?: unknown, offset = 0): void {
    if (this.destroyed) {
      // Destroyed while reading: the read is over, so the buffer is free again.
      if (buffer) giveBuffer(buffer);
      this.#busy = false;
      return;
    }
    if (error !== undefined || (buffer !== null && bytesRead === 0)) {
      if (buffer) giveBuffer(buffer);
      this.#busy = false;
      this.destroy(
        error instanceof UploadError
          ? error
          : error !== undefined
            ? new UploadError(
                'local-file',
                `Reading bytes ${this.#range.start}-${this.#range.end} of the file: ${String((error as Error)?.message ?? error)}`,
                { cause: error },
              )
            : this.#changed(`it ended ${this.#remaining} bytes early`),
      );
      return;
    }
    let more = true;
    let tail: Buffer | null = this.#tail.length > 0 ? this.#tail : null;
    if (buffer !== null) {
      const chunk = buffer.subarray(offset, offset + bytesRead);
      this.#position += bytesRead;
      this.#remaining -= bytesRead;
      this.#pushed += bytesRead;
      // The hashes see the bytes after they went to the HTTP client, on the loop's next check phase
      // (or sooner: before the buffer is reused, or the body destroyed, which `send` does before the
      // adapter reads the reply and commits the hash). Hashing first held the request's first write
      // back by the hash's time (~0.3 ms for a 204,800-byte part), which lands on every round trip of
      // a serial protocol; afterwards it overlaps with the server's work and the network.
      if (this.#tap || this.#sent) {
        this.#untapped.push(chunk);
        this.#tapLater ??= setImmediate(() => this.#runTaps());
      }
      // The head and (after the last bytes) the tail are copied into the room the file source left
      // around the bytes (PIECE_HEADROOM): one buffer, one write to the socket.
      let from = offset;
      let to = offset + bytesRead;
      if (this.#head !== null && this.#head.length <= offset) {
        from -= this.#head.copy(buffer, from - this.#head.length);
        this.#head = null;
      }
      if (tail !== null && this.#remaining === 0 && to + tail.length <= buffer.length) {
        to += tail.copy(buffer, to);
        this.#pushed += tail.length;
        tail = null;
      }
      if (this.#head !== null) {
        this.push(this.#head);
        this.#head = null;
      }
      this.#inFlight.push({ end: this.#pushed, buffer });
      more = this.push(buffer.subarray(from, to));
    } else if (this.#head !== null) {
      this.push(this.#head);
      this.#head = null;
    }
    if (this.#remaining === 0 && !this.destroyed) {
      this.#phase = 'done';
      if (tail !== null) {
        this.#pushed += tail.length;
        this.push(tail);
      }
      this.push(null);
    }
    this.#busy = false;
    const wanted = this.#wanted;
    this.#wanted = false;
    if (this.#phase === 'file' && !this.destroyed && (more || wanted)) this.#readNext();
  }

  /** Shows the pushed file bytes to the hashes, in order. */
  #runTaps(): void {
    if (this.#tapLater !== null) {
      clearImmediate(this.#tapLater);
      this.#tapLater = null;
    }
    if (this.#untapped.length === 0) return;
    const chunks = this.#untapped;
    this.#untapped = [];
    for (const chunk of chunks) {
      this.#tap?.(chunk);
      this.#sent?.(chunk);
    }
  }

  #changed(why: string): UploadError {
    return new UploadError(
      'local-file',
      `Reading bytes ${this.#range.start}-${this.#range.end} of the file: ${why}, so it changed while it was being uploaded; Ferry will not upload a mix of old and new bytes. Retry the job to upload the new content from the start.`,
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Buffers still on their way to the socket may be referenced there: they stay listed, and go back
    // to the pool only if the HTTP layer still reports them written (the reply to a small part can end
    // the request, and destroy its body, before got's last progress event); otherwise the GC takes
    // them with the body. The descriptor belongs to the file source (closed when the job's run ends).
    this.#runTaps();
    callback(error);
  }
}
