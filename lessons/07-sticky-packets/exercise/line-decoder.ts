// biome-ignore-all lint/correctness/noUnusedPrivateClassMembers: in exercise/, some private helpers are unused until their TODOs are done
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

  // region step-1
  /**
   * Step 1: feeds one chunk, as it arrived, and calls `onLine` for each line it completes, in
   * order. Throws LineTooLongError once a line is longer than the maximum; the lines before it
   * have been delivered by then.
   */
  push(chunk: Uint8Array, onLine: OnLine): void {
    if (this.failure) throw this.failure;
    // A Buffer view of the same memory: no copy, and Buffer's indexOf and toString.
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // TODO(1): call onLine() with each line this chunk completes, in order: the bytes before each
    // \n (the byte LF), handed to completeLine() (given: it decodes them). Look at each byte once:
    // every search for the next \n starts just after the previous one, and the lines are views of
    // `bytes`, not copies (Node docs: buf.indexOf(), buf.subarray()). The bytes after the last \n
    // start a line that is not complete: hand them to hold() (step 2; until then it refuses any).
    // README "Split bytes, decode lines" and step 1.
    throw new Error('TODO(1): split the chunk at each \\n in push() — see README step 1');
  }
  // endregion step-1

  // region complete-line
  /**
   * The line that ends just before a `\n`: the held bytes, then `last`. Its length is checked
   * before anything is joined, so a huge line inside one chunk is never copied; then it is joined
   * once and decoded once, without the `\r` of a `\r\n` ending.
   */
  private completeLine(last: Buffer): string {
    const total = this.heldBytes + last.length;
    const length = this.lengthWithoutCR(last, total); // step 3
    this.checkLine(length); // step 4
    return this.takeLine(last).toString('utf8', 0, length); // step 2
  }
  // endregion complete-line

  // region step-2
  /** Step 2: the held bytes followed by `last`, joined once; nothing is held afterwards. */
  private takeLine(last: Buffer): Buffer {
    // TODO(2): a line that ends now starts with the bytes held since earlier chunks: return them
    // and `last` as one Buffer, joined in one go (joining again at every chunk costs the square of
    // the line's length), and hold nothing any more. Node docs: Buffer.concat(list, totalLength).
    return last; // right only while nothing is held
  }

  /** Step 2: keeps the bytes after the last `\n` of a chunk until the rest of their line arrives. */
  private hold(rest: Buffer): void {
    // TODO(2): keep `rest` for the next chunk, and count it in heldBytes (pendingBytes reports it).
    // Keep a copy, not a view: the caller may reuse its buffer once push() returns, and a view
    // would keep its whole chunk in memory (Node docs: Buffer.from(buffer)). Before you keep
    // anything, call checkUnfinished() with the new total and the last byte (it refuses a line
    // already too long, from step 4 on). README step 2.
    if (rest.length > 0)
      throw new Error('TODO(2): hold the bytes after the last \\n in hold() — see README step 2');
  }

  /**
   * Step 2: the stream has ended (the peer half-closed). Bytes held after the last `\n` form a
   * final line, delivered as they are; nothing is delivered when nothing is held.
   */
  end(onLine: OnLine): void {
    if (this.failure) throw this.failure;
    // TODO(2): the bytes held are a last line without \n: deliver them, decoded as UTF-8, unless
    // nothing is held. Check their length with checkLine() first (from step 4 on, it refuses a
    // line too long), and take them as completeLine() does.
    throw new Error('TODO(2): deliver the held bytes as a last line in end() — see README step 2');
  }
  // endregion step-2

  // region step-3
  /**
   * Step 3: the length of the line that ends just before a `\n` (`total` bytes, held and in
   * `last`), without the one `\r` of a `\r\n` ending. That `\r` may be the last held byte: the
   * `\r` and the `\n` can arrive in different chunks.
   */
  private lengthWithoutCR(last: Buffer, total: number): number {
    // TODO(3): one \r (the byte CR) right before the \n belongs to the line ending, not to the
    // line: count it out. It is the last byte of `last`, or, when `last` is empty because the \r
    // and the \n came in different chunks, the last held byte. Any other \r belongs to the line.
    // README step 3.
    return total;
  }
  // endregion step-3

  // region step-4
  /** Step 4: refuses a complete line of `length` bytes (its line ending not counted) over the maximum. */
  private checkLine(length: number): void {
    // TODO(4): a line longer than maxLineBytes is refused: throw the error that fail() returns (it
    // also forgets what is held, and makes push() and end() refuse everything from now on).
  }

  /**
   * Step 4: refuses a line still in progress, `total` bytes so far and `lastByte` the last, as
   * soon as it is too long. It can still end in \r\n, so max + 1 bytes ending in \r may be a line
   * of max bytes and its \r; anything longer is too long already. Refusing now, not at the \n,
   * is what keeps memory bounded: a client cannot make us hold more.
   */
  private checkUnfinished(total: number, lastByte: number | undefined): void {
    // TODO(4): refuse (throw this.fail()) a line that can no longer fit, without waiting for its
    // \n: the rule is in the comment above. README step 4.
  }
  // endregion step-4

  /** Forgets the held bytes and refuses everything from now on. */
  private fail(): LineTooLongError {
    this.held = [];
    this.heldBytes = 0;
    this.failure = new LineTooLongError(this.maxLineBytes);
    return this.failure;
  }
}
