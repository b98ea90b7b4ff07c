/** How bytes are shown to a learner: as text and as hex, and as a shell line to replay them. */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAX_SHOWN = 96;

/** `"HELLO\n"` style text: printable characters as they are, the rest escaped. */
export function asText(bytes: Uint8Array): string {
  // Cut between characters, never inside one: a cut character would show as � (U+FFFD).
  let end = Math.min(bytes.length, MAX_SHOWN);
  while (end < bytes.length && end > MAX_SHOWN - 4 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  const escaped = JSON.stringify(Buffer.from(bytes.subarray(0, end)).toString('utf8'));
  return end < bytes.length ? `${escaped} … (${bytes.length - end} more bytes)` : escaped;
}

/** `48 45 4c 4c 4f 0a` */
export function asHex(bytes: Uint8Array): string {
  const shown = Buffer.from(bytes.subarray(0, MAX_SHOWN))
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ');
  return bytes.length > MAX_SHOWN ? `${shown} …` : shown;
}

/** Two indented lines, text then hex, or `nothing (0 bytes)`. */
export function describeBytes(bytes: Uint8Array, indent = '  '): string {
  if (bytes.length === 0) return `${indent}nothing (0 bytes)`;
  return `${indent}text: ${asText(bytes)}\n${indent}hex:  ${asHex(bytes)}  (${bytes.length} byte${bytes.length === 1 ? '' : 's'})`;
}

/**
 * A single-quoted argument for `printf` that writes exactly `bytes`: printable text stays
 * readable, control bytes become octal escapes (POSIX printf understands `\ooo`).
 */
export function printfArgument(bytes: Uint8Array): string {
  const octal = (ch: string) =>
    [...Buffer.from(ch, 'latin1')].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
  // Valid UTF-8 is shown as its characters; anything else byte by byte.
  const validUtf8 = (() => {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return null;
    }
  })();
  const chars = validUtf8 === null ? [...Buffer.from(bytes).toString('latin1')] : [...validUtf8];
  let out = '';
  for (const ch of chars) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === "'") out += `'\\''`;
    else if (ch === '\\') out += '\\\\';
    else if (ch === '%') out += '%%';
    else if (ch === '\n') out += '\\n';
    else if (code < 0x20 || code === 0x7f || (validUtf8 === null && code > 0x7f)) out += octal(ch);
    else out += ch;
  }
  return `'${out}'`;
}

/** Payloads up to this size are shown as a `printf` line; bigger ones are generated. */
const PRINTF_MAX_BYTES = 200;
/** A generated payload expression longer than this is written to a file instead. */
const EXPRESSION_MAX_CHARS = 300;

/**
 * A shell line that writes exactly `bytes` to its stdout, short whatever the size: `printf '…'`
 * for small payloads; `python3 -c "…"` with repeated runs folded (`'a'*524288`); or, when the
 * bytes do not fold, `cat FILE` of a file written now under the system's temporary folder.
 */
export function bytesCommand(bytes: Uint8Array): string {
  if (bytes.length <= PRINTF_MAX_BYTES) return `printf ${printfArgument(bytes)}`;
  const expression = pythonBytes(bytes);
  if (expression !== null && expression.length <= EXPRESSION_MAX_CHARS) {
    return `python3 -c "import sys; sys.stdout.buffer.write(${expression})"`;
  }
  return `cat ${payloadFile(bytes)}`;
}

/** `printf 'hello' | nc -N 127.0.0.1 9000`: send, half-close, print the reply. */
export function ncLine(payload: Uint8Array | string, port: number | string, host = '127.0.0.1'): string {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const source = bytesCommand(bytes);
  return source.startsWith('cat ')
    ? `nc -N ${host} ${port} < ${source.slice(4)}`
    : `${source} | nc -N ${host} ${port}`;
}

export interface PythonSendOptions {
  /** Send one byte every `trickleMs` milliseconds instead of all at once (TCP only). */
  trickleMs?: number;
  /** Half-close (FIN) once everything is sent, like `nc -N` (TCP; default true). */
  halfClose?: boolean;
  /** One datagram instead of a TCP stream: prints the first reply, waits 1 s at most. */
  udp?: boolean;
  host?: string;
}

/**
 * A `python3 -c` line for what nc cannot do: trickle bytes one at a time, or send an empty
 * datagram. It prints what the server sends back, until the server closes (TCP) or one reply
 * arrives (UDP).
 */
