/**
 * Lesson 03: a web server, as a subclass of TcpServer. It speaks just enough real HTTP/1.1 for a
 * browser, curl or fetch: one small HTML page at /, 404 for any other path, HEAD like GET without
 * the body, 405 for other methods, 400 for what is not HTTP, 431 for a head over 8 KiB, 408 for a
 * head not complete within the deadline (10 s from connecting, `--timeout MS`). Every response
 * says `Connection: close`, and the server closes the connection after it.
 *
 *   npx tsx lessons/03-oop-server/exercise/server.ts --port 9000
 *   curl -i http://127.0.0.1:9000/                      → HTTP/1.1 200 OK ... the page
 */
import type net from 'node:net';
import {
  announceListening,
  DEFAULT_BACKLOG,
  describeError,
  EXIT,
  fail,
  formatAddress,
  isMain,
  onStopSignal,
  type ProgramSpec,
  parseCommandLine,
} from '@course/program';
import { DEFAULT_REQUEST_TIMEOUT_MS, TcpServer, type TcpServerOptions } from './tcp-server.ts';

/** The longest request head accepted: the request line, the headers and the blank line. */
export const MAX_HEAD_BYTES = 8 * 1024;

/** The page served at `/`. Its `—` and `你好` take more bytes than characters in UTF-8. */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Sockets, by hand</title>
</head>
<body>
<h1>Hello, world — 你好</h1>
<p>This page was sent by a TCP server written by hand: lesson 03 of Sockets, by hand.</p>
</body>
</html>
`;

/** The reason phrase of each status code this server sends. */
export const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/** A response before it is written out as bytes. */
export interface HttpResponse {
  /** 200, 404, ... */
  status: number;
  /** Headers of this response (Content-Type, Allow...); formatResponse() adds the framing ones. */
  headers: Record<string, string>;
  /** The body, as text (sent as UTF-8). */
  body: string;
  /** False for HEAD: the headers describe the body, but it is not sent. */
  sendBody: boolean;
}

/** A short text/plain response, for errors: `404 Not Found`. */
export function textResponse(status: number, headers: Record<string, string> = {}): HttpResponse {
  return {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', ...headers },
    body: `${status} ${STATUS_TEXT[status] ?? ''}\n`,
    sendBody: true,
  };
}

// region step-4
/**
 * Step 4: the response as bytes. A status line, one `Name: value` line per header, a blank line,
 * then the body; every line ends in CRLF. It adds the headers that frame the message:
 * `Content-Length` (the body's length in bytes, not in characters), `Connection: close` (this
 * server closes the connection after each response) and `Date`.
 */
export function formatResponse(response: HttpResponse, now: Date = new Date()): Buffer {
  // TODO(4): the status line (`HTTP/1.1 200 OK`: STATUS_TEXT has the reason phrases), one
  // `Name: value` line per header, response.headers and then Content-Length, `Connection: close`
  // and Date (now, in the format HTTP uses: Date has a method for it), an empty line, every line
  // ending in CRLF; then the body as UTF-8, unless sendBody is false (HEAD). Content-Length
  // counts bytes, not characters. Return one Buffer. README "HTTP/1.1, just enough", step 4.
  throw new Error('TODO(4): write the response as bytes — see README step 4');
}
// endregion step-4

// region step-5
/**
 * `METHOD SP target SP HTTP/1.x`. A method is a token: letters, digits and a few marks (RFC 9110);
 * a target is visible ASCII, so no control character can reach the log.
 */
const REQUEST_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) ([!-~]+) HTTP\/1\.\d$/;
const HEADER_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:/;

/**
 * Step 5: what to answer to a complete request head (the text before the blank line, or with
 * it). `GET /` gets the page, any other path 404; HEAD is GET without the body; other methods
 * 405 with `Allow: GET, HEAD`; a head that is not HTTP/1.x, 400.
 */
export function respondTo(head: string): HttpResponse {
  // TODO(5): choose the response, in this order: a request line that REQUEST_LINE refuses, or a
  // header line before the blank line that HEADER_LINE refuses, gets 400 (lines end in CRLF or
  // a bare LF); a method other than GET or HEAD gets 405 with `Allow: GET, HEAD`; the path (the
  // target without its `?query`) `/` gets 200 with PAGE as `text/html; charset=utf-8`, any other
  // path 404 (textResponse() builds the plain ones). HEAD gets what GET would, without its
  // body. README "HTTP/1.1, just enough", step 5.
  throw new Error('TODO(5): choose the response to a request head — see README step 5');
}
// endregion step-5

/**
 * Where a request head ends in `bytes`: the index just past its blank line, or -1 when the
 * blank line has not arrived yet. Lines end in CRLF; a bare LF is accepted too (RFC 9112 allows
 * it, and it is what `nc` sends when you type).
 */
export function headEnd(bytes: Buffer): number {
  const crlf = bytes.indexOf('\n\r\n');
  const lf = bytes.indexOf('\n\n');
  if (crlf === -1) return lf === -1 ? -1 : lf + 2;
  return lf === -1 || crlf < lf ? crlf + 3 : lf + 2;
}

export class WebServer extends TcpServer {
  // region step-6
  /**
   * Step 6: one HTTP exchange per connection. Collect the request head, however many pieces it
   * arrives in, until its blank line; answer it; close. Memory stays bounded: a head over
   * MAX_HEAD_BYTES gets 431 without waiting for its end. Time is bounded too: the head must be
   * complete within requestTimeoutMs of connecting (requestComplete() stops the deadline).
   */
  protected override handleConnection(socket: net.Socket, peer: string): void {
    // TODO(6): one 'data' event is not one request. Keep the bytes until headEnd() finds the
    // blank line, which can be cut between two chunks: search only what is new (and the last
    // bytes before it), never everything again. Then answer with steps 4 and 5 (the head decoded
    // as latin1: every byte one character), close, and log `IP:PORT GET / 200` (the request line
    // without its version, or `(not HTTP)` for a 400). Bounds: more than MAX_HEAD_BYTES with no
    // complete head gets 431 at once, logged `(head over 8 KiB)`; a client that ends its side
    // after some bytes but before the blank line gets 400, logged `(incomplete head)`. Answer a
    // client once: after an answer, a 408 or stop(), our side is closed and what arrives is
    // ignored. Answering meets the deadline: tell the base class (requestComplete()).
    // README "A deadline, not an idle timer", step 6.

    // Until this step is done, every client is told what is missing. Delete these lines.
    socket.end(
      'HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n' +
        'TODO(6): read the request head and answer it — see README step 6\n',
    );
  }

  /**
   * The head was not complete within requestTimeoutMs of connecting: a client that is gone
   * without a word, or one trickling its head a byte at a time. HTTP has an answer for it:
   * 408 Request Timeout, then close. handleConnection() ignores whatever arrives after it.
   */
  protected override requestTimedOut(socket: net.Socket, peer: string): void {
    // TODO(6): log `client IP:PORT too slow: request head not complete after N ms, answering 408
    // and closing` (N is this.requestTimeoutMs), then answer 408 Request Timeout (steps 4 and 5's
    // helpers) and close.

    // Until this step is done, the client is told what is missing. Delete these lines.
    socket.end(
      'HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n' +
        'TODO(6): answer 408 Request Timeout in requestTimedOut() — see README step 6\n',
    );
  }
  // endregion step-6
}

