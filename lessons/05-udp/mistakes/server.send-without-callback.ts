/**
 * MISTAKE: the server replies with socket.send(reply, port, address) and no callback.
 *
 * Every reply that fits in a datagram arrives, so nothing looks wrong. But send() reports its
 * failures only to its callback: upper case can make a text longer (ΐ is 2 bytes, its capital
 * 6), and a reply over 65,507 bytes is refused by the kernel (EMSGSIZE) and lost without a
 * trace: no log line, no reply, and the client blames the network. The tests send 40,000 bytes
 * of ΐ and wait for the `reply to ... failed` line.
 *
 * @caught-by step 3: answer each datagram to its sender › a reply too big for one datagram is logged
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

export function handleDatagram(socket: dgram.Socket, datagram: Buffer, sender: RemoteInfo, log: Log): void {
  log(`datagram from ${formatAddress(sender.address, sender.port)}: ${datagram.length} bytes`);
  const reply = Buffer.from(datagram.toString('utf8').toUpperCase(), 'utf8');
  socket.send(reply, sender.port, sender.address); // the mistake: no callback, no word of a failure
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
    return createUpperServer({ log: console.log, type, recvBufferSize: size || undefined });
  },
};

if (isMain(import.meta.url)) runUdpServerProgram(program);
