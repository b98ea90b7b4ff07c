/**
 * Lesson 02: a TCP server in seven steps.
 *
 * For each connection: read until the client half-closes, reply with the whole message in
 * upper case, close. Many clients are served at once; a client that vanishes or resets never
 * takes the server down.
 *
 *   npx tsx lessons/02-tcp-server/exercise/server.ts --port 9000
 *   printf 'héllo 你好' | nc -N 127.0.0.1 9000          → HÉLLO 你好
 */
import net, { type AddressInfo } from 'node:net';
import {
  describeError,
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
}

export const DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;

// region step-1
/**
 * Step 1 (socket) and step 4 (accept): the listening socket. Node accepts connections for us
 * and calls the handler with a new socket for each one; the listening socket itself never
 * carries data.
 */
export function createUpperServer(options: ServerOptions = {}): net.Server {
  const { log = () => {}, maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES } = options;
  // TODO(1): create the listening socket with net.createServer(), passing a function that Node
  // calls with each new connection's socket: hand that socket to handleConnection(socket, log,
  // maxRequestBytes). Return the server.
  throw new Error('TODO(1): create the server with net.createServer() — see README step 1');
}
// endregion step-1

// region steps-2-3
/**
 * Steps 2 (bind) and 3 (listen): claim host:port and start accepting. Resolves with the address
 * actually bound (the real port when `port` is 0); rejects with the error, EADDRINUSE say.
 */
export function listen(server: net.Server, { host, port, backlog }: ListenOptions): Promise<AddressInfo> {
  // TODO(2): bind: server.listen({ host, port, backlog }) claims the address. It does not throw
  // when the port is taken: the server emits 'error' instead, so listen for it and reject.
  // TODO(3): listen: once the server is listening (the callback of server.listen, or its
  // 'listening' event), resolve with server.address(), which holds the real port.
  throw new Error(
    'TODO(2): bind and listen with server.listen({ host, port, backlog }) — see README steps 2 and 3',
  );
}
// endregion steps-2-3

// region steps-4-7
/**
 * Steps 5 (receive), 6 (send) and 7 (close) for one connection. The request ends when the
 * client half-closes (FIN): TCP has no message boundaries, so 'end' is the only sure sign that
 * everything has arrived. Bytes are kept as bytes until then and decoded once, so a multi-byte
 * character cut between two chunks survives.
 */
export function handleConnection(socket: net.Socket, log: Log, maxRequestBytes: number): void {
  // TODO(4): accept: log `client connected from IP:PORT`; peerAddress(socket) gives IP:PORT.

  // TODO(5): receive: keep every 'data' chunk (a Buffer) in an array until 'end'. Count the
  // bytes: past maxRequestBytes, log it and socket.destroy() the connection.

  // TODO(6): send: on 'end', join the chunks (Buffer.concat), decode them once as UTF-8,
  // and reply with socket.end(text.toUpperCase()): it writes the reply, then closes our side.

  // TODO(7): close: listen for 'error' (log `client IP:PORT failed: ...` with describeError)
  // so that a client's reset cannot crash the server, and for 'close' (log `client IP:PORT closed`).

  // Until the steps above are done, every client is told what is missing. Delete this line.
  socket.end('TODO(4): handle the connection in handleConnection() — see README step 4\n');
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
    },
  },
  create: (cli) =>
    createUpperServer({
      log: console.log,
      maxRequestBytes: cli.integer('max-bytes', DEFAULT_MAX_REQUEST_BYTES, { min: 1 }),
    }),
  listen,
};

if (isMain(import.meta.url)) runServerProgram(program);
// endregion program
