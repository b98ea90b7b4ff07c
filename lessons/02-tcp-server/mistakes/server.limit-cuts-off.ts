/**
 * MISTAKE: cuts a client off without a word when its request passes the limit (socket.destroy()).
 *
 * The server's memory is safe: past maxRequestBytes nothing more is kept. But the client is
 * left guessing. It sees the connection close, or a reset in the middle of its write, with no
 * reply: was the server down, the network broken, the request wrong? One line in the protocol's
 * words, `error: request longer than 1048576 bytes`, says what happened and what to change. And
 * closing a socket that still has unread bytes makes the kernel send a reset, which can wipe out
 * that line before the client reads it: after the refusal, keep reading and drop what arrives
 * (the deadline bounds how long). The test sends 5000 bytes to a server that takes 1000.
 *
 * @caught-by step 5: receive until the client half-closes › a request longer than maxRequestBytes gets `error: request longer than N bytes`
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
    size += chunk.length;
    if (size > maxRequestBytes) {
      // the mistake: cut off without a word
      log(`client ${peer} sent more than ${maxRequestBytes} bytes: closing`);
      return void socket.destroy();
    }
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
