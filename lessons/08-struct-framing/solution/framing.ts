/**
 * Lesson 08: length-prefixed frames, the `struct.pack` way done right.
 *
 * TCP carries one stream of bytes, not messages. To send messages over it, wrap each one in a
 * frame: a 4-byte header holding the payload's length as an UNSIGNED, BIG-ENDIAN number (Python's
 * `struct.pack('!I', n)`, Node's `writeUInt32BE`), then the payload itself. An empty payload is a
 * frame too: just the header 00 00 00 00.
 *
 *   offset   0    1    2    3    4 ...................... 4+n
 *          +----+----+----+----+---------------------------+
 *          | 00 | 00 | 00 | 05 | 68 65 6c 6c 6f  "hello"   |
 *          +----+----+----+----+---------------------------+
 *            length n = 5, big-endian   payload, n bytes
 *
 * Lesson 09 builds its file upload on this module.
 */

/** The size of the header: the payload's length in 4 bytes. */
export const HEADER_BYTES = 4;

/** The largest length a 4-byte unsigned header can hold: 4 GiB − 1 (0xffffffff). */
export const MAX_HEADER_LENGTH = 0xffff_ffff;

/** The decoder's default limit on a payload: 16 MiB. A longer frame is refused, never buffered. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** `EFRAMETOOLARGE`: a frame over the limit; `ETRUNCATED`: the stream ended inside a frame. */
export type FramingErrorCode = 'EFRAMETOOLARGE' | 'ETRUNCATED';

/** A byte stream that breaks the framing: a frame over the limit, or a stream cut inside a frame. */
export class FramingError extends Error {
  readonly code: FramingErrorCode;

  constructor(code: FramingErrorCode, message: string) {
    super(message);
    this.name = 'FramingError';
    this.code = code;
  }
}

export interface FramingOptions {
  /**
   * The longest payload allowed, in bytes, from 0 to MAX_HEADER_LENGTH. The decoder's default is
   * MAX_FRAME_BYTES (16 MiB); encodeFrame's is MAX_HEADER_LENGTH, all that the header can say.
   */
  maxFrameBytes?: number;
}

/** `a frame of 2147483648 bytes is over the limit of 16777216 bytes` */
export function frameTooLarge(size: number, limit: number): FramingError {
  return new FramingError('EFRAMETOOLARGE', `a frame of ${size} bytes is over the limit of ${limit} bytes`);
}

/** `the stream ended inside a frame: 2 of its 4 header bytes arrived` */
export function truncated(what: string): FramingError {
  return new FramingError('ETRUNCATED', `the stream ended inside a frame: ${what}`);
}

/** The limit from the options, checked: a whole number that a header can hold. */
function limitOf(maxFrameBytes: number | undefined, fallback: number): number {
  const limit = maxFrameBytes ?? fallback;
  if (!Number.isSafeInteger(limit) || limit < 0 || limit > MAX_HEADER_LENGTH) {
    throw new RangeError(
      `maxFrameBytes must be a whole number from 0 to ${MAX_HEADER_LENGTH}, not ${maxFrameBytes}`,
    );
  }
  return limit;
}

/** The chunk as a Buffer, for readUInt32BE and friends: itself, or a view of its memory (no copy). */
function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
}

// region step-1
/**
 * Step 1: one frame, header then payload, in one Buffer ready for socket.write(). Throws a
 * FramingError (EFRAMETOOLARGE) for a payload longer than `maxFrameBytes` (default: 4 GiB − 1,
 * the most a 4-byte header can say), before allocating anything.
 */
export function encodeFrame(payload: Uint8Array, options: FramingOptions = {}): Buffer {
  const limit = limitOf(options.maxFrameBytes, MAX_HEADER_LENGTH);
  if (payload.length > limit) throw frameTooLarge(payload.length, limit);
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  // Unsigned and big-endian ("network byte order"): struct.pack('!I', n) in Python.
  frame.writeUInt32BE(payload.length, 0);
  frame.set(payload, HEADER_BYTES);
  return frame;
}
// endregion step-1

/**
 * A streaming decoder: push() the chunks as they arrive, cut anywhere, and get back every frame
 * they complete, in order. The chunks are kept in a list, never joined as they arrive: each byte
 * is copied at most once, when its frame is complete, so the cost grows linearly with the input however
 * it is cut. Memory is bounded by the limit: a header over it throws at once.
 *
 * Its parts are `protected` rather than private so that each variant in mistakes/ can override
 * the one method it gets wrong.
 */
export class FrameDecoder {
  /** The longest payload this decoder accepts. */
  readonly maxFrameBytes: number;

  // region chunk-list
  /** Every chunk received and not yet used up, oldest first. */
  protected chunks: Buffer[] = [];
  /** Where the unread bytes start: at chunks[first], byte `offset`. Chunks before it are used up. */
  protected first = 0;
  protected offset = 0;
  /** How many unread bytes the list holds. */
  protected bufferedBytes = 0;
  /** The payload length of the frame being received, once its header has been read. */
  protected payloadBytes: number | undefined;

