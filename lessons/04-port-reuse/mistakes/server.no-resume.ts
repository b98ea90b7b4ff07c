/**
 * MISTAKE: never reads what the client sends (no socket.resume()), since the server has no use
 * for it.
 *
 * Every client gets its line and the server's FIN, and a client that sends nothing closes as
 * before. But a client that sends a few bytes (`nc` with a line typed, curl's request, a port
 * scanner's probe) leaves them unread in the socket, and Node reports the client's FIN ('end')
 * only once everything before it has been read. So 'end' never comes, the connection stays open
 * on the server, and only the lingerMs timer (5 s) ends it: every talking client holds a socket
 * and a file descriptor for five seconds instead of a few milliseconds. The test has a client
 * send some bytes and half-close, with lingerMs at 60 s, and waits for `client ... closed`.
 *
 * @caught-by step 1: say hello and close first › a client that sends something and half-closes is read to its end
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
