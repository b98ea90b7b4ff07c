/**
 * MISTAKE: sends every frame without looking at what write() returns.
 *
 * Node's write() never refuses bytes: it queues what the kernel cannot take yet, so the file
 * arrives whole and every test of the happy path passes. This is Python's sendall() habit. But
 * a read stream reads far faster than a network sends, so the whole file ends up queued in the
 * client's memory: 200 MB of file, 200 MB of RAM, and a 20 GB file does not fit at all.
 * write()'s false means "stop until 'drain'". The test writes into a stand-in socket that drains
 * slowly and counts the frames written while its buffer is full.
 *
 * @caught-by step 8: send the body in frames, with backpressure › never writes while the socket’s buffer is full
 */
import { createReadStream } from 'node:fs';
import net from 'node:net';
import { basename } from 'node:path';
import type { Writable } from 'node:stream';
import { describeError, formatAddress, isMain } from '@course/program';
import {
  DEFAULT_TIMEOUT_MS,
  hashFile,
  MAX_ANSWER_BYTES,
  READ_CHUNK_BYTES,
  runClient,
  type SendOptions,
  type Stored,
  UploadError,
  type UploadOptions,
} from '../solution/client.ts';
import {
  BODY_FRAME_BYTES,
  encodeFrame,
  FrameDecoder,
  fileProblem,
  jsonFrame,
  parseAnswer,
  type UploadHeader,
} from '../solution/protocol.ts';

export * from '../solution/client.ts';

export async function sendBody(
  source: AsyncIterable<Uint8Array>,
  out: Writable,
  { size, frameBytes = BODY_FRAME_BYTES, onProgress }: SendOptions,
): Promise<void> {
  let sent = 0;
  for await (const chunk of source) {
    for (let offset = 0; offset < chunk.length; offset += frameBytes) {
      const piece = chunk.subarray(offset, offset + frameBytes);
      if (sent + piece.length > size) {
        throw new UploadError(`the file grew while it was being sent (more than ${size} bytes)`, 'ECHANGED');
      }
      sent += piece.length;
      out.write(encodeFrame(piece)); // the mistake: false is ignored, everything is queued
      onProgress?.(sent, size);
    }
  }
  if (sent !== size) {
    throw new UploadError(`the file shrank while it was being sent (${sent} of ${size} bytes)`, 'ECHANGED');
  }
}

/** `cannot connect to ...` before the connection is made, `connection to ... failed` after. */
function describeFailure(error: NodeJS.ErrnoException, where: string, connected: boolean): UploadError {
  const what = connected ? `connection to ${where} failed` : `cannot connect to ${where}`;
  return new UploadError(`${what}: ${describeError(error)}`, error.code ?? 'EUNKNOWN');
}

/** The solution's upload(), calling this file's sendBody. */
export async function upload(options: UploadOptions): Promise<Stored> {
  const { host = '127.0.0.1', port, file, frameBytes = BODY_FRAME_BYTES, onProgress } = options;
  const { timeoutMs = DEFAULT_TIMEOUT_MS } = options;
  const where = formatAddress(host, port);
  const { size, sha256 } = await hashFile(file).catch((error: NodeJS.ErrnoException) => {
    throw new UploadError(`cannot read ${file}: ${fileProblem(error)}`, error.code ?? 'EIO');
  });
  const header: UploadHeader = { name: basename(file), size, sha256 };

  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    // The second pass: exactly the bytes that were hashed (end is inclusive). None for an empty file.
    const highWaterMark = Math.max(READ_CHUNK_BYTES, frameBytes);
    const body = size > 0 ? createReadStream(file, { start: 0, end: size - 1, highWaterMark }) : null;
    const decoder = new FrameDecoder({ maxFrameBytes: MAX_ANSWER_BYTES });
    let connected = false;
    let settled = false;
    const settle = (error: Error | null, stored?: Stored) => {
      if (settled) return;
      settled = true;
      body?.on('error', () => {}).destroy();
      socket.destroy();
      if (error) reject(error);
      else resolve(stored as Stored);
    };

    socket.setTimeout(timeoutMs, () =>
      settle(new UploadError(`${where} sent nothing for ${timeoutMs} ms (ETIMEDOUT)`, 'ETIMEDOUT')),
    );
    socket.once('connect', () => {
      connected = true;
      socket.write(jsonFrame(header));
      onProgress?.(0, size);
      const sending = body ? sendBody(body, socket, { size, frameBytes, onProgress }) : Promise.resolve();
      // FIN after the last body byte: "that is all". The answer comes back on the same socket.
      sending.then(
        () => {
          if (!settled) socket.end();
        },
        (error: NodeJS.ErrnoException) =>
          settle(
            error instanceof UploadError
              ? error
              : new UploadError(`cannot read ${file}: ${fileProblem(error)}`, error.code ?? 'EIO'),
          ),
      );
    });
    // The answer may come before the body is all sent (a refused name, say): listen from the start.
    socket.on('data', (chunk: Buffer) => {
      try {
        const [frame] = decoder.push(chunk);
        if (frame === undefined) return;
        const answer = parseAnswer(frame);
        if (!answer.ok) return settle(new UploadError(answer.error, 'ESERVER'));
        if (answer.size !== size || answer.sha256 !== sha256) {
          return settle(new UploadError(`${where} answered ok for another file: ${frame}`, 'EPROTO'));
        }
        settle(null, answer);
      } catch (error) {
        settle(
          new UploadError(
            `${where} sent something that is not an answer: ${(error as Error).message}`,
            'EPROTO',
          ),
        );
      }
    });
    socket.on('end', () =>
      settle(new UploadError(`${where} closed the connection without answering`, 'ECONNRESET')),
    );
    socket.on('error', (error: NodeJS.ErrnoException) => settle(describeFailure(error, where, connected)));
  });
}

if (isMain(import.meta.url)) runClient(process.argv.slice(2), upload);
