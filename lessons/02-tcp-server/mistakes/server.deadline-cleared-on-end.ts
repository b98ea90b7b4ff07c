/**
 * MISTAKE: clears the deadline when the request is complete ('end'), as if the exchange were over.
 *
 * Every polite client is served, and a slowloris is still cut off: the request has a deadline.
 * But the client's FIN only ends the request. The reply then waits in the server's memory until
 * the client reads it, and a client that half-closes and never reads holds it for ever: the
 * socket stays open (CLOSE-WAIT) and the reply queued. A security review sent 100 such clients
 * 1 MiB of 0xff each (3 MiB of U+FFFD each in reply) and took the server from 78 to 497 MB, held
 * past 40 s. Clear the timer in 'close' only, so the deadline covers the whole exchange. The
 * test sends 8 MiB, half-closes and reads nothing: the server must give up at the deadline.
 *
 * @caught-by step 7: close, whatever the client does › a client that half-closes and never reads its reply is reset at the deadline
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
  const deadline = setTimeout(() => {
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
    clearTimeout(deadline); // the mistake: the reply is not sent yet, only queued
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
    clearTimeout(deadline);
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
