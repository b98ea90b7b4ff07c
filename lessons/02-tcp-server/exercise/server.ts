/**
 * Lesson 02: a TCP server in seven steps.
 *
 * For each connection: read until the client half-closes, reply with the whole message in
 * upper case, close. Many clients are served at once; a client that vanishes or resets never
 * takes the server down, and neither does one that sends too much, or too slowly, or never reads
 * its reply, nor too many clients at once (--max-connections).
 *
 *   npx tsx lessons/02-tcp-server/exercise/server.ts --port 9000
 *   printf 'héllo 你好' | nc -N 127.0.0.1 9000          → HÉLLO 你好
 */
import net, { type AddressInfo } from 'node:net';
import {
  describeError,
  formatAddress,
  isMain,
  type ListenOptions,
  peerAddress,
  runServerProgram,
  type ServerProgram,
} from '@course/program';

/** Where the server writes its one line per client event (console.log in the program). */
export type Log = (line: string) => void;

export interface ServerOptions {
  log?: Log;
  /**
   * The longest request kept in memory, and the longest reply: a client whose request, or its
   * reply, would be longer gets `error: request longer than N bytes` (or `reply longer`) instead.
   * Default 1 MiB.
   */
  maxRequestBytes?: number;
  /**
   * The deadline of the whole exchange, in milliseconds: from the moment the connection is
   * accepted, the request must arrive and the reply be taken by the client within this time, or
   * the connection is reset. Default 10000. It is not an idle timer: bytes arriving do not
   * restart it, so a client that trickles one byte a second, or reads its reply that slowly,
   * cannot hold a connection for ever. At most MAX_TIMER_MS.
   */
  requestTimeoutMs?: number;
  /**
   * The most connections open at once. Past it, Node closes each new connection as soon as it
   * accepts it, before the handler runs, and the server logs it. Default: no limit, as in Node.
   * Each open connection may hold up to maxRequestBytes, so this also bounds the server's memory.
   */
  maxConnections?: number;
}

export const DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;

/** How long the whole exchange may take, from connecting to the reply taken: 10 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** No limit on open connections unless told otherwise, as in Node (README: choosing one). */
export const DEFAULT_MAX_CONNECTIONS = Number.POSITIVE_INFINITY;

// region step-1
/**
 * Step 1 (socket): the listening socket. Node accepts connections for us and calls the handler
 * with a new socket for each one; the listening socket itself never carries data. Step 4 adds
 * the limit on open connections (limitConnections(), below).
 */
export function createUpperServer(options: ServerOptions = {}): net.Server {
  const {
    log = () => {},
    maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES,
    requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
    maxConnections = DEFAULT_MAX_CONNECTIONS,
  } = options;
  // TODO(1): create the listening socket with net.createServer(), passing a function that Node
  // calls with each new connection's socket: hand that socket to handleConnection(socket, log,
  // maxRequestBytes, requestTimeoutMs). Then pass the server to limitConnections(server,
  // maxConnections, log), which does nothing until step 4, and return the server.
  throw new Error('TODO(1): create the server with net.createServer() — see README step 1');
}
// endregion step-1

// region steps-2-3
/**
 * Steps 2 (bind) and 3 (listen): claim host:port and start accepting. Resolves with the address
 * actually bound (the real port when `port` is 0); rejects with the error, EADDRINUSE say.
 */
export function listen(server: net.Server, { host, port, backlog }: ListenOptions): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    // region step-2
    // TODO(2): bind: server.listen({ host, port, backlog }) claims the address. It does not throw
    // when the port is taken: the server emits 'error' instead, so listen for it and reject.
    throw new Error('TODO(2): bind with server.listen({ host, port, backlog }) — see README step 2');
    // endregion step-2
    // region step-3
    // TODO(3): listen: once the server is listening (its 'listening' event), resolve with
    // server.address(), which holds the real port, and remove your 'error' listener.
    // endregion step-3
  });
}
// endregion steps-2-3

// region steps-4-7
// region step-4
/**
 * Step 4 (accept): Node has accepted the connection when it calls the handler. Logs it, and
 * returns the client's IP:PORT, which every later line about this connection names.
 */
function accepted(socket: net.Socket, log: Log): string {
  // TODO(4): accept: log `client connected from IP:PORT`; peerAddress(socket) gives IP:PORT.

  // Until this step is done, every client is told what is missing. Delete this line.
  socket.end('TODO(4): accept the connection in accepted() — see README step 4\n');
  return peerAddress(socket);
}

