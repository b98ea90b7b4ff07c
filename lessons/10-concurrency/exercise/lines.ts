/**
 * Lesson 10: lines out of a byte stream, as in lesson 07, in a smaller form. The pieces of a line
 * in progress are kept in a list and joined once, when its `\n` arrives, and only new bytes are
 * searched: linear in the bytes received, however the stream is cut.
 */

/** The longest line accepted unless told otherwise, in bytes, not counting its line ending. */
export const DEFAULT_MAX_LINE_BYTES = 65_536;

const LF = 0x0a;
const CR = 0x0d;

/** A line passed maxLineBytes: the connection is answered `ERR line too long` and closed. */
export class LineTooLongError extends Error {
  override name = 'LineTooLongError';
}

export class LineDecoder {
  readonly maxLineBytes: number;
  private held: Buffer[] = [];
  private heldBytes = 0;

  constructor(maxLineBytes = DEFAULT_MAX_LINE_BYTES) {
    this.maxLineBytes = maxLineBytes;
  }

  /** Bytes of the line in progress. */
  get pendingBytes(): number {
    return this.heldBytes;
  }

  /** Calls onLine for every line completed by `chunk`; throws LineTooLongError past the limit. */
  push(chunk: Buffer, onLine: (line: string) => void): void {
    let start = 0;
    for (let end = chunk.indexOf(LF); end !== -1; end = chunk.indexOf(LF, start)) {
      const last = chunk.subarray(start, end);
      const whole =
        this.held.length === 0 ? last : Buffer.concat([...this.held, last], this.heldBytes + last.length);
      this.held = [];
      this.heldBytes = 0;
      const length = whole.at(-1) === CR ? whole.length - 1 : whole.length;
      if (length > this.maxLineBytes) throw new LineTooLongError('line too long');
      onLine(whole.toString('utf8', 0, length));
      start = end + 1;
    }
    const rest = chunk.subarray(start);
    if (rest.length === 0) return;
    // One byte more than the limit may still be the \r of a \r\n.
    if (this.heldBytes + rest.length > this.maxLineBytes + 1) throw new LineTooLongError('line too long');
    this.held.push(Buffer.from(rest));
    this.heldBytes += rest.length;
  }
}
