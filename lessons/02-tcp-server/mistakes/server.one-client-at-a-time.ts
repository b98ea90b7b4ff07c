/**
 * MISTAKE: serves one client at a time, as the Python original does: the next connection waits
 * in a queue until the current one has closed.
 *
 * Every client still gets its reply, and every test that talks to one client at a time passes.
 * Even twenty clients connected together are all served, one after the other, as long as they
 * finish in the order they connected. But one client that takes its time (typing into `nc`, a
 * slow network, a slowloris) holds everybody else until it is done or its deadline fires: the
 * whole server is as slow as its slowest client. Node's sockets never block, so there is no
 * reason to wait: handle every connection on its own, as its events come. The test has twenty
 * clients send half a request each, then finish in reverse order: the last one to connect must
 * get its reply while the nineteen others are still sending.
 *
 * @caught-by step 7: close, whatever the client does › twenty clients at once each get their own reply
 * @caught-by steps 4, 5 and 6: the limit on open connections, with clients served around it › with maxConnections 2
 */
import net from 'node:net';
import { formatAddress, isMain, runServerProgram } from '@course/program';
import {
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_REQUEST_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  handleConnection,
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
  // The mistake: a queue of connections, served one after the other.
  const waiting: net.Socket[] = [];
  let serving = false;
  const serveNext = () => {
    const socket = waiting.shift();
    serving = socket !== undefined;
    if (!socket) return;
    socket.once('close', serveNext);
    handleConnection(socket, log, maxRequestBytes, requestTimeoutMs);
    socket.resume();
  };
  const server = net.createServer((socket) => {
    socket.pause(); // its bytes wait in the kernel until its turn
    socket.on('error', () => {}); // a client may reset while it waits
    waiting.push(socket);
    if (!serving) serveNext();
  });
  server.maxConnections = maxConnections;
  server.on('drop', (dropped) => {
    const from = formatAddress(dropped?.remoteAddress ?? '?', dropped?.remotePort ?? 0);
    const open = `${maxConnections} connection${maxConnections === 1 ? '' : 's'} already open`;
    log(`refused a connection from ${from}: ${open}`);
  });
  return server;
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
