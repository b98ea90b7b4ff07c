/**
 * Real loopback peers for tests: servers on port 0 and clients that record every chunk they
 * receive, with bounded waits for lines, byte counts and the close.
 */
import net, { type AddressInfo } from 'node:net';
import { closeAfterTest } from './cleanup.ts';
import { reproLines } from './program.ts';
import {
  Changes,
  DEFAULT_WAIT_MS,
  LIVENESS_MS,
  type WaitOptions,
  WireError,
  waitUntil,
  within,
} from './wait.ts';

export const LOOPBACK = '127.0.0.1';

/**
 * Closes `server` when the test ends, whatever the code under test does (a stop() that hangs,
 * or none at all): every connection it accepted is destroyed, then the listening socket closed
 * (its 'close' waits for every connection). Call it before the server starts listening.
 */
export function closeServerAfterTest(server: net.Server): void {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  closeAfterTest(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        if (!server.listening) return resolve();
        server.close(() => resolve());
      }),
  );
}

/** Listens on 127.0.0.1 port 0 (any free port), closes the server after the test, returns the port. */
export async function listen(server: net.Server, host = LOOPBACK): Promise<number> {
  closeServerAfterTest(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/**
 * A test's own server, for testing clients: `handler` gets each connection and decides when to
 * close it (allowHalfOpen: a client's FIN does not close the server's side by itself).
 * Errors on its sockets (a client that resets) are ignored: the test checks the client.
 */
export async function startServer(handler: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {});
    handler(socket);
  });
  return listen(server);
}

/**
 * Where closedPort() looks: below every system's ephemeral range (Linux 32768–60999, macOS and
 * Windows 49152–65535), where `port: 0` never lands. A port taken from that range and let go
 * could be handed at once to another test listening on port 0 (four lessons' checks run at once),
 * which would then answer a client that expected ECONNREFUSED.
 */
const CLOSED_PORTS = { from: 20_000, to: 32_767 };

/** A port on which nothing listens (it was free a moment ago): connecting gets ECONNREFUSED. */
export async function closedPort(): Promise<number> {
  for (let tries = 0; ; tries++) {
    const port = CLOSED_PORTS.from + Math.floor(Math.random() * (CLOSED_PORTS.to - CLOSED_PORTS.from + 1));
    const server = net.createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen({ host: LOOPBACK, port }, () => resolve(true));
    });
    if (free) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return port;
    }
    if (tries >= 100)
      throw new Error(`closedPort(): no free port from ${CLOSED_PORTS.from} to ${CLOSED_PORTS.to}`);
  }
}

/** What a Peer saw of the connection's end. */
export type Ending = 'open' | 'fin' | 'reset' | 'closed';

/**
 * A client connection that records everything it receives, chunk by chunk.
 * Create it with connect(); it is destroyed when the test ends.
 */
export class Peer {
  readonly chunks: Buffer[] = [];
  /** How the other side ended the connection, so far. */
  ending: Ending = 'open';
  error: NodeJS.ErrnoException | undefined;
  /** Sent so far, to reproduce the exchange with nc in a failure message. */
  private readonly sent: Buffer[] = [];
  private readonly changes = new Changes();
  private all = Buffer.alloc(0);
  private size = 0;

  readonly socket: net.Socket;
  /** The port this peer connected to. */
  readonly port: number;

