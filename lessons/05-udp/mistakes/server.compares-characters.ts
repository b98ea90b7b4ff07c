/**
 * MISTAKE: compares the reply with the request in characters, not in bytes.
 *
 * ΐ upper-cases to three characters, so ΐ is refused, and the check looks right. But the limit
 * is about what goes on the wire, and characters are not bytes: a byte that is not UTF-8
 * decodes to one character, U+FFFD, and that one character is 3 bytes. 21,835 bytes of 0xff
 * are 21,835 characters before and after upper case, so they pass the check and come back as
 * 65,505 bytes, to whatever sender the datagram names. And the other way round, straße (6
 * characters) upper-cases to STRASSE (7), so it is refused, though both are 7 bytes. Compare
 * Buffer lengths. The tests send bytes that are not UTF-8 and check that no reply comes back,
 * and send straße and wait for STRASSE.
 *
 * @caught-by step 3: answer each datagram to its sender › invalid UTF-8 is not answered
 * @caught-by step 3: answer each datagram to its sender › a reply as long as its request, or shorter, is sent
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
  const text = datagram.toString('utf8');
  const upper = text.toUpperCase();
  // The mistake: .length of a string counts UTF-16 code units, not the bytes sent.
  if (upper.length > text.length) {
    log(`no reply to ${from}: it would be ${upper.length} characters, more than the ${text.length} received`);
    return;
  }
  const reply = Buffer.from(upper, 'utf8');
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
