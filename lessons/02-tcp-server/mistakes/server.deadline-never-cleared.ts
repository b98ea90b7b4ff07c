/**
 * MISTAKE: starts the exchange's deadline, but never clears it.
 *
 * It passes every quick try: a client is served at once, and a slowloris client is cut off on
 * time. But the timer outlives the connection. Ten seconds after a client was served and gone,
 * the real server logs `client 127.0.0.1:48316 too slow: reply not read after 10000 ms, closing`
 * about a reply that was read long ago, and resets a socket that is already closed. The log
 * lies, and every connection keeps a timer (and the socket it holds) alive for the whole
 * deadline. clearTimeout() it in 'close': it fires exactly once for every connection, however it
 * ends (served, refused, reset). The test serves one client, lets another reset, and then waits
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
    const open = `${maxConnections} connection${maxConnections === 1 ? '' : 's'} already open`;
    log(`refused a connection from ${from}: ${open}`);
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
  let replying = false;
  setTimeout(() => {
    const late = replying ? 'reply not read' : 'request not complete';
    log(`client ${peer} too slow: ${late} after ${requestTimeoutMs} ms, closing`);
    socket.resetAndDestroy();
  }, requestTimeoutMs);

  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  const refuse = (reason: string) => {
    refused = true;
    chunks.length = 0;
    log(`client ${peer} refused: ${reason}, closing`);
    socket.end(`error: ${reason}\n`);
  };
  socket.on('data', (chunk: Buffer) => {
    if (refused) return;
    size += chunk.length;
    if (size > maxRequestBytes) return refuse(`request longer than ${maxRequestBytes} bytes`);
    chunks.push(chunk);
  });
  socket.on('end', () => {
    replying = true;
    if (refused) return;
    const reply = Buffer.concat(chunks).toString('utf8').toUpperCase();
    chunks.length = 0;
    if (Buffer.byteLength(reply) > maxRequestBytes) {
      return refuse(`reply longer than ${maxRequestBytes} bytes`);
    }
    socket.end(reply);
  });
  socket.on('error', (error) => log(`client ${peer} failed: ${describeError(error)}`));
  socket.on('close', () => {
    // The mistake: nothing ever calls clearTimeout(deadline).
    log(`client ${peer} closed`);
  });
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
