/**
 * Lesson 02: a TCP server in seven steps.
 *
 * For each connection: read until the client half-closes, reply with the whole message in
 * upper case, close. Many clients are served at once; a client that vanishes or resets never
 * takes the server down, and neither does one that sends too much or too slowly, nor too many
 * clients at once (--max-connections).
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
  /** The longest request kept in memory; a client sending more is cut off. Default 1 MiB. */
  maxRequestBytes?: number;
  /**
   * The deadline of the whole request, in milliseconds: from the moment the connection is
   * accepted, the client's FIN must arrive within this time, or the connection is closed.
   * Default 10000. It is not an idle timer: bytes arriving do not restart it, so a client that
   * trickles one byte a second cannot hold a connection for ever. At most MAX_TIMER_MS.
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

/** How long the whole request may take, from connecting to the client's FIN: 10 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** No limit on open connections unless told otherwise, as in Node (README: choosing one). */
export const DEFAULT_MAX_CONNECTIONS = Number.POSITIVE_INFINITY;

// region step-1
/**
 * Step 1 (socket) and step 4 (accept): the listening socket. Node accepts connections for us
 * and calls the handler with a new socket for each one; the listening socket itself never
 * carries data.
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
  // Step 4: a limit on open connections. The kernel still completes every handshake (the
  // backlog is its queue of those); Node accepts each one, and past the limit closes it at once
  // and emits 'drop' instead of calling the handler. The client sees a close with no reply.
  server.maxConnections = maxConnections;
  server.on('drop', (dropped) => {
    // The client may already be gone (a reset), and then its address is unknown.
    const from = formatAddress(dropped?.remoteAddress ?? '?', dropped?.remotePort ?? 0);
    const open = `${maxConnections} connection${maxConnections === 1 ? '' : 's'} already open`;
    log(`refused a connection from ${from}: ${open}`);
  });
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
    server.once('error', reject);
    server.listen({ host, port, backlog }, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
// endregion steps-2-3

// region steps-4-7
/**
 * Steps 5 (receive), 6 (send) and 7 (close) for one connection. The request ends when the
 * client half-closes (FIN): TCP has no message boundaries, so 'end' is the only sure sign that
 * everything has arrived. Bytes are kept as bytes until then and decoded once, so a multi-byte
 * character cut between two chunks survives. The whole request must arrive within
 * requestTimeoutMs of the connection opening.
 */
export function handleConnection(
  socket: net.Socket,
  log: Log,
  maxRequestBytes: number,
  requestTimeoutMs: number,
): void {
  const peer = peerAddress(socket);
  log(`client connected from ${peer}`);

  // Step 7: the request's deadline, counted from now. socket.setTimeout() would not do: it is
  // an idle timer, every byte restarts it, and a client sending one byte a second would hold
  // this connection (and its chunks) for ever. Only the complete request ('end') stops this
  // one. The protocol has no error reply, so a late client is simply cut off.
  const deadline = setTimeout(() => {
    log(`client ${peer} too slow: request not complete after ${requestTimeoutMs} ms, closing`);
    socket.destroy();
  }, requestTimeoutMs);

  const chunks: Buffer[] = [];
  let size = 0;
  socket.on('data', (chunk: Buffer) => {
    size += chunk.length;
    // Memory stays bounded whatever a client sends: past the limit, cut it off.
    if (size > maxRequestBytes) {
      log(`client ${peer} sent more than ${maxRequestBytes} bytes: closing`);
      return void socket.destroy();
    }
    chunks.push(chunk);
  });
  socket.on('end', () => {
    clearTimeout(deadline); // the whole request is here, in time
    const request = Buffer.concat(chunks).toString('utf8');
    // end(data) writes the reply, then sends our FIN: the client reads until it sees it.
    socket.end(request.toUpperCase());
  });

  // Without an 'error' listener, a client's reset (ECONNRESET) would crash the whole server.
  socket.on('error', (error) => log(`client ${peer} failed: ${describeError(error)}`));
  socket.on('close', () => {
    clearTimeout(deadline); // no timer outlives its socket (after a reset, say)
    log(`client ${peer} closed`);
  });
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
        description: `longest request accepted (default ${DEFAULT_MAX_REQUEST_BYTES})`,
      },
      timeout: {
        type: 'string',
        value: 'MS',
        description:
          `the whole request, from connecting to the client's half-close, must arrive within MS ` +
          `milliseconds, or the connection is closed (default ${DEFAULT_REQUEST_TIMEOUT_MS})`,
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
