/**
 * MISTAKE: takes an empty datagram for "nothing to answer".
 *
 * Every message anyone types gets its reply, and a 0-byte datagram looks like nothing. But with
 * UDP it is a message like any other (there is no connection for it to close): a client that
 * sent one waits for its 0-byte reply, and here it waits in vain, then sends again and gives up.
 * Python's recvfrom() returns b'' for it; nc cannot even send one. The tests send an empty
 * datagram and wait for an empty reply.
 *
 * @caught-by step 3: answer each datagram to its sender › an empty datagram gets an empty reply
 */
import dgram, { type RemoteInfo } from 'node:dgram';
import { describeError, isMain, runUdpServerProgram, type UdpServerProgram } from '@course/program';
import {
  handleDatagram as answer,
  type Log,
  type ServerOptions,
  program as solutionProgram,
} from '../solution/server.ts';

export * from '../solution/server.ts';

export function handleDatagram(socket: dgram.Socket, datagram: Buffer, sender: RemoteInfo, log: Log): void {
  if (datagram.length === 0) return; // the mistake: an empty datagram is a message too
  answer(socket, datagram, sender, log);
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
