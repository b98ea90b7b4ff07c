/**
 * MISTAKE: turns each chunk into a string first, then splits the text on '\n'.
 *
 * It looks simpler than keeping bytes, and it passes every test written in ASCII: lines split
 * across chunks are joined correctly, because the held tail is kept (as text). But a chunk can
 * end in the middle of a multi-byte UTF-8 character (é is 2 bytes, 你 3, 🎉 4). Each half is
 * decoded on its own, into U+FFFD replacement characters, and the line is corrupted for good.
 * (Keeping the tail as one growing string also costs time in proportion to the square of a long
 * line's length.) The tests cut characters in two, and catch it.
 * @caught-by step 2: hold the tail until more bytes arrive › a character cut anywhere between two chunks survives
 * @caught-by step 2: hold the tail until more bytes arrive › property: any lines, cut anywhere
 */
import {
  DEFAULT_MAX_LINE_BYTES,
  type LineDecoderOptions,
  LineTooLongError,
  type OnLine,
} from '../solution/line-decoder.ts';

export * from '../solution/line-decoder.ts';

export class LineDecoder {
  readonly maxLineBytes: number;
  private tail = '';
  private failure: LineTooLongError | undefined;

  constructor({ maxLineBytes = DEFAULT_MAX_LINE_BYTES }: LineDecoderOptions = {}) {
    this.maxLineBytes = maxLineBytes;
  }

  get pendingBytes(): number {
    return Buffer.byteLength(this.tail);
  }

  push(chunk: Uint8Array, onLine: OnLine): void {
    if (this.failure) throw this.failure;
    // The mistake: decoding a chunk that may end inside a character.
    this.tail += Buffer.from(chunk).toString('utf8');
    const parts = this.tail.split('\n');
    this.tail = parts.pop() ?? '';
    for (const part of parts) onLine(this.check(part.replace(/\r$/, '')));
    if (Buffer.byteLength(this.tail) > this.maxLineBytes + 1) throw this.fail();
  }

  end(onLine: OnLine): void {
    if (this.failure) throw this.failure;
    if (this.tail === '') return;
    const line = this.check(this.tail);
    this.tail = '';
    onLine(line);
  }

  private check(line: string): string {
    if (Buffer.byteLength(line) > this.maxLineBytes) throw this.fail();
    return line;
  }

  private fail(): LineTooLongError {
    this.tail = '';
    this.failure = new LineTooLongError(this.maxLineBytes);
    return this.failure;
  }
}
