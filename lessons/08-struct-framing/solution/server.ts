/**
 * Lesson 08: an echo server for length-prefixed frames.
 *
 * Every frame a client sends comes back to it unchanged, in order, however the network cut the
 * stream. A client that reads slower than it sends is not buffered without bound (backpressure),
 * and a client that announces a frame over the limit is cut off, alone: the others carry on.
 *
 *   npx tsx lessons/08-struct-framing/solution/server.ts --port 9000
 *   printf '\000\000\000\005hello' | nc -N 127.0.0.1 9000 | od -An -c
 *        \0  \0  \0 005   h   e   l   l   o
 */
import net from 'node:net';
import { describeError, isMain, peerAddress, runServerProgram, type ServerProgram } from '@course/program';
import { encodeFrame, FrameDecoder, FramingError, MAX_FRAME_BYTES, MAX_HEADER_LENGTH } from './framing.ts';

/** Where the server writes its one line per client event (console.log in the program). */
export type Log = (line: string) => void;

export interface ServerOptions {
  log?: Log;
  /** The longest payload accepted from a client (default MAX_FRAME_BYTES, 16 MiB). */
  maxFrameBytes?: number;
}

/** The echo server: handleConnection() for every client. Not listening yet. */
export function createEchoServer(options: ServerOptions = {}): net.Server {
  const { log = () => {}, maxFrameBytes = MAX_FRAME_BYTES } = options;
  return net.createServer((socket) => handleConnection(socket, log, maxFrameBytes));
}

/** `a frame of 2147483648 bytes is over the limit of 16777216 bytes (EFRAMETOOLARGE)` */
function framingWords(error: unknown): string {
  return error instanceof FramingError ? `${error.message} (${error.code})` : describeError(error);
}

// region echo
/**
 * One connection: decode the frames as the chunks arrive, and write each one back as a frame.
 */
export function handleConnection(socket: net.Socket, log: Log, maxFrameBytes: number): void {
  const peer = peerAddress(socket);
  log(`client connected from ${peer}`);
  const decoder = new FrameDecoder({ maxFrameBytes });

  socket.on('data', (chunk: Buffer) => {
    let frames: Buffer[];
    try {
      frames = decoder.push(chunk);
    } catch (error) {
      // A header over the limit: its payload could be gigabytes, and nothing after it can be
      // trusted. Log it and drop this connection at once; every other client carries on.
      log(`client ${peer}: ${framingWords(error)}, closing the connection`);
      socket.destroy();
      return;
    }
    for (const frame of frames) {
      // write() returns false once this socket's queue is full: the client reads slower than it
      // sends. Stop reading from it until the queue drains, so that memory stays bounded.
      if (!socket.write(encodeFrame(frame)) && !socket.isPaused()) {
        socket.pause();
        socket.once('drain', () => socket.resume());
      }
    }
  });

  socket.on('end', () => {
    // The client is done sending. Bytes of an unfinished frame are a broken stream: log them.
    try {
      decoder.end();
    } catch (error) {
      log(`client ${peer}: ${framingWords(error)}`);
    }
    socket.end(); // our FIN, after every echo already written
  });

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
    },
  },
  create: (cli) =>
    createEchoServer({
      log: console.log,
      maxFrameBytes: cli.integer('max-frame-bytes', MAX_FRAME_BYTES, { min: 0, max: MAX_HEADER_LENGTH }),
    }),
};

if (isMain(import.meta.url)) runServerProgram(program);
// endregion program