export function pythonSendLine(
  payload: Uint8Array | string,
  port: number | string,
  { trickleMs, halfClose = true, udp = false, host = '127.0.0.1' }: PythonSendOptions = {},
): string {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  // Bytes that do not fold are read from a file the line names.
  const data = pythonBytes(bytes) ?? `open('${payloadFile(bytes)}','rb').read()`;
  const address = `('${host}',${port})`;
  if (udp) {
    return (
      'python3 -c "import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); ' +
      `s.settimeout(5); s.sendto(${data},${address}); sys.stdout.buffer.write(s.recvfrom(65535)[0])"`
    );
  }
  // A trickle stops once the server has answered (or closed): sending on would end in a
  // broken pipe before the answer is printed.
  const send = trickleMs
    ? `[(s.send(bytes([b])),time.sleep(${trickleMs / 1000})) for b in ${data} if not select.select([s],[],[],0)[0]]`
    : `s.sendall(${data})`;
  return (
    `python3 -c "import select,socket,sys,time; s=socket.create_connection(${address}); ${send}; ` +
    `${halfClose ? 's.shutdown(socket.SHUT_WR); ' : ''}` +
    `[sys.stdout.buffer.write(r) for r in iter(lambda: s.recv(65536), b'')]"`
  );
}

/**
 * A Python expression for `bytes`, safe inside a double-quoted shell argument: valid UTF-8 as a
 * string (`'héllo\n'.encode()`), anything else as a bytes literal; runs of a repeated unit fold
 * into `'a'*524288`. Every character the shell treats specially is an escape. Null when the bytes
 * do not fold into a short expression.
 */
export function pythonBytes(bytes: Uint8Array): string | null {
  let text: string | null = null;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {}
  if (text !== null) {
    const runs = foldRuns([...text]);
    if (!runs) return null;
    const parts = runs.map(({ unit, times }) => {
      const literal = `'${unit.map((ch) => escapeChar(ch)).join('')}'`;
      return times > 1 ? `${literal}*${times}` : literal;
    });
    if (parts.length === 0) return "b''";
    const joined = parts.join('+');
    return parts.length === 1 && !joined.includes('*') ? `${joined}.encode()` : `(${joined}).encode()`;
  }
  const runs = foldRuns([...bytes]);
  if (!runs) return null;
  const parts = runs.map(({ unit, times }) => {
    const literal = `b'${unit.map((b) => escapeChar(String.fromCharCode(b), true)).join('')}'`;
    return times > 1 ? `${literal}*${times}` : literal;
  });
  return parts.join('+') || "b''";
}

/** One character of a Python literal inside `"…"` in a POSIX shell. */
function escapeChar(ch: string, binary = false): string {
  const code = ch.codePointAt(0) ?? 0;
  if (ch === '\n') return '\\n';
  if (ch === '\r') return '\\r';
  if (ch === '\t') return '\\t';
  const hex = (n: number) => `\\x${n.toString(16).padStart(2, '0')}`;
  if (binary) return code >= 0x20 && code < 0x7f && !`\\'"$\`!`.includes(ch) ? ch : hex(code);
  if (`\\'"$\`!`.includes(ch) || code < 0x20 || code === 0x7f) return hex(code);
  // Invisible or ambiguous characters (controls, format marks, odd spaces) by their number.
  if (code > 0x7f && /[\p{C}\p{Z}]/u.test(ch)) {
    return code > 0xffff
      ? `\\U${code.toString(16).padStart(8, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  }
  return ch;
}

/**
 * Splits `items` into literal stretches and runs of a repeated unit (up to 64 items long,
 * repeated at least 4 times and covering at least 32 items): `aaaa…ab` → [a × 1000, b]. Null
 * when the literal stretches alone are too long to show.
 */
function foldRuns<T>(items: T[]): { unit: T[]; times: number }[] | null {
  const out: { unit: T[]; times: number }[] = [];
  let literal: T[] = [];
  let literals = 0;
  let i = 0;
  while (i < items.length) {
    let best = { length: 0, times: 0 };
    for (let length = 1; length <= 64 && i + length * 4 <= items.length; length++) {
      let times = 1;
      while (i + (times + 1) * length <= items.length && sameRun(items, i, i + times * length, length)) {
        times++;
      }
      if (times >= 4 && times * length >= 32 && times * length > best.length * best.times) {
        best = { length, times };
      }
      if (i + best.length * best.times === items.length) break; // nothing longer to find
    }
    if (best.times === 0) {
      literal.push(items[i] as T);
      i++;
      // Past this, the expression would be too long to read: the caller writes a file.
      if (++literals > EXPRESSION_MAX_CHARS) return null;
      continue;
    }
    if (literal.length) out.push({ unit: literal, times: 1 });
    literal = [];
    out.push({ unit: items.slice(i, i + best.length), times: best.times });
    i += best.length * best.times;
  }
  if (literal.length) out.push({ unit: literal, times: 1 });
  return out;
}

function sameRun<T>(items: T[], a: number, b: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (items[a + k] !== items[b + k]) return false;
  return true;
}

/** Writes `bytes` to a file named after its hash in the temporary folder; returns its path. */
function payloadFile(bytes: Uint8Array): string {
  const dir = join(tmpdir(), 'sockets-by-hand');
  const path = join(dir, `payload-${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}.bin`);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, bytes);
  }
  return path;
}
