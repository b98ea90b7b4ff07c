/**
 * Lesson 09: the upload client.
 *
 * One pass over the file, never the whole file in memory: it sends the file in frames of 64 KiB,
 * waiting for 'drain' whenever the socket's write() says its buffer is full, hashes each chunk
 * as it goes, and sends the SHA-256 last, in a trailer frame. With --hash-first, two passes: the
 * first hashes the file so that the header carries the SHA-256, the second sends it. Either way
 * the file is read 1 MiB at a time. Then it half-closes and waits for the server's one answer.
 *
 *   npx tsx lessons/09-file-upload/solution/client.ts --port 9000 some-file.pdf
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import net from 'node:net';
import { basename } from 'node:path';
import type { Writable } from 'node:stream';
import {
  CLIENT_OPTIONS,
  describeError,
  EXIT,
  fail,
  formatAddress,
  isMain,
  parseCommandLine,
  serverAddressOf,
} from '@course/program';
import {
  BODY_FRAME_BYTES,
  encodeFrame,
  FrameDecoder,
  fileProblem,
  jsonFrame,
  MAX_FRAME_BYTES,
  parseAnswer,
  type UploadAnswer,
  type UploadHeader,
  visible,
} from './protocol.ts';

/** What the server answers when the file is stored. */
export type Stored = Extract<UploadAnswer, { ok: true }>;

/** An upload that failed: `code` is the socket's (ECONNREFUSED...), ESERVER when the server said no. */
export class UploadError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'UploadError';
    this.code = code;
  }
}

export interface UploadOptions {
  /** Default 127.0.0.1. */
  host?: string;
  port: number;
  /** The file to send; the server gets its base name. */
  file: string;
  /** Size of the body frames. Default 64 KiB. */
  frameBytes?: number;
  /** Fails when the connection is silent this long. Default 30 s. */
  timeoutMs?: number;
  /** Called as the body goes out: bytes handed to the socket so far, and the file's size. */
  onProgress?: (sent: number, total: number) => void;
  /**
   * Hash the whole file first and put the hash in the header (two reads of the file), instead of
   * hashing while sending and putting it in a trailer frame after the body (one read). Default false.
   */
  hashFirst?: boolean;
}

export interface SendOptions {
  /** The number of bytes the header announced: exactly this many are sent. */
  size: number;
  /** The largest body frame. Default 64 KiB. */
  frameBytes?: number;
  onProgress?: (sent: number, total: number) => void;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * How much a read stream reads from the file at a time: 1 MiB. Its default, 64 KiB, costs one
 * trip to libuv's thread pool per 64 KiB; reading 1 GiB that way took 0.7 to 0.9 s here, and
 * 0.15 s in 1 MiB chunks. The chunks are still cut into frames of frameBytes to be sent (the
 * second pass reads chunks of frameBytes when that is more, so that a frame fits in one chunk).
 */
export const READ_CHUNK_BYTES = 1024 * 1024;

/** The answer is a few hundred bytes: a longer frame is not an answer. */
export const MAX_ANSWER_BYTES = 64 * 1024;

// region step-7
/**
 * Step 7, the first pass: the file's size and SHA-256, read through a stream, a chunk at a time.
 * Memory stays the same for 1 KB or 100 GB.
 */
export async function hashFile(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: READ_CHUNK_BYTES })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha256: hash.digest('hex') };
}
// endregion step-7

// region step-8
/**
 * Step 8, the second pass: writes the bytes of `source` to `out` as body frames of at most
 * `frameBytes`, waiting for 'drain' each time write() returns false, and reports progress.
 * Exactly `size` bytes must come out of `source`: a file that grew or shrank since it was hashed
 * rejects, since the server would refuse it anyway.
 */
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
      // write() takes the frame whatever it returns; false means "wait for 'drain'".
      if (!out.write(encodeFrame(piece))) await drained(out);
      onProgress?.(sent, size);
    }
  }
  if (sent !== size) {
    throw new UploadError(`the file shrank while it was being sent (${sent} of ${size} bytes)`, 'ECHANGED');
  }
}
// endregion step-8

