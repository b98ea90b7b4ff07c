import { describe, expect, test } from 'vitest';
import { checkName, MAX_NAME_BYTES, ProtocolError, parseHeader } from '#impl/protocol.ts';

const HASH = 'ab'.repeat(32);

/** parseHeader() of `value` as JSON: the header, or the ProtocolError's message. */
function parse(value: unknown): unknown {
  try {
    return parseHeader(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));
  } catch (error) {
    expect(error, 'parseHeader() should throw a ProtocolError (its message is the answer)').toBeInstanceOf(
      ProtocolError,
    );
    return (error as Error).message;
  }
}

describe('step 1: a safe file name', () => {
  test('plain names are accepted, in any script, hidden or not', () => {
    for (const name of ['report.pdf', 'héllo 你好.txt', '.hidden', 'a.b.c', 'x'.repeat(MAX_NAME_BYTES)]) {
      expect(checkName(name), `checkName(${JSON.stringify(name)}) should accept it`).toBeUndefined();
    }
  });

  test('anything that could name another place, or no file at all, is refused with a reason', () => {
    const refused: [string, string][] = [
      ['', 'it is empty'],
      ['a\0.txt', 'it contains a NUL byte'],
      ['/etc/passwd', 'it contains a slash (/)'],
      ['../../etc/passwd', 'it contains a slash (/)'],
      ['sub/dir.txt', 'it contains a slash (/)'],
      ['..\\..\\boot.ini', 'it contains a backslash (\\)'],
      ['C:\\evil.txt', 'it contains a backslash (\\)'],
      ['..', 'it contains ".."'],
      ['notes..txt', 'it contains ".."'],
      ['.', 'it is "." (the directory itself)'],
    ];
    for (const [name, reason] of refused) {
      expect(checkName(name), `checkName(${JSON.stringify(name)})`).toBe(reason);
    }
  });

  test('the length limit counts UTF-8 bytes, not characters', () => {
    // 128 characters, but 256 bytes: é is two bytes in UTF-8.
    expect(checkName('é'.repeat(128)), 'count with Buffer.byteLength(name), not name.length').toBe(
      `it is longer than ${MAX_NAME_BYTES} bytes`,
    );
  });
});

describe('step 2: read the header, trusting nothing', () => {
  test('a good header gives name, size and sha256 (in lower case), and nothing else', () => {
    expect(parse({ name: 'a.txt', size: 5, sha256: HASH.toUpperCase(), extra: true })).toEqual({
      name: 'a.txt',
      size: 5,
      sha256: HASH,
    });
    expect(parse({ name: '空.txt', size: 0, sha256: HASH })).toEqual({
      name: '空.txt',
      size: 0,
      sha256: HASH,
    });
  });

  test('a refused name is reported with the name and checkName()’s reason', () => {
    expect(parse({ name: '../x', size: 1, sha256: HASH })).toBe(
      'refused name "../x": it contains a slash (/)',
    );
    expect(parse({ name: '', size: 1, sha256: HASH })).toBe('refused name "": it is empty');
  });

  test('every other field is checked: JSON, object, types, whole sizes, 64 hex digits', () => {
    const object = 'the header must be a JSON object with "name", "size" and "sha256"';
    const size = '"size" must be a whole number of bytes, 0 or more';
    const hash = '"sha256" must be 64 hexadecimal digits';
    const cases: [unknown, string][] = [
      ['{"name": "a.txt", ', 'the header is not valid JSON'],
      ['null', object],
      ['[1, 2]', object],
      ['42', object],
      [{ size: 1, sha256: HASH }, '"name" must be a string'],
      [{ name: 7, size: 1, sha256: HASH }, '"name" must be a string'],
      [{ name: 'a', sha256: HASH }, size],
      [{ name: 'a', size: '10', sha256: HASH }, size],
      [{ name: 'a', size: -1, sha256: HASH }, size],
      [{ name: 'a', size: 1.5, sha256: HASH }, size],
      [{ name: 'a', size: 2 ** 53, sha256: HASH }, size],
      [{ name: 'a', size: 1 }, hash],
      [{ name: 'a', size: 1, sha256: 'abc' }, hash],
      [{ name: 'a', size: 1, sha256: 'zz'.repeat(32) }, hash],
      [{ name: 'a', size: 1, sha256: `${HASH}00` }, hash],
    ];
    for (const [value, message] of cases) {
      expect(parse(value), `the header ${typeof value === 'string' ? value : JSON.stringify(value)}`).toBe(
        message,
      );
    }
  });
});
