/**
 * MISTAKE: reads the header from the chunk where the frame starts, as if a header (4 bytes, so
 * small!) always arrived in one piece.
 *
 * On loopback, with frames sent one write at a time, it nearly always does, so the decoder seems
 * to work. But TCP may cut anywhere, including inside the header: when a chunk ends with 1 to 3
 * bytes of a header, readUInt32BE reads past the end of that chunk and throws a RangeError,
 * and the connection dies for no reason the sender can see.
 * @caught-by step 3: read the header › the header is read even when it arrives one byte at a time
 */
import { FrameDecoder as CorrectDecoder, frameTooLarge } from '../solution/framing.ts';

export * from '../solution/framing.ts';

export class FrameDecoder extends CorrectDecoder {
  protected override readHeader(): number {
    // The mistake: the 4 bytes are assumed to be in the current chunk.
    const size = (this.chunks[this.first] as Buffer).readUInt32BE(this.offset);
    if (size > this.maxFrameBytes) throw frameTooLarge(size, this.maxFrameBytes);
    return size;
  }
}
