// biome-ignore-all lint/correctness/noUnusedPrivateClassMembers: the starter's private helpers are used once the TODOs are done
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
    // TODO(1): find each \n (the byte LF) in `bytes` with bytes.indexOf(LF, from), starting just
    // after the previous one, and call onLine(this.completeLine(...)) with the bytes before it
    // (bytes.subarray(start, end)). Search only these new bytes, each of them once.
    // TODO(2): hand the bytes after the last \n to this.hold(): they are the start of a line.
    throw new Error('TODO(1): split the chunk at each \\n in push() — see README step 1');
  }
  // endregion push

  // region complete-line
  /** The line that ends just before a `\n`: the held bytes and `last`, joined once and decoded once. */
  private completeLine(last: Buffer): string {
    // TODO(1): decode the line's bytes as UTF-8: last.toString('utf8').
    // TODO(2): the line starts with the held bytes: join them and `last` with one Buffer.concat
    // (heldBytes + last.length bytes), then empty the list and set heldBytes to 0.
    // TODO(3): one \r (the byte CR) just before the \n belongs to the line ending: leave it out.
    // It may be the last held byte, when the \r and the \n came in different chunks.
    // TODO(4): a line longer than this.maxLineBytes (without its \r): throw this.fail(). Check
    // the length before you join anything: a huge line inside one chunk is never copied.
    throw new Error('TODO(1): decode the bytes of one line in completeLine() — see README step 1');
  }
  // endregion complete-line

  // region hold-and-end
  /** Keeps the bytes after the last `\n` of a chunk until the rest of their line arrives. */
  private hold(rest: Buffer): void {
    // TODO(2): push a copy of `rest` (Buffer.from(rest)) onto this.held, and add its length to
    // this.heldBytes. A copy, because a view would keep the whole chunk in memory. Nothing to
    // do when `rest` is empty.
    // TODO(4): refuse a line that is already too long, without waiting for its \n: throw
    // this.fail() when the held bytes would be more than maxLineBytes + 1, or exactly
    // maxLineBytes + 1 without a \r at the end (that one byte more may be the \r of \r\n).
    throw new Error('TODO(2): hold the bytes after the last \\n in hold() — see README step 2');
  }

  /**
   * The stream has ended (the peer half-closed). Bytes held after the last `\n` form a final
   * line, delivered as they are; nothing is delivered when nothing is held.
   */
  end(onLine: OnLine): void {
    if (this.failure) throw this.failure;
    // TODO(2): when bytes are held, join them once, empty the list, and call onLine() with them
    // decoded as UTF-8.
    // TODO(4): held bytes longer than this.maxLineBytes are a line too long: throw this.fail().
    throw new Error('TODO(2): deliver the held bytes as a last line in end() — see README step 2');
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
