/**
 * Test helpers of lesson 09 that the shared harness does not have: upload directories in the
 * system's temporary directory (removed after each test), frames built and read by the tests
 * themselves (never by the code under test), and a "disk" that records what the server writes.
 */
import { createHash } from 'node:crypto';
import {
  createWriteStream,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  type WriteStream,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Writable } from 'node:stream';
import {
  closeAfterTest,
  DEFAULT_WAIT_MS,
  type Explanation,
  LogLines,
  lessonOf,
  listen,
  ncLine,
  type Peer,
  unlessTodo,
  WireError,
  within,
} from '@course/helpers';
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

/**
 * How a failure explains itself: a hint that names the step to look at, and a way to replay the
 * exchange by hand (or words saying why it cannot be).
 */
export interface Explain {
  hint: string;
  repro?: string;
  /** The bound of the wait, when the exchange takes longer than a reply on loopback. */
  ms?: number;
}

const lesson = lessonOf(import.meta.url);

/**
 * The server under test started by hand on port 9000, with the test's options as flags
 * (`--timeout 150`): the first line of every repro.
 */
export function serverLine(flags: string[] = []): string {
  const command = lesson.command('server', ['--port', '9000', '--dir', '/tmp/uploads', ...flags]);
  return `${command}     # in one terminal`;
}

/** A repro for a server test: the server with `flags`, then `lines` in another terminal. */
export function serverRepro(flags: string[], ...lines: string[]): string {
  return [serverLine(flags), ...lines.map((line, i) => (i === 0 ? `${line}     # in another` : line))].join(
    '\n',
  );
}

/** The reference client uploading `file` to the server of serverLine(). */
export function referenceClient(file: string, flags: string[] = []): string {
  return ['npx tsx', `lessons/${lesson.name}/solution/client.ts`, '--port', '9000', ...flags, file].join(' ');
}

/** A repro for a client test: the reference server, then the client under test uploading `file`. */
export function clientRepro(file: string, flags: string[] = [], prepare: string[] = []): string {
  const server = `npx tsx lessons/${lesson.name}/solution/server.ts --port 9000 --dir /tmp/uploads     # in one terminal`;
  const client = lesson.command('client', ['--port', '9000', ...flags, file]);
  return [server, ...prepare.map((line, i) => (i === 0 ? `${line}     # in another` : line)), client].join(
    '\n',
  );
}

/** `head -c 300000 /dev/urandom > /tmp/cut.bin`: a file of random bytes for a repro. */
export function randomFileLine(bytes: number, file: string): string {
  return `head -c ${bytes} /dev/urandom > ${file}`;
}

/** The answer as a learner reads it: its JSON. */
function shown(answer: unknown): string {
  return JSON.stringify(answer);
}

/**
 * Checks the server's answer: every field of `expected` must be there with that value (all of
 * them, and no other, with `exact`). A mismatch shows both as JSON, the hint and the repro.
 */
export function expectAnswer(
  answer: Answer,
  expected: Answer,
  explain: Explain & { exact?: boolean; what?: string },
): void {
  const keys = Object.keys(expected) as (keyof Answer)[];
  // A refusal that is a starter's `TODO(n)` line is not the refusal this test is after.
  const todo = /TODO\(\d+\)/.test(String(answer.error)) ? answer.error : undefined;
  const same =
    !todo &&
    keys.every((key) => answer[key] === expected[key]) &&
    (!explain.exact || Object.keys(answer).length === keys.length);
  if (same) return;
  throw new WireError(`${explain.what ?? 'the server'} answered ${shown(answer)}`, {
    expected: explain.exact ? shown(expected) : `${shown(expected).slice(0, -1)}, …}`,
    hint: unlessTodo(todo, explain.hint),
    repro: explain.repro,
  });
}

/** The answer frame's JSON when `received` holds one, else undefined. */
function answerIn(received: Buffer): string | undefined {
  const payload = splitFrames(received).frames[0];
  return payload === undefined ? undefined : payload.toString('utf8');
}

