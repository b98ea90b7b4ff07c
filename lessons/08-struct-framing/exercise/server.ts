/**
 * Lesson 08: an echo server for length-prefixed frames.
 *
 * Every frame a client sends comes back to it unchanged, in order, however the network cut the
 * stream. A client that reads slower than it sends is not buffered without bound (backpressure),
 * a client that announces a frame over the limit is cut off, alone, and so is a client too slow
 * to complete its next frame in time (a deadline): the others carry on. Memory is bounded for all
 * clients at once: the bytes held for them (frames being assembled, echoes queued) may not pass
 * --budget, and at most --max-connections are open; a client that would pass either is logged
 * and closed (the protocol has no error frame).
 *
 *   npx tsx lessons/08-struct-framing/solution/server.ts --port 9000
 *   printf '\000\000\000\005hello' | nc -N 127.0.0.1 9000 | od -An -c
 *        \0  \0  \0 005   h   e   l   l   o
 */
import net from 'node:net';
import {
  checkTimeout,
  describeError,
  isMain,
  peerAddress,
  runServerProgram,
  type ServerProgram,
} from '@course/program';
import { encodeFrame, FrameDecoder, FramingError, MAX_FRAME_BYTES, MAX_HEADER_LENGTH } from './framing.ts';

/** Where the server writes its one line per client event (console.log in the program). */
export type Log = (line: string) => void;

/** How long a client may take to complete its next frame, by default: 30 seconds. */
export const DEFAULT_FRAME_TIMEOUT_MS = 30_000;

export interface ServerOptions {
  log?: Log;
  /** The longest payload accepted from a client (default MAX_FRAME_BYTES, 16 MiB). */
  maxFrameBytes?: number;
  /**
   * The deadline: each frame must be complete within this many milliseconds of the previous
   * complete frame (or of connecting), else the connection is closed. Only a whole frame restarts
   * it, so a client that trickles a frame a byte at a time, or sends nothing, is cut off; one that
   * sends whole frames at least this often never is (default DEFAULT_FRAME_TIMEOUT_MS).
   */
  frameTimeoutMs?: number;
  /**
   * The bytes held for all connections at once: frames being assembled and echoes queued, not
   * yet handed to the kernel. A connection that would take the server over it is logged and
   * closed (default DEFAULT_BUDGET_BYTES, 64 MiB).
   */
  budgetBytes?: number;
  /** Connections open at once; one more is logged and closed (default DEFAULT_MAX_CONNECTIONS). */
  maxConnections?: number;
}

/** The bytes the server holds for all its clients at once, unless told otherwise: 64 MiB. */
export const DEFAULT_BUDGET_BYTES = 64 * 1024 * 1024;

/** Connections open at once, unless told otherwise. */
export const DEFAULT_MAX_CONNECTIONS = 1000;

/**
 * The server's memory budget: the bytes held for all connections at once. Each connection keeps
 * its own share up to date through resize(); a share may always shrink, and may grow only while
 * the total stays within the limit.
 */
export class Budget {
  readonly limitBytes: number;
  private held = 0;

  constructor(limitBytes: number) {
    if (!Number.isSafeInteger(limitBytes) || limitBytes < 1) {
      throw new RangeError(`budgetBytes must be a whole number of at least 1, not ${limitBytes}`);
    }
    this.limitBytes = limitBytes;
  }

  /** The bytes held for all connections now. */
  get heldBytes(): number {
    return this.held;
  }

  /**
   * One connection's share goes from `before` to `after` bytes. Returns false, and changes
   * nothing, when it grows and the total would pass the limit.
   */
  resize(before: number, after: number): boolean {
    const total = this.held - before + after;
    if (after > before && total > this.limitBytes) return false;
    this.held = total;
    return true;
  }
}

/** What handleConnection() needs to know: the limits of ServerOptions, defaults filled in. */
export interface ConnectionLimits {
  maxFrameBytes: number;
  frameTimeoutMs: number;
  /** The one budget that every connection of the server draws from. */
  budget: Budget;
}

/** The echo server: handleConnection() for every client. Not listening yet. */
export function createEchoServer(options: ServerOptions = {}): net.Server {
  const {
    log = () => {},
    maxFrameBytes = MAX_FRAME_BYTES,
    frameTimeoutMs = DEFAULT_FRAME_TIMEOUT_MS,
    budgetBytes = DEFAULT_BUDGET_BYTES,
    maxConnections = DEFAULT_MAX_CONNECTIONS,
  } = options;
  checkTimeout('frameTimeoutMs', frameTimeoutMs);
  if (!Number.isSafeInteger(maxConnections) || maxConnections < 1) {
    throw new RangeError(`maxConnections must be a whole number of at least 1, not ${maxConnections}`);
  }
  const limits = { maxFrameBytes, frameTimeoutMs, budget: new Budget(budgetBytes) };
  const hasRoom = connectionCap(maxConnections, log); // step 8
  return net.createServer((socket) => {
    if (hasRoom(socket)) handleConnection(socket, log, limits);
  });
}

/** `a frame of 2147483648 bytes is over the limit of 16777216 bytes (EFRAMETOOLARGE)` */
function framingWords(error: unknown): string {
  return error instanceof FramingError ? `${error.message} (${error.code})` : describeError(error);
}

// region echo
/**
 * One connection: decode the frames as the chunks arrive, and write each one back as a frame.
 */
