/**
 * MISTAKE: ignores write()'s return value, so the server keeps reading from a client that does
 * not read its echoes.
 *
 * Every echo still arrives, and with clients that read as fast as they send nothing looks wrong.
 * But write() never refuses data: once the kernel's send buffer is full, Node queues the rest in
 * the server's memory. A client that sends frames and never reads makes the server hold
 * everything it sent: one such client can fill the server's memory.
 * @caught-by step 7: respect backpressure › a client that does not read
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
      // The mistake: write()'s `false` ("my queue is full, wait for 'drain'") is dropped.
      for (const frame of frames) socket.write(encodeFrame(frame));
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
