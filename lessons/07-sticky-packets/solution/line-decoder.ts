/**
 * Lesson 07: a line decoder. Bytes in, complete lines out.
 *
 * TCP delivers a stream of bytes: three writes can arrive as one 'data' event, and one write as
 * many. The decoder turns whatever pieces arrive into the lines the sender meant:
 *
 *   const decoder = new LineDecoder({ maxLineBytes: 65536 });
 *   decoder.push(Buffer.from('hello\nbye'), onLine);   // onLine('hello'); 'bye' is held
 *   decoder.push(Buffer.from('bye\r\n'), onLine);      // onLine('byebye')
 *   decoder.end(onLine);                               // the stream ended: nothing was left
 *
 * The rules, whatever the cuts:
 *   - a line ends at `\n`; one `\r` just before it is part of the line ending (`\r\n`), and is
 *     dropped. Any other `\r` belongs to the line;
 *   - each line is decoded as UTF-8 once it is complete, so a character cut between two chunks
 *     survives;
 *   - a line longer than `maxLineBytes` bytes (not counting its line ending) is refused with a
 *     LineTooLongError, as soon as the decoder can tell, without waiting for its `\n`;
 *   - the bytes after the last `\n` are held until more arrive, in a list of pieces joined once
 *     when their line ends: work and memory grow with the input, never with its square.
 */

/** The longest line accepted unless told otherwise: 64 KiB. */
export const DEFAULT_MAX_LINE_BYTES = 65_536;

const LF = 0x0a; // \n
const CR = 0x0d; // \r

/** Receives each complete line, without its line ending. */
export type OnLine = (line: string) => void;

export interface LineDecoderOptions {
  /** The longest line accepted, in bytes, not counting `\n` or `\r\n`. Default 65536. */
  maxLineBytes?: number;
}

/** A line longer than the maximum: `line longer than 65536 bytes`. */
export class LineTooLongError extends Error {
  readonly maxLineBytes: number;

  constructor(maxLineBytes: number) {
    super(`line longer than ${maxLineBytes} bytes`);
    this.name = 'LineTooLongError';
    this.maxLineBytes = maxLineBytes;
  }
}

export class LineDecoder {
  readonly maxLineBytes: number;
  /** The bytes after the last `\n`, piece by piece as they arrived: joined once, when the line ends. */
  private held: Buffer[] = [];
  /** How many bytes `held` holds, so that nothing needs to count them again. */
  private heldBytes = 0;
  /** Set once a line was too long: the stream is out of step and the decoder refuses more. */
  private failure: LineTooLongError | undefined;

  constructor({ maxLineBytes = DEFAULT_MAX_LINE_BYTES }: LineDecoderOptions = {}) {
    if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1) {
      throw new RangeError(`maxLineBytes must be a whole number of at least 1, not ${maxLineBytes}`);
    }
    this.maxLineBytes = maxLineBytes;
  }

  /** How many bytes are held, waiting for the `\n` that ends their line. */
  get pendingBytes(): number {
    return this.heldBytes;
  }

  // region push
  /**
   * Feeds one chunk, as it arrived, and calls `onLine` for each line it completes, in order.
   * Throws LineTooLongError once a line is longer than the maximum; the lines before it have
   * been delivered by then.
   */
  push(chunk: Uint8Array, onLine: OnLine): void {
    if (this.failure) throw this.failure;
    // A Buffer view of the same memory: no copy, and Buffer's indexOf and toString.
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    // Only the new bytes are searched, each once: the held ones hold no \n, by definition.
    // A \n byte (0x0a) never occurs inside a multi-byte UTF-8 character, so cutting there is safe.
    for (let end = bytes.indexOf(LF); end !== -1; end = bytes.indexOf(LF, start)) {
      onLine(this.completeLine(bytes.subarray(start, end)));
      start = end + 1;
    }
    this.hold(bytes.subarray(start));
  }
  // endregion push

  // region complete-line
  /** The line that ends just before a `\n`: the held bytes and `last`, joined once and decoded once. */
  private completeLine(last: Buffer): string {
    const total = this.heldBytes + last.length;
    // One \r right before the \n is part of the line ending. It may be the last held byte:
    // the \r and the \n can arrive in different chunks.
    const lastByte = last.length > 0 ? last.at(-1) : this.held.at(-1)?.at(-1);
    const length = lastByte === CR ? total - 1 : total;
    // Checked before joining: a huge line inside one chunk is never copied.
    if (length > this.maxLineBytes) throw this.fail();
    const line = this.held.length === 0 ? last : Buffer.concat([...this.held, last], total);
    this.held = [];
    this.heldBytes = 0;
    return line.toString('utf8', 0, length);
  }
  // endregion complete-line

  // region hold-and-end
  /** Keeps the bytes after the last `\n` of a chunk until the rest of their line arrives. */
  private hold(rest: Buffer): void {
    if (rest.length === 0) return;
    const total = this.heldBytes + rest.length;
    // The line is not over yet. It can still end in \r\n, so max + 1 bytes ending in \r may be
    // a line of max bytes and its \r; anything longer is too long already. Refusing now, not
    // at the \n, is what keeps memory bounded: a client cannot make us hold more.
    if (total > this.maxLineBytes + 1 || (total === this.maxLineBytes + 1 && rest.at(-1) !== CR)) {
      throw this.fail();
    }
    // A copy of the few bytes: a view would keep the whole chunk it came from in memory.
    this.held.push(Buffer.from(rest));
    this.heldBytes = total;
  }

  /**
   * The stream has ended (the peer half-closed). Bytes held after the last `\n` form a final
   * line, delivered as they are; nothing is delivered when nothing is held.
   */
  end(onLine: OnLine): void {
    if (this.failure) throw this.failure;
    if (this.heldBytes === 0) return;
    if (this.heldBytes > this.maxLineBytes) throw this.fail();
    const line = Buffer.concat(this.held, this.heldBytes);
    this.held = [];
    this.heldBytes = 0;
    onLine(line.toString('utf8'));
  }
  // endregion hold-and-end

  /** Forgets the held bytes and refuses everything from now on. */
  private fail(): LineTooLongError {
    this.held = [];
    this.heldBytes = 0;
    this.failure = new LineTooLongError(this.maxLineBytes);
    return this.failure;
  }
}
