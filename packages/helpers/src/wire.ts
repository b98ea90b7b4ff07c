/**
 * The chunking proxy and wire recorder: sits between a client and a server, re-cuts the byte
 * stream, and records what crossed it. It shows that TCP keeps bytes in order but never keeps
 * the sender's pieces. This module does not depend on vitest: the site's build uses it to record
 * the exchanges it draws. Tests use startProxy() (proxy.ts), which closes it after each test.
 *
 *   client ──► proxy ──► server       bytes:     every byte in its own write, paced so that the
 *          ◄──       ◄──                         receiver reads them one by one
 *                                     random:    pieces of 1..maxPiece bytes from a seeded PRNG
 *                                     coalesce:  everything the sender wrote, in one write, when
 *                                                it half-closes (FIN)
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** How the proxy re-cuts a stream; `as-is` passes each chunk on as it came (to record only). */
export type Cut = 'as-is' | 'bytes' | 'coalesce' | { seed?: number; maxPiece?: number };

export interface ProxyOptions {
  /** How to re-cut the stream. */
  cut: Cut;
  /** Which way to re-cut: `request` (client → server), `reply`, or `both` (default). */
  direction?: 'request' | 'reply' | 'both';
}

export interface WireEvent {
  /** Milliseconds since the proxy started. */
  at: number;
  /** Who sent it. */
  from: 'client' | 'server';
  /**
   * `connect`: the connection is made; `data`: one piece as forwarded; `fin`: a half-close
   * ("I am done sending"); `reset`: an abort (RST); `close`: that side's socket is closed.
   */
  kind: 'connect' | 'data' | 'fin' | 'reset' | 'close';
  bytes: Uint8Array;
}

export interface ChunkingProxy {
  /** Connect here instead of to the server. */
  port: number;
  /** The seed of the random cuts (replay a failure with COURSE_SEED=<seed>). */
  seed: number;
  /** Every piece forwarded, in order. */
  events: WireEvent[];
  /** Resolves once every connection made through the proxy has closed on both sides. */
  idle(): Promise<void>;
  /** Stops listening and destroys every connection through the proxy. */
  close(): Promise<void>;
}

/**
 * Pause between pieces, so that the receiver reads each piece on its own: a millisecond for a
 * receiver in another process, then one turn of this event loop's I/O poll for a receiver in this
 * one (a timer alone can fire before the poll when the loop's clock is stale).
 */
async function pace(): Promise<void> {
  await sleep(1);
  // Twice: once for the server to read the piece, once for its answer to reach the proxy, so a
  // busy machine cannot record the next piece before the answer (4 in 100 recordings did).
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
}

