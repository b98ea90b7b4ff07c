/**
 * MISTAKE: the server replies with socket.send(reply, port, address) and no callback.
 *
 * Every reply to a real client arrives, so nothing looks wrong. But send() reports its failures
 * only to its callback: a reply the kernel refuses is lost without a trace, no log line, and the
 * client blames the network. A forged sender does it: a datagram "from" a broadcast address asks
 * the server to answer a whole network, and the kernel refuses (EACCES: the socket has no
 * SO_BROADCAST). The tests hand handleDatagram() such a sender and wait for the
 * `reply to ... failed` line.
 *
 * @caught-by step 3: answer each datagram to its sender › a reply the kernel refuses is logged
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
  const from = formatAddress(sender.address, sender.port);
  log(`datagram from ${from}: ${datagram.length} bytes`);
  const reply = Buffer.from(datagram.toString('utf8').toUpperCase(), 'utf8');
  if (reply.length > datagram.length) {
    log(`no reply to ${from}: it would be ${reply.length} bytes, more than the ${datagram.length} received`);
    return;
  }
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
    let log = (_line: string) => {}; // quiet until bound, as in the solution
    const socket = createUpperServer({ log: (line) => log(line), type, recvBufferSize: size || undefined });
    socket.once('listening', () => {
      log = console.log;
    });
    return socket;
  },
};

if (isMain(import.meta.url)) runUdpServerProgram(program);
