/**
 * MISTAKE: stops the frame deadline while the server is paused for backpressure, and starts it
 * again on 'drain', as if waiting for the client to read were the server's own delay.
 *
 * It looks fair: the client is not late with its frames, the server stopped reading them. And
 * every test with a client that reads passes. But a client that sends and never reads keeps the
 * server paused for ever, so its connection, its buffered bytes and the echoes queued for it are
 * never let go: the deadline is what bounds that client too. The tests send megabytes without
 * reading and wait for the server to cut the connection off after the deadline.
 * @caught-by step 8: close a connection that breaks the framing or is too slow, log it, and carry on › a client that sends but never reads is cut off at the deadline too
 */
import net from 'node:net';
import { describeError, isMain, peerAddress, runServerProgram } from '@course/program';
import { encodeFrame, FrameDecoder, FramingError, MAX_FRAME_BYTES } from '../solution/framing.ts';
import {
  Budget,
  type ConnectionLimits,
  DEFAULT_BUDGET_BYTES,
  DEFAULT_FRAME_TIMEOUT_MS,
  type Log,
  program,
  type ServerOptions,
} from '../solution/server.ts';

export * from '../solution/server.ts';

export function createEchoServer(options: ServerOptions = {}): net.Server {
  const {
    log = () => {},
    maxFrameBytes = MAX_FRAME_BYTES,
    frameTimeoutMs = DEFAULT_FRAME_TIMEOUT_MS,
  } = options;
  return net.createServer((socket) =>
    handleConnection(socket, log, {
      maxFrameBytes,
      frameTimeoutMs,
      budget: new Budget(DEFAULT_BUDGET_BYTES),
    }),
  );
}

/** `a frame of 2147483648 bytes is over the limit of 16777216 bytes (EFRAMETOOLARGE)` */
function framingWords(error: unknown): string {
  return error instanceof FramingError ? `${error.message} (${error.code})` : describeError(error);
}

/**
 * One connection: decode the frames as the chunks arrive, and write each one back as a frame.
 */
export function handleConnection(socket: net.Socket, log: Log, limits: ConnectionLimits): void {
  const peer = peerAddress(socket);
  log(`client connected from ${peer}`);
  const decoder = new FrameDecoder({ maxFrameBytes: limits.maxFrameBytes });

  // The deadline: the next frame must be complete within frameTimeoutMs. Only a complete frame
  // restarts it (refresh() below), never a mere byte: socket.setTimeout() would be an idle timer,
  // which every byte restarts, and a client sending one byte a second would hold on forever.
  const deadline = setTimeout(() => {
    log(`client ${peer} too slow: frame not complete after ${limits.frameTimeoutMs} ms, closing`);
    socket.destroy(); // the protocol has no error frame: the log line is the explanation
  }, limits.frameTimeoutMs);

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
    // At least one frame complete: the next one gets frameTimeoutMs from now.
    if (frames.length > 0) deadline.refresh();
    for (const frame of frames) {
      // write() returns false once this socket's queue is full: the client reads slower than it
      // sends. Stop reading from it until the queue drains, so that memory stays bounded.
      if (!socket.write(encodeFrame(frame)) && !socket.isPaused()) {
        socket.pause();
        // The mistake: the clock stops while paused, and starts again on 'drain'.
        clearTimeout(deadline);
        socket.once('drain', () => {
          deadline.refresh();
          socket.resume();
        });
      }
    }
  });

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

  // Without an 'error' listener, a client's reset (ECONNRESET) would crash the whole server.
  socket.on('error', (error) => log(`client ${peer} failed: ${describeError(error)}`));
  socket.on('close', () => {
    clearTimeout(deadline); // no timer may outlive its connection
    log(`client ${peer} closed`);
  });
}

if (isMain(import.meta.url))
  runServerProgram({
    ...program,
    create: (cli) =>
      createEchoServer({
        log: console.log,
        maxFrameBytes: cli.integer('max-frame-bytes', MAX_FRAME_BYTES, { min: 0, max: 0xffff_ffff }),
        frameTimeoutMs: cli.milliseconds('timeout', DEFAULT_FRAME_TIMEOUT_MS),
      }),
  });
