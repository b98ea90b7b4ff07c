/**
 * MISTAKE: hashes the file with readFile(): the whole file in memory at once.
 *
 * Two lines instead of a loop, and every file in the tests of the network is small enough: the
 * hash is right, the upload works. But the memory it takes is the size of the file: 200 MB of
 * RAM for a 200 MB file, and a file bigger than the memory (or than Buffer's limit, 4 GiB) cannot
 * be sent at all, which is what this lesson is about. Read it as a stream, a chunk at a time:
 * the memory is the same for 1 KB and 100 GB. The test hashes a 128 MiB file and measures how
 * much memory grew meanwhile.
 *
 * @caught-by step 7: hash the file first, as a stream › a 128 MiB file is hashed a chunk at a time
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { basename } from 'node:path';
import { describeError, formatAddress, isMain } from '@course/program';
import {
  DEFAULT_TIMEOUT_MS,
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

export async function hashFile(path: string): Promise<{ size: number; sha256: string }> {
  // The mistake: the whole file in memory, at once.
  const bytes = await readFile(path);
  return { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** `cannot connect to ...` before the connection is made, `connection to ... failed` after. */
function describeFailure(error: NodeJS.ErrnoException, where: string, connected: boolean): UploadError {
  const what = connected ? `connection to ${where} failed` : `cannot connect to ${where}`;
  return new UploadError(`${what}: ${describeError(error)}`, error.code ?? 'EUNKNOWN');
}

/** The solution's upload(), with this file's hashFile(). */
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