// region program
/** The command line of server.ts (`--help` lists it). */
export const spec: ProgramSpec = {
  name: 'server.ts',
  summary: 'Serves a small HTML page over HTTP/1.1: open http://HOST:PORT/ in a browser.',
  options: {
    host: { type: 'string', value: 'HOST', description: 'address to listen on (default 127.0.0.1)' },
    port: { type: 'string', value: 'PORT', description: 'port to listen on (default 0: any free port)' },
    backlog: {
      type: 'string',
      value: 'N',
      description: `connections waiting to be accepted (default ${DEFAULT_BACKLOG})`,
    },
    timeout: {
      type: 'string',
      value: 'MS',
      description: `a client's request head must be complete within MS ms of connecting, or it gets 408 (default ${DEFAULT_REQUEST_TIMEOUT_MS})`,
    },
  },
};

/**
 * Runs server.ts by the course's conventions: `listening on HOST:PORT` once accepting, one log
 * line per request, and on Ctrl-C (SIGINT) or SIGTERM the server's own stop(), then exit 0.
 * `create` builds the server from the options the flags give (a known-wrong version passes its own).
 */
export async function runProgram(
  create: (options: TcpServerOptions) => TcpServer = (options) => new WebServer(options),
  argv = process.argv.slice(2),
): Promise<void> {
  const cli = parseCommandLine(spec, argv);
  const options = {
    host: cli.string('host', '127.0.0.1'),
    port: cli.port('port', 0),
    backlog: cli.integer('backlog', DEFAULT_BACKLOG, { min: 1 }),
  };
  const server = create({
    log: console.log,
    requestTimeoutMs: cli.milliseconds('timeout', DEFAULT_REQUEST_TIMEOUT_MS),
  });
  try {
    await server.start(options);
  } catch (error) {
    fail(`cannot listen on ${formatAddress(options.host, options.port)}: ${describeError(error)}`);
  }
  const stop = (signal: NodeJS.Signals) => {
    console.log(`${spec.name}: ${signal}, closing ${server.openConnections} connection(s) and stopping`);
    // stop() closes every connection; should it ever hang, do not hang with it.
    setTimeout(() => fail(`${spec.name}: could not stop within a second`), 1_000).unref();
    server.stop().then(() => process.exit(EXIT.ok));
  };
  onStopSignal(stop); // a second Ctrl-C (tsx relays one) must not cut the stop short
  // Only now: a test (or a service manager) may signal as soon as it reads `listening on`.
  announceListening(server.server);
}

if (isMain(import.meta.url)) runProgram();
// endregion program
