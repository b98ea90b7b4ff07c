/**
 * MISTAKE: the linger is socket.setTimeout(lingerMs, ...), an idle timer: a client that keeps
 * sending, and never closes, keeps the connection for ever.
 *
 * It looks right, and it passes every test with a client that goes quiet: socket.setTimeout()
 * fires after lingerMs of silence. But every byte the client sends restarts it, so a client that
 * sends a byte now and then (a slowloris, lesson 02) is never cut off. The test trickles a byte
 * every 20 ms for 5 s, with lingerMs at 1 s, and waits for the server to cut it off.
 *
 * @caught-by step 1: say hello and close first › a client that keeps sending, and never closes, is cut off after lingerMs all the same
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

export function handleConnection(socket: net.Socket, log: Log, lingerMs = LINGER_MS): void {
  const peer = peerAddress(socket);
  log(`client connected from ${peer}`);
  socket.end(`hello from port ${socket.localPort}\n`);
  socket.resume();
  // The mistake: an idle timer, restarted by every byte the client sends.
  socket.setTimeout(lingerMs, () => socket.destroy());
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
