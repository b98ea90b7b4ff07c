/**
 * MISTAKE: the line's deadline is never cleared when the connection ends: no clearTimeout() on
 * 'end' or on 'close'.
 *
 * Every client is answered and every slow line cut off on time, so it looks finished. But a
 * client that sends half a line and then half-closes, or resets, leaves its timer running after
 * its socket is gone. lineTimeoutMs later it fires for nobody: the log says `too slow` about a
 * client that left long ago, the server writes to a closed socket, and until then the timer
 * keeps the socket's memory alive (thousands of them on a busy server). The tests end a half
 * line with a FIN and another with a reset, and watch the log for twice the deadline.
 * @caught-by step 7: a line too long or too slow closes the connection › a line cut short by a FIN or a reset leaves no deadline behind
 */
import net from 'node:net';
import { checkTimeout, describeError, isMain, peerAddress, runServerProgram } from '@course/program';
import { DEFAULT_MAX_LINE_BYTES, LineDecoder, LineTooLongError } from '../solution/line-decoder.ts';
import {
  DEFAULT_LINE_TIMEOUT_MS,
  LINGER_MS,
  type LineServerOptions,
  type Log,
  MAX_LINE_LIMIT,
  program,
} from '../solution/server.ts';

export * from '../solution/server.ts';

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
    // The mistake: the deadline keeps running after the last byte.
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

if (isMain(import.meta.url))
  runServerProgram({
    ...program,
    create: (cli) =>
      createLineServer({
        log: console.log,
        maxLineBytes: cli.integer('max-line', DEFAULT_MAX_LINE_BYTES, { min: 1, max: MAX_LINE_LIMIT }),
        lineTimeoutMs: cli.milliseconds('timeout', DEFAULT_LINE_TIMEOUT_MS),
      }),
  });
