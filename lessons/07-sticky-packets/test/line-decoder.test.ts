import { checkProperty, quote } from '@course/helpers/property';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DEFAULT_MAX_LINE_BYTES, LineDecoder, LineTooLongError } from '#impl/line-decoder.ts';
import { byteChunks, cutAt, decodeChunks, show, showChunks } from './support.ts';

/**
 * The property tests try many inputs at random; a failure shows the smallest failing input, its
 * bytes and the chunks they were cut into, as hex, and the line that replays the run. numRuns
 * stays moderate so that the whole lesson runs in about a second.
 */
const RUNS = 150;

/** `"a", "\u{80}"` (or `none`): lines as a learner reads them, invisible characters by number. */
const quoteAll = (lines: string[]) => (lines.length === 0 ? 'none' : lines.map(quote).join(', '));

/** The input of a property, in the lesson's words: the bytes and the chunks they were cut into. */
function showCut(first: string, bytes: Buffer, chunks: Buffer[]): string {
  return [
    first,
    `as bytes:   ${show(bytes)}  (${bytes.length} bytes)`,
    `cut into:   ${showChunks(chunks)}`,
  ].join('\n');
}

/**
 * Any code point but \n (and \r when `withCr` is false); \r and multi-byte characters are made
 * common. (fast-check's own `unit: 'binary'` would do, but takes most of a second to warm up.)
 */
const lineChar = (withCr: boolean) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('a', 'z', ' ', ',', 'é', '你', '🎉', ...(withCr ? ['\r'] : [])) },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 0, max: 0x10ffff - 0x800 })
        .map((n) => String.fromCodePoint(n < 0xd800 ? n : n + 0x800)) // no lone surrogate halves
        .filter((c) => c !== '\n' && (withCr || c !== '\r')),
    },
  );
const lineText = (withCr: boolean) => fc.string({ unit: lineChar(withCr), maxLength: 10 });
/** Where to cut the bytes: positions taken modulo the length, duplicates making empty chunks. */
const cutPoints = fc.array(fc.nat({ max: 400 }), { maxLength: 12 });

const HELLO = 'hello\nbyebye\nagain,bye\n';
const HELLO_LINES = ['hello', 'byebye', 'again,bye'];

describe('step 1: split the lines inside a chunk', () => {
  test('one chunk with three lines gives the three lines, in order, without their \\n', () => {
    const { lines, error } = decodeChunks([HELLO], { end: false });
    expect(error, 'no line is too long here').toBeUndefined();
    expect(lines, 'push() should call onLine once per \\n, with the bytes before it').toEqual(HELLO_LINES);
  });

  test('empty lines are lines too', () => {
    expect(
      decodeChunks(['\n\nx\n\n'], { end: false }).lines,
      'an empty line is the bytes between two \\n: none',
    ).toEqual(['', '', 'x', '']);
  });

  test('lines are decoded as UTF-8, and chunks may be any Uint8Array', () => {
    const chunk = new TextEncoder().encode('héllo 你好\n🎉\n');
    const { lines } = decodeChunks([chunk], { end: false });
    expect(lines, 'decode each line with toString("utf8")').toEqual(['héllo 你好', '🎉']);
  });

  test('each chunk ending in \\n gives its own lines', () => {
    const { lines } = decodeChunks(['one\n', 'two\nthree\n'], { end: false });
    expect(lines, 'the lines of both chunks, in order').toEqual(['one', 'two', 'three']);
  });
});

