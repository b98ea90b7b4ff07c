import { assertBytes } from '@course/helpers';
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

/** Runs `run`, which must throw a FramingError with `code`; returns it. */
function framingError(run: () => unknown, code: FramingError['code'], why: string): FramingError {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `${why}: expected a FramingError (${code}), but nothing was thrown`).toBeDefined();
  // A step not done yet says so itself.
  if (thrown instanceof Error && thrown.message.startsWith('TODO(')) throw thrown;
  expect(thrown, `${why}: throw a FramingError, not ${String(thrown)}`).toBeInstanceOf(FramingError);
  expect((thrown as FramingError).code, why).toBe(code);
  return thrown as FramingError;
}

/** Pushes every piece into `decoder`, returning all the frames they complete, in order. */
function pushAll(decoder: FrameDecoder, pieces: Uint8Array[]): Buffer[] {
  return pieces.flatMap((piece) => decoder.push(piece));
}

/** Checks a property on many generated cases; a failure shows the smallest case and its error. */
function check<T extends unknown[]>(property: fc.IProperty<T>): void {
  fc.assert(property, { includeErrorInReport: true });
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
    expect(encodeFrame(Buffer.alloc(10), { maxFrameBytes: 10 }).length).toBe(14);
    const error = framingError(
      () => encodeFrame(Buffer.alloc(11), { maxFrameBytes: 10 }),
      'EFRAMETOOLARGE',
      'an 11-byte payload with maxFrameBytes 10',
    );
    expect(error.message).toContain('11');
    // A payload that claims 4 GiB, without allocating it: a 4-byte header cannot say 2 ** 32.
    const huge = { length: 2 ** 32, byteLength: 2 ** 32 } as unknown as Uint8Array;
    framingError(() => encodeFrame(huge), 'EFRAMETOOLARGE', 'a 4 GiB payload (check the length first)');
    expect(MAX_HEADER_LENGTH).toBe(2 ** 32 - 1);
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
    expect(decoder.buffered).toBe(3);
  });

  test('the default limit is 16 MiB, and a bad limit is refused', () => {
    expect(MAX_FRAME_BYTES).toBe(16 * 1024 * 1024);
    expect(new FrameDecoder().maxFrameBytes).toBe(MAX_FRAME_BYTES);
    expect(() => new FrameDecoder({ maxFrameBytes: -1 })).toThrow(RangeError);
    expect(() => new FrameDecoder({ maxFrameBytes: 2 ** 32 })).toThrow(RangeError);
  });
});

describe('step 3: read the header', () => {
  test('the header is read even when it arrives one byte at a time: 00 00 01 2c is 300', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 299 });
    expect(decoder.push(bytes(0))).toEqual([]);
    expect(decoder.push(bytes(0))).toEqual([]);
    expect(decoder.push(bytes(1))).toEqual([]);
    const error = framingError(
      () => decoder.push(bytes(0x2c)),
      'EFRAMETOOLARGE',
      'the 4th header byte arrives: 00 00 01 2c says 300 bytes, over the limit of 299',
    );
    expect(error.message, 'say how big the frame is, and the limit').toContain('a frame of 300 bytes');
    expect(error.message).toContain('299');
  });

  test('a header within the limit waits for its payload: nothing returned, bytes kept', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 300 });
    expect(decoder.push(bytes(0, 0, 1))).toEqual([]);
    expect(decoder.push(Buffer.concat([bytes(0x2c), Buffer.alloc(10)]))).toEqual([]);
    expect(decoder.buffered, 'the header and 10 payload bytes are kept').toBe(14);
    expect(decoder.push(Buffer.alloc(100)), 'still 190 payload bytes to come').toEqual([]);
    expect(decoder.buffered).toBe(114);
  });

  test('the limit is checked at the header, before any payload: 16 MiB passes, one byte more throws', () => {
    expect(new FrameDecoder().push(bytes(1, 0, 0, 0)), '01 00 00 00 is exactly 16 MiB').toEqual([]);
    const error = framingError(
      () => new FrameDecoder().push(bytes(1, 0, 0, 1)),
      'EFRAMETOOLARGE',
      '01 00 00 01 is 16 MiB + 1, over the default limit',
    );
    expect(error.message).toContain(String(MAX_FRAME_BYTES + 1));
  });

  test('the length is unsigned: 80 00 00 00 is 2147483648, not negative', () => {
    const error = framingError(
      () => new FrameDecoder({ maxFrameBytes: 2 ** 31 - 1 }).push(bytes(0x80, 0, 0, 0)),
      'EFRAMETOOLARGE',
      '80 00 00 00 read as unsigned is 2147483648, over a limit of 2147483647 (readUInt32BE, not readInt32BE)',
    );
    expect(error.message).toContain('a frame of 2147483648 bytes');
    const roomy = new FrameDecoder({ maxFrameBytes: MAX_HEADER_LENGTH });
    expect(roomy.push(bytes(0xff, 0xff, 0xff, 0xff, 0x61, 0x62, 0x63)), 'ff ff ff ff is 4294967295').toEqual(
      [],
    );
    expect(roomy.buffered, 'the decoder waits for the 4 GiB payload').toBe(7);
  });

  test('any length, its header cut any way, is read the same (property)', () => {
    check(
      fc.property(fc.integer({ min: 1, max: MAX_HEADER_LENGTH }), cutSizes, (length, sizes) => {
        const header = Buffer.alloc(4);
        header.writeUInt32BE(length, 0);
        // Within the limit: kept, waiting for the payload.
        const decoder = new FrameDecoder({ maxFrameBytes: MAX_HEADER_LENGTH });
        expect(pushAll(decoder, cut(header, sizes))).toEqual([]);
        expect(decoder.buffered).toBe(4);
        // One byte over the limit: refused, saying its length.
        const strict = new FrameDecoder({ maxFrameBytes: length - 1 });
        const error = framingError(() => pushAll(strict, cut(header, sizes)), 'EFRAMETOOLARGE', 'over');
        expect(error.message).toContain(`a frame of ${length} bytes`);
      }),
    );
  });
});

