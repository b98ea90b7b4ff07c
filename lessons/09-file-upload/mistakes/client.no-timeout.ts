/**
 * MISTAKE: never gives up on a silent server: no socket.setTimeout(timeoutMs).
 *
 * Every server in a test on loopback answers, or closes, so the client always ends. But a server
 * that hangs (a deadlock, a disk that stopped, a network path that silently drops everything)
 * sends neither an answer nor a FIN, and TCP alone may wait hours before it notices. The client
 * then hangs with it, and so does the script that called it. `--timeout MS` exists for that:
 * an idle timer is right here, since a client waiting for an answer wants to know that nothing
 * at all is arriving. The test's server reads everything and never answers.
 *
 * @caught-by step 9: the whole upload › a server silent for timeoutMs: rejects with ETIMEDOUT
 */
import { createReadStream } from 'node:fs';
import net from 'node:net';
import { basename } from 'node:path';
import { describeError, formatAddress, isMain } from '@course/program';
import {
  DEFAULT_TIMEOUT_MS,
  hashFile,
  MAX_ANSWER_BYTES,
  READ_CHUNK_BYTES,
  runClient,
  type Stored,
  sendBody,
  UploadError,
  type UploadOptions,
} from '../solution/client.ts';
import {
  BODY_FRAME_BYTES,
  FrameDecoder,
  fileProblem,
  jsonFrame,
  parseAnswer,
  type UploadHeader,
} from '../solution/protocol.ts';

export * from '../solution/client.ts';

/** `cannot connect to ...` before the connection is made, `connection to ... failed` after. */
function describeFailure(error: NodeJS.ErrnoException, where: string, connected: boolean): UploadError {
  const what = connected ? `connection to ${where} failed` : `cannot connect to ${where}`;
  return new UploadError(`${what}: ${describeError(error)}`, error.code ?? 'EUNKNOWN');
}

/** The solution's upload(), but for the mistake marked below. */
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
    // A chunk holds at least one whole frame: sendBody() cuts frames out of chunks, so chunks
    // smaller than frameBytes would make the frames smaller than asked.
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

    // The mistake: no socket.setTimeout(timeoutMs): a silent server is waited for, for ever.
    void timeoutMs;
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
