/**
 * MISTAKE: bind() listens for 'error' to reject, and leaves that listener on the socket once bound.
 *
 * Binding works, EADDRINUSE still rejects, and a settled promise ignores a second reject. But
 * the stale listener stays for the socket's whole life: every later error is handed to a reject
 * that does nothing, and it counts as a listener, so a server with no 'error' listener of its
 * own would no longer crash, nor log: its errors would vanish. Remove it in the bind callback.
 * The tests bind a socket and count its 'error' listeners.
 *
 * @caught-by step 2: bind › bind() leaves no 'error' listener of its own once bound
 */
import type dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { type BindOptions, isMain, runUdpServerProgram, type UdpServerProgram } from '@course/program';
import { program as solutionProgram } from '../solution/server.ts';

export * from '../solution/server.ts';

export function bind(socket: dgram.Socket, { host, port }: BindOptions): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    // The mistake: the callback never removes the 'error' listener above.
    socket.bind({ address: host, port }, () => resolve(socket.address()));
  });
}

export const program: UdpServerProgram = { ...solutionProgram, bind };

if (isMain(import.meta.url)) runUdpServerProgram(program);
