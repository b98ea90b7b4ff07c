/**
 * MISTAKE: checks the request limit with `>=` instead of `>`.
 *
 * maxRequestBytes is the most a request may hold (1 MiB by default, `--max-bytes`), and a client
 * sending far more is refused either way, so every quick try looks right. But a request of
 * exactly maxRequestBytes bytes, which is allowed, is refused too: `size >= maxRequestBytes`
 * refuses the limit itself. The README says "when the total passes maxRequestBytes". The test
 * sends exactly 1000 bytes to a server built with maxRequestBytes: 1000 and expects its reply.
 *
 * @caught-by steps 5 and 6: receive the whole request, then reply › a request of exactly maxRequestBytes is served
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
    // the mistake: the limit itself is refused
    if (size >= maxRequestBytes) return refuse(`request longer than ${maxRequestBytes} bytes`);
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
