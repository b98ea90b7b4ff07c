/**
 * MISTAKE: remembers the first client, the way a TCP server holds a connection, and answers
 * every datagram to it.
 *
 * With one client, as in a first try with nc, every reply arrives. But a UDP server has one
 * socket for everyone and no connections: each datagram carries its own sender (rinfo), and the
 * reply must go there. Here a second client's reply goes to the first one, or to nobody once
 * that one is gone. The tests send from two clients one after the other, and from ten at once.
 *
 * @caught-by step 3: answer each datagram to its sender › two clients, one after the other: each reply goes to its own sender
 * @caught-by step 3: answer each datagram to its sender › ten clients through a proxy
 */
import dgram, { type RemoteInfo } from 'node:dgram';
import {
  describeError,
  formatAddress,
  isMain,
  runUdpServerProgram,
  type UdpServerProgram,
} from '@course/program';
import { type Log, type ServerOptions, program as solutionProgram } from '../solution/server.ts';

export * from '../solution/server.ts';

/** The mistake: a "current client", set by the first datagram and never changed. */
let client: RemoteInfo | undefined;

export function handleDatagram(socket: dgram.Socket, datagram: Buffer, sender: RemoteInfo, log: Log): void {
  client ??= sender;
  const to = formatAddress(client.address, client.port);
  log(`datagram from ${formatAddress(sender.address, sender.port)}: ${datagram.length} bytes`);
  const reply = Buffer.from(datagram.toString('utf8').toUpperCase(), 'utf8');
  if (reply.length > datagram.length) {
    log(`no reply to ${to}: it would be ${reply.length} bytes, more than the ${datagram.length} received`);
    return;
  }
  socket.send(reply, client.port, client.address, (error) => {
    if (error) log(`reply to ${to} failed: ${describeError(error)}`);
  });
}

/** The solution's createUpperServer(), calling this file's handleDatagram. */
export function createUpperServer(options: ServerOptions = {}): dgram.Socket {
  const { log = () => {}, type = 'udp4', recvBufferSize } = options;
  const socket = dgram.createSocket({ type, recvBufferSize });
  socket.on('message', (datagram, sender) => handleDatagram(socket, datagram, sender, log));
  socket.on('error', (error) => log(`socket error: ${describeError(error)}`));
  return socket;
}

/** The solution's program, with this file's server. */
export const program: UdpServerProgram = {
  ...solutionProgram,
  create: (cli, type) => {
    const size = cli.integer('recv-buffer', 0, { min: 1, max: 2 ** 31 - 1 });
    let log = (_line: string) => {}; // quiet until bound, as in the solution
    const socket = createUpperServer({ log: (line) => log(line), type, recvBufferSize: size || undefined });
    socket.once('listening', () => {
      log = console.log;
    });
    return socket;
  },
};

if (isMain(import.meta.url)) runUdpServerProgram(program);