describe('step 4: cut out each complete frame', () => {
  test('one whole frame → its payload', () => {
    const decoder = new FrameDecoder();
    expect(texts(decoder.push(frame('hello')))).toEqual(['hello']);
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
    expect(out.slice(17, 20).flat()).toEqual([]);
    expect(out[20], 'the header 00 00 00 00 alone is an empty frame').toEqual(['']);
    expect(decoder.buffered).toBe(0);
  });

  test('any list of payloads, cut any way, decodes to exactly that list (property)', () => {
    check(
      fc.property(payloadLists, cutSizes, (payloads, sizes) => {
        const decoder = new FrameDecoder();
        const out = pushAll(decoder, cut(frames(...payloads), sizes));
        expect(out.map((f) => [...f])).toEqual(payloads.map((p) => [...p]));
        expect(decoder.buffered).toBe(0);
      }),
    );
  });

  test('each byte is copied at most once, however the input is cut: the cost grows linearly', () => {
    // One 256 KiB frame in 256-byte pieces, then 2,000 small frames in 4 KiB pieces.
    const big = Buffer.alloc(256 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const small = Array.from({ length: 2000 }, (_, i) => Buffer.alloc(i % 97, i & 0xff));
    for (const [what, payloads, size] of [
      ['one 256 KiB frame in 256-byte chunks', [big], 256],
      ['2,000 small frames in 4 KiB chunks', small, 4096],
    ] as const) {
      const stream = frames(...payloads);
      const pieces = cut(stream, [size]);
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
    expect(() => new FrameDecoder().end(), 'nothing received: end() returns').not.toThrow();
    const decoder = new FrameDecoder();
    decoder.push(frames('one', ''));
    expect(() => decoder.end(), 'no bytes left over: end() returns').not.toThrow();
  });

  test('leftover bytes throw ETRUNCATED: half a header, a header alone, part of a payload', () => {
    for (const [what, stream] of [
      ['2 bytes of a header', bytes(0, 0)],
      ['a header saying 5, and no payload', bytes(0, 0, 0, 5)],
      ['a header saying 5, and 2 payload bytes', bytes(0, 0, 0, 5, 0x68, 0x65)],
      ['a whole frame, then 1 byte of the next header', Buffer.concat([frame('ok'), bytes(0)])],
    ] as const) {
      const decoder = new FrameDecoder();
      decoder.push(stream);
      const error = framingError(() => decoder.end(), 'ETRUNCATED', `the stream ends after ${what}`);
      expect(error.message, 'say what is missing').toMatch(/\d/);
    }
  });

  test('a stream cut short anywhere throws ETRUNCATED unless the cut falls between frames (property)', () => {
    check(
      fc.property(payloadLists, fc.nat(), cutSizes, (payloads, at, sizes) => {
        const stream = frames(...payloads);
        const end = at % (stream.length + 1);
        const boundaries = new Set([0]);
        let offset = 0;
        for (const payload of payloads) {
          offset += 4 + payload.length;
          boundaries.add(offset);
        }
        const decoder = new FrameDecoder();
        pushAll(decoder, cut(stream.subarray(0, end), sizes));
        if (boundaries.has(end)) decoder.end();
        else framingError(() => decoder.end(), 'ETRUNCATED', `cut at byte ${end}`);
      }),
    );
  });
});
