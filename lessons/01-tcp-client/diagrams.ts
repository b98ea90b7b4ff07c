/**
 * The wire diagrams of lesson 01, recorded at build time from the lesson's solution: the site
 * draws `<!-- wire: NAME -->` in the README from `diagrams[NAME].record()`. Each record() runs a
 * real exchange over loopback through the course's recording proxy, closes everything it opened
 * (even on error), and bounds every wait, so a build never hangs.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ChunkingProxy, createProxy, type WireEvent } from '@course/helpers/wire';
import { request } from './solution/client.ts';

/** No step of a recording may take longer than this. */
const LIMIT_MS = 3000;

export const diagrams: Record<string, { title: string; record(): Promise<WireEvent[]> }> = {
  'request-reply': {
    title: "request() sends hello, half-closes, and reads the server's reply until the server closes",
    record: recordRequestReply,
  },
};

/**
 * The solution's request() against a small upper-case server. The proxy hands each side's bytes
 * on in one piece when that side half-closes ('coalesce'): a five-byte message and its FIN go
 * out together either way, and the diagram is the same on every build.
 */
async function recordRequestReply(): Promise<WireEvent[]> {
  const server = upperCaseServer();
  const closeServer = closer(server);
  let proxy: ChunkingProxy | undefined;
  try {
    const port = await within(listenOnLoopback(server), 'the server to listen');
    proxy = await within(createProxy(port, { cut: 'coalesce' }), 'the proxy to listen');
    const reply = await request({ port: proxy.port, message: 'hello', timeoutMs: LIMIT_MS });
    if (reply !== 'HELLO') throw new Error(`expected the reply HELLO, got ${JSON.stringify(reply)}`);
    await bothClosed(proxy);
    return [...proxy.events];
  } catch (error) {
    throw new Error(`lessons/01-tcp-client/diagrams.ts, request-reply: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    if (proxy) await within(proxy.close(), 'the proxy to close').catch(() => {});
    await closeServer();
  }
}

/** Reads until the client half-closes (allowHalfOpen keeps our side open), answers in upper case. */
function upperCaseServer(): net.Server {
  return net.createServer({ allowHalfOpen: true }, (socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => socket.end(Buffer.concat(chunks).toString('utf8').toUpperCase()));
    socket.on('error', () => socket.destroy());
  });
}

// Small helpers, the same in each lesson's diagrams.ts (a lesson depends on nothing but the helpers).

function listenOnLoopback(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

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