/** Resolves on `out`'s next 'drain'; rejects if it closes or fails first. */
function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      out.off('error', done);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new UploadError('the connection closed while sending', 'EPIPE'));
    if (out.destroyed) return onClose();
    out.on('drain', onDrain);
    out.on('close', onClose);
    out.on('error', done);
  });
}

/** `cannot connect to ...` before the connection is made, `connection to ... failed` after. */
function describeFailure(error: NodeJS.ErrnoException, where: string, connected: boolean): UploadError {
  const what = connected ? `connection to ${where} failed` : `cannot connect to ${where}`;
  return new UploadError(`${what}: ${describeError(error)}`, error.code ?? 'EUNKNOWN');
}

// region step-9
/**
 * Step 9, the whole upload: connect, send the header frame and the body frames, half-close, and
 * resolve with the server's answer once it says ok. With `hashFirst`, the file is hashed first
 * (hashFile()) and the header carries the hash; by default the body is hashed as it is sent
 * (hashWhileReading(), step 10) and the hash follows it in a trailer frame. Rejects with an
 * UploadError when the server answers an error (code ESERVER, its words as the message) or the
 * connection fails; the file and the socket are closed in every case.
 */
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
      // Destroyed while still opening the file, a stream may yet report that open's error, when
      // nothing reads it any more: that error is no one's now, so it is heard and dropped.
      body?.on('error', () => {}).destroy();
      socket.destroy();
      if (error) reject(error);
      else resolve(stored as Stored);
    };
    /** The file could not be read (opened, or read to its end): an UploadError in words. */
    const readFailed = (error: NodeJS.ErrnoException) =>
      settle(
        error instanceof UploadError
          ? error
          : new UploadError(`cannot read ${file}: ${fileProblem(error)}`, error.code ?? 'EIO'),
      );
    // Heard from the start: the file opens in the background, and an open that fails (a file we
    // may not read) is an 'error' before sendBody() reads anything, which no one would hear.
    body?.on('error', readFailed);

    socket.setTimeout(timeoutMs, () =>
      settle(new UploadError(`${where} sent nothing for ${timeoutMs} ms (ETIMEDOUT)`, 'ETIMEDOUT')),
    );
    socket.once('connect', () => {
      connected = true;
      socket.write(jsonFrame(header));
      onProgress?.(0, size);
      const sending = source ? sendBody(source, socket, { size, frameBytes, onProgress }) : Promise.resolve();
      // FIN after the last body byte (and the trailer): "that is all". The answer comes back on the same socket.
      sending.then(() => {
        if (settled) return;
        if (hash) {
          sha256 = hash.digest('hex');
          socket.write(jsonFrame({ sha256 }));
        }
        socket.end();
      }, readFailed);
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
// endregion step-9

// region step-10
/**
 * Step 10, one pass: the chunks of `source`, unchanged, each fed to `hash` on its way through.
 * Once the loop over them is over, `hash.digest()` is the SHA-256 of every byte that was sent.
 */
export async function* hashWhileReading(
  source: AsyncIterable<Uint8Array>,
  hash: Hash,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    hash.update(chunk);
    yield chunk;
  }
}
// endregion step-10

// region program
/** 1.5 MiB, 200.0 MiB: sizes for people. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${Math.round(bytes)} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Where progress goes: a terminal gets a bar redrawn in place, anything else plain lines. */
export interface ProgressOutput {
  isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * Progress for people. On a terminal: one line redrawn in place at most 10 times a second,
 * `[##########----------]  50%  100.0 MiB of 200.0 MiB  95.2 MiB/s`. Elsewhere (a pipe, a log
 * file, the tests): a plain line each time another tenth is sent, `sent 1048576 of 2097152
 * bytes (50%)`. All sent is not yet stored: the last line says so, `sent 2097152 of 2097152 bytes
 * (100%), waiting for the answer`, until done() prints the total and the rate.
 */
export function progressReporter(out: ProgressOutput, now: () => number = () => performance.now()) {
  const started = now();
  let lastDraw = -Infinity;
  let lastTenth = -1;
  let drawn = false;
  const rate = (sent: number) => `${formatBytes(sent / Math.max((now() - started) / 1000, 0.001))}/s`;
  return {
    update(sent: number, total: number): void {
      const fraction = total === 0 ? 1 : sent / total;
      const percent = Math.floor(fraction * 100);
      // Handed to the socket is not stored: only the server's answer says that.
      const waiting = sent === total ? ', waiting for the answer' : '';
      if (out.isTTY) {
        if (now() - lastDraw < 100 && sent < total) return;
        lastDraw = now();
        const bar = '#'.repeat(Math.floor(fraction * 20)).padEnd(20, '-');
        const line = `[${bar}] ${String(percent).padStart(3)}%  ${formatBytes(sent)} of ${formatBytes(total)}  ${rate(sent)}${waiting}`;
        out.write(`\r${line}\x1b[K`);
        drawn = true;
      } else {
        const tenth = Math.floor(percent / 10);
        if (tenth === lastTenth) return;
        lastTenth = tenth;
        out.write(`sent ${sent} of ${total} bytes (${percent}%)${waiting}\n`);
      }
    },
    /** The closing line, once the server has answered. */
    done(sent: number): void {
      if (drawn) out.write('\n');
      const seconds = (now() - started) / 1000;
      out.write(`sent ${formatBytes(sent)} in ${seconds.toFixed(2)} s (${rate(sent)})\n`);
    },
    /** Leaves the terminal's line clean before an error is printed. */
    abort(): void {
      if (drawn) out.write('\n');
    },
  };
}

/** The command line of client.ts; `send` is the upload function to use (mistakes/ pass theirs). */
export function runClient(argv: string[], send: typeof upload = upload): void {
  const cli = parseCommandLine(
    {
      name: 'client.ts',
      summary: "Uploads FILE to a lesson 09 server and prints the server's answer.",
      options: {
        ...CLIENT_OPTIONS,
        timeout: {
          type: 'string',
          value: 'MS',
          description: `give up when the server is silent this long (default ${DEFAULT_TIMEOUT_MS})`,
        },
        'frame-bytes': {
          type: 'string',
          value: 'N',
          description: `size of the body frames (default ${BODY_FRAME_BYTES})`,
        },
        'hash-first': {
          type: 'boolean',
          description:
            'hash the file before sending it, the hash in the header (two reads), instead of in a trailer after the body (one read)',
        },
      },
      positionals: [{ name: 'FILE', description: 'the file to upload' }],
    },
    argv,
  );
  const { host, port } = serverAddressOf(cli);
  const file = cli.positionals[0] as string;
  let isFile = false;
  try {
    isFile = statSync(file).isFile();
  } catch (error) {
    cli.usageError(`cannot read ${file}: ${fileProblem(error)}`);
  }
  if (!isFile) cli.usageError(`cannot upload ${file}: it is not a regular file`);
  const progress = progressReporter(process.stdout);
  send({
    host,
    port,
    file,
    timeoutMs: cli.milliseconds('timeout', DEFAULT_TIMEOUT_MS),
    frameBytes: cli.integer('frame-bytes', BODY_FRAME_BYTES, { min: 1, max: MAX_FRAME_BYTES }),
    onProgress: progress.update,
    hashFirst: cli.boolean('hash-first'),
  }).then(
    (answer) => {
      progress.done(answer.size);
      process.stdout.write(`${JSON.stringify(answer)}\n`);
    },
    (error: UploadError) => {
      progress.abort();
      fail(
        // The server's words, with whatever a terminal would obey made visible: it is a peer's text.
        error.code === 'ESERVER' ? `the server refused the upload: ${visible(error.message)}` : error.message,
        EXIT.network,
      );
    },
  );
}

if (isMain(import.meta.url)) runClient(process.argv.slice(2));
// endregion program
