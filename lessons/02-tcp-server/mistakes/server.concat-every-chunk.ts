/**
 * MISTAKE: joins the buffers on every 'data' event (`received = Buffer.concat([received, chunk])`).
 *
 * Every reply is right, and on small requests it is as fast as anything. But each join copies
 * everything received so far: a request that arrives in n chunks costs about n²/2 chunk copies.
 * A 1 MiB request read in 64 KiB chunks copies 8.5 MiB instead of 1 MiB; the same request cut in
 * 1 KiB pieces by a slow network copies half a gigabyte. Keep the chunks in an array and join
 * them once, in 'end'. The test counts the bytes Buffer.concat() copies while a 512 KiB request
 * (eight chunks at least) is served: at most twice the request.
 *
 * @caught-by steps 5 and 6: receive the whole request, then reply › the chunks are joined once, in "end", not on every chunk
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
  let received = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    if (refused) return;
    size += chunk.length;
    if (size > maxRequestBytes) return refuse(`request longer than ${maxRequestBytes} bytes`);
    received = Buffer.concat([received, chunk]); // the mistake: a copy of everything, every chunk
  });
  socket.on('end', () => {
    replying = true;
    if (refused) return;
    const reply = received.toString('utf8').toUpperCase();
    received = Buffer.alloc(0);
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
