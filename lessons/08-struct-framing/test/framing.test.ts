import { asHex, assertBytes, WireError } from '@course/helpers';
import { checkProperty } from '@course/helpers/property';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  encodeFrame,
  FrameDecoder,
  FramingError,
  MAX_FRAME_BYTES,
  MAX_HEADER_LENGTH,
} from '#impl/framing.ts';
import { countCopies, cut, frame, frames, texts } from './support.ts';

const bytes = (...values: number[]) => Buffer.from(values);

/**
 * Runs `run`, which must not reach the code of a step after `step`. A `TODO(n)` error from such a
 * step means the decoder went further than it should have: the fault is in `step`, not in n, and
 * the failure says so instead of sending the learner forward.
 */
function withinStep<T>(step: number, why: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    const todo = error instanceof Error ? /^TODO\((\d+)\)/.exec(error.message) : null;
    if (!todo || Number(todo[1]) <= step) throw error;
    throw new WireError(
      `push() went on to step ${todo[1]}'s code, which it reaches only for a complete frame`,
      {
        expected: why,
        received: `${(error as Error).message.split(' — ')[0]} (not written yet, and not needed here)`,
        hint:
          `the fault is in step ${step}, not in step ${todo[1]}: ` +
          (step === 3
            ? 'readHeader() returned a length that lets the frame look complete. Read it with readUInt32BE(): ' +
              'unsigned (80 00 00 00 is 2147483648, not negative) and big-endian (00 00 01 2c is 300), and ' +
              'throw frameTooLarge() when it is over this.maxFrameBytes'
            : `look at what step ${step} returns`),
      },
    );
  }
}

/** Runs `run`, which must throw a FramingError with `code`; returns it. */
function framingError(
  run: () => unknown,
  code: FramingError['code'],
  why: string,
  step: number,
): FramingError {
  let thrown: unknown;
  try {
    withinStep(step, `${why}: a FramingError (${code})`, run);
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `${why}: expected a FramingError (${code}), but nothing was thrown`).toBeDefined();
  // A step not done yet says so itself (a later step's TODO is explained by withinStep()).
  if (thrown instanceof Error && (thrown instanceof WireError || thrown.message.startsWith('TODO(')))
    throw thrown;
  expect(thrown, `${why}: throw a FramingError, not ${String(thrown)}`).toBeInstanceOf(FramingError);
  expect((thrown as FramingError).code, why).toBe(code);
  expect((thrown as FramingError).name, `${why}: its name, as a stack trace or a log shows it`).toBe(
    'FramingError',
  );
  return thrown as FramingError;
}

/** Calls decoder.end(), which must return: a stream that ends between frames is fine. */
function endsCleanly(decoder: FrameDecoder, why: string): void {
  try {
    decoder.end();
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('TODO(')) throw error;
    throw new WireError('end() threw for a stream that ended between frames', {
      expected: `${why}: end() returns`,
      received: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      hint: 'throw ETRUNCATED only when bytes of an unfinished frame are buffered (this.buffered > 0)',
    });
  }
}

/** Pushes every piece into `decoder`, returning all the frames they complete, in order. */
function pushAll(decoder: FrameDecoder, pieces: Uint8Array[]): Buffer[] {
  return pieces.flatMap((piece) => decoder.push(piece));
}

/** A stream's pieces as the lesson shows them: `[00 00] [00 05 68]`. */
function showPieces(pieces: Uint8Array[]): string {
  return pieces.map((piece) => `[${asHex(piece)}]`).join(' ');
}

/** Any list of payloads, and the sizes to cut their stream into (0: an empty chunk). */
const payloadLists = fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 12 });
const cutSizes = fc
  .array(fc.integer({ min: 0, max: 24 }), { minLength: 1, maxLength: 12 })
  .map((sizes) => (sizes.some((s) => s > 0) ? sizes : [...sizes, 1]));