/** Starts a chunking proxy on 127.0.0.1 in front of the server at `targetPort`. */
export async function createProxy(targetPort: number, options: ProxyOptions): Promise<ChunkingProxy> {
  const started = performance.now();
  const seed =
    typeof options.cut === 'object'
      ? (options.cut.seed ?? (Number(process.env.COURSE_SEED) || (Math.random() * 2 ** 32) >>> 0))
      : 0;
  const direction = options.direction ?? 'both';
  const events: WireEvent[] = [];
  const random = mulberry32(seed);
  const record = (from: WireEvent['from'], kind: WireEvent['kind'], bytes: Uint8Array = new Uint8Array()) =>
    events.push({ at: performance.now() - started, from, kind, bytes });

  const open = new Set<net.Socket>();
  const whenIdle: (() => void)[] = [];
  /** A side's socket has closed (recorded in order, after its data and FIN). */
  const closed = (socket: net.Socket, who: WireEvent['from']) => {
    open.delete(socket);
    record(who, 'close');
    if (open.size === 0) for (const resolve of whenIdle.splice(0)) resolve();
  };
  const idle = () =>
    new Promise<void>((resolve) => {
      if (open.size === 0 && events.length > 0) resolve();
      else whenIdle.push(resolve);
    });
  // allowHalfOpen: a client's FIN is passed on, not answered by closing its side too.
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    record('client', 'connect');
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort, allowHalfOpen: true });
    open.add(client).add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const recut = (side: 'request' | 'reply') =>
      direction === 'both' || direction === side ? options.cut : null;
    pump(client, upstream, 'client', recut('request'));
    pump(upstream, client, 'server', recut('reply'));
  });

  function pump(from: net.Socket, to: net.Socket, who: WireEvent['from'], cut: Cut | null): void {
    const held: Uint8Array[] = [];
    let chain = Promise.resolve();
    const then = (step: () => Promise<void> | void) => {
      chain = chain.then(step).catch(() => {
        to.destroy();
      });
    };
    from.on('data', (chunk: Buffer) => {
      if (cut === 'coalesce') return void held.push(chunk);
      from.pause(); // backpressure: read no more until this chunk is forwarded
      then(async () => {
        for (const piece of pieces(chunk, cut)) {
          record(who, 'data', piece);
          await write(to, piece);
          if (cut !== null && cut !== 'as-is') await pace();
        }
        from.resume();
      });
    });
    from.on('end', () =>
      then(async () => {
        if (held.length > 0) {
          const all = Buffer.concat(held);
          record(who, 'data', all);
          await write(to, all);
        }
        record(who, 'fin');
        to.end();
      }),
    );
    from.on('error', () =>
      then(() => {
        record(who, 'reset');
        to.resetAndDestroy();
      }),
    );
    from.on('close', () =>
      then(() => {
        closed(from, who);
        if (!to.writableEnded) to.destroySoon();
      }),
    );
  }

  function pieces(chunk: Buffer, cut: Cut | null): Uint8Array[] {
    if (cut === null || cut === 'as-is' || cut === 'coalesce') return [chunk];
    const out: Uint8Array[] = [];
    const max = cut === 'bytes' ? 1 : Math.max(1, cut.maxPiece ?? 16);
    for (let i = 0; i < chunk.length; ) {
      const size = cut === 'bytes' ? 1 : 1 + Math.floor(random() * max);
      out.push(chunk.subarray(i, i + size));
      i += size;
    }
    return out;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of open) socket.destroy();
      server.close(() => resolve());
    });
  return { port: (server.address() as net.AddressInfo).port, seed, events, idle, close };
}

function write(socket: net.Socket, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return reject(new Error('closed'));
    socket.write(bytes, (error) => (error ? reject(error) : resolve()));
  });
}

/** A small seeded PRNG (mulberry32): the same seed gives the same cuts. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Recording {
  /** The server whose exchange is recorded: listened on 127.0.0.1, port 0, and closed after. */
  server: net.Server;
  /** The client's side of the exchange, connecting to `port` (the proxy's). */
  client(port: number): Promise<unknown>;
  /** How the proxy cuts the stream on its way (default: as it came). */
  cut?: Cut;
  direction?: ProxyOptions['direction'];
  /** A bound on the whole recording (default 3 s): a build that records never hangs. */
  ms?: number;
}

/**
 * Records one real exchange through the proxy, for the site's wire diagrams: starts `server`,
 * runs `client`, waits until both sides have closed, and returns what crossed the wire. Every
 * socket, the proxy and the server are closed afterwards, whatever happened.
 */
export async function recordExchange(recording: Recording): Promise<WireEvent[]> {
  const { server, ms = 3_000 } = recording;
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  let proxy: ChunkingProxy | undefined;
  let timer: NodeJS.Timeout | undefined;
  const run = async () => {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
    });
    const { port } = server.address() as net.AddressInfo;
    proxy = await createProxy(port, { cut: recording.cut ?? 'as-is', direction: recording.direction });
    await recording.client(proxy.port);
    await proxy.idle();
    // The two sockets close within a moment of each other, in either order: drawn last, client
    // first, so that a diagram is the same on every build.
    const closes = proxy.events
      .filter((e) => e.kind === 'close')
      .sort((a, b) => a.from.localeCompare(b.from));
    return [...proxy.events.filter((e) => e.kind !== 'close'), ...closes];
  };
  try {
    return await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the exchange did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await proxy?.close();
    for (const socket of sockets) socket.destroy();
    if (server.listening) await new Promise((resolve) => server.close(resolve));
  }
}

/**
 * The plainest client of a request/reply protocol, for recordings: connect, send `message`,
 * half-close, and resolve with the whole reply once the server closes.
 */
export function halfCloseClient(port: number, message: string | Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.end(message));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}
