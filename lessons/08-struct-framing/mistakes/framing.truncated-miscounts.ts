/**
 * MISTAKE: end() counts the header in the payload bytes that arrived: `${buffered} of its ${size}
 * payload bytes` instead of `${buffered - 4} of …`.
 *
 * It throws ETRUNCATED exactly when it should, so every test about *when* passes, and the message
 * looks plausible. But it is wrong, and a log line that miscounts sends whoever reads it looking
 * for four bytes that never went missing: a header saying 5 and 2 payload bytes is reported as
 * "6 of its 5 payload bytes arrived", more than the frame holds. The tests compare the messages.
 * @caught-by step 5: refuse a stream that ends inside a frame › leftover bytes throw ETRUNCATED
 */
import { FrameDecoder as CorrectDecoder, HEADER_BYTES, truncated } from '../solution/framing.ts';

export * from '../solution/framing.ts';

export class FrameDecoder extends CorrectDecoder {
  override end(): void {
    if (this.bufferedBytes === 0) return;
    if (this.bufferedBytes < HEADER_BYTES) {
      throw truncated(`${this.bufferedBytes} of its ${HEADER_BYTES} header bytes arrived`);
    }
    const size = this.payloadBytes ?? this.readHeader();
    // The mistake: the 4 header bytes counted as payload.
    throw truncated(`${this.bufferedBytes} of its ${size} payload bytes arrived`);
  }
}
