/**
 * Lesson 07: a line server that cannot be fooled by the way TCP cuts the stream.
 *
 * Every line a client sends (ending in `\n` or `\r\n`, UTF-8) is answered `<n> <line>\n`, where n
 * counts the lines of that connection from 1. Three lines in one write, or one byte per write,
 * get the same three answers. When the client half-closes, a last line without `\n` is answered
 * too, then the server closes. A line longer than --max-line bytes gets
 * `error: line longer than N bytes` and the connection is closed.
 *
 *   npx tsx lessons/07-sticky-packets/solution/server.ts --port 9000
 *   printf 'hello\nbyebye\nagain,bye\n' | nc -N 127.0.0.1 9000     → 1 hello, 2 byebye, 3 again,bye
 */
import net from 'node:net';
import { describeError, isMain, peerAddress, runServerProgram, type ServerProgram } from '@course/program';
import { DEFAULT_MAX_LINE_BYTES, LineDecoder, LineTooLongError } from './line-decoder.ts';

/** Where the server writes its one line per client event (console.log in the program). */
export type Log = (line: string) => void;

export interface LineServerOptions {
  log?: Log;
  /** The longest line accepted, in bytes, not counting its line ending. Default 65536. */
  maxLineBytes?: number;
}

/**
 * After refusing a line, how long the server keeps reading (and dropping) what the client still
 * sends, so that its error line is not lost to a reset, before it gives up on the client.
 */
export const LINGER_MS = 2_000;

/** The largest --max-line the program accepts: 16 MiB. A line protocol has no use for more. */
export const MAX_LINE_LIMIT = 16 * 1024 * 1024;

/** The server: one LineDecoder and one line counter per connection. */
export function createLineServer(options: LineServerOptions = {}): net.Server {
  const { log = () => {}, maxLineBytes = DEFAULT_MAX_LINE_BYTES } = options;
  // allowHalfOpen: the client's FIN does not close our side by itself. We still have to answer
  // its last line (step 6), then we close.
  return net.createServer({ allowHalfOpen: true }, (socket) => handleConnection(socket, log, maxLineBytes));
}

// region connection
/** One connection: read lines, answer each `<n> <line>`, close politely. */
export function handleConnection(socket: net.Socket, log: Log, maxLineBytes: number): void {
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
    },
  },
  create: (cli) =>
    createLineServer({
      log: console.log,
      maxLineBytes: cli.integer('max-line', DEFAULT_MAX_LINE_BYTES, { min: 1, max: MAX_LINE_LIMIT }),
    }),
};

if (isMain(import.meta.url)) runServerProgram(program);
// endregion program
