/**
 * Lesson 08: an echo server for length-prefixed frames.
 *
 * Every frame a client sends comes back to it unchanged, in order, however the network cut the
 * stream. A client that reads slower than it sends is not buffered without bound (backpressure),
 * a client that announces a frame over the limit is cut off, alone, and so is a client too slow
 * to complete its next frame in time (a deadline): the others carry on.
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
}

/** What handleConnection() needs to know: the limits of ServerOptions, defaults filled in. */
export interface ConnectionLimits {
  maxFrameBytes: number;
  frameTimeoutMs: number;
}

/** The echo server: handleConnection() for every client. Not listening yet. */
export function createEchoServer(options: ServerOptions = {}): net.Server {
  const {
    log = () => {},
    maxFrameBytes = MAX_FRAME_BYTES,
    frameTimeoutMs = DEFAULT_FRAME_TIMEOUT_MS,
  } = options;
  checkTimeout('frameTimeoutMs', frameTimeoutMs);
  return net.createServer((socket) => handleConnection(socket, log, { maxFrameBytes, frameTimeoutMs }));
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
    },
  },
  create: (cli) =>
    createEchoServer({
      log: console.log,
      maxFrameBytes: cli.integer('max-frame-bytes', MAX_FRAME_BYTES, { min: 0, max: MAX_HEADER_LENGTH }),
      frameTimeoutMs: cli.milliseconds('timeout', DEFAULT_FRAME_TIMEOUT_MS),
    }),
};

if (isMain(import.meta.url)) runServerProgram(program);
// endregion program
