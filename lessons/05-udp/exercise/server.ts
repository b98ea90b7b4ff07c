/**
 * Lesson 05: UDP, the server side: recvfrom and sendto.
 *
 * One socket, no connections: every datagram arrives whole, with its sender's address and port
 * (rinfo), and is answered to that sender with the payload in upper case.
 *
 *   npx tsx lessons/05-udp/exercise/server.ts --port 9000
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
  // TODO(1): create a UDP socket of the given type and receive buffer size, and return it, not
  // yet bound (Node docs: dgram.createSocket). Each datagram that arrives, and who sent it
  // (rinfo), goes to handleDatagram() (which event brings them?). A socket error must be logged
  // as `socket error: ...` (describeError()), never crash the process. README "One socket for
  // everyone: rinfo", step 1.
  throw new Error('TODO(1): create the UDP socket in createUpperServer() — see README step 1');
}
// endregion step-1

// region step-2
/**
 * Step 2: bind. Claim host:port; from then on the kernel queues every datagram sent there, and
 * Node emits 'message' for each. UDP has no listen() and no accept(). Resolves with the address
 * actually bound (the real port when `port` is 0); rejects with the error, EADDRINUSE say.
 */
export function bind(socket: dgram.Socket, { host, port }: BindOptions): Promise<AddressInfo> {
  // TODO(2): claim host:port (Node docs: socket.bind) and resolve with the address really bound,
  // the real port when port was 0. A taken port is not thrown: the socket reports it with an
  // event, and then never calls bind's callback, so reject on that event, and remove your
  // listener once bound. README: step 2.
  throw new Error('TODO(2): bind host:port in bind() — see README step 2');
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
  // TODO(3): log `datagram from IP:PORT: N bytes` (formatAddress()), then answer the sender (its
  // address and port are in `sender`) with the datagram's text in upper case. Never answer with
  // more bytes than came in (README step 3: amplification): count bytes, not characters, and if
  // the reply would be bigger send nothing and log `no reply to IP:PORT: it would be M bytes,
  // more than the N received`. A failed send is reported only to a callback (Node docs:
  // socket.send): log it as `reply to IP:PORT failed: ...` (describeError()).

  // Until then, every sender is told what is missing. Delete this line.
  socket.send(
    'TODO(3): answer the datagram in handleDatagram() — see README step 3\n',
    sender.port,
    sender.address,
    () => {},
  );
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
