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
  // TODO(4): return the message's bytes (UTF-8 for a string). More than MAX_PAYLOAD bytes (bytes,
  // not characters: `é` is two) cannot go in one datagram: throw a RequestError with the code
  // 'EMSGSIZE' and the message `the message is ${n} bytes, more than the ${MAX_PAYLOAD} one UDP
  // datagram can carry (EMSGSIZE)`, n being the byte count. README "How big can a datagram be?",
  // step 4.
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
  // TODO(5): send one datagram to address:port and settle once the kernel has taken it or
  // refused it. send() reports that only to its callback (Node docs: socket.send), so wrap it in
  // a Promise. README: step 5.
  throw new Error('TODO(5): send one datagram in sendDatagram() — see README step 5');
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
      // TODO(6): the first try: recvfrom, then sendto. Be ready for the reply before you send,
      // and resolve with it decoded as UTF-8, but only if it comes from the server's address and
      // port (server.address, port): anyone can send a datagram to this socket. Then send
      // `bytes` with step 5, in a way step 7 can repeat; if the kernel refuses the datagram, the
      // request fails at once through failed(). README "One socket for everyone: rinfo", step 6.
      throw new Error('TODO(6): send the request and wait for the reply — see README step 6');
      // endregion step-6

      // region step-7
      // TODO(7): nothing tells you a datagram was lost, so a timer must: no reply within
      // timeoutMs of a send means send the same bytes again, 1 + retries attempts in all; then
      // reject with a RequestError with the code 'ETIMEDOUT' and the message `no reply from
      // ${where} after N attempts, ${timeoutMs} ms each (ETIMEDOUT)` (`1 attempt` for one). Keep
      // the current timer in `timer`: the finally block clears it. README "What UDP does not
      // promise", step 7.
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
