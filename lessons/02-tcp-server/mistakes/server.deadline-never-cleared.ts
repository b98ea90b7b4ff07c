/**
 * MISTAKE: starts the request's deadline, but never clears it.
 *
 * It passes every quick try: a client is served at once, and a slowloris client is cut off on
 * time. But the timer outlives the request. Ten seconds after a client was served and gone,
 * the real server logs `client 127.0.0.1:48316 too slow: request not complete after 10000 ms,
 * closing` for a request that was complete long ago, and calls destroy() on a socket that is
 * already closed. The log lies, and every connection keeps a timer (and the socket it holds)
 * alive for the whole deadline. clearTimeout() it in 'end' (the request is complete) and in
 * 'close' (after a reset, say). The test serves one client, lets another reset, and then waits
 * for a third, later client's deadline: by then the first two must never have been called too
 * slow.
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
  // The mistake: nothing ever calls clearTimeout(deadline).
  setTimeout(() => {
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
  socket.on('end', () => socket.end(Buffer.concat(chunks).toString('utf8').toUpperCase()));
  socket.on('error', (error) => log(`client ${peer} failed: ${describeError(error)}`));
  socket.on('close', () => log(`client ${peer} closed`));
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
