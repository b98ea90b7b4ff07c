/**
 * MISTAKE: pauses on backpressure, but adds a 'drain' listener for every write() that returned
 * false, not once per pause: `if (!socket.write(f)) { socket.pause(); socket.once('drain', …) }`
 * with no `socket.isPaused()` check.
 *
 * It looks like the textbook pattern, memory stays bounded and every echo arrives, so nothing
 * seems wrong. But a chunk holds many frames, and once the queue is full every write of that
 * chunk returns false: hundreds of listeners wait for the same 'drain', each to call resume()
 * once. Node warns (MaxListenersExceededWarning) past ten; it is a leak that grows with the
 * frames per chunk. The tests send a big frame followed by many small ones in each chunk, from
 * a client that does not read, and count the 'drain' listeners while the server is paused.
 * @caught-by step 7: respect backpressure › many small frames per chunk from a client that does not read
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

export function handleConnection(socket: net.Socket, log: Log, limits: ConnectionLimits): void {
  const peer = peerAddress(socket);
  log(`client connected from ${peer}`);
  const decoder = new FrameDecoder({ maxFrameBytes: limits.maxFrameBytes });
  const words = (error: unknown) =>
    error instanceof FramingError ? `${error.message} (${error.code})` : describeError(error);
  const deadline = setTimeout(() => {
    log(`client ${peer} too slow: frame not complete after ${limits.frameTimeoutMs} ms, closing`);
    socket.destroy();
  }, limits.frameTimeoutMs);
  socket.on('data', (chunk: Buffer) => {
    try {
      const frames = decoder.push(chunk);
      if (frames.length > 0) deadline.refresh();
      for (const frame of frames) {
        // The mistake: one 'drain' listener for every write that returned false, even while
        // already paused and waiting for the same 'drain'.
        if (!socket.write(encodeFrame(frame))) {
          socket.pause();
          socket.once('drain', () => socket.resume());
        }
      }
    } catch (error) {
      log(`client ${peer}: ${words(error)}, closing the connection`);
      socket.destroy();
    }
  });
  socket.on('end', () => {
    try {
      decoder.end();
    } catch (error) {
      log(`client ${peer}: ${words(error)}`);
    }
    socket.end();
  });
  socket.on('error', (error) => log(`client ${peer} failed: ${describeError(error)}`));
  socket.on('close', () => {
    clearTimeout(deadline);
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
