/**
 * MISTAKE: answers every datagram with its upper case, however big that is.
 *
 * Every text a person types comes back right, so nothing looks wrong. But upper case can make a
 * text bigger: each byte that is not UTF-8 decodes to U+FFFD (3 bytes), and ΐ (2 bytes) becomes
 * Ϊ́ (6). And UDP's sender address is whatever the datagram says: forged, it points the reply at a
 * victim, who then receives 3 bytes for every byte the attacker sent (21,835 bytes of 0xff come
 * back as 65,505). The server is an amplifier. A reply is never bigger than its request: send
 * nothing, and log why. The tests send both kinds and check that no reply comes back.
 *
 * @caught-by step 3: answer each datagram to its sender › invalid UTF-8 is not answered
 * @caught-by step 3: answer each datagram to its sender › a capital that grows is not answered
 * @caught-by step 3: answer each datagram to its sender › one byte more is enough
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
  // The mistake: no comparison of the reply's size with the request's.
  const reply = Buffer.from(datagram.toString('utf8').toUpperCase(), 'utf8');
  socket.send(reply, sender.port, sender.address, (error) => {
    if (error) log(`reply to ${from} failed: ${describeError(error)}`);
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
