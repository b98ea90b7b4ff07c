import { connect, WireError } from '@course/helpers';
import { expect } from 'vitest';

export interface HttpResponseBytes {
  /** `HTTP/1.1 200 OK` */
  statusLine: string;
  status: number;
  /** Header names in lower case (HTTP names are case-insensitive). */
  headers: Map<string, string>;
  body: Buffer;
  /** The whole response, as it arrived. */
  raw: Buffer;
}

const SHAPE =
  'a status line, `Name: value` header lines, an empty line, then the body; each line ending in \\r\\n';

/**
 * Splits raw response bytes into status line, headers and body, or fails explaining what is off.
 * `nothingHint` is what to check when nothing at all arrived (the server closed, or was made to
 * close, without writing a byte): that is a different bug from a badly written response.
 * `repro` is shown with every failure.
 */
export function parseResponse(
  raw: Buffer,
  what = 'the response',
  { nothingHint, repro }: { nothingHint?: string; repro?: string } = {},
): HttpResponseBytes {
  if (raw.length === 0) {
    throw new WireError(`${what} is missing: the connection closed without a single byte from the server`, {
      expected: SHAPE,
      received: raw,
      hint:
        nothingHint ??
        'answer with socket.end(formatResponse(...)) before the connection closes: socket.destroy(), ' +
          'or closing without writing, sends nothing',
      repro,
    });
  }
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1) {
    const bareLf = raw.includes('\n\n') || /[^\r]\n/.test(raw.toString('latin1'));
    throw new WireError(`${what} has no empty line (\\r\\n\\r\\n) after its head`, {
      expected: SHAPE,
      received: raw,
      hint: bareLf
        ? 'end every line of the head with \\r\\n, not a bare \\n, and the head itself with one more \\r\\n'
        : 'write the whole head (status line, headers, the empty line), then the body, in one socket.end()',
      repro,
    });
  }
  const [statusLine = '', ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.1 (\d{3}) \S/.exec(statusLine);
  if (!status) {
    throw new WireError(`${what} does not start with a status line like \`HTTP/1.1 200 OK\``, {
      expected: SHAPE,
      received: raw,
      repro,
    });
  }
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) {
      throw new WireError(`${what} has a header line without a name and a colon: ${JSON.stringify(line)}`, {
        expected: SHAPE,
        received: raw,
        repro,
      });
    }
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { statusLine, status: Number(status[1]), headers, body: raw.subarray(end + 4), raw };
}

export interface Expected {
  statusLine: string;
  /** Headers that must be there, with these values (names in any case). */
  headers?: Record<string, string>;
  /** The body, exactly; with Content-Length checked against its length in bytes. */
  body?: string;
  /** What to check when the status line is not the expected one. */
  hint?: string;
  /** Shell lines that replay the request. */
  repro?: string;
}

/** Checks one parsed response: status line, the given headers, the body and its Content-Length. */
export function expectResponse(response: HttpResponseBytes, expected: Expected, what = 'the response'): void {
  if (response.statusLine !== expected.statusLine) {
    throw new WireError(`${what} starts with ${JSON.stringify(response.statusLine)}`, {
      expected: `a response starting with ${JSON.stringify(expected.statusLine)}`,
      received: response.raw,
      hint: expected.hint,
      repro: expected.repro,
    });
  }
  for (const [name, value] of Object.entries(expected.headers ?? {})) {
    expect(response.headers.get(name.toLowerCase()), `${what}: the header ${name}`).toBe(value);
  }
  if (expected.body === undefined) return;
  const bytes = Buffer.byteLength(expected.body);
  expect(
    response.headers.get('content-length'),
    `${what}: Content-Length counts the body's bytes in UTF-8 (${bytes}), not its characters (${expected.body.length})`,
  ).toBe(String(bytes));
  expect(response.body.toString('utf8'), `${what}: the body`).toBe(expected.body);
}

/**
 * What a plain HTTP client does: connect, send the request (in `pieces` if given, each flushed
 * before the next), and read until the server closes: `Connection: close` ends the response.
 * It does not half-close (browsers do not); with `finish`, it sends FIN after the request.
 */
export async function httpExchange(
  port: number,
  request: string | string[],
  options: { finish?: boolean; hint?: string } = {},
): Promise<Buffer> {
  const peer = await connect(port);
  for (const piece of Array.isArray(request) ? request : [request]) await peer.write(piece);
  if (options.finish) await peer.end();
  return peer.closed({
    expected: 'a response, then the server closing the connection (it says Connection: close)',
    hint: options.hint ?? 'once the head is complete (its empty line), answer with socket.end(response)',
  });
}

/** `GET / HTTP/1.1` with a Host header, as a client sends it. */
export const GET = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

export { closeServerAfterTest } from '@course/helpers';
