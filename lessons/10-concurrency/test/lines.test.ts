/**
 * Lesson 10's LineDecoder (given: lesson 07's, in short) on its own, in this process: the error it
 * throws past the limit is the one the server tells apart from its own bugs (`instanceof`), with
 * a name and a message that say what happened when it shows in a log.
 */
import { describe, expect, test } from 'vitest';
import { LineDecoder, LineTooLongError } from '#impl/lines.ts';

/** What push() threw, or undefined. */
function thrownBy(decoder: LineDecoder, text: string): unknown {
  try {
    decoder.push(Buffer.from(text), () => {});
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('step 1: the line protocol (given: the line decoder)', () => {
  test('a line past the limit, complete or not, throws a LineTooLongError: `line too long`', () => {
    for (const [what, text] of [
      ['a complete line of 5 bytes', 'hello\n'],
      ['6 bytes and no \\n yet', 'hello!'],
    ] as const) {
      const error = thrownBy(new LineDecoder(4), text);
      expect(error, `${what}, with a limit of 4`).toBeInstanceOf(LineTooLongError);
      expect((error as Error).name, 'its name, as a log shows it').toBe('LineTooLongError');
      expect((error as Error).message).toBe('line too long');
    }
    expect(
      thrownBy(new LineDecoder(4), 'four\r'),
      'the limit, and a \\r that may start \\r\\n',
    ).toBeUndefined();
  });
});
