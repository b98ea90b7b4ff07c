/**
 * MISTAKE: no budget for the whole server. Every connection is bounded on its own (a maximum line,
 * backpressure on its answers), and no connection cap.
 *
 * Each client alone looks harmless: the server pauses a client that does not read its answers,
 * and refuses a line too long. But "paused" still holds what was queued before the pause: one
 * chunk of 64 KiB of `\n` is 65,536 answers, about half a megabyte queued at once. Two hundred
 * clients doing that took a real server from 79 to 265 MB. Only a bound on the bytes held for all
 * clients together holds the total. The tests flood empty lines from four clients that never read
 * and add up what the server queues, hold half lines from two clients, and open one connection
 * more than allowed.
 * @caught-by step 8: a budget for the whole server › clients that send empty lines and never read
 * @caught-by step 8: a budget for the whole server › lines in progress count
 * @caught-by step 8: a budget for the whole server › one connection more than maxConnections
 */
import net from 'node:net';

export { BUSY, Budget, DEFAULT_BUDGET_BYTES, DEFAULT_MAX_CONNECTIONS } from '../solution/server.ts';

import {
  checkTimeout,
  describeError,
  isMain,
  peerAddress,
  runServerProgram,
  type ServerProgram,
} from '@course/program';
import { DEFAULT_MAX_LINE_BYTES, LineDecoder, LineTooLongError } from '../solution/line-decoder.ts';

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

/** The server: one LineDecoder and one line counter per connection. */
export function createLineServer(options: LineServerOptions = {}): net.Server {
  const {
    log = () => {},
    maxLineBytes = DEFAULT_MAX_LINE_BYTES,
    lineTimeoutMs = DEFAULT_LINE_TIMEOUT_MS,
  } = options;
  checkTimeout('lineTimeoutMs', lineTimeoutMs);
  // allowHalfOpen: the client's FIN does not close our side by itself. We still have to answer
  // its last line (step 6), then we close.
  return net.createServer({ allowHalfOpen: true }, (socket) =>
    handleConnection(socket, log, maxLineBytes, lineTimeoutMs),
  );
}

// region connection
/** One connection: read lines, answer each `<n> <line>`, close politely. */
export function handleConnection(
  socket: net.Socket,
  log: Log,
  maxLineBytes: number,
  lineTimeoutMs: number,
): void {
  const peer = peerAddress(socket);
  log(`client connected from ${peer}`);
  // Without an 'error' listener, one client's reset would crash the whole server (lesson 02).
  socket.on('error', (error) => log(`client ${peer} failed: ${describeError(error)}`));
  socket.on('close', () => log(`client ${peer} closed`));

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
  // sends lines but never reads the answers cannot make us queue without bound.
  const flush = () => {
    if (answers.length === 0) return;
    const text = answers.join('');
    answers = [];
    if (!socket.write(text)) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
  };

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
  socket.on('close', stopDeadline); // no timer outlives its socket

  let refused = false;
  socket.on('data', (chunk: Buffer) => {
    if (refused) return; // what a refused client still sends is dropped (step 7)
    const answered = count;
    try {
      decoder.push(chunk, answer);
    } catch (error) {
      return refuse(error);
    }
    flush();
    // A line ended in this chunk: its deadline was met. Held bytes are a line in progress: one
    // that started in this chunk gets a fresh deadline, one still going keeps the one it has.
    if (count !== answered) stopDeadline();
    if (decoder.pendingBytes > 0 && deadline === undefined) {
      deadline = setTimeout(() => {
        deadline = undefined;
        const late = `line not complete after ${lineTimeoutMs} ms`;
        endWithError(late, `client ${peer} too slow: ${late}, closing`);
      }, lineTimeoutMs);
    }
  });

  // Step 6: the client half-closed, so every byte has arrived. A last line without \n is
  // answered too, then we close our side.
  socket.on('end', () => {
    stopDeadline(); // every byte has arrived: nothing is late any more
    if (refused) return;
    try {
      decoder.end(answer);
    } catch (error) {
      return refuse(error);
    }
    flush();
    socket.end(); // our FIN goes out after every queued answer
  });

  // Step 7: a line too long. Anything else thrown is a bug, and is thrown on.
  const refuse = (error: unknown) => {
    if (!(error instanceof LineTooLongError)) throw error;
    endWithError(error.message, `client ${peer} sent a line longer than ${maxLineBytes} bytes: closing`);
  };

  // Step 7: a line too long or too slow ends the connection the same way: the answers already
  // collected, one log line, `error: <reason>`, then our FIN.
  const endWithError = (reason: string, logLine: string) => {
    refused = true;
    stopDeadline();
    flush(); // the lines before the refused one are answered first
    log(logLine);
    socket.end(`error: ${reason}\n`);
    // Keep reading, and drop it: closing a socket with unread bytes makes the kernel send a
    // reset, and a reset can wipe out the error line before the client reads it.
    socket.resume();
    const linger = setTimeout(() => socket.destroy(), LINGER_MS);
    linger.unref();
    socket.once('close', () => clearTimeout(linger));
  };
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
    },
  },
  create: (cli) =>
    createLineServer({
      log: console.log,
      maxLineBytes: cli.integer('max-line', DEFAULT_MAX_LINE_BYTES, { min: 1, max: MAX_LINE_LIMIT }),
      lineTimeoutMs: cli.milliseconds('timeout', DEFAULT_LINE_TIMEOUT_MS),
    }),
};

if (isMain(import.meta.url)) runServerProgram(program);
// endregion program
