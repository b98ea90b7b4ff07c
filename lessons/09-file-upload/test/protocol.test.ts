import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import {
  checkName,
  EMPTY_SHA256,
  fileProblem,
  MAX_NAME_BYTES,
  ProtocolError,
  parseAnswer,
  parseHeader,
  parseTrailer,
  visible,
} from '#impl/protocol.ts';

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
  test('plain names are accepted, in any script', () => {
    const plain = [
      'report.pdf',
      'héllo 你好.txt',
      'a.b.c',
      'x-y_z (2).txt',
      'console.txt',
      'falcon.txt',
      'com10',
      'x'.repeat(MAX_NAME_BYTES),
    ];
    for (const name of plain) {
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

  test('names a terminal would obey, names that show as others, hidden names and options are refused', () => {
    const hint =
      'step 1: after the checks for a place, refuse /\\p{Cc}/u (control characters), /\\p{Bidi_Control}/u, a leading "." or "-", in the order of the TODO';
    const refused: [string, string][] = [
      ['line\nbreak.txt', 'it contains a control character (U+000A)'],
      ['\x1b[2Jclear.txt', 'it contains a control character (U+001B)'],
      ['bell\x07.txt', 'it contains a control character (U+0007)'],
      ['back\r.txt', 'it contains a control character (U+000D)'],
      ['del\x7f.txt', 'it contains a control character (U+007F)'],
      ['csi\u009b2J.txt', 'it contains a control character (U+009B)'],
      ['report\u202efdp.exe', 'it contains a bidirectional control (U+202E)'],
      ['isolate\u2066.txt', 'it contains a bidirectional control (U+2066)'],
      ['mark\u200f.txt', 'it contains a bidirectional control (U+200F)'],
      ['.hidden', 'it starts with "." (hidden, like the server\'s own temporary files)'],
      [
        '.upload-0123456789abcdef.part',
        'it starts with "." (hidden, like the server\'s own temporary files)',
      ],
      ['-rf', 'it starts with "-" (a command would take it for an option)'],
      ['--help.txt', 'it starts with "-" (a command would take it for an option)'],
    ];
    for (const [name, reason] of refused) {
      expect(checkName(name), `checkName(${visible(JSON.stringify(name))}): ${hint}`).toBe(reason);
    }
  });

  test('names Windows cannot store as they are (devices, a trailing dot or space) are refused', () => {
    const hint =
      'step 1: WINDOWS_DEVICE.exec(name) gives the device (CON, NUL, COM1...), whatever the case and extension; a name may not end with "." or " "';
    const refused: [string, string][] = [
      ['CON', 'it is a device name on Windows (CON)'],
      ['con.txt', 'it is a device name on Windows (CON)'],
      ['Nul.tar.gz', 'it is a device name on Windows (NUL)'],
      ['aux .txt', 'it is a device name on Windows (AUX)'],
      ['prn', 'it is a device name on Windows (PRN)'],
      ['com1', 'it is a device name on Windows (COM1)'],
      ['LPT9.log', 'it is a device name on Windows (LPT9)'],
      ['notes.', 'it ends with a dot or a space'],
      ['notes.txt ', 'it ends with a dot or a space'],
      ['CON ', 'it ends with a dot or a space'],
    ];
    for (const [name, reason] of refused) {
      expect(checkName(name), `checkName(${JSON.stringify(name)}): ${hint}`).toBe(reason);
    }
  });

  test('the length limit counts UTF-8 bytes, not characters', () => {
    // 128 characters, but 256 bytes: é is two bytes in UTF-8.
    expect(checkName('é'.repeat(128)), 'count with Buffer.byteLength(name), not name.length').toBe(
      `it is longer than ${MAX_NAME_BYTES} bytes`,
    );
  });
});

describe('visible(): what a peer sends, safe to print', () => {
  test('controls, bidirectional controls and line separators are shown as \\u escapes; the rest is kept', () => {
    expect(visible('héllo 你好 "quoted" \\ tab\there')).toBe('héllo 你好 "quoted" \\ tab\\u0009here');
    expect(visible('\x1b]0;pwned\x07\r\n\x7f\u0085\u009f\u202e\u2066\u2028\u2029')).toBe(
      '\\u001b]0;pwned\\u0007\\u000d\\u000a\\u007f\\u0085\\u009f\\u202e\\u2066\\u2028\\u2029',
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

  test('a header without "sha256" gives name and size only: the hash comes after the body (step 10)', () => {
    expect(parse({ name: 'a.txt', size: 5 })).toEqual({ name: 'a.txt', size: 5 });
  });

  test('a refused name is reported with the name and checkName()’s reason', () => {
    expect(parse({ name: '../x', size: 1, sha256: HASH })).toBe(
      'refused name "../x": it contains a slash (/)',
    );
    expect(parse({ name: '', size: 1, sha256: HASH })).toBe('refused name "": it is empty');
  });

  test('a refused name is quoted with its controls made visible: the answer never carries a raw ESC or U+202E', () => {
    const hint =
      'step 2: quote the name with visible(JSON.stringify(name)): JSON.stringify() escapes ESC and newlines, visible() the C1 and bidirectional controls it leaves';
    expect(parse({ name: 'a\x1b[2J\nb', size: 1, sha256: HASH }), hint).toBe(
      'refused name "a\\u001b[2J\\nb": it contains a control character (U+001B)',
    );
    expect(parse({ name: 'x\u009b\u202e.txt', size: 1, sha256: HASH }), hint).toBe(
      'refused name "x\\u009b\\u202e.txt": it contains a control character (U+009B)',
    );
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
      [{ name: 'a', size: 1, sha256: null }, hash],
      [{ name: 'a', size: 1, sha256: 'abc' }, hash],
      [{ name: 'a', size: 1, sha256: 'zz'.repeat(32) }, hash],
      [{ name: 'a', size: 1, sha256: `${HASH}00` }, hash],
      [{ name: 'a', size: 1, sha256: [HASH] }, hash],
    ];
    for (const [value, message] of cases) {
      expect(parse(value), `the header ${typeof value === 'string' ? value : JSON.stringify(value)}`).toBe(
        message,
      );
    }
  });
});

describe("the protocol's given parts: the answer, file system errors, constants", () => {
  /** parseAnswer() of `value` as JSON: the answer, or the ProtocolError's message. */
  function answer(value: unknown): unknown {
    try {
      return parseAnswer(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));
    } catch (error) {
      expect(error, 'parseAnswer() throws a ProtocolError').toBeInstanceOf(ProtocolError);
      return (error as Error).message;
    }
  }

  test('parseAnswer() takes the two shapes of an answer, exactly, and refuses anything else', () => {
    const notAnswer = 'the answer is not {"ok": true, ...} or {"ok": false, "error": ...}';
    const ok = { ok: true, name: 'a.txt', size: 1, sha256: HASH };
    expect(answer({ ...ok, extra: 1, error: 'stray' })).toEqual(ok);
    expect(answer({ ok: false, error: 'no', name: 'a.txt' })).toEqual({ ok: false, error: 'no' });
    const cases: [unknown, string][] = [
      ['{"ok": ', 'the answer is not valid JSON'],
      ['null', notAnswer],
      ['"ok"', notAnswer],
      [{ ok: false }, notAnswer],
      [{ ok: false, error: 1 }, notAnswer],
      [{ ok: false, name: 'a.txt', size: 1, sha256: HASH }, notAnswer],
      [{ ...ok, ok: 'true' }, notAnswer],
      [{ ...ok, name: 1 }, notAnswer],
      [{ ...ok, size: '1' }, notAnswer],
      [{ ...ok, sha256: 5 }, notAnswer],
      [{ ok: true, size: 1, sha256: HASH }, notAnswer],
    ];
    for (const [value, message] of cases) {
      expect(answer(value), `the answer ${typeof value === 'string' ? value : JSON.stringify(value)}`).toBe(
        message,
      );
    }
  });

  test('fileProblem() gives words and a code, never a path', () => {
    const words: [string, string][] = [
      ['ENOENT', 'no such file or directory'],
      ['ENOTDIR', 'not a directory'],
      ['EISDIR', 'is a directory'],
      ['EACCES', 'permission denied'],
      ['EPERM', 'operation not permitted'],
      ['EROFS', 'read-only file system'],
      ['ENOSPC', 'no space left on device'],
      ['EDQUOT', 'disk quota exceeded'],
      ['EEXIST', 'file already exists'],
      ['ENAMETOOLONG', 'file name too long'],
      ['EMFILE', 'too many open files'],
    ];
    for (const [code, said] of words) {
      const error = Object.assign(new Error(`${code}: whatever, open '/srv/secret/path'`), { code });
      expect(fileProblem(error)).toBe(`${said} (${code})`);
    }
    // A code not in the table: the words of Node's message (`CODE: words, syscall 'path'`), or 'failed'.
    const exdev = Object.assign(new Error("EXDEV: cross-device link not permitted, rename '/a' -> '/b'"), {
      code: 'EXDEV',
    });
    expect(fileProblem(exdev)).toBe('cross-device link not permitted (EXDEV)');
    expect(fileProblem(Object.assign(new Error('[fs] EODD: odd, /srv'), { code: 'EODD' }))).toBe(
      'failed (EODD)',
    );
    // No code: the message, or the thing thrown.
    expect(fileProblem(new Error('boom'))).toBe('boom');
    expect(fileProblem('plain words')).toBe('plain words');
    expect(fileProblem(undefined)).toBe('undefined');
  });

  test('EMPTY_SHA256 is the SHA-256 of nothing; a ProtocolError says its name', () => {
    expect(EMPTY_SHA256).toBe(createHash('sha256').digest('hex'));
    expect(new ProtocolError('x').name).toBe('ProtocolError');
  });
});

/** parseTrailer() of `value` (JSON unless a string): the hash, or the ProtocolError's message. */
function trailer(value: unknown): unknown {
  try {
    return parseTrailer(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));
  } catch (error) {
    expect(error, 'parseTrailer() should throw a ProtocolError (its message is the answer)').toBeInstanceOf(
      ProtocolError,
    );
    return (error as Error).message;
  }
}

describe('step 10: read the trailer, trusting nothing', () => {
  test('a good trailer gives its hash, in lower case; other fields are ignored', () => {
    expect(trailer({ sha256: HASH.toUpperCase() })).toBe(HASH);
    expect(trailer({ sha256: EMPTY_SHA256, note: 'x' })).toBe(EMPTY_SHA256);
  });

  test('not JSON, not an object, no 64-hex "sha256", or over 1 KiB: refused, in words', () => {
    const shape = 'the trailer must be {"sha256": "<64 hexadecimal digits>"}';
    const cases: [unknown, string][] = [
      ['{"sha256": ', 'the trailer is not valid JSON'],
      ['', 'the trailer is not valid JSON'],
      ['null', shape],
      ['42', shape],
      [[HASH], shape],
      [{}, shape],
      [{ sha256: 'abc' }, shape],
      [{ sha256: 'zz'.repeat(32) }, shape],
      [{ sha256: `${HASH}00` }, shape],
      [{ sha256: [HASH] }, shape],
      [{ sha256: HASH, padding: 'x'.repeat(1000) }, 'the trailer is longer than 1024 bytes'],
    ];
    for (const [value, message] of cases) {
      const shown = typeof value === 'string' ? value : JSON.stringify(value);
      expect(trailer(value), `the trailer ${shown.slice(0, 80)}`).toBe(message);
    }
    // Exactly 1024 bytes is still a trailer.
    const exact = JSON.stringify({ sha256: HASH, padding: '' });
    expect(trailer(JSON.stringify({ sha256: HASH, padding: 'x'.repeat(1024 - exact.length) }))).toBe(HASH);
  });
});