describe('step 2: hold the tail until more bytes arrive', () => {
  test('one byte at a time gives the same three lines', () => {
    const { lines, error } = decodeChunks(byteChunks(HELLO), { end: false });
    expect(error, 'no line is too long here').toBeUndefined();
    expect(lines, 'keep the bytes after the last \\n and join them with the next chunk').toEqual(HELLO_LINES);
  });

  test('the bytes after the last \\n are held, and delivered once their line ends', () => {
    const decoder = new LineDecoder();
    const lines: string[] = [];
    decoder.push(Buffer.from('hel'), (line) => lines.push(line));
    expect(lines, 'no \\n yet: no line yet').toEqual([]);
    expect(decoder.pendingBytes, 'pendingBytes counts the held bytes').toBe(3);
    decoder.push(Buffer.from('lo\nbye'), (line) => lines.push(line));
    expect(lines, '`hel` + `lo\\n` is the line `hello`').toEqual(['hello']);
    expect(decoder.pendingBytes, '`bye` is held').toBe(3);
    decoder.push(Buffer.from('bye\n'), (line) => lines.push(line));
    expect(lines, '`bye` + `bye\\n` is the line `byebye`').toEqual(['hello', 'byebye']);
    expect(decoder.pendingBytes, 'nothing held after a \\n at the end').toBe(0);
  });

  test('a character cut anywhere between two chunks survives', () => {
    const text = 'é你🎉\n';
    const bytes = Buffer.from(text);
    for (let at = 1; at < bytes.length; at++) {
      const { lines } = decodeChunks(cutAt(bytes, [at]), { end: false });
      expect(lines, `cut after byte ${at} of ${show(bytes)}: decode only complete lines`).toEqual(['é你🎉']);
    }
  });

  test('the held bytes are a copy: the caller may reuse its buffer once push() returns', () => {
    // A producer that reads into one buffer, again and again (as fs.readSync or a TLS layer may),
    // writes new bytes into it as soon as push() has returned.
    const buffer = Buffer.from('hel');
    const decoder = new LineDecoder();
    const lines: string[] = [];
    decoder.push(buffer, (line) => lines.push(line));
    buffer.write('XYZ'); // the producer's next read, into the same memory
    decoder.push(Buffer.from('lo\n'), (line) => lines.push(line));
    expect(
      lines,
      "hold() must keep a copy of the tail (Buffer.from(rest)), not a view (subarray) of the caller's " +
        'buffer: the caller wrote XYZ into that buffer after push() returned',
    ).toEqual(['hello']);
  });

  test('end() delivers a last line that has no \\n, and nothing when nothing is held', () => {
    expect(decodeChunks(['hello\nbye']).lines, 'the held bytes are a last line').toEqual(['hello', 'bye']);
    expect(decodeChunks(['hello\n']).lines, 'nothing held: no extra empty line').toEqual(['hello']);
    expect(decodeChunks([]).lines, 'nothing pushed: no line').toEqual([]);
  });

  test('property: any lines, cut anywhere, come out exactly as they went in', () => {
    const stream = (lines: string[], last: string) =>
      Buffer.from(lines.map((line) => `${line}\n`).join('') + last);
    checkProperty(
      fc.property(
        fc.array(lineText(false), { maxLength: 8 }),
        lineText(false),
        cutPoints,
        (lines, last, at) => {
          const { lines: out, error } = decodeChunks(cutAt(stream(lines, last), at));
          expect(error, 'no line is too long here').toBeUndefined();
          expect(
            out,
            'the lines that came out (hold the bytes after the last \\n, join them with the next chunk, decode whole lines only)',
          ).toEqual(last === '' ? lines : [...lines, last]);
        },
      ),
      {
        numRuns: RUNS,
        show: (lines, last, at) =>
          showCut(
            `lines sent: ${quoteAll(lines)}${last === '' ? '' : `, then ${quote(last)} without \\n`}`,
            stream(lines, last),
            cutAt(stream(lines, last), at),
          ),
      },
    );
  });

  test('a long line in many small chunks takes linear time: no re-joining or re-scanning', () => {
    const size = 4 * 1024 * 1024;
    const piece = 256;
    const bytes = Buffer.alloc(size + 1, 'a');
    bytes[size] = 0x0a;
    const decoder = new LineDecoder({ maxLineBytes: 2 * size });
    const lines: string[] = [];
    // CPU time, not wall-clock time: other programs on a busy machine do not count against the
    // decoder. A linear decoder needs well under 100 ms; one that joins everything it holds on
    // every chunk copies about 34 GB here, which takes seconds.
    const cpu = process.cpuUsage();
    const cpuMs = () => {
      const used = process.cpuUsage(cpu);
      return (used.user + used.system) / 1_000;
    };
    const bound = 1_000;
    for (let at = 0; at < bytes.length; at += piece) {
      decoder.push(bytes.subarray(at, at + piece), (line) => lines.push(line));
      const ms = cpuMs();
      if (ms > bound) {
        const done = Math.min(at + piece, bytes.length);
        expect.fail(
          `after ${ms.toFixed(0)} ms of CPU time, ${done} of ${bytes.length} bytes were decoded (a linear ` +
            'decoder needs well under 100 ms for all of them): keep held chunks in a list and ' +
            'Buffer.concat them once, when the \\n arrives; search only the new bytes for \\n',
        );
      }
    }
    expect(lines.length, 'one line of 4 MiB: onLine called once').toBe(1);
    expect(lines[0]?.length, 'the length of that line').toBe(size);
  });
});

