/**
 * MISTAKE: no linger deadline: a client that never closes its side keeps the connection for
 * ever.
 *
 * Every polite client (nc, curl, Python, the tests' own) closes its side once it has read the
 * line, so the server's socket closes and nothing looks wrong. But the server cannot count on
 * that: a client that keeps its side open, on purpose or because it hung, holds a socket and a
 * file descriptor on the server for as long as it likes, and enough of them exhaust the
 * server's descriptors. The test keeps its side open after reading the line, with lingerMs at
 * 200 ms, and waits for the server to cut it off.
 *
 * @caught-by step 1: say hello and close first › a client that keeps its side open is cut off after lingerMs
 */
import net from 'node:net';
import { describeError, isMain, peerAddress, runServerProgram } from '@course/program';
import {
  type HelloServerOptions,
  LINGER_MS,
  type Log,
  listenWithRetries,
  serverProgram,
} from '../solution/server.ts';

export * from '../solution/server.ts';

export function handleConnection(socket: net.Socket, log: Log, _lingerMs = LINGER_MS): void {
  // The mistake: lingerMs is never used; nothing cuts off a client that stays.
  const peer = peerAddress(socket);
  log(`client connected from ${peer}`);
  socket.end(`hello from port ${socket.localPort}\n`);
  socket.resume();
  socket.on('error', (error) => log(`client ${peer} failed: ${describeError(error)}`));
  socket.on('close', () => log(`client ${peer} closed`));
}

export function createHelloServer({
  log = () => {},
  lingerMs = LINGER_MS,
}: HelloServerOptions = {}): net.Server {
  return net.createServer((socket) => handleConnection(socket, log, lingerMs));
}

if (isMain(import.meta.url)) runServerProgram(serverProgram(listenWithRetries, createHelloServer));
