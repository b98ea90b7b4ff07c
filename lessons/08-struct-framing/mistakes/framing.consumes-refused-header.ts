/**
 * MISTAKE: readHeader() consumes the header before checking the limit, so a refused header is
 * gone from the buffer.
 *
 * push() still throws EFRAMETOOLARGE at the right moment, with the right message, and a server
 * destroys the connection anyway, so it looks harmless. But the decoder is now out of step:
 * `buffered` says 0 for a stream that still holds a refused frame, and end() reports a clean end
 * instead of refusing it again. Whoever asks the decoder afterwards (a log, a test, lesson 09's
 * server) gets a wrong answer. "Consume nothing" means the decoder's state always describes the
 * stream as it is. The tests refuse a header, then check `buffered` and end().
 * @caught-by step 5: refuse a stream that ends inside a frame › a stream that ends after a refused header refuses it again
 */
import { FrameDecoder as CorrectDecoder, frameTooLarge, HEADER_BYTES } from '../solution/framing.ts';

export * from '../solution/framing.ts';

export class FrameDecoder extends CorrectDecoder {
  protected override readHeader(): number {
    const size = Buffer.concat(this.views(HEADER_BYTES), HEADER_BYTES).readUInt32BE(0);
    if (size > this.maxFrameBytes) {
      this.consume(HEADER_BYTES); // The mistake: the refused header is dropped.
      throw frameTooLarge(size, this.maxFrameBytes);
    }
    return size;
  }
}
