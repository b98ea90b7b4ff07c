/**
 * MISTAKE: a little-endian header (writeUInt32LE / readUInt32LE), the byte order of the machine
 * it was written on.
 *
 * It is what the original's `struct.pack('i', n)` does on an x86 or ARM laptop: native byte order,
 * which is little-endian there. It seems to work, because this encoder and this decoder agree
 * with each other: a round trip through both is perfect. But the wire format says big-endian
 * (network byte order, `struct.pack('!I', n)`), so every other program disagrees: a 5-byte
 * "hello" goes out as 05 00 00 00, which a correct peer reads as 83886080 bytes and refuses.
 * @caught-by step 1: encode a frame › hello → 00 00 00 05 then the payload
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
  frame.writeUInt32LE(payload.length, 0); // the mistake: least significant byte first
  frame.set(payload, HEADER_BYTES);
  return frame;
}

export class FrameDecoder extends CorrectDecoder {
  protected override readHeader(): number {
    const pieces = this.views(HEADER_BYTES);
    const size = Buffer.concat(pieces, HEADER_BYTES).readUInt32LE(0); // the mistake
    if (size > this.maxFrameBytes) throw frameTooLarge(size, this.maxFrameBytes);
    return size;
  }
}
