/**
 * MISTAKE: sends the trailer without waiting for the body to be sent.
 *
 * sendBody() returns a promise at once, and the body goes out as the file is read, over many
 * turns of the event loop. Writing the trailer right after calling it, as if the call had sent
 * the body, puts the trailer before the body frames, with the hash of whatever was read by then
 * (nothing). The server cannot tell a trailer from a body frame by its bytes: it counts, so the
 * trailer is body bytes to it, and the upload is refused (or, worse, stored wrong if the counts
 * happen to match). Here the hash is even finished before the body is hashed, and the next
 * chunk fails (`Digest already called`). Await the body, then write the trailer, then end().
 *
 * @caught-by step 10: hash while sending, the hash in a trailer › by default: a header without "sha256", the body frames, one trailer frame {"sha256"}, FIN
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import net from 'node:net';
import { basename } from 'node:path';
import { describeError, formatAddress, isMain } from '@course/program';
import {
  DEFAULT_TIMEOUT_MS,
  hashFile,
  hashWhileReading,
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
  const { timeoutMs = DEFAULT_TIMEOUT_MS, hashFirst = false } = options;
  const where = formatAddress(host, port);
  const { size, sha256: announced } = await (hashFirst
    ? hashFile(file)
    : stat(file).then(({ size }) => ({ size, sha256: undefined }))
  ).catch((error: NodeJS.ErrnoException) => {
    throw new UploadError(`cannot read ${file}: ${fileProblem(error)}`, error.code ?? 'EIO');
  });
  const header: UploadHeader = { name: basename(file), size, sha256: announced };
  // One pass: the hash of what is sent, complete once the body is.
  const hash = announced === undefined ? createHash('sha256') : undefined;
  let sha256 = announced;

  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    // The second pass: exactly the bytes that were hashed (end is inclusive). None for an empty file.
    // A chunk holds at least one whole frame: sendBody() cuts frames out of chunks, so chunks
    // smaller than frameBytes would make the frames smaller than asked.
    const highWaterMark = Math.max(READ_CHUNK_BYTES, frameBytes);
    const body = size > 0 ? createReadStream(file, { start: 0, end: size - 1, highWaterMark }) : null;
    const source = body && hash ? hashWhileReading(body, hash) : body;
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
      const sending = source ? sendBody(source, socket, { size, frameBytes, onProgress }) : Promise.resolve();
      // The mistake: the trailer is written as soon as sendBody() is called, not once it is done.
      // sendBody() has written nothing yet (it waits for the file's first chunk), so the trailer
      // goes out where the first body frame should, with the hash of nothing read so far.
      if (hash) {
        sha256 = hash.digest('hex');
        socket.write(jsonFrame({ sha256 }));
      }
      sending.then(
        () => {
          if (settled) return;
          socket.end();
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
