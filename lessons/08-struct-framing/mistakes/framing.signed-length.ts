/**
 * MISTAKE: a signed header (writeInt32BE / readInt32BE), the `i` of the original's
 * `struct.pack('i', n)`, in network byte order this time.
 *
 * Every length under 2 GiB looks the same signed or unsigned, so every test with real payloads
 * passes. But a header of 80 00 00 00 or more has its top bit set: read as signed, 2147483648
 * becomes -2147483648. A negative length slips under any limit check, and the decoder then
 * "waits" for a negative number of bytes: garbage frames, or a crash, from one hostile header.
 * @caught-by step 3: read the header › the length is unsigned
 */
import {
  FrameDecoder as CorrectDecoder,
  type FramingOptions,
  frameTooLarge,
  HEADER_BYTES,
  MAX_HEADER_LENGTH,
} from '../solution/framing.ts';

export * from '../solution/framing.ts';

export function encodeFrame(payload: Uint8Array, options: FramingOptions = {}): Buffer {
  const limit = options.maxFrameBytes ?? MAX_HEADER_LENGTH;
  if (payload.length > limit) throw frameTooLarge(payload.length, limit);
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  frame.writeInt32BE(payload.length, 0); // the mistake: throws RangeError from 2 GiB on
  frame.set(payload, HEADER_BYTES);
  return frame;
}

export class FrameDecoder extends CorrectDecoder {
  protected override readHeader(): number {
    const pieces = this.views(HEADER_BYTES);
    const size = Buffer.concat(pieces, HEADER_BYTES).readInt32BE(0); // the mistake: can be negative
    if (size > this.maxFrameBytes) throw frameTooLarge(size, this.maxFrameBytes);
    return size;
  }
}
