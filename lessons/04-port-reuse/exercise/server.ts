/**
 * Lesson 04: port reuse, or "address already in use".
 *
 * A small server that answers every connection with one line, `hello from port P`, and closes
 * it first (so the server's side of each connection waits in TIME_WAIT afterwards); a listen that
 * turns EADDRINUSE into one clear sentence and can wait for a busy port to free up; and a restart
 * that listens again on the same port at once, while the old connections are still in TIME_WAIT.
 *
 *   npx tsx lessons/04-port-reuse/exercise/server.ts --port 9000 --retries 20
 *   nc 127.0.0.1 9000                                   → hello from port 9000
 */
import net, { type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  describeError,
  EXIT,
  fail,
  isMain,
  type ListenOptions,
  peerAddress,
  runServerProgram,
  type ServerProgram,
} from '@course/program';

/** Where the server writes its one line per client event (console.log in the program). */
export type Log = (line: string) => void;

/**
 * How long a connection may stay open and quiet after the hello line before it is cut off: the
 * default of `lingerMs`.
 */
export const LINGER_MS = 5_000;

// region step-1
/**
 * Step 1: one connection. The server speaks first: it writes `hello from port P` (P is the port
 * the client connected to) and closes at once with end(), which sends the line, then our FIN.
 * The side that closes first is the side that waits in TIME_WAIT: here, the server.
 */
export function handleConnection(socket: net.Socket, log: Log, lingerMs = LINGER_MS): void {
  // TODO(1): log `client connected from IP:PORT` (peerAddress()), then send the line
  // `hello from port P` and a newline, P being the port the client connected to (the socket
  // knows it), and close your side first, in the same call. The client's bytes do not matter,
  // but they must be read, or Node never sees its FIN and the socket never closes; a client that
  // keeps its side open is cut off lingerMs after the hello, whatever it sends meanwhile: a
  // deadline, not socket.setTimeout(), an idle timer that every byte restarts (lesson 01, step
  // 5), and no timer outlives the socket. Log `client IP:PORT failed: ...` (describeError()) on
  // error, so that a reset cannot crash the server, and `client IP:PORT closed`. README: step 1.

  // Until step 1 is done, every client is told what is missing. Delete this line.
  socket.end('TODO(1): say hello and close in handleConnection() — see README step 1\n');
}
// endregion step-1

export interface HelloServerOptions {
  log?: Log;
  /** How long a client may keep its side open, quiet, after the hello line. Default LINGER_MS. */
  lingerMs?: number;
}

/** The hello server: every connection gets one line and is closed. */
export function createHelloServer({
  log = () => {},
  lingerMs = LINGER_MS,
}: HelloServerOptions = {}): net.Server {
  return net.createServer((socket) => handleConnection(socket, log, lingerMs));
}

// region step-2
/** The port was taken: `port 9000 on 127.0.0.1 is already in use (EADDRINUSE)`. */
export class PortInUseError extends Error {
  readonly code = 'EADDRINUSE';
  readonly host: string;
  readonly port: number;

  /** `cause` is Node's own error (syscall 'listen', with address and port). */
  constructor(host: string, port: number, cause?: unknown) {
    super(`port ${port} on ${host} is already in use (EADDRINUSE)`, { cause });
    this.name = 'PortInUseError';
    this.host = host;
    this.port = port;
  }
}

/**
 * Step 2: one attempt to listen. Resolves with the bound address; rejects with a PortInUseError
 * when the port is taken, or with Node's own error for anything else (a bad port, EACCES...).
 * Whatever happens, it leaves no listener behind on the server, so it can be called again.
 */
export function listenOnce(server: net.Server, { host, port, backlog }: ListenOptions): Promise<AddressInfo> {
  // TODO(2): one attempt to listen on host:port with the backlog. Resolve with the bound address
  // once the server is listening. A busy port is not thrown but reported by an event: reject
  // with a PortInUseError then (Node's error as its cause), and with Node's own error for any
  // other failure. Whichever way it ends, leave no listener of yours on the server: step 3 calls
  // this again on the same server, and a stale listener fires late or hides later errors (so no
  // callback to listen() either). listen() does throw at once on bad arguments (port 70000):
  // reject then too. README "What Node does", step 2.
  throw new Error('TODO(2): listen once and turn EADDRINUSE into a PortInUseError — see README step 2');
}
// endregion step-2