describe('step 1: encode a frame', () => {
  test('hello → 00 00 00 05 then the payload', () => {
    assertBytes(encodeFrame(Buffer.from('hello')), bytes(0, 0, 0, 5, 0x68, 0x65, 0x6c, 0x6c, 0x6f), {
      what: 'encodeFrame("hello")',
      hint: 'the header is the payload length as 4 bytes, unsigned, big-endian: writeUInt32BE',
    });
  });

  test('an empty payload is a frame too: its header alone, 00 00 00 00', () => {
    assertBytes(encodeFrame(new Uint8Array(0)), bytes(0, 0, 0, 0), { what: 'encodeFrame(empty)' });
  });

  test('the length is big-endian: 300 bytes → 00 00 01 2c, 65536 bytes → 00 01 00 00', () => {
    const hint = 'big-endian puts the most significant byte first (writeUInt32BE, not writeUInt32LE)';
    assertBytes(encodeFrame(Buffer.alloc(300, 1)).subarray(0, 4), bytes(0, 0, 1, 0x2c), {
      what: 'the header of a 300-byte payload',
      hint,
    });
    const big = encodeFrame(Buffer.alloc(65536, 2));
    assertBytes(big.subarray(0, 4), bytes(0, 1, 0, 0), { what: 'the header of a 65536-byte payload', hint });
    expect(big.length, 'header and payload').toBe(4 + 65536);
    expect(
      big.subarray(4).every((b) => b === 2),
      'the payload follows the header unchanged',
    ).toBe(true);
  });

  test('a payload over maxFrameBytes, or over 4 GiB − 1, throws EFRAMETOOLARGE', () => {
    expect(
      encodeFrame(Buffer.alloc(10), { maxFrameBytes: 10 }).length,
      'a payload of exactly maxFrameBytes: 4 + 10 bytes',
    ).toBe(14);
    const error = framingError(
      () => encodeFrame(Buffer.alloc(11), { maxFrameBytes: 10 }),
      'EFRAMETOOLARGE',
      'an 11-byte payload with maxFrameBytes 10',
      1,
    );
    expect(error.message, 'say how big the payload is').toContain('11');
    // A payload that claims 4 GiB, without allocating it: a 4-byte header cannot say 2 ** 32.
    const huge = { length: 2 ** 32, byteLength: 2 ** 32 } as unknown as Uint8Array;
    framingError(() => encodeFrame(huge), 'EFRAMETOOLARGE', 'a 4 GiB payload (check the length first)', 1);
    expect(MAX_HEADER_LENGTH, 'MAX_HEADER_LENGTH').toBe(2 ** 32 - 1);
  });
});

describe('step 2: keep the chunks', () => {
  test('push() keeps an unfinished header, returns no frame yet, and counts it in `buffered`', () => {
    const decoder = new FrameDecoder();
    expect(decoder.buffered, 'a new decoder holds nothing').toBe(0);
    expect(decoder.push(bytes(0)), 'one byte of a header is no frame').toEqual([]);
    expect(decoder.buffered, 'buffered counts the bytes kept').toBe(1);
    expect(decoder.push(new Uint8Array(0)), 'an empty chunk changes nothing').toEqual([]);
    expect(decoder.push(bytes(0, 0)), 'three bytes of a header are no frame').toEqual([]);
    expect(decoder.buffered, 'three header bytes kept').toBe(3);
  });

  test('the default limit is 16 MiB, and a bad limit is refused', () => {
    expect(MAX_FRAME_BYTES, 'MAX_FRAME_BYTES').toBe(16 * 1024 * 1024);
    expect(new FrameDecoder().maxFrameBytes, 'the default limit').toBe(MAX_FRAME_BYTES);
    expect(() => new FrameDecoder({ maxFrameBytes: -1 }), 'maxFrameBytes -1').toThrow(RangeError);
    expect(() => new FrameDecoder({ maxFrameBytes: 2 ** 32 }), 'maxFrameBytes 2 ** 32').toThrow(RangeError);
    expect(
      new FrameDecoder({ maxFrameBytes: 0 }).maxFrameBytes,
      'maxFrameBytes 0 (empty frames only) is a limit too',
    ).toBe(0);
    expect(
      new FrameDecoder({ maxFrameBytes: 2 ** 32 - 1 }).maxFrameBytes,
      'the largest a header can hold',
    ).toBe(2 ** 32 - 1);
    expect(
      () => new FrameDecoder({ maxFrameBytes: 1.5 }),
      'the message names the option and the range',
    ).toThrow('maxFrameBytes must be a whole number from 0 to 4294967295, not 1.5');
  });
});

