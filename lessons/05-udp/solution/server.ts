/**
 * Lesson 05: UDP, the server side: recvfrom and sendto.
 *
 * One socket, no connections: every datagram arrives whole, with its sender's address and port
 * (rinfo), and is answered to that sender with the payload in upper case.
 *
 *   npx tsx lessons/05-udp/solution/server.ts --port 9000
 *   printf 'héllo 你好' | nc -u -W1 127.0.0.1 9000          → HÉLLO 你好
 */
import dgram, { type RemoteInfo } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import {
  type BindOptions,
  describeError,
  formatAddress,
  isMain,
  runUdpServerProgram,
  turnLog,
  type UdpServerProgram,
} from '@course/program';

/** Where the server writes its one line per event (turnLog() in the program). */
export type Log = (line: string) => void;

export interface ServerOptions {
  log?: Log;
  /** `udp4` (default) for an IPv4 address, `udp6` for IPv6: a UDP socket has one family. */
  type?: 'udp4' | 'udp6';
  /**
   * The kernel's receive buffer for this socket, in bytes (SO_RCVBUF; Linux doubles it for its
   * own bookkeeping). Datagrams that arrive while it is full are dropped. Default: the system's.
   */
  recvBufferSize?: number;
}

// region step-1
/**
 * Step 1: the socket. One UDP socket serves every client: there is no listening socket and no
 * socket per connection, because there are no connections. Each 'message' event is one whole
 * datagram and who sent it.
 */
export function createUpperServer(options: ServerOptions = {}): dgram.Socket {
  const { log = () => {}, type = 'udp4', recvBufferSize } = options;
  const socket = dgram.createSocket({ type, recvBufferSize });
  socket.on('message', (datagram, sender) => handleDatagram(socket, datagram, sender, log));
  // Without a listener, an 'error' event would crash the process.
  socket.on('error', (error) => log(`socket error: ${describeError(error)}`));
  return socket;
}
// endregion step-1

// region step-2
/**
 * Step 2: bind. Claim host:port; from then on the kernel queues every datagram sent there, and
 * Node emits 'message' for each. UDP has no listen() and no accept(). Resolves with the address
 * actually bound (the real port when `port` is 0); rejects with the error, EADDRINUSE say.
 */
export function bind(socket: dgram.Socket, { host, port }: BindOptions): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    // A failed bind is an 'error' event, not an exception, and the callback is never called.
    socket.once('error', reject);
    socket.bind({ address: host, port }, () => {
      socket.off('error', reject);
      resolve(socket.address());
    });
  });
}
// endregion step-2

// region step-3
/**
 * Step 3: recvfrom, then sendto. `datagram` is exactly what one send() put on the wire, never
 * part of one and never two glued together, so it can be decoded at once. The reply goes to
 * `sender`: the address and port that datagram came from. It is never bigger than the datagram:
 * when upper case would make it bigger, there is no reply, only a log line.
 */
export function handleDatagram(socket: dgram.Socket, datagram: Buffer, sender: RemoteInfo, log: Log): void {
  const from = formatAddress(sender.address, sender.port);
  log(`datagram from ${from}: ${datagram.length} bytes`);
  const reply = Buffer.from(datagram.toString('utf8').toUpperCase(), 'utf8');
  // Never answer with more bytes than came in: the sender's address may be forged, and the reply
  // would then hit someone else, bigger than what the attacker paid. Upper case can grow a text:
  // each byte that is not UTF-8 decodes to U+FFFD (3 bytes), and ΐ (2 bytes) becomes Ϊ́ (6).
  if (reply.length > datagram.length) {
    log(`no reply to ${from}: it would be ${reply.length} bytes, more than the ${datagram.length} received`);
    return;
  }
  // Always a callback: without one, a failed send (EACCES, say) is lost without a trace.
  socket.send(reply, sender.port, sender.address, (error) => {
    if (error) log(`reply to ${from} failed: ${describeError(error)}`);
  });
}
// endregion step-3

// region program
/** The command line of server.ts (`--help` lists it). */
export const program: UdpServerProgram = {
  spec: {
    name: 'server.ts',
    summary: 'Answers every datagram, to its sender, with the payload in upper case.',
    options: {
      'recv-buffer': {
        type: 'string',
        value: 'BYTES',
        description: "the socket's receive buffer (default: the system's)",
      },
    },
  },
  create: (cli, type) => {
    const size = cli.integer('recv-buffer', 0, { min: 1, max: 2 ** 31 - 1 });
    // Quiet until bound: until then the only error is the bind's, which bind() rejects with and
    // the program prints once (`cannot listen on ...`), not a second time as `socket error: ...`.
    let log: Log = () => {};
    const socket = createUpperServer({ log: (line) => log(line), type, recvBufferSize: size || undefined });
    // One write per turn of the event loop, not one per datagram: see turnLog().
    socket.once('listening', () => {
      log = turnLog();
    });
    return socket;
  },
  bind,
};

if (isMain(import.meta.url)) runUdpServerProgram(program);
// endregion program
