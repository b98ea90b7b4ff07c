/**
 * Lesson 05: UDP, the client side: a request that survives lost datagrams.
 *
 * Send MESSAGE in one datagram and print the server's reply. UDP may lose either, and says
 * nothing when it does, so the client waits a while and sends again, a few times, before it
 * gives up with a clear message.
 *
 *   npx tsx lessons/05-udp/exercise/client.ts --port 9000 'hello'
 */
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIPv6 } from 'node:net';
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
  /** An IPv4 or IPv6 address, or a name (resolved to IPv4). Default 127.0.0.1. */
  host?: string;
  port: number;
  /** Sent as UTF-8 when a string; at most MAX_PAYLOAD bytes. */
  message: string | Uint8Array;
  /** How long to wait for a reply before sending again. Default 1000 ms. */
  timeoutMs?: number;
  /** How many times to send again after the first try. Default 3 (4 datagrams at most). */
  retries?: number;
}

export const DEFAULT_TIMEOUT_MS = 1_000;
export const DEFAULT_RETRIES = 3;
/** The largest UDP payload over IPv4: 65535 (the IP packet's limit) − 20 (IP header) − 8 (UDP header). */
export const MAX_PAYLOAD = 65_507;

/** A request that failed, with a code: EMSGSIZE, ETIMEDOUT, ENOTFOUND... */
export class RequestError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'RequestError';
    this.code = code;
  }
}

/** The server's address as an IP, as the `rinfo` of its replies shows it. */
export interface ServerAddress {
  address: string;
  family: 4 | 6;
}

/**
 * The server's IP address: a name such as `localhost` is looked up once, so that the replies'
 * sender (always an IP) can be compared with it.
 */
export async function resolveServer(host: string): Promise<ServerAddress> {
  try {
    const { address, family } = await lookup(host, { family: isIPv6(host) ? 6 : 4 });
    return { address, family: family === 6 ? 6 : 4 };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    throw new RequestError(`cannot resolve ${host}: ${describeError(error)}`, code);
  }
}

// region step-4
/**
 * Step 4: one message, one datagram. Encode it as UTF-8 and refuse it, before anything is sent,
 * when it cannot fit in one datagram: UDP never splits a message across datagrams for you.
 */
export function encodeMessage(message: string | Uint8Array): Buffer {
  // TODO(4): encode the message as UTF-8 (Buffer.from(message)). If it is longer than MAX_PAYLOAD
  // bytes, throw new RequestError(`the message is ${n} bytes, more than the ${MAX_PAYLOAD} one UDP
  // datagram can carry (EMSGSIZE)`, 'EMSGSIZE'), with n the number of bytes. Else return the bytes.
  throw new Error('TODO(4): encode the message and refuse one that is too big — see README step 4');
}
// endregion step-4

// region step-5
/**
 * Step 5: sendto. Sends one datagram to address:port and resolves once the kernel has taken it,
 * or rejects with its error. Taken is all: nobody tells the sender whether it arrived.
 */
export function sendDatagram(
  socket: dgram.Socket,
  bytes: Uint8Array,
  port: number,
  address: string,
): Promise<void> {
  // TODO(5): return a Promise around socket.send(bytes, port, address, callback): the callback
  // gets an error or nothing; reject with the error, or resolve.
  throw new Error('TODO(5): send the datagram with socket.send(..., callback) — see README step 5');
}
// endregion step-5

// region steps-6-7
/**
 * Steps 6 and 7, the whole request: send `message` to the server and resolve with its reply,
 * decoded as UTF-8. If no reply comes within `timeoutMs`, send again, `retries` times at most;
 * then reject with ETIMEDOUT. Datagrams from anyone but the server are ignored, and a second copy
 * of the reply changes nothing. The socket is closed and the timer cleared in every case.
 */
export async function request(options: RequestOptions): Promise<string> {
  const {
    host = '127.0.0.1',
    port,
    message,
    timeoutMs = DEFAULT_TIMEOUT_MS,
    retries = DEFAULT_RETRIES,
  } = options;
  const bytes = encodeMessage(message); // step 4: refused before a socket even exists
  const where = formatAddress(host, port);
  const server = await resolveServer(host);
  // A new socket, so a new port, for each request: late replies to an earlier one never reach it.
  const socket = dgram.createSocket(server.family === 6 ? 'udp6' : 'udp4');
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<string>((resolve, reject) => {
      const failed = (error: unknown) => {
        const code = (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
        reject(new RequestError(`request to ${where} failed: ${describeError(error)}`, code));
      };
      socket.on('error', failed);

      // region step-6
      // TODO(6): the first try. Listen for 'message' (reply, sender) before you send, and resolve
      // with the reply decoded as UTF-8, but only when the sender is the server: its address and
      // its port (server.address, port). Ignore any other datagram. Then send `bytes` to the
      // server with sendDatagram(), in a function step 7 can call again, and pass a rejection to
      // failed(): the kernel may refuse the datagram, and the request must fail at once then.
      throw new Error('TODO(6): send the request and wait for the reply — see README step 6');
      // endregion step-6

      // region step-7
      // TODO(7): nothing tells you a datagram was lost, so a timer must: start one when you send
      // (timer = setTimeout(..., timeoutMs); the finally block clears it). When it fires with no
      // reply, send the same bytes again and start a new timer, until 1 + retries attempts were
      // made; then reject with new RequestError(`no reply from ${where} after N attempts,
      // ${timeoutMs} ms each (ETIMEDOUT)`, 'ETIMEDOUT'), saying `1 attempt`, `2 attempts`, ...
      // endregion step-7
    });
  } finally {
    // Whatever happened: no timer left to fire, no socket left open.
    clearTimeout(timer);
    socket.close();
  }
}
// endregion steps-6-7

// region program
/** The command line of client.ts; `send` is the request function to use (mistakes/ pass theirs). */
export function runClient(argv: string[], send: typeof request = request): void {
  const cli = parseCommandLine(
    {
      name: 'client.ts',
      summary: 'Sends MESSAGE in one UDP datagram and prints the reply, sending again if none comes.',
      options: {
        ...CLIENT_OPTIONS,
        timeout: {
          type: 'string',
          value: 'MS',
          description: `how long to wait for a reply before sending again (default ${DEFAULT_TIMEOUT_MS})`,
        },
        retries: {
          type: 'string',
          value: 'N',
          description: `how many times to send again after the first try (default ${DEFAULT_RETRIES})`,
        },
      },
      positionals: [{ name: 'MESSAGE', description: `the text to send (at most ${MAX_PAYLOAD} bytes)` }],
    },
    argv,
  );
  const { host, port } = serverAddressOf(cli);
  const message = cli.positionals[0] ?? '';
  try {
    encodeMessage(message);
  } catch (error) {
    fail(`client.ts: ${(error as Error).message}`, EXIT.usage); // too big: bad usage, nothing sent
  }
  send({
    host,
    port,
    message,
    timeoutMs: cli.milliseconds('timeout', DEFAULT_TIMEOUT_MS),
    retries: cli.integer('retries', DEFAULT_RETRIES, { min: 0, max: 100 }),
  }).then(
    (reply) => process.stdout.write(reply),
    (error: Error) => fail(error.message, EXIT.network),
  );
}

if (isMain(import.meta.url)) runClient(process.argv.slice(2));
// endregion program
