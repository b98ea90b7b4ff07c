/**
 * Test helpers of lesson 09 that the shared harness does not have: upload directories in the
 * system's temporary directory (removed after each test), frames built and read by the tests
 * themselves (never by the code under test), and a "disk" that records what the server writes.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { closeAfterTest, LogLines, listen, type Peer, WireError, within } from '@course/helpers';
import { createUploadServer, type ServerOptions } from '#impl/server.ts';

/** A fresh temporary folder, removed when the test ends; `dir` is the upload directory inside it. */
export function tempRoot(): { root: string; dir: string } {
  const root = mkdtempSync(join(tmpdir(), 'course-09-'));
  closeAfterTest(() => rmSync(root, { recursive: true, force: true }));
  return { root, dir: join(root, 'uploads') };
}

/** The names in `dir`, sorted ([] when it does not exist). */
export function listFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** Every path under `root`, relative to it, sorted: to check that nothing was written elsewhere. */
export function tree(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .map((path) => relative(root, join(root, path)))
    .sort();
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** One frame: a 4-byte unsigned big-endian length, then the payload (JSON for an object). */
export function frame(payload: Uint8Array | string | object): Buffer {
  const bytes =
    typeof payload === 'string' || payload instanceof Uint8Array
      ? Buffer.from(payload as string)
      : Buffer.from(JSON.stringify(payload));
  const head = Buffer.alloc(4);
  head.writeUInt32BE(bytes.length);
  return Buffer.concat([head, bytes]);
}

/** The header and body frames of an upload of `body` as `name`, body cut into `frameBytes` frames. */
export function uploadFrames(
  name: string,
  body: Uint8Array,
  { frameBytes = 64 * 1024, header = {} }: { frameBytes?: number; header?: object } = {},
): Buffer {
  const frames = [frame({ name, size: body.length, sha256: sha256(body), ...header })];
  for (let offset = 0; offset < body.length; offset += frameBytes) {
    frames.push(frame(body.subarray(offset, offset + frameBytes)));
  }
  return Buffer.concat(frames);
}

/** Splits `bytes` into frames; `rest` is what is left of an incomplete one. */
export function splitFrames(bytes: Buffer): { frames: Buffer[]; rest: number } {
  const frames: Buffer[] = [];
  let offset = 0;
  while (bytes.length - offset >= 4) {
    const size = bytes.readUInt32BE(offset);
    if (bytes.length - offset - 4 < size) break;
    frames.push(bytes.subarray(offset + 4, offset + 4 + size));
    offset += 4 + size;
  }
  return { frames, rest: bytes.length - offset };
}

export interface Answer {
  ok: boolean;
  error?: string;
  name?: string;
  size?: number;
  sha256?: string;
}

/** Waits for the server's answer frame on `peer` and parses its JSON. */
export async function readAnswer(peer: Peer, hint?: string): Promise<Answer> {
  const payload = await peer.until(
    (received) => splitFrames(received).frames[0],
    'one answer frame: a 4-byte big-endian length, then that many bytes of JSON',
    { hint: hint ?? 'the server answers once every announced byte is in, or as soon as it refuses' },
  );
  try {
    return JSON.parse(payload.toString('utf8')) as Answer;
  } catch {
    throw new WireError('the answer frame does not hold JSON', {
      expected: '{"ok": true, ...} or {"ok": false, "error": "..."}',
      received: payload,
    });
  }
}

/**
 * Waits for `what`, but fails at once, showing what the server sent, if the server closes the
 * connection first: an unfinished step answers with its TODO and closes, and that says more than
 * a time-out.
 */
export function beforeClose<T>(peer: Peer, what: Promise<T>, expected: string): Promise<T> {
  const closed = peer.closed({ allowReset: true, ms: 4_000 }).then((received) => {
    throw new WireError('the server closed the connection first', {
      expected,
      received,
      hint: 'the server answered (its answer is the JSON above) instead of going on with the upload',
    });
  });
  closed.catch(() => {}); // when `what` comes first, the close that follows is no failure
  return Promise.race([what, closed]);
}

/** The server under test, in this process, on a free port, with a temporary upload directory. */
export async function startUploads(options: ServerOptions = {}) {
  const { root, dir } = tempRoot();
  const log = new LogLines();
  const server = createUploadServer({ dir, log: log.add, ...options });
  const port = await listen(server);
  return { port, dir, root, log };
}

/**
 * Slowloris in the middle of an exchange: writes `data` to `peer` one byte every `everyMs`, and
 * stops when the connection ends (the harness's trickle() does the same from the first byte).
 */
export function trickleOn(peer: Peer, data: Uint8Array, everyMs: number): void {
  let next = 0;
  const timer = setInterval(() => {
    if (next >= data.length || peer.ending !== 'open' || peer.socket.destroyed) return clearInterval(timer);
    peer.write(data.subarray(next, ++next)).catch(() => clearInterval(timer));
  }, everyMs);
  peer.socket.once('close', () => clearInterval(timer));
  closeAfterTest(() => clearInterval(timer));
}

/**
 * A disk for the server's openFile option: writes for real (to the path the server chose), and
 * records the paths opened, the bytes written, and the most bytes ever queued in one stream (what
 * the server asked the disk to hold). `slow`: each write completes one event-loop turn late, as
 * a busy disk would, so that a server that ignores write()'s false queues more and more.
 * `delayMs`: each write completes that late, a disk slower than the client's deadline.
 */
export class RecordingDisk {
  readonly opened: string[] = [];
  written = 0;
  maxQueued = 0;
  private readonly waiters: { bytes: number; resolve: () => void }[] = [];
  private readonly slow: boolean;
  private readonly delayMs: number;
  private readonly highWaterMark: number;

  constructor({ slow = false, delayMs = 0, highWaterMark = 64 * 1024 } = {}) {
    this.slow = slow;
    this.delayMs = delayMs;
    this.highWaterMark = highWaterMark;
  }

  readonly openFile = (path: string): Writable => {
    this.opened.push(path);
    const real = createWriteStream(path);
    const disk = this;
    const stream = new Writable({
      highWaterMark: this.highWaterMark,
      write(chunk: Buffer, _encoding, callback) {
        real.write(chunk, (error) => {
          // Counted once the bytes are in the file, so that a test can look at it.
          disk.written += chunk.length;
          for (const waiter of disk.waiters.filter((w) => disk.written >= w.bytes)) waiter.resolve();
          if (disk.delayMs > 0) setTimeout(() => callback(error), disk.delayMs);
          else if (disk.slow) setImmediate(() => callback(error));
          else callback(error);
        });
      },
      final(callback) {
        real.once('error', callback);
        real.end(() => real.close(() => callback()));
      },
      destroy(error, callback) {
        if (real.closed) return callback(error);
        real.once('close', () => callback(error));
        real.destroy();
      },
    });
    real.on('error', (error) => stream.destroy(error));
    const write = stream.write.bind(stream) as (chunk: Buffer) => boolean;
    stream.write = ((chunk: Buffer) => {
      const ok = write(chunk);
      this.maxQueued = Math.max(this.maxQueued, stream.writableLength);
      return ok;
    }) as typeof stream.write;
    closeAfterTest(() => stream.destroy());
    return stream;
  };

  /** Waits until the server has written at least `bytes` bytes. */
  waitForBytes(bytes: number): Promise<void> {
    return within(
      new Promise<void>((resolve) => {
        if (this.written >= bytes) return resolve();
        this.waiters.push({ bytes, resolve });
      }),
      () => ({
        expected: `the server to write ${bytes} bytes to the file it opened`,
        received: `${this.written} bytes written, files opened: ${JSON.stringify(this.opened)}`,
        hint: 'write every body frame to this.file (this.settings.openFile gave it)',
      }),
    );
  }
}
