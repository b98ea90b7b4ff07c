/** How bytes are shown to a learner: as text and as hex, and as a shell line to replay them. */

const MAX_SHOWN = 96;

/** `"HELLO\n"` style text: printable characters as they are, the rest escaped. */
export function asText(bytes: Uint8Array): string {
  const shown = Buffer.from(bytes.subarray(0, MAX_SHOWN)).toString('utf8');
  const escaped = JSON.stringify(shown);
  return bytes.length > MAX_SHOWN ? `${escaped} … (${bytes.length - MAX_SHOWN} more bytes)` : escaped;
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

/** `printf 'hello' | nc -N 127.0.0.1 9000`: send, half-close, print the reply. */
export function ncLine(payload: Uint8Array | string, port: number | string, host = '127.0.0.1'): string {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return `printf ${printfArgument(bytes)} | nc -N ${host} ${port}`;
}