/** Waits for the server's answer frame on `peer` and parses its JSON. */
export async function readAnswer(peer: Peer, explain: Explain): Promise<Answer> {
  const payload = await peer.until(
    (received) => splitFrames(received).frames[0],
    'one answer frame: a 4-byte big-endian length, then that many bytes of JSON',
    { hint: explain.hint, repro: explain.repro ?? NO_REPRO, ms: explain.ms ?? DEFAULT_WAIT_MS },
  );
  try {
    return JSON.parse(payload.toString('utf8')) as Answer;
  } catch {
    throw new WireError('the answer frame does not hold JSON', {
      expected: '{"ok": true, ...} or {"ok": false, "error": "..."}',
      received: payload,
      hint: explain.hint,
      repro: explain.repro,
    });
  }
}

/** Said instead of a repro when the test's setup cannot be made with the real programs. */
export const NO_REPRO = 'this exchange cannot be replayed by hand (it depends on the test’s own setup)';

/**
 * Waits for `what`, but fails at once, showing the server's answer, if the server closes the
 * connection first: an unfinished step answers with its TODO and closes, and that says more than
 * a time-out.
 */
export function beforeClose<T>(peer: Peer, what: Promise<T>, expected: string, explain: Explain): Promise<T> {
  const closed = peer.closed({ allowReset: true, ms: 30_000 }).then((received) => {
    const answer = answerIn(received);
    throw new WireError(
      answer === undefined
        ? 'the server closed the connection first'
        : `the server answered ${answer} and closed the connection`,
      {
        expected,
        received: answer === undefined ? received : undefined,
        hint: `${explain.hint} (the server gave up on the upload instead of going on with it)`,
        repro: explain.repro,
      },
    );
  });
  closed.catch(() => {}); // when `what` comes first, the close that follows is no failure
  return Promise.race([what, closed]);
}

/** Writes `bytes` to the server, bounded: a server that stops reading for good fails here. */
export async function send(peer: Peer, bytes: Uint8Array, explain: Explain): Promise<void> {
  await within(
    peer.write(bytes),
    () => ({
      expected: `the server to read the ${bytes.length} bytes sent`,
      received: `${peer.received.length} bytes back from the server`,
      hint: `${explain.hint} (a server that pauses the socket must resume it on the file's 'drain')`,
      repro: explain.repro,
    }),
    { ms: explain.ms ?? 10_000 },
  );
}

/** Half-closes (FIN) once every byte is sent, bounded like send(). */
export function finish(peer: Peer, explain: Explain): Promise<void> {
  return within(
    peer.end(),
    () => ({
      expected: 'the server to read every byte sent, before the FIN',
      hint: `${explain.hint} (a server that pauses the socket must resume it on the file's 'drain')`,
      repro: explain.repro,
    }),
    { ms: explain.ms ?? 10_000 },
  );
}

/** Checks what is in the upload directory: exactly `expected` (sorted names). */
export function expectFiles(dir: string, expected: string[], explain: Explain): void {
  const found = listFiles(dir);
  if (JSON.stringify(found) === JSON.stringify([...expected].sort())) return;
  throw new WireError('the upload directory does not hold what it should', {
    expected: expected.length === 0 ? 'nothing' : JSON.stringify([...expected].sort()),
    received: found.length === 0 ? 'nothing' : JSON.stringify(found),
    hint: explain.hint,
    repro: explain.repro,
  });
}

