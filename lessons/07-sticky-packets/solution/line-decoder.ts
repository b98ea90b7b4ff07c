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
    let start = 0;
    // Only the new bytes are searched, each once: the held ones hold no \n, by definition.
    // A \n byte (0x0a) never occurs inside a multi-byte UTF-8 character, so cutting there is safe.
    for (let end = bytes.indexOf(LF); end !== -1; end = bytes.indexOf(LF, start)) {
      onLine(this.completeLine(bytes.subarray(start, end)));
      start = end + 1;
    }
    this.hold(bytes.subarray(start));
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
    const line =
      this.held.length === 0 ? last : Buffer.concat([...this.held, last], this.heldBytes + last.length);
    this.held = [];
    this.heldBytes = 0;
    return line;
  }

  /** Step 2: keeps the bytes after the last `\n` of a chunk until the rest of their line arrives. */
  private hold(rest: Buffer): void {
    if (rest.length === 0) return;
    const total = this.heldBytes + rest.length;
    this.checkUnfinished(total, rest.at(-1)); // step 4: before holding anything
    // A copy of the few bytes: a view would keep the whole chunk it came from in memory, and the
    // caller may reuse its buffer as soon as push() returns.
    this.held.push(Buffer.from(rest));
    this.heldBytes = total;
  }

  /**
   * Step 2: the stream has ended (the peer half-closed). Bytes held after the last `\n` form a
   * final line, delivered as they are; nothing is delivered when nothing is held.
   */
  end(onLine: OnLine): void {
    if (this.failure) throw this.failure;
    if (this.heldBytes === 0) return;
    this.checkLine(this.heldBytes); // step 4
    onLine(this.takeLine(Buffer.alloc(0)).toString('utf8'));
  }
  // endregion step-2

  // region step-3
  /**
   * Step 3: the length of the line that ends just before a `\n` (`total` bytes, held and in
   * `last`), without the one `\r` of a `\r\n` ending. That `\r` may be the last held byte: the
   * `\r` and the `\n` can arrive in different chunks.
   */
  private lengthWithoutCR(last: Buffer, total: number): number {
    const lastByte = last.length > 0 ? last.at(-1) : this.held.at(-1)?.at(-1);
    return lastByte === CR ? total - 1 : total;
  }
  // endregion step-3

  // region step-4
  /** Step 4: refuses a complete line of `length` bytes (its line ending not counted) over the maximum. */
  private checkLine(length: number): void {
    if (length > this.maxLineBytes) throw this.fail();
  }

  /**
   * Step 4: refuses a line still in progress, `total` bytes so far and `lastByte` the last, as
   * soon as it is too long. It can still end in \r\n, so max + 1 bytes ending in \r may be a line
   * of max bytes and its \r; anything longer is too long already. Refusing now, not at the \n,
   * is what keeps memory bounded: a client cannot make us hold more.
   */
  private checkUnfinished(total: number, lastByte: number | undefined): void {
    if (total > this.maxLineBytes + 1 || (total === this.maxLineBytes + 1 && lastByte !== CR)) {
      throw this.fail();
    }
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
