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

// region encode
/**
 * Step 1: one frame, header then payload, in one Buffer ready for socket.write(). Throws a
 * FramingError (EFRAMETOOLARGE) for a payload longer than `maxFrameBytes` (default: 4 GiB − 1,
 * the most a 4-byte header can say), before allocating anything.
 */
export function encodeFrame(payload: Uint8Array, options: FramingOptions = {}): Buffer {
  const limit = limitOf(options.maxFrameBytes, MAX_HEADER_LENGTH);
  // TODO(1): throw frameTooLarge(payload.length, limit) when the payload is longer than the
  // limit, before allocating anything. Otherwise allocate HEADER_BYTES + payload.length bytes
  // (Buffer.allocUnsafe), write the length at offset 0 as an unsigned big-endian 32-bit number
  // (the Buffer method whose name says UInt32 and BE), copy the payload after it
  // (frame.set(payload, HEADER_BYTES)) and return the frame.
  throw new Error('TODO(1): encode the frame, header then payload — see README step 1');
}
// endregion encode

/**
 * A streaming decoder: push() the chunks as they arrive, cut anywhere, and get back every frame
 * they complete, in order. The chunks are kept in a list, never joined as they arrive: each byte
 * is copied once, when its frame is complete, so the cost grows linearly with the input however
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

  // region push
  /**
   * Step 2: takes the next chunk of the stream and returns the frames it completes, in order
   * (none, one or many). Throws a FramingError (EFRAMETOOLARGE) for a header over the limit.
   */
  push(chunk: Uint8Array): Buffer[] {
    // TODO(2): keep the chunk: unless it is empty, append asBuffer(chunk) to this.chunks and add
    // its length to this.bufferedBytes. Never join it to what came before.
    // Then loop, collecting frames, until the next frame is not complete:
    //   - no header read yet (this.payloadBytes undefined): fewer than HEADER_BYTES buffered
    //     means wait (stop the loop); else this.payloadBytes = this.readHeader();
    //   - fewer than HEADER_BYTES + this.payloadBytes buffered: wait;
    //   - else frames.push(this.takeFrame(this.payloadBytes)) and forget payloadBytes.
    // Return the frames, in order: none, one or many.
    throw new Error('TODO(2): keep the chunk and collect the complete frames — see README step 2');
  }
  // endregion push

  // region read-header
  /**
   * Step 3: the payload length from the header, the first 4 unread bytes, however they were cut.
   * Throws EFRAMETOOLARGE when it is over the limit: the payload is never waited for.
   */
  protected readHeader(): number {
    // TODO(3): this.views(HEADER_BYTES) gives the header as one piece, or several when it was
    // cut; join several with Buffer.concat(pieces, HEADER_BYTES). Read the length as an unsigned
    // big-endian 32-bit number. Over this.maxFrameBytes, throw
    // frameTooLarge(size, this.maxFrameBytes) at once, without consuming anything; else return it.
    throw new Error('TODO(3): read the length from the header — see README step 3');
  }
  // endregion read-header

  // region take-frame
  /**
   * Step 4: removes the complete frame at the front (header and `size` payload bytes) and
   * returns its payload, copied once into a Buffer of its own.
   */
  protected takeFrame(size: number): Buffer {
    // TODO(4): consume the header (this.consume(HEADER_BYTES)); join the payload's pieces,
    // this.views(size), with ONE Buffer.concat(pieces, size): the only copy of these bytes;
    // consume them and return the payload. An empty payload is a frame too.
    throw new Error('TODO(4): cut the frame out of the chunks — see README step 4');
  }
  // endregion take-frame

  // region end
  /**
   * Step 5: the stream has ended. Throws a FramingError (ETRUNCATED) when it ended inside a
   * frame: some bytes of a frame arrived, but not all of them.
   */
  end(): void {
    // TODO(5): nothing buffered: fine, return. Fewer than HEADER_BYTES: throw
    // truncated(`${n} of its 4 header bytes arrived`). Otherwise the header is here (its length
    // is this.payloadBytes, or this.readHeader() if it was refused): throw
    // truncated(`${got} of its ${size} payload bytes arrived`).
    throw new Error('TODO(5): refuse a stream that ends inside a frame — see README step 5');
  }
  // endregion end
}
