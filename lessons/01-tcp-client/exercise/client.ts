/**
 * Lesson 01: a TCP client in five steps.
 *
 * Connect, send a message, say "I am done sending" (a half-close, FIN), read everything the
 * server sends until it closes, and report failures in words a person understands.
 *
 *   npx tsx lessons/01-tcp-client/exercise/client.ts --port 9000 'hello'
 */
import net from 'node:net';
import {
  CLIENT_OPTIONS,
  describeError,
  EXIT,
  fail,
  formatAddress,
  isMain,
  parseCommandLine,
  serverAddressOf,
} from '@course/program';

export interface RequestOptions {
  /** Default 127.0.0.1. */
  host?: string;
  port: number;
  /** Sent as UTF-8 when a string. */
  message: string | Uint8Array;
  /** Bounds the whole exchange, connect to close. Default 5000 ms. */
  timeoutMs?: number;
  /** The longest reply kept in memory; a longer one fails the request. Default 1 MiB. */
  maxReplyBytes?: number;
}

export const DEFAULT_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_REPLY_BYTES = 1024 * 1024;

/** A request that failed, with the code of the socket error (ECONNREFUSED, ECONNRESET, ETIMEDOUT...). */
export class RequestError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'RequestError';
    this.code = code;
  }
}

// region step-1
/**
 * Step 1: create a TCP socket and connect it to host:port (Python's socket() and connect() in
 * one call). The socket is returned at once; it emits 'connect' when the three-way handshake is
 * done, or 'error' when it fails.
 */
export function openConnection(host: string, port: number): net.Socket {
  // TODO(1): return a socket that is connecting to host:port. One function of Node's `net`
  // module creates the socket and starts the handshake (Node docs: net.connect). Return at once:
  // do not wait for 'connect' here, request() does. README: step 1.
  throw new Error('TODO(1): connect to host:port in openConnection() — see README step 1');
}
// endregion step-1

// region step-2
/**
 * Step 2: send the whole message, then half-close. end() sends FIN after the data: the server
 * reads the end of the stream and knows the request is complete, while our side can still read.
 */
export function sendAndFinish(socket: net.Socket, message: string | Uint8Array): void {
  // TODO(2): send every byte of the message, then tell the server you are done sending (a FIN)
  // while still being able to read its reply. Which Writable method does both? (Node docs:
  // socket.end; README: "Half-close: FIN and socket.end()", step 2.)
  throw new Error('TODO(2): send the message and half-close in sendAndFinish() — see README step 2');
}
// endregion step-2

// region step-3
/**
 * Step 3: receive until the server closes its side. TCP delivers a stream of bytes cut wherever
 * the network pleased, so keep every chunk as bytes and decode once at the end: a multi-byte
 * UTF-8 character cut in two by a chunk boundary is then whole again. Memory stays bounded: a
 * reply longer than `maxBytes` destroys the socket and rejects.
 */
export function readReply(socket: net.Socket, maxBytes = DEFAULT_MAX_REPLY_BYTES): Promise<string> {
  // TODO(3): resolve with everything the server sent, decoded as UTF-8, once it closes its side
  // (the socket's 'end' event). A 'data' event is whatever had arrived, not a message, and it
  // can end in the middle of a character: keep the bytes, and decode them once, at the end,
  // without copying them again for every chunk (Buffer.concat). As the bytes arrive, check the
  // count: past maxBytes, destroy the socket and reject with a RequestError whose message is
  // `the reply is longer than ${maxBytes} bytes (EMSGSIZE)` and whose code is 'EMSGSIZE'.
  // README: "A byte stream, not messages", step 3.
  throw new Error("TODO(3): collect the reply until 'end' in readReply() — see README step 3");
}
// endregion step-3

// region step-4
/**
 * Step 4: words for what went wrong. Before the connection is made, the server was never
 * reached (`cannot connect to ...`); after, the exchange broke half-way (`connection to ... failed`).
 */
export function describeFailure(
  error: NodeJS.ErrnoException,
  where: string,
  connected: boolean,
): RequestError {
  // TODO(4): return a RequestError that carries the error's code ('EUNKNOWN' when it has none:
  // look at the type of error.code) and one sentence: `cannot connect to 127.0.0.1:9000: ...`
  // before the connection was made, `connection to 127.0.0.1:9000 failed: ...` after. The words
  // after the colon are not yours to write: describeError() from @course/program gives them,
  // for example `connection refused (ECONNREFUSED)`. README: step 4.
  throw new Error(`TODO(4): describe the failure — see README step 4 (${error.message})`);
}
// endregion step-4

// region step-5
/**
 * Step 5, the whole exchange: connect, send `message`, half-close, and resolve with the full reply once
 * the server closes. Rejects with a RequestError when the connection is refused or reset, or
 * when the exchange takes longer than `timeoutMs`; the socket is closed in every case.
 */
export function request(options: RequestOptions): Promise<string> {
  const { host = '127.0.0.1', port, message, timeoutMs = DEFAULT_TIMEOUT_MS, maxReplyBytes } = options;
  const where = formatAddress(host, port);
  return new Promise((resolve, reject) => {
    // TODO(5): put steps 1 to 4 together. Connect; send once connected (and remember that you
    // were: step 4's sentence depends on it); let the reply settle the promise; turn a socket
    // 'error' into step 4's RequestError (a socket with no 'error' listener crashes the process).
    // One timer bounds the whole exchange: after timeoutMs, destroy the socket and reject with
    // the message `no complete reply from ${where} within ${timeoutMs} ms (ETIMEDOUT)` and the
    // code 'ETIMEDOUT'. However the request settles, no timer may be left behind (Node's
    // setTimeout/clearTimeout; socket.setTimeout() is an idle timer, not a deadline).
    // README: step 5.
    reject(new Error(`TODO(5): make the whole request to ${where} — see README step 5`));
  });
}
// endregion step-5

// region program
/** The command line of client.ts; `send` is the request function to use (mistakes/ pass theirs). */
export function runClient(argv: string[], send: typeof request = request): void {
  const cli = parseCommandLine(
    {
      name: 'client.ts',
      summary: 'Sends MESSAGE to a TCP server, half-closes, and prints the whole reply.',
      options: {
        ...CLIENT_OPTIONS,
        timeout: {
          type: 'string',
          value: 'MS',
          description: `bound on the whole exchange (default ${DEFAULT_TIMEOUT_MS})`,
        },
      },
      positionals: [{ name: 'MESSAGE', description: 'the text to send' }],
    },
    argv,
  );
  const { host, port } = serverAddressOf(cli);
  send({
    host,
    port,
    message: cli.positionals[0] ?? '',
    timeoutMs: cli.milliseconds('timeout', DEFAULT_TIMEOUT_MS),
  }).then(
    (reply) => process.stdout.write(reply),
    (error: Error) => fail(error.message, EXIT.network),
  );
}

if (isMain(import.meta.url)) runClient(process.argv.slice(2));
// endregion program
