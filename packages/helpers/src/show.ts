/** How bytes are shown to a learner: as text and as hex, and as a shell line to replay them. */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { escapeBytes } from '@course/program';
import { displayWidth, words } from '@course/words';

const MAX_SHOWN = 96;

/**
 * One character of a byte stream: where it starts and ends, the character (null for a byte that
 * is not part of any UTF-8 character), and how it is written between quotes (null: it does not
 * print, so its bytes are shown in hex).
 */
export interface ByteChar {
  start: number;
  end: number;
  char: string | null;
  text: string | null;
}

/** The escapes used between quotes, as in JavaScript and Python source. */
const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '"': '\\"', '\\': '\\\\' };

/**
 * How a character is written between quotes: itself, or an escape for \n \r \t " and \; null
 * for a character that does not print (other controls, invisible characters and odd spaces,
 * unassigned code points), which is shown as its bytes in hex instead.
 */
export function quotedChar(char: string): string | null {
  const escaped = ESCAPES[char];
  if (escaped !== undefined) return escaped;
  if (char !== ' ' && /[\p{C}\p{Z}]/u.test(char)) return null;
  return char;
}

/** UTF-8 decoding that keeps each character's byte range; bytes that are not UTF-8 stand alone. */
export function byteChars(bytes: Uint8Array): ByteChar[] {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const chars: ByteChar[] = [];
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i] as number;
    const size =
      b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    let char: string | null = null;
    if (size > 0 && i + size <= bytes.length) {
      try {
        char = decoder.decode(bytes.subarray(i, i + size));
      } catch {
        char = null;
      }
    }
    const end = char === null ? i + 1 : i + size;
    chars.push({ start: i, end, char, text: char === null ? null : quotedChar(char) });
    i = end;
  }
  return chars;
}

/** `48 45 4c`: bytes as two hex digits each, a space between. */
export function hexBytes(bytes: Uint8Array): string {
  return Buffer.from(bytes)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ');
}

/**
 * Bytes as a learner reads them, the one style of the failure messages and the site's diagrams:
 * text between double quotes (\n \r \t \" \\ escaped), and every byte that does not print
 * (a control, an invisible character, a byte that is not UTF-8) in hex outside them:
 * `00 00 00 05 "hello"`, `"GET / HTTP/1.1\r\n"`, `"caf" c3`. Empty: `""`.
 */
export function showBytes(bytes: Uint8Array): string {
  const parts: string[] = [];
  let quoted = '';
  let hex: number[] = [];
  const flush = () => {
    if (quoted) parts.push(`"${quoted}"`);
    if (hex.length) parts.push(hexBytes(Uint8Array.from(hex)));
    quoted = '';
    hex = [];
  };
  for (const c of byteChars(bytes)) {
    if (c.text === null) {
      if (quoted) flush();
      for (let i = c.start; i < c.end; i++) hex.push(bytes[i] as number);
    } else {
      if (hex.length) flush();
      quoted += c.text;
    }
  }
  flush();
  return parts.length === 0 ? '""' : parts.join(' ');
}

/** `"HELLO\n"`, `00 00 00 05 "hello"` (see showBytes), cut after MAX_SHOWN bytes. */
export function asText(bytes: Uint8Array): string {
  // Cut between characters, never inside one: the start of a cut character would show as hex.
  let end = Math.min(bytes.length, MAX_SHOWN);
  while (end < bytes.length && end > MAX_SHOWN - 4 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  const shown = showBytes(bytes.subarray(0, end));
  return end < bytes.length ? `${shown} … (${bytes.length - end} more bytes)` : shown;
}

/** `48 45 4c 4c 4f 0a` */
export function asHex(bytes: Uint8Array): string {
  const shown = hexBytes(bytes.subarray(0, MAX_SHOWN));
  return bytes.length > MAX_SHOWN ? `${shown} …` : shown;
}

/** Two indented lines, text then hex, or `nothing (0 bytes)`. */
export function describeBytes(bytes: Uint8Array, indent = '  '): string {
  const say = words().harness;
  if (bytes.length === 0) return `${indent}${say.nothing}`;
  // The two labels padded to one width, so that the text and its hex line up.
  const width = Math.max(displayWidth(say.text), displayWidth(say.hex));
  const label = (l: string) => `${l}:${' '.repeat(width - displayWidth(l) + 1)}`;
  return `${indent}${label(say.text)}${asText(bytes)}\n${indent}${label(say.hex)}${asHex(bytes)}  (${say.bytes(bytes.length)})`;
}

/** Payloads whose escaped text is longer than this are sent from a file, not --send. */
const SEND_MAX_CHARS = 200;

export interface NcLineOptions {
  /** One datagram instead of a TCP stream; the line waits `waitS` seconds for the reply. */
  udp?: boolean;
  waitS?: number;
  /** Send one byte every `trickleMs` milliseconds (TCP only). */
  trickleMs?: number;
  /** Half-close (FIN) once everything is sent (TCP; default true). */
  halfClose?: boolean;
  host?: string;
}

/**
 * The `course nc` line that sends exactly `payload` and prints what comes back, the same in bash,
 * zsh and PowerShell, with no nc, printf or python3 needed:
 * `npx course nc --send 'hello\n' 127.0.0.1 9000`. Bytes that are not printable text are
 * escapes (`\r`, `\xff`); a payload too long to read in a line is written to a file under the
 * system's temporary folder, sent with `--file`, so that no line floods the terminal.
 */
export function ncLine(
  payload: Uint8Array | string,
  port: number | string,
  { udp = false, waitS = 5, trickleMs, halfClose = true, host = '127.0.0.1' }: NcLineOptions = {},
): string {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const flags: string[] = [];
  if (udp) flags.push('-u', '-w', String(waitS));
  if (trickleMs) flags.push('--trickle', String(trickleMs));
  if (!udp && !halfClose) flags.push('--keep-open');
  const escaped = escapeBytes(bytes);
  if (udp && bytes.length === 0) flags.push('--send-empty');
  else if (escaped.length <= SEND_MAX_CHARS) flags.push(`--send '${escaped}'`);
  else flags.push(`--file ${quotedPath(payloadFile(bytes))}`);
  return `npx course nc ${flags.join(' ')} ${host} ${port}`;
}

/** A path as one shell word in bash, zsh and PowerShell (quoted when it has spaces). */
function quotedPath(path: string): string {
  return /^[\w./:\\-]+$/.test(path) ? path : `'${path.replaceAll("'", "''")}'`;
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
