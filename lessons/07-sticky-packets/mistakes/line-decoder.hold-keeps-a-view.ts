/**
 * MISTAKE: hold() keeps a view of the chunk (`rest`, a subarray) instead of a copy
 * (`Buffer.from(rest)`).
 *
 * It looks like a saving, one copy fewer, and every test that hands push() a fresh Buffer per
 * chunk passes, as does a server fed by a net.Socket (Node allocates each 'data' chunk anew).
 * But the held bytes now live in the caller's memory. A producer that reads into one buffer
 * again and again (fs.readSync into a fixed buffer, a TLS or decompression layer, a pool)
 * overwrites them as soon as push() returns, and the line comes out with someone else's bytes in
 * it. A view also keeps the whole chunk alive, maybe 64 KiB for a 3-byte tail. The tests push
 * `hel`, write `XYZ` into the same buffer, push `lo\n`, and get `XYZlo`, not `hello`.
 * @caught-by step 2: hold the tail until more bytes arrive › the held bytes are a copy
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
    // The mistake: a view of the caller's chunk, not a copy of the bytes.
    this.held.push(rest);
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
