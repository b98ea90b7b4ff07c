/**
 * Lesson 09: the upload client.
 *
 * One pass over the file, never the whole file in memory: it sends the file in frames of 64 KiB,
 * waiting for 'drain' whenever the socket's write() says its buffer is full, hashes each chunk
 * as it goes, and sends the SHA-256 last, in a trailer frame. With --hash-first, two passes: the
 * first hashes the file so that the header carries the SHA-256, the second sends it. Either way
 * the file is read 1 MiB at a time. Then it half-closes and waits for the server's one answer.
 *
 *   npx tsx lessons/09-file-upload/exercise/client.ts --port 9000 some-file.pdf
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
  // TODO(7): the file's size and SHA-256 (hex), read as a stream in chunks of READ_CHUNK_BYTES
  // (not the default 64 KiB), never whole: readFile() would hold a 200 MB file in 200 MB of
  // memory. A read stream is async-iterable, and a hash (node:crypto) takes one chunk at a time.
  // A missing file rejects with the stream's own error (ENOENT): fine. README "Streaming: one
  // read, the hash in a trailer", step 7.
  throw new Error('TODO(7): hash the file in hashFile() — see README step 7');
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
  // TODO(8): send every byte of source as body frames (encodeFrame()) of at most frameBytes
  // (cut each chunk without copying it), reporting progress (sent, size) after each frame. Keep
  // memory constant: when out's write() says its buffer is full, wait for it to drain (drained(),
  // below) before the next frame. Exactly size bytes must go out, or the file changed since it
  // was hashed: throw UploadErrors with the code 'ECHANGED', as soon as you know:
  //   more  → `the file grew while it was being sent (more than ${size} bytes)`
  //   fewer → `the file shrank while it was being sent (${sent} of ${size} bytes)`
  // README "Backpressure, end to end", step 8.
  throw new Error('TODO(8): send the body frames in sendBody() — see README step 8');
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
 * Step 9, the whole upload: hash the file, connect, send the header frame and the body frames,
 * half-close, and resolve with the server's answer once it says ok. Rejects with an UploadError
 * when the server answers an error (code ESERVER, its words as the message) or the connection
 * fails; the file and the socket are closed in every case.
 */
export async function upload(options: UploadOptions): Promise<Stored> {
  const { host = '127.0.0.1', port, file, frameBytes = BODY_FRAME_BYTES, onProgress } = options;
  const { timeoutMs = DEFAULT_TIMEOUT_MS, hashFirst = false } = options;
  const where = formatAddress(host, port);
  // TODO(9): the whole upload, steps 7 and 8 with a connection around them:
  //   1. With hashFirst, hash the file (step 7) and put the hash in the header. Without, the
  //      header has only the name and the size (stat()), and the body is read through step 10's
  //      hashWhileReading(), its hash sent after the body as one more frame, the trailer
  //      jsonFrame({ sha256 }). (This step's tests use hashFirst; step 10's the default.)
  //      A file you cannot read is an UploadError `cannot read ${file}: ...` (fileProblem())
  //      with the error's code. The header names the file by its base name, never its path.
  //   2. Connect; once connected, send the header frame (jsonFrame()), report progress (0, size),
  //      send the body (step 8) from a read of exactly the size bytes announced (none for
  //      an empty file), in chunks of at least frameBytes so that no frame comes out smaller than
  //      asked, then (the trailer, without hashFirst, and) half-close: the FIN says "that is all".
  //   3. The answer can come at any time, even while you send (a refused name comes back
  //      early): from the start, feed what arrives to a FrameDecoder whose maxFrameBytes is
  //      MAX_ANSWER_BYTES (a longer answer is EPROTO at once); its
  //      first frame is the answer (parseAnswer()). ok, for your size and the sha256 you sent: resolve with
  //      it. ok for another file: EPROTO, `${where} answered ok for another file: <the frame>`.
  //      Not ok: ESERVER, with the server's words as the message. A frame that is no answer:
  //      EPROTO, `${where} sent something that is not an answer: <why>`.
  //   4. The end of the stream before an answer: ECONNRESET, `${where} closed the connection
  //      without answering`; a socket error: describeFailure() (below); silence longer than
  //      timeoutMs (an idle timer is right here): ETIMEDOUT, `${where} sent nothing for
  //      ${timeoutMs} ms (ETIMEDOUT)`.
  //   5. Settle once, and whatever happened, close the file stream and the socket.
  // README "One upload, on the wire", step 9.
  throw new UploadError(`TODO(9): upload ${file} to ${where} in upload() — see README step 9`, 'ETODO');
}
// endregion step-9

// region step-10
/**
 * Step 10, one pass: the chunks of `source`, unchanged, each fed to `hash` on its way through.
 * Once the loop over them is over, `hash.digest()` is the SHA-256 of every byte that was sent.
 */
// biome-ignore lint/correctness/useYield: the starter only throws; your code yields every chunk
export async function* hashWhileReading(
  source: AsyncIterable<Uint8Array>,
  hash: Hash,
): AsyncGenerator<Uint8Array> {
  // TODO(10): pass on every chunk of source as it comes (an async generator yields), after
  // giving it to hash.update(): upload() reads the file once, through this, and sends
  // hash.digest('hex') in the trailer frame once sendBody() is done. README: step 10.
  void source;
  void hash;
  throw new Error('TODO(10): hash the chunks as they go in hashWhileReading() — see README step 10');
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
