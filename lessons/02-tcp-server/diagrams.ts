/**
 * The wire diagrams of lesson 02, recorded at build time from the lesson's solution: the site
 * draws `<!-- wire: NAME -->` in the README from `diagrams[NAME].record()`. Each record() runs a
 * real exchange over loopback through the course's recording proxy, closes everything it opened
 * (even on error), and bounds every wait, so a build never hangs.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ChunkingProxy, createProxy, type WireEvent } from '@course/helpers/wire';
import { createUpperServer, listen } from './solution/server.ts';

/** No step of a recording may take longer than this. */
const LIMIT_MS = 3000;

/** What the client sends: two-byte é and three-byte 你 and 好, so that cuts fall inside characters. */
export const REQUEST = 'héllo 你好';

export const diagrams: Record<string, { title: string; record(): Promise<WireEvent[]> }> = {
  'request-reply': {
    title: 'héllo 你好 reaches the server in pieces of at most 4 bytes; the reply comes back whole',
    record: recordRequestReply,
  },
};

/**
 * The solution's server, a plain client that sends REQUEST and half-closes, and between them a
 * proxy that re-cuts the request into pieces of 1 to 4 bytes. The seed is fixed, so the cuts
 * (and the diagram) are the same on every build; the reply passes as the server wrote it.
 */
async function recordRequestReply(): Promise<WireEvent[]> {
  const server = createUpperServer();
  const closeServer = closer(server);
  let proxy: ChunkingProxy | undefined;
  try {
    const { port } = await within(listen(server, { host: '127.0.0.1', port: 0 }), 'the server to listen');
    proxy = await within(
      createProxy(port, { cut: { seed: 7, maxPiece: 4 }, direction: 'request' }),
      'the proxy to listen',
    );
    const reply = await within(send(proxy.port, REQUEST), 'the reply');
    const expected = REQUEST.toUpperCase();
    if (reply !== expected) throw new Error(`expected the reply ${expected}, got ${JSON.stringify(reply)}`);
    await bothClosed(proxy);
    return [...proxy.events];
  } catch (error) {
    throw new Error(`lessons/02-tcp-server/diagrams.ts, request-reply: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    if (proxy) await within(proxy.close(), 'the proxy to close').catch(() => {});
    await closeServer();
  }
}

/** A plain client: connect, send `message` and half-close, read the reply until the server closes. */
function send(port: number, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.once('connect', () => socket.end(message));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.once('error', reject);
    // Never left open: if the reply never comes, within() gives up and this timer closes the socket.
    const timer = setTimeout(() => socket.destroy(), LIMIT_MS);
    socket.once('close', () => clearTimeout(timer));
  });
}

// Small helpers, the same in each lesson's diagrams.ts (a lesson depends on nothing but the helpers).

/** A function that stops `server`, ending every connection still open on it; it never throws. */
function closer(server: net.Server): () => Promise<void> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return async () => {
    for (const socket of sockets) socket.destroy();
    if (!server.listening) return;
    await within(new Promise<void>((resolve) => server.close(() => resolve())), 'the server to close').catch(
      () => {},
    );
  };
}

/** Waits until the proxy has seen both sides' sockets close, so the diagram ends with both ×. */
async function bothClosed(proxy: ChunkingProxy): Promise<void> {
  const deadline = performance.now() + LIMIT_MS;
  const closed = (side: WireEvent['from']) => proxy.events.some((e) => e.from === side && e.kind === 'close');
  while (!(closed('client') && closed('server'))) {
    if (performance.now() > deadline) throw new Error(`the connection did not close within ${LIMIT_MS} ms`);
    await sleep(5);
  }
}

/** `promise`, or a clear error after LIMIT_MS. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`waited ${LIMIT_MS} ms for ${what}`)), LIMIT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
