/**
 * MISTAKE: listens for each socket's 'error' but logs nothing.
 *
 * The listener is what keeps a client's reset from crashing the server, so every client is
 * still served and the server survives resets. But the log, one line per client event, now
 * shows a reset client as a plain `closed`: whoever runs the server cannot tell a client that
 * left politely from one that failed, or why. Log it, with describeError(error) for the words:
 * `client 127.0.0.1:48316 failed: connection reset by peer (ECONNRESET)`. The test resets a
 * client and waits for that line.
 *
 * @caught-by step 1: say hello and close first › a client that talks, vanishes or resets does not stop the server, and its error is logged
 */
import net from 'node:net';
import { isMain, peerAddress, runServerProgram } from '@course/program';
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
  socket.setTimeout(lingerMs, () => socket.destroy());
  socket.on('error', () => {}); // the mistake: the failure is swallowed
  socket.on('close', () => log(`client ${peer} closed`));
}

export function createHelloServer({
  log = () => {},
  lingerMs = LINGER_MS,
}: HelloServerOptions = {}): net.Server {
  return net.createServer((socket) => handleConnection(socket, log, lingerMs));
}

if (isMain(import.meta.url)) runServerProgram(serverProgram(listenWithRetries, createHelloServer));
