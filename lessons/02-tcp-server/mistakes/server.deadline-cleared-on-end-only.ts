/**
 * MISTAKE: clears the request's deadline in 'end' only, not in 'close'.
 *
 * Every client that finishes its request is fine: 'end' clears the timer before the reply. But
 * a connection can end without 'end': a client that resets (ECONNRESET), one that the server
 * cuts off for sending too much. Their timer lives on, and when it fires the real server logs
 * `client 127.0.0.1:48316 too slow: request not complete after 10000 ms, closing` about a client
 * whose `failed` and `closed` lines are long past. Clear it in 'close' too: it fires exactly once
 * for every connection, however it ends. The test lets a client reset before sending anything,
 * then waits for a later client's deadline: by then the reset one must never have been called
 * too slow.
 *
 * @caught-by step 7: close, whatever the client does › a client served in time, or gone, is never called too slow afterwards
 */
import net from 'node:net';
import { describeError, formatAddress, isMain, peerAddress, runServerProgram } from '@course/program';
import {
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_REQUEST_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type Log,
  program,
  type ServerOptions,
} from '../solution/server.ts';

export * from '../solution/server.ts';

export function createUpperServer(options: ServerOptions = {}): net.Server {
  const {
    log = () => {},
    maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES,
    requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
    maxConnections = DEFAULT_MAX_CONNECTIONS,
  } = options;
  const server = net.createServer((socket) =>
    handleConnection(socket, log, maxRequestBytes, requestTimeoutMs),
  );
  server.maxConnections = maxConnections;
  server.on('drop', (dropped) => {
    const from = formatAddress(dropped?.remoteAddress ?? '?', dropped?.remotePort ?? 0);
    log(`refused a connection from ${from}: ${maxConnections} connections already open`);
  });
  return server;
}

export function handleConnection(
  socket: net.Socket,
  log: Log,
  maxRequestBytes: number,
  requestTimeoutMs: number,
): void {
  const peer = peerAddress(socket);
  log(`client connected from ${peer}`);
  const deadline = setTimeout(() => {
    log(`client ${peer} too slow: request not complete after ${requestTimeoutMs} ms, closing`);
    socket.destroy();
  }, requestTimeoutMs);

  const chunks: Buffer[] = [];
  let size = 0;
  socket.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > maxRequestBytes) {
      log(`client ${peer} sent more than ${maxRequestBytes} bytes: closing`);
      return void socket.destroy();
    }
    chunks.push(chunk);
  });
  socket.on('end', () => {
    clearTimeout(deadline);
    socket.end(Buffer.concat(chunks).toString('utf8').toUpperCase());
  });
  socket.on('error', (error) => log(`client ${peer} failed: ${describeError(error)}`));
  socket.on('close', () => log(`client ${peer} closed`)); // the mistake: no clearTimeout here
}

if (isMain(import.meta.url))
  runServerProgram({
    ...program,
    create: (cli) =>
      createUpperServer({
        log: console.log,
        maxRequestBytes: cli.integer('max-bytes', DEFAULT_MAX_REQUEST_BYTES, { min: 1 }),
        requestTimeoutMs: cli.milliseconds('timeout', DEFAULT_REQUEST_TIMEOUT_MS),
        maxConnections: cli.integer('max-connections', DEFAULT_MAX_CONNECTIONS, { min: 1 }),
      }),
  });
