/**
 * MISTAKE: the server's socket has a 'message' listener and no 'error' listener.
 *
 * Nothing seems to be missing: on a quiet loopback a bound UDP server hardly ever sees an error,
 * and step 2's bind() catches the one it meets at the start (EADDRINUSE). But an 'error' event
 * that nobody listens for is thrown, and the whole server crashes with a stack trace, for every
 * client at once; with a listener it logs `socket error: ...` and goes on. The tests bind the
 * server's socket to a port another socket holds, without bind(), so the kernel's refusal
 * arrives as an 'error' event, and fail at once when no listener is there to log it.
 *
 * @caught-by step 1: create the socket › an 'error' on the socket is logged as `socket error: ...`, not thrown
 */
import dgram from 'node:dgram';
import { isMain, runUdpServerProgram, type UdpServerProgram } from '@course/program';
import { handleDatagram, type ServerOptions, program as solutionProgram } from '../solution/server.ts';

export * from '../solution/server.ts';

export function createUpperServer(options: ServerOptions = {}): dgram.Socket {
  const { log = () => {}, type = 'udp4', recvBufferSize } = options;
  const socket = dgram.createSocket({ type, recvBufferSize });
  socket.on('message', (datagram, sender) => handleDatagram(socket, datagram, sender, log));
  // The mistake: no socket.on('error', ...).
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
