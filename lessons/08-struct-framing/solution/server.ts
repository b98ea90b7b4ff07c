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
  // Step 6: every frame the chunk completes goes back, in order, as a frame.
  socket.on('data', (chunk: Buffer) => {
    if (!admit(chunk)) return; // step 8: over the server's budget, the connection is closed
    let frames: Buffer[];
    try {
      frames = decoder.push(chunk);
    } catch (error) {
      return refuse(error); // step 8: a broken stream closes the connection
    }
    for (const frame of frames) {
      // Once the kernel has taken an echo, it no longer counts (step 8; the callback comes after).
      if (!socket.write(encodeFrame(frame), () => claim())) waitForDrain(); // step 7
    }
    afterEchoes(frames.length); // step 8
  });
  // endregion step-6

  // region step-7
  // Step 7: write() returned false: this socket's queue is full, the client reads slower than it
  // sends. Stop reading from it until the queue drains, so that memory stays bounded: one pause,
  // and one 'drain' listener, however many writes overflow meanwhile.
  const waitForDrain = () => {
    if (socket.isPaused()) return;
    socket.pause();
    socket.once('drain', () => socket.resume());
  };
  // endregion step-7

  // region step-8
  // Step 8: the deadline. The next frame must be complete within frameTimeoutMs. Only a complete
  // frame restarts it (afterEchoes() below), never a mere byte: socket.setTimeout() would be an
  // idle timer, which every byte restarts, and a client sending one byte a second would hold on
  // forever.
  const deadline = setTimeout(() => {
    log(`client ${peer} too slow: frame not complete after ${limits.frameTimeoutMs} ms, closing`);
    socket.destroy(); // the protocol has no error frame: the log line is the explanation
  }, limits.frameTimeoutMs);

  // This connection's share of the server's budget: the bytes of its frame being assembled
  // (decoder.buffered) and of its echoes not yet handed to the kernel (socket.writableLength),
  // plus `more` about to be kept. False, and the share unchanged, when the server cannot hold it.
  const { budget } = limits;
  let share = 0;
  let closed = false;
  const claim = (more = 0): boolean => {
    if (closed) return true; // the share went back with the socket
    const next = decoder.buffered + socket.writableLength + more;
    if (!budget.resize(share, next)) return false;
    share = next;
    return true;
  };

  // The chunk counts before the decoder keeps it: a client whose frame would take the server
  // over its budget is cut off, whoever else holds the rest (a paused client stops adding).
  const admit = (chunk: Buffer): boolean => {
    if (claim(chunk.length)) return true;
    log(`client ${peer} refused: over the budget of ${budget.limitBytes} bytes for all clients, closing`);
    socket.destroy(); // no error frame in this protocol: the log line is the explanation
    return false;
  };

  // A header over the limit: its payload could be gigabytes, and nothing after it can be
  // trusted. Log it and drop this connection at once; every other client carries on.
  const refuse = (error: unknown) => {
    log(`client ${peer}: ${framingWords(error)}, closing the connection`);
    socket.destroy();
  };

  // After a chunk's echoes: at least one frame complete, the next one gets frameTimeoutMs from
  // now; and the frames moved from the decoder to the socket's queue: the share is up to date.
  const afterEchoes = (frames: number) => {
    if (frames > 0) deadline.refresh();
    claim();
  };

  socket.on('end', () => {
    // The client is done sending. Bytes of an unfinished frame are a broken stream: log them.
    // The deadline keeps running until 'close': a client that half-closes and then never reads
    // its echoes would otherwise keep this connection forever.
    try {
      decoder.end();
    } catch (error) {
      log(`client ${peer}: ${framingWords(error)}`);
    }
    socket.end(); // our FIN, after every echo already written
  });

  socket.on('close', () => {
    clearTimeout(deadline); // no timer may outlive its connection
    closed = true;
    budget.resize(share, 0); // whatever it held, the server holds no longer
  });
}

/**
 * Step 8: at most `maxConnections` open at once. Returns the check for each new connection: true
 * when there is room (the connection then counts until its 'close'); false when there is none,
 * and the newcomer is logged and closed.
 */
function connectionCap(maxConnections: number, log: Log): (socket: net.Socket) => boolean {
  let open = 0;
  return (socket) => {
    // Every connection costs a file descriptor and kernel buffers, whatever it sends: past
    // maxConnections the newcomer is logged and closed, and those already here are served.
    if (open >= maxConnections) {
      log(`client ${peerAddress(socket)} refused: ${maxConnections} connections already open, closing`);
      socket.on('error', () => {}); // a reset from a client we turn away is not news
      socket.destroy();
      return false;
    }
    open += 1;
    socket.once('close', () => {
      open -= 1;
    });
    return true;
  };
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
