/**
 * Lesson 02: a TCP server in seven steps.
 *
 * For each connection: read until the client half-closes, reply with the whole message in
 * upper case, close. Many clients are served at once; a client that vanishes or resets never
 * takes the server down.
 *
 *   npx tsx lessons/02-tcp-server/solution/server.ts --port 9000
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
  return net.createServer((socket) => handleConnection(socket, log, maxRequestBytes));
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
 * character cut between two chunks survives.
 */
export function handleConnection(socket: net.Socket, log: Log, maxRequestBytes: number): void {
  const peer = peerAddress(socket);
  log(`client connected from ${peer}`);

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
    const request = Buffer.concat(chunks).toString('utf8');
    // end(data) writes the reply, then sends our FIN: the client reads until it sees it.
    socket.end(request.toUpperCase());
  });

  // Without an 'error' listener, a client's reset (ECONNRESET) would crash the whole server.
  socket.on('error', (error) => log(`client ${peer} failed: ${describeError(error)}`));
  socket.on('close', () => log(`client ${peer} closed`));
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
