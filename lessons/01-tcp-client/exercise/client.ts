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
  // TODO(1): return net.connect({ host, port }). Node creates the socket and starts the
  // connection in one call; do not wait for 'connect' here, request() does.
  throw new Error('TODO(1): connect with net.connect({ host, port }) — see README step 1');
}
// endregion step-1

// region step-2
/**
 * Step 2: send the whole message, then half-close. end() sends FIN after the data: the server
 * reads the end of the stream and knows the request is complete, while our side can still read.
 */
export function sendAndFinish(socket: net.Socket, message: string | Uint8Array): void {
  // TODO(2): write the message and half-close in one call: socket.end(message).
  throw new Error('TODO(2): send the message and half-close with socket.end(message) — see README step 2');
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
  // TODO(3): return a Promise. On each 'data' event keep the chunk (a Buffer) in an array and
  // count its bytes; past maxBytes, socket.destroy() and reject with
  // new RequestError(`the reply is longer than ${maxBytes} bytes (EMSGSIZE)`, 'EMSGSIZE').
  // On 'end', resolve with Buffer.concat(chunks).toString('utf8'): decode once, at the end.
  throw new Error("TODO(3): collect the reply until 'end' — see README step 3");
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
  // TODO(4): return a RequestError whose code is error.code ?? 'EUNKNOWN' (an error may have no
  // code) and whose message is
  //   `cannot connect to ${where}: ${describeError(error)}`      when connected is false
  //   `connection to ${where} failed: ${describeError(error)}`   when connected is true
  // describeError() gives words and code, for example `connection refused (ECONNREFUSED)`.
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
    // TODO(5): put the steps together:
    //   - const socket = openConnection(host, port);
    //   - on 'connect', remember that you are connected and call sendAndFinish(socket, message);
    //   - readReply(socket, maxReplyBytes) settles the promise (pass resolve and reject);
    //   - on 'error', reject with describeFailure(error, where, connected);
    //   - one setTimeout of timeoutMs bounds it all: destroy the socket and reject with
    //     new RequestError(`no complete reply from ${where} within ${timeoutMs} ms (ETIMEDOUT)`, 'ETIMEDOUT');
    //     clear the timer when the request settles, or the process waits for it.
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
