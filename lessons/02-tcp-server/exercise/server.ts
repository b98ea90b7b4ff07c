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
  // TODO(1): create the listening socket, not yet bound, and return it. Node accepts each
  // connection for you and calls a function you give it with that connection's own socket: let
  // handleConnection() (with log, maxRequestBytes and requestTimeoutMs) serve it. Pass the server
  // to limitConnections() too (it does nothing until step 4). Node docs: net.createServer;
  // README "One listening socket, one socket per connection", step 1.
  throw new Error('TODO(1): create the server in createUpperServer() — see README step 1');
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
    // TODO(2): bind: claim host:port with the given backlog (Node docs: server.listen(options)).
    // A taken port is no exception: the server reports it with an event, and the promise must
    // reject with that error. README: step 2.
    throw new Error('TODO(2): bind host:port in listen() — see README step 2');
    // endregion step-2
    // region step-3
    // TODO(3): listen: once the server accepts connections (which event says so?), resolve with
    // the address it really bound, the real port when port was 0 (server.address()). Your step 2
    // listener has done its job then: left in place, it would swallow the server's later errors.
    // README: step 3.
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
  // TODO(4): accept: log `client connected from IP:PORT` and return that IP:PORT, which every
  // later line about this client names (peerAddress() from @course/program). README: step 4.

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
  // TODO(4): never more than maxConnections open at once. Node enforces such a limit itself once
  // you set it on the server, and tells you about each connection it refuses with an event
  // (Node docs: server.maxConnections, and the server's 'drop' event). Log each one:
  // `refused a connection from IP:PORT: N connections already open` (`1 connection` for one),
  // the address from the event's argument, which may lack it if the client is already gone.
  // README "maxConnections: a limit your program enforces", step 4.
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
  // TODO(5): receive: the request is every byte until the client half-closes ('end'), however
  // the 'data' events cut it; keep it as bytes (a character can be cut in two) for step 6. Memory
  // stays bounded: once more than maxRequestBytes came, refuse the request: log
  // `client IP:PORT refused: request longer than N bytes, closing`, drop what you kept, answer
  // the line `error: request longer than N bytes` and close your side (step 6 refuses a reply
  // the same way: write it once, for both). Do not destroy the socket: read what still comes and
  // drop it, because closing with unread bytes makes the kernel reset the connection, and the
  // reset can wipe out your error line. README: step 5.
  // endregion step-5

  // region step-6
  // TODO(6): send: once the whole request is in (unless it was refused), decode it once as UTF-8
  // and answer it in upper case, then close your side so that the client knows the reply is
  // complete (one Writable call does both). The reply is bounded too, counted in bytes, not
  // characters: invalid UTF-8 comes back 3 times as long; past maxRequestBytes, refuse it as in
  // step 5 with the reason `reply longer than N bytes`. README: step 6.
  // endregion step-6

  // region step-7
  // TODO(7): close, whatever the client does. A client's reset must not crash the server: log
  // it as `client IP:PORT failed: ...` (describeError()), and log `client IP:PORT closed` when
  // the socket closes. Then the deadline: the whole exchange, the request and then the reply
  // until the client has taken it, is over within requestTimeoutMs of this function running, or
  // the server logs `client IP:PORT too slow: request not complete after N ms, closing`
  // (`reply not read` once the request has ended) and cuts the connection with a reset, not a
  // FIN. No timer may outlive its socket. socket.setTimeout() will not do: it is an idle timer,
  // and a client sending one byte a second restarts it. Node docs: socket.resetAndDestroy(),
  // socket.readableEnded; README: step 7.
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