/**
 * Step 4 (accept), the limit on open connections. The kernel still completes every handshake
 * (the backlog is its queue of those); Node accepts each one, and past the limit closes it at
 * once and emits 'drop' instead of calling the handler. The client sees a close with no reply.
 */
function limitConnections(server: net.Server, maxConnections: number, log: Log): void {
  // TODO(4): limit the connections open at once: set server.maxConnections = maxConnections
  // (Node then closes every connection past it as soon as it accepts it), and log each one it
  // refuses from the server's 'drop' event, whose argument holds remoteAddress and remotePort:
  // `refused a connection from IP:PORT: N connections already open` (formatAddress(ip, port)).
}
// endregion step-4

/**
 * Steps 5 (receive), 6 (send) and 7 (close) for one connection. The request ends when the
 * client half-closes (FIN): TCP has no message boundaries, so 'end' is the only sure sign that
 * everything has arrived. Bytes are kept as bytes until then and decoded once, so a multi-byte
 * character cut between two chunks survives. The whole exchange, the request and then the
 * reply until the client has taken it, must be over within requestTimeoutMs of connecting.
 */
export function handleConnection(
  socket: net.Socket,
  log: Log,
  maxRequestBytes: number,
  requestTimeoutMs: number,
): void {
  const peer = accepted(socket, log);

  // region step-5
  // TODO(5): receive: keep every 'data' chunk (a Buffer) in an array until 'end'. Count the
  // bytes: once the total passes maxRequestBytes, refuse the request: log
  // `client IP:PORT refused: request longer than N bytes, closing`, drop the chunks, and answer
  // `error: request longer than N bytes` and a newline with socket.end(). Do not destroy the
  // socket: keep reading what the client still sends and drop it (closing a socket with unread
  // bytes makes the kernel reset the connection, and the reset can wipe out your error line).
  // endregion step-5

  // region step-6
  // TODO(6): send: on 'end', join the chunks (Buffer.concat), decode them once as UTF-8 and
  // upper-case the text. A reply of more than maxRequestBytes bytes (Buffer.byteLength) is
  // refused the same way (`reply longer than N bytes`): invalid UTF-8 comes back 3 times as long.
  // Otherwise reply with socket.end(reply): it writes the reply, then closes our side.
  // endregion step-6

  // region step-7
  // TODO(7): close: listen for 'error' (log `client IP:PORT failed: ...` with describeError)
  // so that a client's reset cannot crash the server, and for 'close' (log `client IP:PORT closed`).
  // Then the deadline: the whole exchange, the request and then the reply until the client has
  // taken it, must be over within requestTimeoutMs of the connection opening, that is of this
  // function running. Start a timer (setTimeout); if it fires, log `client IP:PORT too slow:
  // request not complete after N ms, closing` (`reply not read` once 'end' has come:
  // socket.readableEnded) and socket.resetAndDestroy(). Clear it (clearTimeout) on 'close' only:
  // after 'end' the reply may still wait for a client that does not read it. socket.setTimeout()
  // is not enough: it is an idle timer, and a client sending one byte a second restarts it.
  // endregion step-7
}
// endregion steps-4-7

// region program
/** The command line of server.ts (`--help` lists it). */
export const program: ServerProgram = {
  spec: {
    name: 'server.ts',
    summary: 'Answers each connection with its message in upper case, then closes it.',
    options: {
      'max-bytes': {
        type: 'string',
        value: 'N',
        description: `longest request, and longest reply, in bytes; longer ones get \`error: ...\` (default ${DEFAULT_MAX_REQUEST_BYTES})`,
      },
      timeout: {
        type: 'string',
        value: 'MS',
        description:
          `the whole exchange, from connecting until the client has taken the reply, must be over ` +
          `within MS milliseconds, or the connection is reset (default ${DEFAULT_REQUEST_TIMEOUT_MS})`,
      },
      'max-connections': {
        type: 'string',
        value: 'N',
        description: 'most connections open at once; more are closed at once (default: no limit)',
      },
    },
  },
  create: (cli) =>
    createUpperServer({
      log: console.log,
      maxRequestBytes: cli.integer('max-bytes', DEFAULT_MAX_REQUEST_BYTES, { min: 1 }),
      requestTimeoutMs: cli.milliseconds('timeout', DEFAULT_REQUEST_TIMEOUT_MS),
      maxConnections: cli.integer('max-connections', DEFAULT_MAX_CONNECTIONS, { min: 1 }),
    }),
  listen,
};

if (isMain(import.meta.url)) runServerProgram(program);
// endregion program
