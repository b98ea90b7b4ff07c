/**
 * MISTAKE: bounds a slow client with socket.setTimeout(), an idle timer, instead of a deadline.
 *
 * It seems to work. Connect with `nc` and type nothing, or type a little and stop: after
 * `--timeout` ms of silence the server logs `too slow` and closes the connection, exactly as
 * intended, and a test with a client that connects and then says nothing would pass. But the
 * timer only measures silence: every byte that arrives restarts it. A client that sends one
 * byte a second (slowloris) is never idle for long, so it holds its connection, and the chunks
 * it has sent, for as long as it likes; a few thousand of them hold the whole server. The tests
 * trickle a request one byte every 10 ms for 20 s against a 600 ms timeout: this server never
 * cuts it off.
 *
 * @caught-by step 7: close, whatever the client does › a request trickled one byte at a time is cut off after requestTimeoutMs
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
  // The "obvious" fix: close the connection when it has been quiet for requestTimeoutMs.
  // Every 'data' event resets this timer, so a trickle of bytes keeps it from ever firing.
  socket.setTimeout(requestTimeoutMs, () => {
    const late = replying ? 'reply not read' : 'request not complete';
    log(`client ${peer} too slow: ${late} after ${requestTimeoutMs} ms, closing`);
    socket.resetAndDestroy();
  });

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
