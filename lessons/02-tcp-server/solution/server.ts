/**
 * Lesson 02: a TCP server in seven steps.
 *
 * For each connection: read until the client half-closes, reply with the whole message in
 * upper case, close. Many clients are served at once; a client that vanishes or resets never
 * takes the server down, and neither does one that sends too much, or too slowly, or never reads
 * its reply, nor too many clients at once (--max-connections).
 *
 *   npx tsx lessons/02-tcp-server/solution/server.ts --port 9000
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
  const server = net.createServer((socket) =>
    handleConnection(socket, log, maxRequestBytes, requestTimeoutMs),
  );
  limitConnections(server, maxConnections, log);
  return server;
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
    // Bind: a taken port is not an exception but an 'error' event, so it rejects.
    server.once('error', reject);
    server.listen({ host, port, backlog });
    // endregion step-2
    // region step-3
    // Listen: once the server accepts connections, the 'error' listener has done its job (left
    // there, it would swallow every later error of the server), and the address is known.
    server.once('listening', () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
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
  const peer = peerAddress(socket);
  log(`client connected from ${peer}`);
  return peer;
}

/**
 * Step 4 (accept), the limit on open connections. The kernel still completes every handshake
 * (the backlog is its queue of those); Node accepts each one, and past the limit closes it at
 * once and emits 'drop' instead of calling the handler. The client sees a close with no reply.
 */
function limitConnections(server: net.Server, maxConnections: number, log: Log): void {
  server.maxConnections = maxConnections;
  server.on('drop', (dropped) => {
    // The client may already be gone (a reset), and then its address is unknown.
    const from = formatAddress(dropped?.remoteAddress ?? '?', dropped?.remotePort ?? 0);
    const open = `${maxConnections} connection${maxConnections === 1 ? '' : 's'} already open`;
    log(`refused a connection from ${from}: ${open}`);
  });
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
  // Step 5: memory stays bounded whatever a client sends. Past maxRequestBytes, the client gets
  // one line, `error: <reason>`, and our FIN. No upper-cased reply holds a lower-case letter,
  // so that line can never be taken for a reply. What the client still sends is read and
  // dropped: closing a socket with unread bytes makes the kernel send a reset, which can wipe
  // out the error line before the client reads it. Step 7's deadline bounds how long we read.
  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  const refuse = (reason: string) => {
    refused = true;
    chunks.length = 0; // nothing we hold for this client is needed any more
    log(`client ${peer} refused: ${reason}, closing`);
    socket.end(`error: ${reason}\n`);
  };
  socket.on('data', (chunk: Buffer) => {
    if (refused) return; // read and dropped
    size += chunk.length;
    if (size > maxRequestBytes) return refuse(`request longer than ${maxRequestBytes} bytes`);
    chunks.push(chunk);
  });
  // endregion step-5

  // region step-6
  // Step 6: the whole request is here. The reply is bounded too: invalid UTF-8 decodes to
  // U+FFFD (3 bytes for 1), and a few letters grow when upper-cased (ΐ, 2 bytes, gives 6).
  // Buffer.byteLength() counts its UTF-8 bytes without encoding it (end() does that, once).
  socket.on('end', () => {
    if (refused) return; // the error line is on its way
    const reply = Buffer.concat(chunks).toString('utf8').toUpperCase();
    chunks.length = 0;
    if (Buffer.byteLength(reply) > maxRequestBytes) {
      return refuse(`reply longer than ${maxRequestBytes} bytes`);
    }
    // end(data) writes the reply, then sends our FIN: the client reads until it sees it.
    socket.end(reply);
  });
  // endregion step-6

  // region step-7
  // Step 7: the deadline of the whole exchange, counted from now (this function runs, all at
  // once, as Node accepts the connection), and cleared only when the socket closes.
  // socket.setTimeout() would not do: it is an idle timer, every byte restarts it, and a client
  // sending one byte a second would hold this connection for ever. Nor does the client's FIN
  // stop it: a client that half-closes and never reads its reply would hold the reply in our
  // memory for ever. resetAndDestroy() ends with a reset (RST), not a FIN: the kernel drops what
  // it still held of the reply, and a client cut off mid-reply is told (`connection reset by
  // peer`) instead of taking half a reply for the whole one.
  const deadline = setTimeout(() => {
    // readableEnded: 'end' has come, the whole request is in, and the reply waits for the client.
    const late = socket.readableEnded ? 'reply not read' : 'request not complete';
    log(`client ${peer} too slow: ${late} after ${requestTimeoutMs} ms, closing`);
    socket.resetAndDestroy();
  }, requestTimeoutMs);

  // Without an 'error' listener, a client's reset (ECONNRESET) would crash the whole server.
  socket.on('error', (error) => log(`client ${peer} failed: ${describeError(error)}`));
  socket.on('close', () => {
    clearTimeout(deadline); // the exchange is over, however it ended: no timer outlives it
    log(`client ${peer} closed`);
  });
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
