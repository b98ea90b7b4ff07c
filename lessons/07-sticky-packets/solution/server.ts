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
  // Step 5: one decoder and one counter per connection; every line answered `<n> <line>`.
  const decoder = new LineDecoder({ maxLineBytes });
  let count = 0;
  let answers: string[] = [];
  const answer = (line: string) => {
    count += 1;
    answers.push(`${count} ${line}\n`);
  };

  // The answers to one chunk's lines leave in one write. When the kernel's send buffer and
  // Node's queue are full (write() returns false), stop reading until 'drain': a client that
  // sends lines but never reads the answers cannot make us queue without bound. Returns false
  // when the answers, with what this connection already holds, do not fit the server's budget
  // (step 8): they are dropped then.
  const flush = (): boolean => {
    const text = answers.join('');
    answers = [];
    if (!claim(Buffer.byteLength(text))) return false;
    if (text === '') return true;
    // Once the kernel has taken them, they no longer count (the callback comes after that).
    const fits = socket.write(text, () => claim());
    if (!fits) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
    return true;
  };

  socket.on('data', (chunk: Buffer) => {
    // After our last word (an error line, step 7), what the client still sends is dropped.
    if (socket.writableEnded) return;
    const answered = count;
    try {
      decoder.push(chunk, answer);
    } catch (error) {
      return refuse(error);
    }
    if (!flush()) return tooMuch();
    keepDeadline(count !== answered);
  });
  // endregion step-5

  // region step-6
  // Step 6: the client half-closed, so every byte has arrived. A last line without \n is
  // answered too, then we close our side.
  socket.on('end', () => {
    if (socket.writableEnded) return;
    try {
      decoder.end(answer);
    } catch (error) {
      return refuse(error);
    }
    if (!flush()) return tooMuch();
    socket.end(); // our FIN goes out after every queued answer
  });
  // endregion step-6

  // region step-7
  // Step 7: the deadline of the line in progress. It starts with the first byte of a line and
  // stops when the line is complete, so only a whole line resets it. (socket.setTimeout() is an
  // idle timer: every byte restarts it, and a client trickling one byte a second never trips
  // it.) No line started, no timer: a connection may stay idle between lines, holding no bytes.
  // The clock also runs while we pause for 'drain': a client that neither ends its line nor
  // reads our answers for that long is one to let go of too.
  let deadline: NodeJS.Timeout | undefined;
  const stopDeadline = () => {
    clearTimeout(deadline);
    deadline = undefined;
  };
  socket.on('end', stopDeadline); // every byte has arrived: nothing is late any more
  socket.on('close', stopDeadline); // no timer outlives its socket

  // After each chunk. A line ended in it: its deadline was met. Held bytes are a line in
  // progress: one that started in this chunk gets a fresh deadline, one still going keeps its own.
  const keepDeadline = (lineEnded: boolean) => {
    if (lineEnded) stopDeadline();
    if (decoder.pendingBytes > 0 && deadline === undefined) {
      deadline = setTimeout(() => {
        deadline = undefined;
        const late = `line not complete after ${lineTimeoutMs} ms`;
        endWithError(late, `client ${peer} too slow: ${late}, closing`);
      }, lineTimeoutMs);
    }
  };

  // A line too long: push() or end() threw. Anything else thrown is a bug, and is thrown on.
  const refuse = (error: unknown) => {
    if (!(error instanceof LineTooLongError)) throw error;
    endWithError(error.message, `client ${peer} sent a line longer than ${maxLineBytes} bytes: closing`);
  };

  // A line too long or too slow (or over the budget, step 8) ends the connection the same way:
  // the answers already collected, one log line, `error: <reason>`, then our FIN.
  const endWithError = (reason: string, logLine: string) => {
    stopDeadline();
    flush(); // the lines before the refused one are answered first, if the budget allows
    log(logLine);
    socket.end(`error: ${reason}\n`);
    // Keep reading, and drop it: closing a socket with unread bytes makes the kernel send a
    // reset, and a reset can wipe out the error line before the client reads it.
    socket.resume();
    const linger = setTimeout(() => socket.destroy(), LINGER_MS);
    linger.unref();
    socket.once('close', () => clearTimeout(linger));
  };
  // endregion step-7

  // region step-8
  // Step 8: this connection's share of the server's budget: the bytes of its line in progress
  // and of its answers not yet handed to the kernel (socket.writableLength), plus `more` about
  // to be written. False, and the share unchanged, when the server cannot hold that much.
  let share = 0;
  const claim = (more = 0): boolean => {
    const next = decoder.pendingBytes + socket.writableLength + more;
    if (!budget.resize(share, next)) return false;
    share = next;
    return true;
  };
  // Whatever it held, the server holds no longer. (A write cancelled by a reset calls its
  // callback before 'close', so nothing claims a share after this.)
  socket.on('close', () => budget.resize(share, 0));

  // This connection would take the server over its budget. Its answers not yet written are
  // dropped (they are what does not fit); those already queued still go out first.
  const tooMuch = () =>
    endWithError(
      BUSY,
      `client ${peer} refused: over the budget of ${budget.limitBytes} bytes for all clients, closing`,
    );
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