describe('step 3: \\r\\n line endings', () => {
  test('\\r\\n ends a line like \\n, and the \\r is not part of the line', () => {
    expect(decodeChunks(['hello\r\nbyebye\r\nagain,bye\n']).lines, 'the lines, without their \\r').toEqual(
      HELLO_LINES,
    );
  });

  test('the \\r and the \\n may arrive in different chunks', () => {
    expect(decodeChunks(['hello\r', '\nbye\r', '\n']).lines, 'the \\r was held with the line').toEqual([
      'hello',
      'bye',
    ]);
    expect(
      decodeChunks(byteChunks('a\r\nb\r\n')).lines,
      'one byte at a time: the \\r is held, then dropped at the \\n',
    ).toEqual(['a', 'b']);
  });

  test('any other \\r belongs to the line; only one \\r before the \\n is dropped', () => {
    expect(
      decodeChunks(['a\rb\n', '\r\n', 'c\r\r\n', '\rd\n']).lines,
      'only the one \\r just before each \\n is dropped',
    ).toEqual(['a\rb', '', 'c\r', '\rd']);
  });

  test('property: lines ending in \\n or \\r\\n, cut anywhere, come out as the rule says', () => {
    const ending = fc.constantFrom('\n', '\r\n');
    const stream = (lines: [string, string][]) =>
      Buffer.from(lines.map(([text, end]) => text + end).join(''));
    checkProperty(
      fc.property(fc.array(fc.tuple(lineText(true), ending), { maxLength: 8 }), cutPoints, (lines, at) => {
        // The rule: a line is everything before its \n, without one \r just before the \n.
        const expected = lines.map(([text, end]) => (text + end.slice(0, -1)).replace(/\r$/, ''));
        const { lines: out, error } = decodeChunks(cutAt(stream(lines), at));
        expect(error, 'no line is too long here').toBeUndefined();
        expect(
          out,
          'the lines that came out (drop one \\r just before the \\n, even when it was held from an earlier chunk)',
        ).toEqual(expected);
      }),
      {
        numRuns: RUNS,
        show: (lines, at) =>
          showCut(
            `lines sent: ${quoteAll(lines.map(([text, end]) => text + end))}`,
            stream(lines),
            cutAt(stream(lines), at),
          ),
      },
    );
  });
});