  constructor(socket: net.Socket, port: number) {
    this.socket = socket;
    this.port = port;
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.append(chunk);
      this.changes.notify();
    });
    socket.on('end', () => {
      this.ending = 'fin';
      this.changes.notify();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.error = error;
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') this.ending = 'reset';
      this.changes.notify();
    });
    socket.on('close', () => {
      if (this.ending === 'open') this.ending = 'closed';
      this.changes.notify();
    });
  }

  /** Everything received so far (a view: copy it to keep it past the next chunk). */
  get received(): Buffer {
    return this.all.subarray(0, this.size);
  }

  /** Appends in amortised constant time per byte: waits re-read `received` on every chunk. */
  private append(chunk: Buffer): void {
    if (this.size + chunk.length > this.all.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.all.length * 2, this.size + chunk.length, 4096));
      this.all.copy(grown, 0, 0, this.size);
      this.all = grown;
    }
    chunk.copy(this.all, this.size);
    this.size += chunk.length;
  }

  /**
   * Set by trickle(): the bytes this peer sends one every `everyMs` (for its repro line), and how
   * many have gone so far.
   */
  trickled?: { bytes: Buffer; everyMs: number; sent: number };

  /**
   * A wait's bound when the test names none: DEFAULT_WAIT_MS, plus, while a trickle is still
   * sending, twice the time its last bytes need (timers drift on a busy machine), at most
   * LIVENESS_MS more: an answer cannot come before the bytes that ask for it.
   */
  private waitMs(options: WaitOptions): number {
    if (options.ms !== undefined) return options.ms;
    const left = this.trickled ? this.trickled.bytes.length - this.trickled.sent : 0;
    return DEFAULT_WAIT_MS + Math.min(LIVENESS_MS, left * (this.trickled?.everyMs ?? 0) * 2);
  }

  /** Lines that replay what this peer sent (`npx course nc --send '...' 127.0.0.1 PORT`). */
  get repro(): string {
    if (this.trickled) {
      return reproLines(this.trickled.bytes, this.port, {
        trickleMs: this.trickled.everyMs,
        halfClose: false,
      });
    }
    return reproLines(Buffer.concat(this.sent), this.port);
  }

  /** Writes `data` and resolves once it is handed to the kernel. */
  write(data: string | Uint8Array): Promise<void> {
    const bytes = Buffer.from(data);
    this.sent.push(bytes);
    return new Promise((resolve, reject) =>
      this.socket.write(bytes, (error) => (error ? reject(error) : resolve())),
    );
  }

  /** Half-closes: sends FIN ("I am done sending") and keeps reading. */
  end(data?: string | Uint8Array): Promise<void> {
    if (data !== undefined) this.sent.push(Buffer.from(data));
    return new Promise((resolve) => this.socket.end(data ?? '', () => resolve()));
  }

  /** Aborts the connection with a TCP reset (RST) instead of a polite FIN. */
  reset(): void {
    this.socket.resetAndDestroy();
  }

  /**
   * Waits until `done(received)` returns a value other than undefined, and returns it.
   * Fails when the wait ends or the connection ends first, explaining with `expected` and `hint`.
   */
  until<T>(
    done: (received: Buffer) => T | undefined,
    expected: string,
    options: WaitOptions = {},
  ): Promise<T> {
    const explain = () => ({
      expected,
      received: this.received,
      hint: options.hint,
      repro: options.repro ?? this.repro,
    });
    return waitUntil<T>(
      this.changes,
      () => {
        const value = done(this.received);
        if (value !== undefined) return { value };
        if (this.ending === 'open') return undefined;
        return {
          error: new WireError(`the connection ended (${this.endingWords()}) before that arrived`, explain()),
        };
      },
      explain,
      { ...options, ms: this.waitMs(options) },
    );
  }

  /** Waits for `n` complete lines (ending in \n) and returns them without their line endings. */
  lines(n: number, options: WaitOptions = {}): Promise<string[]> {
    return this.until(
      (received) => {
        const text = received.toString('utf8');
        const lines = text.split('\n');
        return lines.length > n ? lines.slice(0, n).map((l) => l.replace(/\r$/, '')) : undefined;
      },
      `${n} complete line(s), each ending in \\n`,
      options,
    );
  }

  /** Waits for at least `n` bytes. */
  bytes(n: number, options: WaitOptions = {}): Promise<Buffer> {
    return this.until((r) => (r.length >= n ? r : undefined), `at least ${n} bytes`, options);
  }

  /**
   * Waits until the other side has closed the connection (FIN, or a reset when `allowReset`)
   * and returns everything received.
   */
  closed(options: WaitOptions & { expected?: string; allowReset?: boolean } = {}): Promise<Buffer> {
    const expected = options.expected ?? 'the other side to close the connection';
    const explain = () => ({
      expected,
      received: this.received,
      hint: options.hint,
      repro: options.repro ?? this.repro,
    });
    return waitUntil<Buffer>(
      this.changes,
      () => {
        if (this.ending === 'open') return undefined;
        if (this.ending !== 'reset' || options.allowReset) return { value: this.received };
        return {
          error: new WireError('the connection was reset (RST) instead of closed', {
            ...explain(),
            hint:
              options.hint ??
              'close with socket.end() rather than socket.destroy() once the reply is written',
          }),
        };
      },
      explain,
      { ...options, ms: this.waitMs(options) },
    );
  }

  private endingWords(): string {
    if (this.ending === 'fin') return 'the other side sent FIN';
    if (this.ending === 'reset') return `reset: ${this.error?.code ?? 'RST'}`;
    return 'closed';
  }
}

/** Connects to `port` on 127.0.0.1; the connection is destroyed when the test ends. */
export async function connect(port: number, host = LOOPBACK, options: WaitOptions = {}): Promise<Peer> {
  const socket = net.connect({ host, port });
  closeAfterTest(() => socket.destroy());
  const peer = new Peer(socket, port);
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  await within(
    connected,
    () => ({
      expected: `a connection to ${host}:${port}`,
      hint: 'is the server listening? A tiny backlog can also keep connections waiting',
    }),
    options,
  );
  return peer;
}

export interface ExchangeOptions extends WaitOptions {
  /** Cut the request into these pieces, each written and flushed before the next. */
  pieces?: (string | Uint8Array)[];
}

/**
 * The whole client side of a request/reply protocol: connect, send `request`, half-close,
 * collect everything until the server closes. Returns the reply's bytes.
 */
export async function exchange(
  port: number,
  request: string | Uint8Array,
  options: ExchangeOptions = {},
): Promise<Buffer> {
  const peer = await connect(port);
  for (const piece of options.pieces ?? [request]) await peer.write(piece);
  await peer.end();
  return peer.closed({
    expected: 'a reply, then the server closing the connection',
    hint: 'after the client half-closes, the server should write its reply and call socket.end()',
    ...options,
  });
}
