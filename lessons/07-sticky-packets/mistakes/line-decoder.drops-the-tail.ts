/**
 * MISTAKE: splits each chunk on '\n' and forgets the bytes after the last one.
 *
 * It works whenever every chunk ends exactly at the end of a line, which is what you see when
 * you type lines into nc on your own machine: each line leaves in its own write and arrives in
 * its own read. As soon as the network cuts a line in two (a slow link, a big write, the
 * course's one-byte-at-a-time proxy), the start of that line is lost and only its end is
 * answered. The tests feed the decoder one byte at a time, and catch it.
 * @caught-by step 2: hold the tail until more bytes arrive › one byte at a time gives the same three lines
 */
import {
  DEFAULT_MAX_LINE_BYTES,
  type LineDecoderOptions,
  LineTooLongError,
  type OnLine,
} from '../solution/line-decoder.ts';

export * from '../solution/line-decoder.ts';

const LF = 0x0a;
const CR = 0x0d;

export class LineDecoder {
  readonly maxLineBytes: number;
  private failure: LineTooLongError | undefined;

  constructor({ maxLineBytes = DEFAULT_MAX_LINE_BYTES }: LineDecoderOptions = {}) {
    this.maxLineBytes = maxLineBytes;
  }

  /** Nothing is ever held: that is the mistake. */
  get pendingBytes(): number {
    return 0;
  }

  push(chunk: Uint8Array, onLine: OnLine): void {
    if (this.failure) throw this.failure;
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (let end = bytes.indexOf(LF); end !== -1; end = bytes.indexOf(LF, start)) {
      const line = bytes.subarray(start, bytes[end - 1] === CR && end > start ? end - 1 : end);
      if (line.length > this.maxLineBytes) throw this.fail();
      onLine(line.toString('utf8'));
      start = end + 1;
    }
    // The mistake: bytes.subarray(start), the beginning of the next line, is dropped here.
    if (bytes.length - start > this.maxLineBytes + 1) throw this.fail();
  }

  end(_onLine: OnLine): void {
    if (this.failure) throw this.failure;
  }

  private fail(): LineTooLongError {
    this.failure = new LineTooLongError(this.maxLineBytes);
    return this.failure;
  }
}