// region step-3
export interface RetryOptions {
  /** How many more attempts after the first one fails with EADDRINUSE. Default 0. */
  retries?: number;
  /** The pause after each failed attempt. Default 500 ms. */
  retryDelayMs?: number;
  /** Told about each failed attempt that will be retried (attempt counts from 1). */
  onRetry?: (error: PortInUseError, attempt: number, delayMs: number) => void;
}

export const DEFAULT_RETRY_DELAY_MS = 500;

/**
 * Step 3: listen, and while the port is busy, wait and try again, `retries` more times. Each
 * attempt ends (in 'listening' or 'error') before the next one starts; a success resolves at
 * once; only EADDRINUSE is worth retrying, any other error rejects at once.
 */
export async function listenWithRetries(
  server: net.Server,
  options: ListenOptions,
  { retries = 0, retryDelayMs = DEFAULT_RETRY_DELAY_MS, onRetry }: RetryOptions = {},
): Promise<AddressInfo> {
  // TODO(3): try listenOnce() up to 1 + retries times. Only a busy port is worth another try:
  // before each retry tell onRetry (if given) and pause retryDelayMs (a promise-based sleep is in
  // node:timers/promises). Any other error, or the last attempt's, is thrown as it is. Each
  // attempt must be over before the next one starts. README: step 3.
  throw new Error('TODO(3): retry while the port is busy — see README step 3');
}
// endregion step-3

// region step-4
/**
 * Step 4: replace `old` with `next` on the same host and port, at once. close() releases the
 * listening socket immediately; the old connections (open, or in TIME_WAIT) do not stop the
 * new listener, because Node sets SO_REUSEADDR on every TCP server. They are left to finish on
 * their own: old's 'close' event, which waits for all of them, is not awaited.
 */
export async function restart(old: net.Server, next: net.Server): Promise<AddressInfo> {
  // TODO(4): find the address and port old listens on (throw an Error if it does not listen on
  // TCP), stop it listening, and start `next` on the same address and port at once. Do not wait
  // for old's 'close': it waits for every old connection, while the port itself is released at
  // once (Node docs: server.close, server.address). README "TIME_WAIT: whoever closes first
  // waits", step 4.
  throw new Error('TODO(4): close the old server and listen again on its port — see README step 4');
}
// endregion step-4

// region program
/**
 * The command line of server.ts (`--help` lists it). `listen` is the retrying listen to use and
 * `createServer` the server to run (mistakes/ pass their own). runServerProgram hands the listen
 * hook only host, port and backlog, so create() reads --retries and --retry-delay and leaves
 * them here for it.
 */
export function serverProgram(
  listen: typeof listenWithRetries = listenWithRetries,
  createServer: typeof createHelloServer = createHelloServer,
): ServerProgram {
  const retryOf = new WeakMap<net.Server, RetryOptions>();
  return {
    spec: {
      name: 'server.ts',
      summary: 'Answers every connection with one line, `hello from port P`, and closes it.',
      options: {
        retries: {
          type: 'string',
          value: 'N',
          description: 'when the port is busy, try N more times (default 0)',
        },
        'retry-delay': {
          type: 'string',
          value: 'MS',
          description: `pause between tries (default ${DEFAULT_RETRY_DELAY_MS})`,
        },
      },
    },
    create: (cli) => {
      const server = createServer({ log: console.log });
      const retries = cli.integer('retries', 0);
      retryOf.set(server, {
        retries,
        retryDelayMs: cli.milliseconds('retry-delay', DEFAULT_RETRY_DELAY_MS, 0),
        // On stderr: stdout's first line must stay `listening on HOST:PORT`.
        onRetry: (error, attempt, delayMs) =>
          console.error(`${error.message}: trying again in ${delayMs} ms (${attempt} of ${retries})`),
      });
      return server;
    },
    listen: (server, options) =>
      listen(server, options, retryOf.get(server)).catch((error: unknown) => {
        // The one clear line, as it is (runServerProgram would prefix `cannot listen on ...`).
        if (error instanceof PortInUseError) fail(error.message, EXIT.network);
        throw error;
      }),
  };
}

if (isMain(import.meta.url)) runServerProgram(serverProgram());
// endregion program