export function handleConnection(socket: net.Socket, log: Log, limits: ConnectionLimits): void {
  const peer = peerAddress(socket);
  log(`client connected from ${peer}`);
  const decoder = new FrameDecoder({ maxFrameBytes: limits.maxFrameBytes });
  // Without an 'error' listener, a client's reset (ECONNRESET) would crash the whole server.
  socket.on('error', (error) => log(`client ${peer} failed: ${describeError(error)}`));
  socket.on('close', () => log(`client ${peer} closed`));

  // region step-6
  // TODO(6): echo: every frame that a chunk completes goes back to this client, in order, as a
  // frame (the decoder above, and encodeFrame()). A chunk may complete no frame, or many.
  // README step 6. (Steps 7 and 8 add to this code; their stubs below, waitForDrain(), claim(),
  // admit(), refuse() and afterEchoes(), do nothing yet.)

  // Until the steps are done, every client is told what is missing. Delete this line.
  socket.end('TODO(6): echo each frame in handleConnection() — see README step 6\n');
  // endregion step-6

  // region step-7
  // TODO(7): backpressure. When socket.write() returns false, this socket's queue is full: the
  // client reads slower than it sends. Call waitForDrain() then, from your 'data' listener, and
  // make it stop reading from this client until the queue drains: one pause and one 'drain'
  // listener, however many writes overflow meanwhile. Node docs: writable.write(), event
  // 'drain', socket.pause(), socket.isPaused(). README step 7.
  const waitForDrain = () => {};
  // endregion step-7

  // region step-8
  // TODO(8): close a connection that breaks the rules or is too slow; log why (the protocol has no
  // error frame) and carry on with the others.
  // - A broken stream: push() throws a FramingError for a header over the limit. Catch it in
  //   your 'data' listener and hand it to refuse(): log `client IP:PORT: MESSAGE (CODE), closing
  //   the connection` (framingWords() gives `MESSAGE (CODE)`) and destroy the socket. On 'end',
  //   decoder.end() may throw ETRUNCATED: log `client IP:PORT: MESSAGE (CODE)`, then end our side.
  // - A deadline: each frame must be complete within limits.frameTimeoutMs of the previous one
  //   (or of connecting). A timer of your own, restarted only by a complete frame (afterEchoes());
  //   not socket.setTimeout(), which every byte of a trickled frame restarts. When it fires, log
  //   `client IP:PORT too slow: frame not complete after N ms, closing` and destroy the socket.
  //   No timer may outlive its connection.
  // - A budget for the whole server (limits.budget): this connection's share is decoder.buffered
  //   plus socket.writableLength; keep it up to date with budget.resize() in claim(): before the
  //   decoder keeps a chunk (admit(), counting the chunk: when refused, log `client IP:PORT
  //   refused: over the budget of N bytes for all clients, closing` and destroy the socket),
  //   after the echoes, in each write's callback, and back to 0 on 'close'.
  // README step 8, and "Many clients at once: one budget".
  const claim = (more = 0): boolean => true;
  const admit = (chunk: Buffer): boolean => true;
  const refuse = (error: unknown): void => {
    throw error; // until step 8, a broken stream escapes the 'data' listener and ends the server
  };
  const afterEchoes = (frames: number) => {};
}

/**
 * Step 8: at most `maxConnections` open at once. Returns the check for each new connection: true
 * when there is room (the connection then counts until its 'close'); false when there is none,
 * and the newcomer is logged and closed.
 */
function connectionCap(maxConnections: number, log: Log): (socket: net.Socket) => boolean {
  // TODO(8): count the open connections; one more than maxConnections is logged as `client
  // IP:PORT refused: N connections already open, closing`, given an 'error' listener (its
  // reset is not news) and destroyed. Each connection counts until its 'close'.
  return () => true;
}
// endregion step-8
// endregion echo

// region program
/** The command line of server.ts (`--help` lists it). */
export const program: ServerProgram = {
  spec: {
    name: 'server.ts',
    summary: 'Echoes every length-prefixed frame (4-byte unsigned big-endian length, then payload).',
    options: {
      'max-frame-bytes': {
        type: 'string',
        value: 'N',
        description: `longest frame payload accepted (default ${MAX_FRAME_BYTES})`,
      },
      timeout: {
        type: 'string',
        value: 'MS',
        description: `each frame must be complete within MS ms of the previous one, or of connecting (default ${DEFAULT_FRAME_TIMEOUT_MS})`,
      },
      budget: {
        type: 'string',
        value: 'BYTES',
        description: `bytes held for all clients at once, frames being assembled and echoes queued; a client that would pass it is closed (default ${DEFAULT_BUDGET_BYTES})`,
      },
      'max-connections': {
        type: 'string',
        value: 'N',
        description: `connections open at once; one more is closed (default ${DEFAULT_MAX_CONNECTIONS})`,
      },
    },
  },
  create: (cli) =>
    createEchoServer({
      log: console.log,
      maxFrameBytes: cli.integer('max-frame-bytes', MAX_FRAME_BYTES, { min: 0, max: MAX_HEADER_LENGTH }),
      frameTimeoutMs: cli.milliseconds('timeout', DEFAULT_FRAME_TIMEOUT_MS),
      budgetBytes: cli.integer('budget', DEFAULT_BUDGET_BYTES, { min: 1 }),
      maxConnections: cli.integer('max-connections', DEFAULT_MAX_CONNECTIONS, { min: 1 }),
    }),
};

if (isMain(import.meta.url)) runServerProgram(program);
// endregion program