/** Waits until `dir` holds `count` files (a temporary file appears once it is opened). */
export async function waitForFiles(dir: string, count: number, explain: Explain): Promise<string[]> {
  return within(
    new Promise<string[]>((resolve) => {
      const timer = setInterval(() => {
        const found = listFiles(dir);
        if (found.length >= count) {
          clearInterval(timer);
          resolve(found);
        }
      }, 5);
      closeAfterTest(() => clearInterval(timer));
    }),
    () => ({
      expected: `${count} file(s) in the upload directory`,
      received: JSON.stringify(listFiles(dir)),
      hint: explain.hint,
      repro: explain.repro,
    }),
    { ms: explain.ms ?? 5_000 },
  );
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
 * records the paths opened, the bytes the server handed to write() and those written, and the
 * most bytes ever queued in one stream (what the server asked the disk to hold).
 *   slow:        each write completes one event-loop turn late, as a busy disk would, so that a
 *                server that ignores write()'s false queues more and more;
 *   delayMs:     each write completes that late, a disk slower than the client's deadline;
 *   openDelayMs: the file is created that late, as a stream opens its file in the background;
 *   lossy:       each write silently loses its last byte, a disk that lies;
 *   failAtEnd:   every write succeeds, but the last flush, at end(), fails: a disk that fills up.
 */
export class RecordingDisk {
  readonly opened: string[] = [];
  /** Files really created so far (after openDelayMs). */
  created = 0;
  /** Bytes the server handed to write(), and bytes in the file. */
  handed = 0;
  written = 0;
  /** Copies of what the server handed to write(), in order. */
  readonly handedChunks: Buffer[] = [];
  maxQueued = 0;
  private readonly waiters: { ready: () => boolean; resolve: () => void }[] = [];
  private readonly slow: boolean;
  private readonly delayMs: number;
  private readonly openDelayMs: number;
  private readonly lossy: boolean;
  private readonly failAtEnd: boolean;
  private readonly highWaterMark: number;

  constructor({
    slow = false,
    delayMs = 0,
    openDelayMs = 0,
    lossy = false,
    failAtEnd = false,
    highWaterMark = 64 * 1024,
  } = {}) {
    this.slow = slow;
    this.delayMs = delayMs;
    this.openDelayMs = openDelayMs;
    this.lossy = lossy;
    this.failAtEnd = failAtEnd;
    this.highWaterMark = highWaterMark;
  }

  private changed(): void {
    for (const waiter of this.waiters.filter((w) => w.ready())) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  readonly openFile = (path: string): Writable => {
    this.opened.push(path);
    const disk = this;
    let real: WriteStream | undefined;
    const stream: Writable & { fd?: number } = new Writable({
      highWaterMark: this.highWaterMark,
      // Like fs.createWriteStream: the file is opened in the background, writes wait for it,
      // and destroy() waits for it too before closing.
      construct(callback) {
        const open = () => {
          real = createWriteStream(path);
          real.once('error', (error) => callback(error));
          real.once('open', (fd) => {
            disk.created += 1;
            disk.changed();
            real?.removeAllListeners('error');
            real?.on('error', (error) => stream.destroy(error));
            callback();
            // Like fs.WriteStream: 'open' with the descriptor, for the server's identity check.
            stream.fd = fd;
            stream.emit('open', fd);
          });
        };
        if (disk.openDelayMs > 0) setTimeout(open, disk.openDelayMs);
        else open();
      },
      write(chunk: Buffer, _encoding, callback) {
        const kept = disk.lossy ? chunk.subarray(0, -1) : chunk;
        (real as WriteStream).write(kept, (error) => {
          // Counted once the bytes are in the file, so that a test can look at it.
          disk.written += kept.length;
          disk.changed();
          if (disk.delayMs > 0) setTimeout(() => callback(error), disk.delayMs);
          else if (disk.slow) setImmediate(() => callback(error));
          else callback(error);
        });
      },
      final(callback) {
        const file = real as WriteStream;
        file.once('error', callback);
        const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        file.end(() => file.close(() => callback(disk.failAtEnd ? full : undefined)));
      },
      destroy(error, callback) {
        if (real === undefined || real.closed) return callback(error);
        real.once('close', () => callback(error));
        real.destroy();
      },
    });
    const write = stream.write.bind(stream) as (chunk: Buffer) => boolean;
    stream.write = ((chunk: Buffer) => {
      this.handed += chunk.length;
      this.handedChunks.push(Buffer.from(chunk));
      this.changed();
      const ok = write(chunk);
      this.maxQueued = Math.max(this.maxQueued, stream.writableLength);
      return ok;
    }) as typeof stream.write;
    closeAfterTest(() => stream.destroy());
    return stream;
  };

  private waitFor(ready: () => boolean, explain: () => Explanation, ms: number): Promise<void> {
    return within(
      new Promise<void>((resolve) => {
        if (ready()) return resolve();
        this.waiters.push({ ready, resolve });
      }),
      explain,
      { ms },
    );
  }

  /** Waits until the server has written at least `bytes` bytes. */
  waitForBytes(bytes: number, explain: Explain): Promise<void> {
    return this.waitFor(
      () => this.written >= bytes,
      () => ({
        expected: `the server to write ${bytes} bytes to the file it opened`,
        received: `${this.written} bytes written, files opened: ${JSON.stringify(this.opened)}`,
        hint: explain.hint,
        repro: explain.repro,
      }),
      explain.ms ?? 10_000,
    );
  }

  /** Waits until the server has handed at least `bytes` bytes to write(). */
  waitForHanded(bytes: number, explain: Explain): Promise<void> {
    return this.waitFor(
      () => this.handed >= bytes,
      () => ({
        expected: `the server to write ${bytes} bytes to the file it opened`,
        received: `${this.handed} bytes handed to write(), files opened: ${JSON.stringify(this.opened)}`,
        hint: explain.hint,
        repro: explain.repro,
      }),
      explain.ms ?? 10_000,
    );
  }

  /** Waits until `count` files have really been created (opening takes openDelayMs). */
  waitForCreated(count: number, explain: Explain): Promise<void> {
    return this.waitFor(
      () => this.created >= count,
      () => ({
        expected: `${count} file(s) opened with this.settings.openFile()`,
        received: `${this.created} created, paths opened: ${JSON.stringify(this.opened)}`,
        hint: explain.hint,
        repro: explain.repro,
      }),
      explain.ms ?? 5_000,
    );
  }
}

/**
 * Slowloris by hand: `prefix`, then `x` after `x`, one byte every `everyMs`, never the end of
 * the frame: `npx course nc --trickle 20 --keep-open --file …  127.0.0.1 9000`.
 */
export function trickleLine(prefix: Uint8Array, everyMs: number): string {
  const never = Buffer.concat([prefix, Buffer.alloc(100_000, 'x')]);
  return ncLine(never, 9000, { trickleMs: everyMs, halfClose: false });
}

/** Where to look when a temporary file is left behind. */
export const DISCARD_HINT =
  "step 5: discard() destroys the file stream, waits for its 'close' (a stream still opening its file creates it after an early unlink()), then unlink()s the temporary file";

/** Where to look when the final name is missing, or a temporary file is there, after an ok. */
export const IN_PLACE_HINT =
  'step 6: finish() renames the temporary file to its final name, and only then answers ok: once the answer is read, the file is in place and no temporary file is left';

/** Checks that `dir/name` holds exactly `body`, saying what it holds instead. */
export function expectStored(
  dir: string,
  name: string,
  body: Uint8Array,
  explain: Explain & { what?: string },
): void {
  const path = join(dir, name);
  const stored = existsSync(path) ? readFileSync(path) : undefined;
  if (stored?.equals(body)) return;
  const what = explain.what ?? `the ${body.length} bytes uploaded`;
  throw new WireError(`${name} does not hold ${what}`, {
    expected: `${name} holding ${what}`,
    received:
      stored === undefined
        ? `no ${name}; the upload directory holds ${JSON.stringify(listFiles(dir))}`
        : `${stored.length} bytes${stored.length < 64 ? ` (${JSON.stringify(stored.toString('utf8'))})` : ''}, sha256 ${sha256(stored)}`,
    hint: explain.hint,
    repro: explain.repro,
  });
}

/**
 * Checks an answer that is ok once every step is done. Before that, a later step's TODO
 * (`TODO(6): ...`) is no failure of the step under test: returns false then, and the test
 * skips what only the later step makes true (the file in place).
 */
export function expectOkOrLater(answer: Answer, expected: Answer, step: number, explain: Explain): boolean {
  const todo = /^TODO\((\d+)\)/.exec(answer.error ?? '')?.[1];
  if (!answer.ok && todo !== undefined && Number(todo) > step) return false;
  expectAnswer(answer, expected, explain);
  return true;
}
