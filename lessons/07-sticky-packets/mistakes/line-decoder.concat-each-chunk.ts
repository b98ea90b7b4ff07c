/**
 * MISTAKE: joins the held bytes with each new chunk (`held = Buffer.concat([held, rest])`)
 * instead of keeping the pieces in a list and joining them once, when the line ends.
 *
 * Every line comes out right, and with short lines it is as fast as the real thing: the natural
 * first way to write a decoder. But each join copies everything held so far, so a long line that
 * arrives in small pieces is copied again and again: 4 MiB in 256-byte chunks copies about 34 GB,
 * seconds of work that a client can make the server do with one slow line. The tests feed such
 * a line and give up after a second of CPU time, where a linear decoder needs well under 100 ms.
 * @caught-by step 2: hold the tail until more bytes arrive › a long line in many small chunks takes linear time
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
    // The mistake: everything held is joined again with each new piece. Correct, and quadratic.
    this.held = [Buffer.concat([...this.held, rest])];
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

  /** Forgets the held bytes and refuses everything from now on. */
  private fail(): LineTooLongError {
    this.held = [];
    this.heldBytes = 0;
    this.failure = new LineTooLongError(this.maxLineBytes);
    return this.failure;
  }
}
