/**
 * Lesson 07: a line server that cannot be fooled by the way TCP cuts the stream.
 *
 * Every line a client sends (ending in `\n` or `\r\n`, UTF-8) is answered `<n> <line>\n`, where n
 * counts the lines of that connection from 1. Three lines in one write, or one byte per write,
 * get the same three answers. When the client half-closes, a last line without `\n` is answered
 * too, then the server closes. A line longer than --max-line bytes gets
 * `error: line longer than N bytes` and the connection is closed. So does a line that has
 * started but is not complete (its `\n` received) within --timeout ms:
 * `error: line not complete after N ms`. Between lines a connection may stay idle.
 *
 * Memory is bounded for all clients at once: the bytes held for every connection (its line in
 * progress and its answers queued, not yet handed to the kernel) may not pass --budget bytes; a
 * connection that would take the server over it gets `error: server busy` and is closed, and so
 * does one more connection than --max-connections.
 *
 *   npx tsx lessons/07-sticky-packets/solution/server.ts --port 9000
 *   printf 'hello\nbyebye\nagain,bye\n' | nc -N 127.0.0.1 9000     → 1 hello, 2 byebye, 3 again,bye
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
import { DEFAULT_MAX_LINE_BYTES, LineDecoder, LineTooLongError } from './line-decoder.ts';

/** Where the server writes its one line per client event (console.log in the program). */
export type Log = (line: string) => void;

export interface LineServerOptions {
  log?: Log;
  /** The longest line accepted, in bytes, not counting its line ending. Default 65536. */
  maxLineBytes?: number;
  /**
   * The deadline of one line, in milliseconds: once its first byte has arrived, its `\n` must
   * arrive within this time, or the connection is closed. Default 30000. Unlike an idle timer
   * (socket.setTimeout), which every byte restarts, only a complete line stops it: a client
   * sending one byte a second cannot hold a connection for ever. A connection with no line
   * started may stay idle.
   */
  lineTimeoutMs?: number;
  /**
   * The bytes held for all connections at once: lines in progress and answers queued, not yet
   * handed to the kernel. A connection that would take the server over it is told
   * `error: server busy` and closed. Default 64 MiB.
   */
  budgetBytes?: number;
  /** Connections open at once; one more is told `error: server busy` and closed. Default 1000. */
  maxConnections?: number;
}

/** How long a line may take, from its first byte to its `\n`, unless told otherwise: 30 s. */
export const DEFAULT_LINE_TIMEOUT_MS = 30_000;

/**
 * After refusing a line, how long the server keeps reading (and dropping) what the client still
 * sends, so that its error line is not lost to a reset, before it gives up on the client.
 */
export const LINGER_MS = 2_000;

/** The largest --max-line the program accepts: 16 MiB. A line protocol has no use for more. */
export const MAX_LINE_LIMIT = 16 * 1024 * 1024;

/** The bytes the server holds for all its clients at once, unless told otherwise: 64 MiB. */
export const DEFAULT_BUDGET_BYTES = 64 * 1024 * 1024;

/** Connections open at once, unless told otherwise. */
export const DEFAULT_MAX_CONNECTIONS = 1000;

/** What a client is told when the server will not hold more for it (budget or connections). */
export const BUSY = 'server busy';

/**
 * The server's memory budget: the bytes held for all connections at once. Each connection keeps
 * its own share up to date (its line in progress and its answers queued) through resize(); a
 * share may always shrink, and may grow only while the total stays within the limit.
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

  /**
   * One connection's share goes from `before` to `after` bytes. Returns false, and changes
   * nothing, when the total would pass the limit. (A share that shrinks always fits: the total
   * never passes the limit, so it stays within it.)
   */
  resize(before: number, after: number): boolean {
    const total = this.held - before + after;
    if (total > this.limitBytes) return false;
    this.held = total;
    return true;
  }
}

/** The server: one LineDecoder and one line counter per connection, one budget for them all. */
export function createLineServer(options: LineServerOptions = {}): net.Server {
  const {
    log = () => {},
    maxLineBytes = DEFAULT_MAX_LINE_BYTES,
    lineTimeoutMs = DEFAULT_LINE_TIMEOUT_MS,
    budgetBytes = DEFAULT_BUDGET_BYTES,
    maxConnections = DEFAULT_MAX_CONNECTIONS,
  } = options;
  checkTimeout('lineTimeoutMs', lineTimeoutMs);
  if (!Number.isSafeInteger(maxConnections) || maxConnections < 1) {
    throw new RangeError(`maxConnections must be a whole number of at least 1, not ${maxConnections}`);
  }
  const budget = new Budget(budgetBytes);
  let open = 0;
  // allowHalfOpen: the client's FIN does not close our side by itself. We still have to answer
  // its last line (step 6), then we close.
  return net.createServer({ allowHalfOpen: true }, (socket) => {
    // Every open connection costs a file descriptor and kernel buffers, whatever it sends: past
    // maxConnections, the newcomer is told so and closed, and those already here are served.
    if (open >= maxConnections) {
      log(`client ${peerAddress(socket)} refused: ${maxConnections} connections already open`);
      socket.on('error', () => {}); // a reset from a client we turn away is not news
      return turnAway(socket, `error: ${BUSY}\n`);
    }
    open += 1;
    socket.once('close', () => {
      open -= 1;
    });
    handleConnection(socket, log, maxLineBytes, lineTimeoutMs, budget);
  });
}

/**
 * Turns a client away with a last line. What it sends meanwhile is read and dropped (unread bytes
 * would make our close a reset, which can wipe out that line), and a client that never stops
 * sending is destroyed after LINGER_MS.
 */