describe('step 3: read the header', () => {
  test('the header is read even when it arrives one byte at a time: 00 00 01 2c is 300', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 299 });
    expect(decoder.push(bytes(0)), '1 header byte: no frame').toEqual([]);
    expect(decoder.push(bytes(0)), '2 header bytes: no frame').toEqual([]);
    expect(decoder.push(bytes(1)), '3 header bytes: no frame').toEqual([]);
    const error = framingError(
      () => decoder.push(bytes(0x2c)),
      'EFRAMETOOLARGE',
      'the 4th header byte arrives: 00 00 01 2c says 300 bytes, over the limit of 299',
      3,
    );
    expect(error.message, 'say how big the frame is, and the limit').toContain('a frame of 300 bytes');
    expect(error.message, 'and the limit').toContain('299');
  });

  test('a header within the limit waits for its payload: nothing returned, bytes kept', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 300 });
    expect(decoder.push(bytes(0, 0, 1)), '3 header bytes: no frame').toEqual([]);
    expect(
      decoder.push(Buffer.concat([bytes(0x2c), Buffer.alloc(10)])),
      'the header says 300; 10 payload bytes: no frame',
    ).toEqual([]);
    expect(decoder.buffered, 'the header and 10 payload bytes are kept').toBe(14);
    expect(decoder.push(Buffer.alloc(100)), 'still 190 payload bytes to come').toEqual([]);
    expect(decoder.buffered, '4 + 110 bytes kept').toBe(114);
  });

  test('the limit is checked at the header, before any payload: 16 MiB passes, one byte more throws', () => {
    expect(new FrameDecoder().push(bytes(1, 0, 0, 0)), '01 00 00 00 is exactly 16 MiB').toEqual([]);
    const error = framingError(
      () => new FrameDecoder().push(bytes(1, 0, 0, 1)),
      'EFRAMETOOLARGE',
      '01 00 00 01 is 16 MiB + 1, over the default limit',
      3,
    );
    expect(error.message, 'say how big the frame is').toContain(String(MAX_FRAME_BYTES + 1));
  });

  test('a header that sits in one chunk is read where it is, even at the very end of the chunk: no copy', () => {
    const hint =
      'use a single piece of views(4) as it is (or read the chunk in place), and join the pieces only when the header was cut';
    for (const [what, chunk] of [
      ['a header and part of its payload', bytes(0, 0, 0, 5, 0x68, 0x65)],
      ['a header that ends its chunk', bytes(0, 0, 0, 5)],
    ] as const) {
      const decoder = new FrameDecoder();
      const { result, copied } = countCopies(() =>
        withinStep(3, `${what}: the payload is not complete yet`, () => decoder.push(chunk)),
      );
      expect(result, `${what}: no frame yet`).toEqual([]);
      expect(copied, `bytes copied to read ${what}: ${hint}`).toBe(0);
    }
  });

  test('the length is unsigned: 80 00 00 00 is 2147483648, not negative', () => {
    const error = framingError(
      () => new FrameDecoder({ maxFrameBytes: 2 ** 31 - 1 }).push(bytes(0x80, 0, 0, 0)),
      'EFRAMETOOLARGE',
      '80 00 00 00 read as unsigned is 2147483648, over a limit of 2147483647 (readUInt32BE, not readInt32BE)',
      3,
    );
    expect(error.message, 'the length read unsigned').toContain('a frame of 2147483648 bytes');
    const roomy = new FrameDecoder({ maxFrameBytes: MAX_HEADER_LENGTH });
    const waiting = withinStep(
      3,
      'ff ff ff ff is 4294967295: within a limit of 4294967295, the decoder waits for the payload',
      () => roomy.push(bytes(0xff, 0xff, 0xff, 0xff, 0x61, 0x62, 0x63)),
    );
    expect(waiting, 'ff ff ff ff is 4294967295: no frame yet').toEqual([]);
    expect(roomy.buffered, 'the decoder waits for the 4 GiB payload').toBe(7);
  });

  test('any length, its header cut any way, is read the same (property)', () => {
    const headerOf = (length: number) => {
      const header = Buffer.alloc(4);
      header.writeUInt32BE(length, 0);
      return header;
    };
    checkProperty(
      fc.property(fc.integer({ min: 1, max: MAX_HEADER_LENGTH }), cutSizes, (length, sizes) => {
        // Within the limit: kept, waiting for the payload.
        const decoder = new FrameDecoder({ maxFrameBytes: MAX_HEADER_LENGTH });
        const within = `a header saying ${length}, within the limit of ${MAX_HEADER_LENGTH}: no frame yet, the payload is awaited`;
        expect(
          withinStep(3, within, () => pushAll(decoder, cut(headerOf(length), sizes))),
          within,
        ).toEqual([]);
        expect(decoder.buffered, 'the 4 header bytes are kept').toBe(4);
        // One byte over the limit: refused, saying its length.
        const strict = new FrameDecoder({ maxFrameBytes: length - 1 });
        const over = `a header saying ${length}, over a limit of ${length - 1}`;
        const error = framingError(
          () => pushAll(strict, cut(headerOf(length), sizes)),
          'EFRAMETOOLARGE',
          over,
          3,
        );
        expect(error.message, 'the message says how big the frame is').toContain(
          `a frame of ${length} bytes`,
        );
      }),
      {
        show: (length, sizes) =>
          `length: ${length}, its header ${asHex(headerOf(length))}\ncut into: ${showPieces(cut(headerOf(length), sizes))}`,
      },
    );
  });
});

