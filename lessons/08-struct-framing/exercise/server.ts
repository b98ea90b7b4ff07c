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
  // TODO(8): at most maxConnections open at once. Count them here, one less on each socket's
  // 'close'; past the limit, log `client IP:PORT refused: N connections already open, closing`,
  // give the newcomer an 'error' listener and socket.destroy() it, without handleConnection().
  return net.createServer((socket) => handleConnection(socket, log, limits));
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

  // TODO(6): echo: on 'data', push the chunk into the decoder and write every frame it returns
  // back to the client with socket.write(encodeFrame(frame)), in order.

  // TODO(7): backpressure: when socket.write() returns false, pause the socket (stop reading)
  // and resume it once on 'drain'. Do not pause again while already paused.

  // TODO(8): a broken stream: when push() throws (a header over the limit), log
  // `client IP:PORT: MESSAGE (CODE), closing the connection` (framingWords(error) gives
  // `MESSAGE (CODE)`) and socket.destroy() this connection. On 'end', call decoder.end(): if it
  // throws (ETRUNCATED), log `client IP:PORT: MESSAGE (CODE)`; then socket.end().
  // And a deadline: each frame must be complete within limits.frameTimeoutMs of the previous
  // complete frame (or of connecting). Start a setTimeout() here; when push() returns frames,
  // deadline.refresh() it; on 'close', clearTimeout() it. When it fires, log
  // `client IP:PORT too slow: frame not complete after N ms, closing` and socket.destroy().
  // Not socket.setTimeout(): that is an idle timer, and every byte of a trickled frame restarts it.
  // And a budget: limits.budget is one for the whole server. Keep this connection's share of it
  // up to date with budget.resize(share, next), where next is decoder.buffered +
  // socket.writableLength: before push(), with the chunk's length added (if resize() says false,
  // log `client IP:PORT refused: over the budget of N bytes for all clients, closing` and
  // socket.destroy()); after the writes; in each write's callback (the kernel took the bytes);
  // and back to 0 on 'close'.

  // Until the steps above are done, every client is told what is missing. Delete this line.
  socket.end('TODO(6): echo each frame in handleConnection() — see README step 6\n');

  // Without an 'error' listener, a client's reset (ECONNRESET) would crash the whole server.
  socket.on('error', (error) => log(`client ${peer} failed: ${describeError(error)}`));
  socket.on('close', () => log(`client ${peer} closed`));
}
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
