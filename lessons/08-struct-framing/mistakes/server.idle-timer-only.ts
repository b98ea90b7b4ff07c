/**
 * MISTAKE: the deadline is socket.setTimeout(), an IDLE timer, so a client that trickles a frame
 * one byte at a time holds its connection for as long as it likes.
 *
 * It seems to work: a client that connects and sends nothing is cut off after --timeout ms, and
 * so is one that stops in the middle of a frame. Typing into nc and walking away shows the log
 * line. But 'timeout' only fires after that long with NO activity, and every byte is activity
 * that restarts it. A client sending one byte every few seconds, forever, never trips it: each
 * such slowloris holds a connection and its half-received frame, and a few thousand of them use
 * up the server's connections. Only a complete frame may restart the deadline (refresh() in the
 * solution), whatever trickles in between.
 * @caught-by step 8: close a connection that breaks the framing or is too slow, log it, and carry on › a frame trickled a byte at a time
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

  // The mistake: 'timeout' fires after frameTimeoutMs of silence, but each byte that arrives
  // restarts the countdown, frame complete or not.
  socket.setTimeout(limits.frameTimeoutMs);
  socket.on('timeout', () => {
    log(`client ${peer} too slow: frame not complete after ${limits.frameTimeoutMs} ms, closing`);
    socket.destroy();
  });

  socket.on('data', (chunk: Buffer) => {
    let frames: Buffer[];
    try {
      frames = decoder.push(chunk);
    } catch (error) {
      log(`client ${peer}: ${words(error)}, closing the connection`);
      socket.destroy();
      return;
    }
    for (const frame of frames) {
      if (!socket.write(encodeFrame(frame)) && !socket.isPaused()) {
        socket.pause();
        socket.once('drain', () => socket.resume());
      }
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
  socket.on('close', () => log(`client ${peer} closed`));
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