describe('step 4: cut out each complete frame', () => {
  test('a header that sits in one chunk is read where it is: 1,000 empty frames in one chunk copy nothing', () => {
    const stream = frames(...Array.from({ length: 1000 }, () => ''));
    const decoder = new FrameDecoder();
    const { result, copied } = countCopies(() =>
      withinStep(4, 'every frame complete', () => decoder.push(stream)),
    );
    expect(result.length, '1,000 empty frames').toBe(1000);
    expect(
      copied,
      'bytes copied to read 1,000 headers that each sit in one chunk, the last one at its very end: ' +
        'use a single piece of views(4) as it is, and join the pieces only when the header was cut',
    ).toBe(0);
  });

  test('one whole frame → its payload', () => {
    const decoder = new FrameDecoder();
    expect(texts(decoder.push(frame('hello'))), 'the payload of 00 00 00 05 hello').toEqual(['hello']);
    expect(decoder.buffered, 'nothing left once the frame is returned').toBe(0);
  });

  test('many frames in one chunk, empty frames included, come out in order', () => {
    const decoder = new FrameDecoder();
    const out = decoder.push(frames('a', '', 'héllo 你好', '', 'z'));
    expect(texts(out), 'every frame of the chunk: keep looping while a whole frame is buffered').toEqual([
      'a',
      '',
      'héllo 你好',
      '',
      'z',
    ]);
    expect(
      out.every((f) => Buffer.isBuffer(f)),
      'each frame is a Buffer',
    ).toBe(true);
  });

  test('a frame sent one byte at a time comes out whole, with its last byte', () => {
    const decoder = new FrameDecoder();
    const stream = frames('héllo 你好', '');
    const pieces = cut(stream, [1]);
    const out = pieces.map((piece) => texts(decoder.push(piece)));
    expect(out.slice(0, 16).flat(), 'no frame before its last byte').toEqual([]);
    expect(out[16], 'the 17th byte completes the first frame').toEqual(['héllo 你好']);
    expect(out.slice(17, 20).flat(), 'no frame from the next 3 header bytes').toEqual([]);
    expect(out[20], 'the header 00 00 00 00 alone is an empty frame').toEqual(['']);
    expect(decoder.buffered, 'nothing left').toBe(0);
  });

  test('any list of payloads, cut any way, decodes to exactly that list (property)', () => {
    checkProperty(
      fc.property(payloadLists, cutSizes, (payloads, sizes) => {
        const decoder = new FrameDecoder();
        const out = pushAll(decoder, cut(frames(...payloads), sizes));
        expect(
          out.map((f) => asHex(f)),
          'the payloads that came out, as hex: every complete frame, in order',
        ).toEqual(payloads.map((p) => asHex(p)));
        expect(decoder.buffered, 'nothing left once every frame is out').toBe(0);
      }),
      {
        show: (payloads, sizes) =>
          `payloads: ${payloads.length === 0 ? 'none' : showPieces(payloads)}\n` +
          `stream cut into: ${showPieces(cut(frames(...payloads), sizes))}`,
      },
    );
  });

  test('the decoder lets go of the chunks it has used up: none kept once every frame is out', () => {
    /** The decoder's list of chunks, seen from inside (chunks and first are given in step 2). */
    class Inside extends FrameDecoder {
      get kept(): number {
        return this.chunks.length;
      }
      get usedUp(): number {
        return this.first;
      }
    }
    const decoder = new Inside();
    expect(decoder.push(new Uint8Array(0)), 'an empty chunk is no frame').toEqual([]);
    expect(decoder.kept, 'chunks kept after an empty push: skip empty chunks').toBe(0);
    const whole = withinStep(4, 'the frame', () => decoder.push(frame('hello')));
    expect(texts(whole), 'one whole frame').toEqual(['hello']);
    expect(
      decoder.kept,
      'chunks still kept once the frame that ends at the end of its chunk is out (each one could be 64 KiB, or a whole 16 MiB frame)',
    ).toBe(0);
    // 101-byte frames in 100-byte chunks: a frame ends inside nearly every chunk, so the list is
    // seldom used up whole. Used-up chunks must still be let go as the decoder goes.
    const stream = frames(...Array.from({ length: 300 }, (_, i) => Buffer.alloc(97, i & 0xff)));
    let out = 0;
    let worst = 0;
    for (const piece of cut(stream, [100])) {
      out += decoder.push(piece).length;
      worst = Math.max(worst, decoder.usedUp - (decoder.kept - decoder.usedUp));
    }
    expect(out, 'frames decoded').toBe(300);
    expect(
      worst,
      'the most used-up chunks the list held beyond those still in use: consume() drops them once they are half the list',
    ).toBeLessThanOrEqual(0);
  });

  test('each byte is copied at most once, however the input is cut: the cost grows linearly', () => {
    // One 256 KiB frame in 256-byte pieces, then 2,000 small frames in 4 KiB pieces.
    const big = Buffer.alloc(256 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const small = Array.from({ length: 2000 }, (_, i) => Buffer.alloc(i % 97, i & 0xff));
    const mid = Buffer.alloc(4096, 0x6d);
    for (const [what, payloads, sizes] of [
      ['one 256 KiB frame in 256-byte chunks', [big], [256]],
      ['2,000 small frames in 4 KiB chunks', small, [4096]],
      // The header is read once, when it is complete, not again at every chunk of its payload.
      [
        'a 4 KiB frame, its header cut in two, then one byte at a time',
        [mid],
        [2, 2, ...Array(4096).fill(1)],
      ],
    ] as const) {
      const stream = frames(...payloads);
      const pieces = cut(stream, [...sizes]);
      const decoder = new FrameDecoder();
      const { result, copied } = countCopies(() => pushAll(decoder, pieces));
      expect(result.length, what).toBe(payloads.length);
      expect(
        result.every((f, i) => f.equals(payloads[i] as Buffer)),
        `${what}: frames as sent`,
      ).toBe(true);
      expect(
        copied,
        `${what}: decoding ${stream.length} bytes copied ${copied} bytes ` +
          `(${(copied / stream.length).toFixed(1)} times the input). Keep the chunks in a list and ` +
          'copy each byte once, when its frame is complete: one Buffer.concat per frame, never one ' +
          'per chunk (that copies everything received so far, again and again)',
      ).toBeLessThanOrEqual(2 * stream.length);
    }
  });
});

describe('step 5: refuse a stream that ends inside a frame', () => {
  test('a stream that ends between frames ends cleanly', () => {
    endsCleanly(new FrameDecoder(), 'nothing received');
    const decoder = new FrameDecoder();
    decoder.push(frames('one', ''));
    endsCleanly(decoder, 'two whole frames, no bytes left over');
  });

  test('leftover bytes throw ETRUNCATED: half a header, a header alone, part of a payload', () => {
    for (const [what, stream, missing] of [
      ['2 bytes of a header', bytes(0, 0), '2 of its 4 header bytes arrived'],
      ['a header saying 5, and no payload', bytes(0, 0, 0, 5), '0 of its 5 payload bytes arrived'],
      [
        'a header saying 5, and 2 payload bytes',
        bytes(0, 0, 0, 5, 0x68, 0x65),
        '2 of its 5 payload bytes arrived',
      ],
      [
        'a whole frame, then 1 byte of the next header',
        Buffer.concat([frame('ok'), bytes(0)]),
        '1 of its 4 header bytes arrived',
      ],
    ] as const) {
      const decoder = new FrameDecoder();
      decoder.push(stream);
      const error = framingError(() => decoder.end(), 'ETRUNCATED', `the stream ends after ${what}`, 5);
      expect(
        error.message,
        `the stream ends after ${what}: say what is missing, counting the bytes of the unfinished frame only (truncated(\`...\`))`,
      ).toBe(`the stream ended inside a frame: ${missing}`);
    }
  });

  test('a stream that ends after a refused header refuses it again: the header was not consumed', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 10 });
    framingError(
      () => decoder.push(bytes(0, 0, 0, 11)),
      'EFRAMETOOLARGE',
      'a header saying 11, over a limit of 10',
      3,
    );
    expect(decoder.buffered, 'a refused header is not consumed: its 4 bytes are still buffered').toBe(4);
    const error = framingError(
      () => decoder.end(),
      'EFRAMETOOLARGE',
      'end() after a refused header: its length is this.readHeader(), which refuses it again',
      5,
    );
    expect(error.message, 'the same refusal as push() gave').toBe(
      'a frame of 11 bytes is over the limit of 10 bytes',
    );
  });

  test('a stream cut short anywhere throws ETRUNCATED unless the cut falls between frames (property)', () => {
    const shortened = (payloads: Uint8Array[], at: number) => {
      const stream = frames(...payloads);
      return stream.subarray(0, at % (stream.length + 1));
    };
    checkProperty(
      fc.property(payloadLists, fc.nat(), cutSizes, (payloads, at, sizes) => {
        const stream = shortened(payloads, at);
        const boundaries = new Set([0]);
        let offset = 0;
        for (const payload of payloads) {
          offset += 4 + payload.length;
          boundaries.add(offset);
        }
        const decoder = new FrameDecoder();
        pushAll(decoder, cut(stream, sizes));
        if (boundaries.has(stream.length)) {
          endsCleanly(decoder, `the stream ends after a whole frame (byte ${stream.length})`);
        } else {
          framingError(
            () => decoder.end(),
            'ETRUNCATED',
            `the stream ends inside a frame, after byte ${stream.length}`,
            5,
          );
        }
      }),
      {
        show: (payloads, at, sizes) =>
          `payloads: ${payloads.length === 0 ? 'none' : showPieces(payloads)}\n` +
          `the stream cut short after ${shortened(payloads, at).length} of ${frames(...payloads).length} bytes, in: ${showPieces(cut(shortened(payloads, at), sizes))}`,
      },
    );
  });
});