  /** The next `n` unread bytes as views into the chunks (subarray: nothing is copied). */
  protected views(n: number): Buffer[] {
    const out: Buffer[] = [];
    let index = this.first;
    let at = this.offset;
    for (let left = n; left > 0; index++, at = 0) {
      const chunk = this.chunks[index] as Buffer;
      const size = Math.min(left, chunk.length - at);
      out.push(chunk.subarray(at, at + size));
      left -= size;
    }
    return out;
  }

  /** The next `n` unread bytes as one view when they sit in one chunk (the usual case), else undefined. */
  protected inOneChunk(n: number): Buffer | undefined {
    const chunk = this.chunks[this.first];
    return chunk && chunk.length - this.offset >= n
      ? chunk.subarray(this.offset, this.offset + n)
      : undefined;
  }

  /** Marks the next `n` unread bytes as used, and lets go of the chunks they used up. */
  protected consume(n: number): void {
    this.bufferedBytes -= n;
    let left = n;
    while (left > 0) {
      const rest = (this.chunks[this.first] as Buffer).length - this.offset;
      if (left < rest) {
        this.offset += left;
        break;
      }
      left -= rest;
      this.first++;
      this.offset = 0;
    }
    // Let go of used-up chunks: all at once when everything is read (the usual case), else once
    // they are half the list. Copying the rest of the list then costs no more than the chunks
    // dropped, so O(1) per chunk on average, and used-up chunks never outnumber the others.
    if (this.first === this.chunks.length) {
      this.chunks = [];
      this.first = 0;
    } else if (this.first * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }
  // endregion chunk-list

  constructor(options: FramingOptions = {}) {
    this.maxFrameBytes = limitOf(options.maxFrameBytes, MAX_FRAME_BYTES);
  }

  /** How many bytes the decoder holds: those of the frame it is still waiting to complete. */
  get buffered(): number {
    return this.bufferedBytes;
  }

  // region step-2
  /**
   * Step 2: takes the next chunk of the stream and returns the frames it completes, in order
   * (none, one or many). Throws a FramingError (EFRAMETOOLARGE) for a header over the limit.
   */
  push(chunk: Uint8Array): Buffer[] {
    if (chunk.length > 0) {
      // Keep it as it is (never joined to the others: no copy) and count it.
      this.chunks.push(asBuffer(chunk));
      this.bufferedBytes += chunk.length;
    }
    const frames: Buffer[] = [];
    for (;;) {
      if (this.payloadBytes === undefined) {
        if (this.bufferedBytes < HEADER_BYTES) break; // the header is not all here yet
        this.payloadBytes = this.readHeader();
      }
      if (this.bufferedBytes < HEADER_BYTES + this.payloadBytes) break; // nor is the payload
      frames.push(this.takeFrame(this.payloadBytes));
      this.payloadBytes = undefined;
    }
    return frames;
  }
  // endregion step-2

  // region step-3
  /**
   * Step 3: the payload length from the header, the first 4 unread bytes, however they were cut.
   * Throws EFRAMETOOLARGE when it is over the limit: the payload is never waited for.
   */
  protected readHeader(): number {
    // Usually the header sits in one chunk: read it there. When it is cut, join its 4 bytes.
    const chunk = this.chunks[this.first] as Buffer;
    const size =
      chunk.length - this.offset >= HEADER_BYTES
        ? chunk.readUInt32BE(this.offset) // unsigned: 80 00 00 00 is 2147483648, not negative
        : Buffer.concat(this.views(HEADER_BYTES), HEADER_BYTES).readUInt32BE(0);
    if (size > this.maxFrameBytes) throw frameTooLarge(size, this.maxFrameBytes);
    return size;
  }
  // endregion step-3

  // region step-4
  /**
   * Step 4: removes the complete frame at the front (header and `size` payload bytes) and
   * returns its payload: a view of the chunk when it sits in one (no copy: the usual case for
   * small frames), else its pieces joined once. A view keeps its chunk alive: a caller that
   * stores frames for long should copy them (Buffer.from).
   */
  protected takeFrame(size: number): Buffer {
    this.consume(HEADER_BYTES);
    // In one chunk: a view (subarray), no copy. Across chunks: the one copy of these bytes.
    const payload = this.inOneChunk(size) ?? Buffer.concat(this.views(size), size);
    this.consume(size);
    return payload;
  }
  // endregion step-4

  // region step-5
  /**
   * Step 5: the stream has ended. Throws a FramingError (ETRUNCATED) when it ended inside a
   * frame: some bytes of a frame arrived, but not all of them.
   */
  end(): void {
    if (this.bufferedBytes === 0) return;
    if (this.bufferedBytes < HEADER_BYTES) {
      throw truncated(`${this.bufferedBytes} of its ${HEADER_BYTES} header bytes arrived`);
    }
    // The header is here (a header over the limit is refused again, as push() did).
    const size = this.payloadBytes ?? this.readHeader();
    throw truncated(`${this.bufferedBytes - HEADER_BYTES} of its ${size} payload bytes arrived`);
  }
  // endregion step-5
}