describe('step 4: a maximum line length', () => {
  test('a line of exactly the maximum is fine, with \\n or \\r\\n; one byte more is refused', () => {
    const ok = decodeChunks(['12345678\n', '12345678\r\n'], { maxLineBytes: 8 });
    expect(ok.error, 'the line ending does not count').toBeUndefined();
    expect(ok.lines, 'two lines of 8 bytes').toEqual(['12345678', '12345678']);
    const tooLong = decodeChunks(['123456789\n'], { maxLineBytes: 8 });
    expect(tooLong.error, 'throw a LineTooLongError').toBeInstanceOf(LineTooLongError);
    expect(tooLong.error?.message, 'the message of the LineTooLongError').toBe('line longer than 8 bytes');
    expect(tooLong.error?.name, 'its name, shown by a stack trace and by the server tests').toBe(
      'LineTooLongError',
    );
    expect(tooLong.error?.maxLineBytes, 'the maximum it passed').toBe(8);
  });

  test('the maximum counts bytes, not characters', () => {
    const { lines, error } = decodeChunks(['éé\n', 'ééé\n'], { maxLineBytes: 5 });
    expect(lines, 'éé is 4 bytes').toEqual(['éé']);
    expect(error?.message, 'ééé is 6 bytes').toBe('line longer than 5 bytes');
  });

  test('the lines before a long one are delivered first', () => {
    const { lines, error } = decodeChunks(['hi\nthere\nxxxxxxxxxx\nafter\n'], { maxLineBytes: 8 });
    expect(lines, 'call onLine for each line before you throw').toEqual(['hi', 'there']);
    expect(error, 'then a LineTooLongError for the long line').toBeInstanceOf(LineTooLongError);
  });

  test('a line that never ends is refused as soon as it is too long: memory stays bounded', () => {
    const decoder = new LineDecoder({ maxLineBytes: 8 });
    decoder.push(Buffer.from('12345678'), () => {});
    decoder.push(Buffer.from('\r'), () => {}); // 8 bytes and a \r: it may still be 8 bytes and \r\n
    expect(decoder.pendingBytes, '8 bytes and a \\r are held').toBe(9);
    expect(
      () => decoder.push(Buffer.from('x'), () => {}),
      'more than maxLineBytes + 1 held bytes can only be a line too long: throw without waiting for \\n',
    ).toThrow('line longer than 8 bytes');
    expect(decoder.pendingBytes, 'forget the held bytes once the line is refused').toBe(0);
    const exact = new LineDecoder({ maxLineBytes: 8 });
    expect(
      () => exact.push(Buffer.from('123456789'), () => {}),
      '9 held bytes not ending in \\r cannot be a line of 8 bytes and its \\r\\n: at maxLineBytes + 1 bytes, refuse unless the last one is \\r',
    ).toThrow('line longer than 8 bytes');
    const huge = new LineDecoder({ maxLineBytes: 8 });
    expect(
      () => huge.push(Buffer.alloc(1_000_000, 'x'), () => {}),
      '1,000,000 bytes without \\n in one chunk, with a maximum of 8',
    ).toThrow(LineTooLongError);
    expect(huge.pendingBytes, 'nothing of it is held').toBe(0);
  });

  test('a last line without \\n longer than the maximum is refused by end()', () => {
    const { lines, error } = decodeChunks(['ok\n123456789'], { maxLineBytes: 9 });
    expect(error, 'a last line of exactly 9 bytes is fine').toBeUndefined();
    expect(lines, 'end() delivers the last line').toEqual(['ok', '123456789']);
    expect(
      decodeChunks(['ok\n12345678\r'], { maxLineBytes: 8 }).error?.message,
      'at the end, a held \\r is part of the line: 9 bytes, over the maximum of 8',
    ).toBe('line longer than 8 bytes');
  });

  test('after a refused line the decoder refuses everything; the default maximum is 65536 bytes', () => {
    const decoder = new LineDecoder({ maxLineBytes: 4 });
    expect(() => decoder.push(Buffer.from('toolong\n'), () => {}), 'a line of 7 bytes, maximum 4').toThrow(
      LineTooLongError,
    );
    expect(() => decoder.push(Buffer.from('ok\n'), () => {}), 'the stream is out of step now').toThrow(
      LineTooLongError,
    );
    expect(() => decoder.end(() => {}), 'end() refuses too, once a line was refused').toThrow(
      LineTooLongError,
    );
    expect(() => new LineDecoder({ maxLineBytes: 0 }), 'a maximum below 1 byte is refused').toThrow(
      new RangeError('maxLineBytes must be a whole number of at least 1, not 0'),
    );
    expect(DEFAULT_MAX_LINE_BYTES, 'DEFAULT_MAX_LINE_BYTES').toBe(65_536);
    const max = 'x'.repeat(65_536);
    const longest = decodeChunks([`${max}\n`]);
    expect(longest.error?.message, 'a line of 65536 bytes is allowed by default').toBeUndefined();
    expect(
      longest.lines.map((line) => line.length),
      'the length of each line that came out: one line of 65536 bytes',
    ).toEqual([65_536]);
    expect(decodeChunks([`${max}x\n`]).error?.message, 'a line of 65537 bytes').toBe(
      'line longer than 65536 bytes',
    );
  });

  test('property: the same lines and the same error, however the bytes are cut', () => {
    const stream = (lines: [string, string][]) =>
      Buffer.from(lines.map(([text, end]) => text + end).join(''));
    checkProperty(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.tuple(lineText(true), fc.constantFrom('\n', '\r\n')), { maxLength: 8 }),
        cutPoints,
        (max, lines, at) => {
          const contents = lines.map(([text, end]) => (text + end.slice(0, -1)).replace(/\r$/, ''));
          const firstLong = contents.findIndex((line) => Buffer.byteLength(line) > max);
          const {
            lines: out,
            error,
            mostHeld,
          } = decodeChunks(cutAt(stream(lines), at), { maxLineBytes: max });
          expect(out, 'the lines that came out before the error, if any').toEqual(
            firstLong === -1 ? contents : contents.slice(0, firstLong),
          );
          expect(error?.message, 'the error (undefined: none)').toBe(
            firstLong === -1 ? undefined : `line longer than ${max} bytes`,
          );
          expect(
            mostHeld,
            `the most bytes held at once (pendingBytes after a push): never more than maxLineBytes + 1 = ${max + 1}`,
          ).toBeLessThanOrEqual(max + 1);
        },
      ),
      {
        numRuns: RUNS,
        show: (max, lines, at) =>
          showCut(
            `maxLineBytes: ${max}\nlines sent: ${quoteAll(lines.map(([text, end]) => text + end))}`,
            stream(lines),
            cutAt(stream(lines), at),
          ),
      },
    );
  });
});
