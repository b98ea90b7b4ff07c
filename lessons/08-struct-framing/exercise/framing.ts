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
  // TODO(1): refuse a payload longer than the limit with frameTooLarge(), before allocating
  // anything (a caller may pass 4 GiB). Otherwise return one Buffer: the 4-byte header, the
  // payload's length as an UNSIGNED, BIG-ENDIAN 32-bit number (Python's '!I'), then the payload.
  // Node docs: Buffer.allocUnsafe(), the buf.write... method whose name says UInt32 and BE,
  // typedArray.set(). README "A frame: a length, then the payload" and step 1.
  throw new Error('TODO(1): encode the frame, header then payload — see README step 1');
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
    // TODO(2): keep the chunk in this.chunks as it is, never joined to what came before (that
    // would copy the stream again and again: README "Linear decoding: a list of chunks"), and
    // count it in this.bufferedBytes; asBuffer() gives a Buffer view of any Uint8Array. Then
    // collect every frame now complete, in order: read a header once its 4 bytes are here
    // (readHeader(), step 3; this.payloadBytes remembers it), take the frame once its payload is
    // here too (takeFrame(), step 4), and stop at the first one not complete. README step 2.
    throw new Error('TODO(2): keep the chunk and collect the complete frames — see README step 2');
  }
  // endregion step-2

  // region step-3
  /**
   * Step 3: the payload length from the header, the first 4 unread bytes, however they were cut.
   * Throws EFRAMETOOLARGE when it is over the limit: the payload is never waited for.
   */
  protected readHeader(): number {
    // TODO(3): the header is the first 4 unread bytes, in one chunk or cut across several
    // (this.views() gives the pieces, without copying). Read it where it is when it sits in one
    // chunk; join the pieces only when it was cut. Read it as an unsigned big-endian 32-bit number
    // (80 00 00 00 is 2147483648, not negative), and refuse one over this.maxFrameBytes at once,
    // with frameTooLarge(), consuming nothing: its payload is never waited for. README step 3, and
    // "Why struct.pack('i', n) breaks".
    throw new Error('TODO(3): read the length from the header — see README step 3');
  }
  // endregion step-3

  // region step-4
  /**
   * Step 4: removes the complete frame at the front (header and `size` payload bytes) and
   * returns its payload, copied once into a Buffer of its own.
   */
  protected takeFrame(size: number): Buffer {
    // TODO(4): the frame at the front is complete: use up its header and its payload
    // (this.consume()) and return the payload as one Buffer, copied at most once: its pieces
    // (this.views(size)) joined in one go (Node docs: Buffer.concat(list, totalLength)), or no
    // copy at all when it sits in one chunk (inOneChunk()). An empty payload is a frame too.
    // README step 4.
    throw new Error('TODO(4): cut the frame out of the chunks — see README step 4');
  }
  // endregion step-4

  // region step-5
  /**
   * Step 5: the stream has ended. Throws a FramingError (ETRUNCATED) when it ended inside a
   * frame: some bytes of a frame arrived, but not all of them.
   */
  end(): void {
    // TODO(5): a stream may end between frames, never inside one. Nothing buffered: fine. Else
    // throw truncated(), saying how much of the frame arrived: `2 of its 4 header bytes arrived`,
    // or, once the header is here, `3 of its 10 payload bytes arrived` (a header that push()
    // refused is refused again here: readHeader() throws). README step 5.
    throw new Error('TODO(5): refuse a stream that ends inside a frame — see README step 5');
  }
  // endregion step-5
}
