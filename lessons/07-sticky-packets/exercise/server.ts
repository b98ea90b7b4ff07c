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

  // TODO(5): answer each line. Make one LineDecoder({ maxLineBytes }) and one line counter for
  // this connection. On 'data', push the chunk into the decoder; for each line it gives you,
  // count it and answer `${count} ${line}\n`. Collect the answers of one chunk and write them
  // with one socket.write(); when write() returns false, socket.pause() until 'drain'.

  // TODO(6): the client half-closed ('end'): every byte has arrived. decoder.end() gives the
  // last line if it had no \n: answer it too, then socket.end() to close our side.

  // TODO(7): a line too long: push() or end() throws a LineTooLongError (any other error is a
  // bug: throw it on). Answer the lines before it, log `client IP:PORT sent a line longer than
  // N bytes: closing`, then socket.end(`error: ${error.message}\n`). From then on ignore what
  // the client sends, but keep reading (socket.resume()) so that the kernel does not answer
  // unread bytes with a reset; destroy the socket if it is still open after LINGER_MS.
  // A line too slow ends the same way: once a line has started (decoder.pendingBytes > 0 after
  // a push, and no timer running), setTimeout(..., lineTimeoutMs); clearTimeout when a line is
  // complete (the counter moved during the push), on 'end' and on 'close'. When it fires, log
  // `client IP:PORT too slow: line not complete after N ms, closing` and end with
  // `error: line not complete after N ms`. Not socket.setTimeout(): every byte restarts it.

  // Until the steps above are done, every client is told what is missing. Delete this line.
  socket.end('TODO(5): answer each line in handleConnection() — see README step 5\n');
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