function turnAway(socket: net.Socket, lastLine: string): void {
  socket.end(lastLine);
  socket.resume();
  const linger = setTimeout(() => socket.destroy(), LINGER_MS);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
}

// region connection
/** One connection: read lines, answer each `<n> <line>`, close politely. */
export function handleConnection(
  socket: net.Socket,
  log: Log,
  maxLineBytes: number,
  lineTimeoutMs: number,
  budget: Budget,
): void {
  const peer = peerAddress(socket);
  log(`client connected from ${peer}`);
  // Without an 'error' listener, one client's reset would crash the whole server (lesson 02).
  socket.on('error', (error) => log(`client ${peer} failed: ${describeError(error)}`));
  socket.on('close', () => log(`client ${peer} closed`));

  // region step-5
  // TODO(5): answer each line `<n> <line>`, n counting this connection's lines from 1. Each
  // connection has its own LineDecoder (steps 1 to 4, with maxLineBytes) and its own counter: on
  // 'data', push the chunk and collect the answers to the lines it completes. Send one chunk's
  // answers in one write, and respect backpressure: when write() says Node's buffer is full, read
  // no more from this client until it drains, or a client that never reads its answers makes
  // the server queue them without bound. Node docs: socket.write(), event 'drain',
  // socket.pause(). README step 5. (Steps 7 and 8 add to this code; their stubs below,
  // keepDeadline(), refuse(), claim() and tooMuch(), do nothing yet.)

  // Until the steps are done, every client is told what is missing. Delete this line.
  socket.end('TODO(5): answer each line in handleConnection() — see README step 5\n');
  // endregion step-5

  // region step-6
  // TODO(6): the client half-closed: its 'end' event says every byte has arrived (the server has
  // allowHalfOpen, so our side stays open). A last line without \n is a line too (the decoder's
  // end()): answer it, then close our side, after the answers. README step 6.
  // endregion step-6

  // region step-7
  // TODO(7): end a connection that could hold the server for ever, in two cases.
  // A line too long: the decoder's push() and end() throw a LineTooLongError. Catch it in your
  // 'data' and 'end' listeners and hand it to refuse() (any other error is a bug: throw it on).
  // Answer the lines before it, log `client IP:PORT sent a line longer than N bytes: closing`,
  // and end with the line `error: <its message>`. Then keep reading what the client still sends,
  // and drop it: unread bytes at close make the kernel send a reset, which can wipe out the
  // error line. A client that never stops sending is destroyed after LINGER_MS.
  // A line too slow: once a line has begun it must end within lineTimeoutMs. Call keepDeadline()
  // after each chunk: a line that ended stops the clock; held bytes (decoder.pendingBytes) and no
  // clock running start it. When it fires, log `client IP:PORT too slow: line not complete after
  // N ms, closing` and end as for a line too long. No timer may outlive its socket, and
  // socket.setTimeout() will not do: that idle timer restarts with every byte.
  // README step 7, and "Robustness: what bounds the server".
  const keepDeadline = (lineEnded: boolean) => {};
  const refuse = (error: unknown) => {
    throw error; // until step 7, a line too long escapes the 'data' listener
  };
  // endregion step-7

  // region step-8
  // TODO(8): one memory budget for the whole server. This connection's share is what the server
  // holds for it: its line in progress (decoder.pendingBytes) and its answers not yet taken by
  // the kernel (socket.writableLength). Keep it up to date with budget.resize(): in claim(),
  // before each write (with the bytes about to be written: Buffer.byteLength()), once the kernel
  // took them (write()'s callback), and back to 0 on 'close'. When the budget refuses, those
  // answers are not written: tooMuch() logs `client IP:PORT refused: over the budget of N bytes
  // for all clients, closing` and ends as in step 7, with `error: server busy` (BUSY). README
  // step 8.
  const claim = (more = 0): boolean => true;
  const tooMuch = () => {};
  // endregion step-8
}
// endregion connection

// region program
/** The command line of server.ts (`--help` lists it). */
export const program: ServerProgram = {
  spec: {
    name: 'server.ts',
    summary: 'Answers every line `<n> <line>`, n counting the lines of each connection from 1.',
    options: {
      'max-line': {
        type: 'string',
        value: 'BYTES',
        description: `longest line accepted, in bytes (default ${DEFAULT_MAX_LINE_BYTES})`,
      },
      timeout: {
        type: 'string',
        value: 'MS',
        description: `a line must end (\\n) within MS ms of its first byte, or the connection is closed (default ${DEFAULT_LINE_TIMEOUT_MS}); idle between lines is fine`,
      },
      budget: {
        type: 'string',
        value: 'BYTES',
        description: `bytes held for all clients at once, lines in progress and answers queued; a client that would pass it gets \`error: ${BUSY}\` (default ${DEFAULT_BUDGET_BYTES})`,
      },
      'max-connections': {
        type: 'string',
        value: 'N',
        description: `connections open at once; one more gets \`error: ${BUSY}\` (default ${DEFAULT_MAX_CONNECTIONS})`,
      },
    },
  },
  create: (cli) =>
    createLineServer({
      log: console.log,
      maxLineBytes: cli.integer('max-line', DEFAULT_MAX_LINE_BYTES, { min: 1, max: MAX_LINE_LIMIT }),
      lineTimeoutMs: cli.milliseconds('timeout', DEFAULT_LINE_TIMEOUT_MS),
      budgetBytes: cli.integer('budget', DEFAULT_BUDGET_BYTES, { min: 1 }),
      maxConnections: cli.integer('max-connections', DEFAULT_MAX_CONNECTIONS, { min: 1 }),
    }),
};

if (isMain(import.meta.url)) runServerProgram(program);
// endregion program
