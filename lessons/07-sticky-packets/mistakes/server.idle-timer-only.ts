/**
 * MISTAKE: guards against slow clients with socket.setTimeout(), an idle timer, instead of a
 * deadline for the line in progress.
 *
 * It looks like the textbook fix, and it seems to work: connect with nc, type half a line, stop,
 * and after --timeout ms the server says `error: line not complete after N ms` and closes. But
 * setTimeout() on a socket fires only after that long with NO activity, and every byte is
 * activity that starts the clock again. A client that sends one byte a second (slowloris) never
 * lets it fire, and holds the connection, and the bytes of its unfinished line, for as long as it
 * likes. It is also wrong the other way: a client idle between two lines, with nothing held, is
 * cut off although nothing of it is late. The tests trickle a line one byte at a time, and keep
 * a client idle between lines, and catch both.
 * @caught-by step 7: a line too long or too slow closes the connection › a line trickled one byte at a time is cut off lineTimeoutMs after its first byte
 */
import net from 'node:net';
import { describeError, isMain, peerAddress, runServerProgram } from '@course/program';
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

export function createLineServer(options: LineServerOptions = {}): net.Server {
  const {
    log = () => {},
    maxLineBytes = DEFAULT_MAX_LINE_BYTES,
    lineTimeoutMs = DEFAULT_LINE_TIMEOUT_MS,
  } = options;
  return net.createServer({ allowHalfOpen: true }, (socket) =>
    handleConnection(socket, log, maxLineBytes, lineTimeoutMs),
  );
}

export function handleConnection(
  socket: net.Socket,
  log: Log,
  maxLineBytes: number,
  lineTimeoutMs: number,
): void {
  const peer = peerAddress(socket);
  log(`client connected from ${peer}`);
  socket.on('error', (error) => log(`client ${peer} failed: ${describeError(error)}`));
  socket.on('close', () => log(`client ${peer} closed`));

  const decoder = new LineDecoder({ maxLineBytes });
  let count = 0;
  let answers: string[] = [];
  const answer = (line: string) => {
    count += 1;
    answers.push(`${count} ${line}\n`);
  };
  const flush = () => {
    if (answers.length === 0) return;
    const text = answers.join('');
    answers = [];
    if (!socket.write(text)) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
  };

  // The mistake: an idle timer. It fires after lineTimeoutMs without a byte, and every byte
  // restarts it, so a trickling client is never late; and an idle client that owes nothing is.
  socket.setTimeout(lineTimeoutMs);
  socket.on('timeout', () => {
    const late = `line not complete after ${lineTimeoutMs} ms`;
    endWithError(late, `client ${peer} too slow: ${late}, closing`);
  });

  let refused = false;
  socket.on('data', (chunk: Buffer) => {
    if (refused) return;
    try {
      decoder.push(chunk, answer);
    } catch (error) {
      return refuse(error);
    }
    flush();
  });

  socket.on('end', () => {
    socket.setTimeout(0);
    if (refused) return;
    try {
      decoder.end(answer);
    } catch (error) {
      return refuse(error);
    }
    flush();
    socket.end();
  });

  const refuse = (error: unknown) => {
    if (!(error instanceof LineTooLongError)) throw error;
    endWithError(error.message, `client ${peer} sent a line longer than ${maxLineBytes} bytes: closing`);
  };

  const endWithError = (reason: string, logLine: string) => {
    refused = true;
    socket.setTimeout(0);
    flush();
    log(logLine);
    socket.end(`error: ${reason}\n`);
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
