/**
 * Lesson 09: the upload server.
 *
 * One upload per connection: a JSON header frame, body frames carrying exactly the announced
 * number of bytes, a JSON trailer frame with the hash when the header had none, one JSON answer
 * frame. The body goes to a temporary file in the upload
 * directory and is renamed to its real name only once its size and SHA-256 match the header, so
 * the file is complete before anyone can see it under that name, and a client that disconnects
 * or lies leaves nothing behind. Memory stays the same whatever the file's size: the socket is
 * paused whenever the disk falls behind. Each frame has a deadline: a client that sends its
 * frames a byte at a time (slowloris) is answered `too slow` and dropped.
 *
 *   npx tsx lessons/09-file-upload/solution/server.ts --port 9000 --dir uploads
 *   npx tsx lessons/09-file-upload/solution/client.ts --port 9000 some-file.pdf
 */
import { createHash, type Hash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  accessSync,
  constants,
  createWriteStream,
  fstat,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  type Stats,
} from 'node:fs';
import { rename, stat, unlink } from 'node:fs/promises';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { promisify } from 'node:util';
import {
  describeError,
  EXIT,
  fail,
  isMain,
  peerAddress,
  runServerProgram,
  type ServerProgram,
} from '@course/program';
import {
  FrameDecoder,
  fileProblem,
  jsonFrame,
  MAX_BODY_FRAME_BYTES,
  MAX_FRAME_BYTES,
  ProtocolError,
  parseHeader,
  parseTrailer,
  type UploadAnswer,
  type UploadHeader,
} from './protocol.ts';

/** Where the server writes its one line per client event (console.log in the program). */
export type Log = (line: string) => void;

/** Opens a file for writing: where the body's bytes go. */
export type OpenFile = (path: string) => Writable;

export interface ServerOptions {
  /** The upload directory, created if missing. Default `./uploads`. */
  dir?: string;
  log?: Log;
  /** The largest frame accepted, header or body. Default 1 MiB. */
  maxFrameBytes?: number;
  /**
   * The deadline for each frame, in ms: the header frame must be complete within this time of
   * connecting, and each body frame within this time of the frame before it. A byte now and
   * then does not count, only a complete frame; time the server spends waiting for its own disk
   * does not count either. Too slow: the upload is discarded and the client answered
   * `{"ok": false, "error": "too slow: ..."}`. Default 30 s, so the slowest body accepted is one
   * 64 KiB frame every 30 s. After the answer, the client has this long again to close.
   */
  frameTimeoutMs?: number;
  /**
   * Opens the temporary file. Default: `fs.createWriteStream(path, { flags: 'wx', highWaterMark:
   * FILE_QUEUE_BYTES })` ('wx': create it, and fail if it already exists). The tests pass their
   * own, to watch what reaches the disk.
   */
  openFile?: OpenFile;
  /**
   * The most bytes all uploads together may hold in memory at once: frames still being
   * assembled, and body bytes handed to a file and not yet written. An upload whose bytes would
   * go over is answered `{"ok": false, "error": "server busy: ..."}` and let go. Default 64 MiB.
   */
  budgetBytes?: number;
  /** The most connections open at once; more are closed as soon as they are accepted. Default 256. */
  maxConnections?: number;
}

export const DEFAULT_DIR = './uploads';
export const DEFAULT_FRAME_TIMEOUT_MS = 30_000;
export const DEFAULT_BUDGET_BYTES = 64 * 1024 * 1024;
/** Two descriptors each (the socket and the file): 512 of the usual 1024 a process may open. */
export const DEFAULT_MAX_CONNECTIONS = 256;

/**
 * How much the file stream queues before its write() says false: 1 MiB, the largest frame. A
 * file stream's default (16 KiB) is less than one 64 KiB frame, so every frame would pause the
 * socket until the disk had written it: network and disk would take turns instead of working at
 * the same time (the body of a 1 GiB upload took 2.15 s that way here, 1.2 s of it waiting for
 * the disk in 16384 pauses; 1.6 s with 1 MiB).
 */
export const FILE_QUEUE_BYTES = 1024 * 1024;

/** The options of one server, every default filled in; the directory is absolute. */
export interface Settings {
  dir: string;
  log: Log;
  maxFrameBytes: number;
  frameTimeoutMs: number;
  openFile: OpenFile;
  /** The bytes all sessions hold, against the budget: shared by every session of one server. */
  budget: Budget;
}

/** The server's memory budget: how many bytes its sessions may hold at once, and hold now. */
export interface Budget {
  readonly limit: number;
  held: number;
}

/**
 * A name for a temporary file in the upload directory: `.upload-1f2e3d4c5b6a7988.part`. Random,
 * so that two uploads of the same name never share one; hidden (the leading dot), so that a
 * listing does not show half-written files.
 */
export function temporaryName(): string {
  return `.upload-${randomBytes(8).toString('hex')}.part`;
}

/**
 * What temporaryName() makes, and nothing else. No upload can have such a name: checkName()
 * refuses a name that starts with a dot. (When uploads could be called `.upload-….part`, one
 * could replace another's temporary file by name, and the sweep at start deleted stored files.)
 */
export const TEMPORARY_NAME = /^\.upload-[0-9a-f]{16}\.part$/;

/**
 * What one connection is doing: reading the header, the body, the trailer (after the body, when
 * the header had no hash), finishing, or done (answered or gone).
 */
export type State = 'header' | 'body' | 'trailer' | 'finishing' | 'done';

/**
 * One connection, one upload. The given parts read frames and route them: the first frame to
 * begin(), the next ones to receive(); a client that breaks the protocol or is too slow gets
 * fail(), and one that goes away gets abort(). Steps 3 to 6 are begin(), receive(), discard()
 * and finish().
 */
export class UploadSession {
  protected readonly socket: net.Socket;
  /** The client's IP:PORT, for the log. */
  protected readonly peer: string;
  protected readonly settings: Settings;
  protected decoder: FrameDecoder;
  protected state: State = 'header';
  /** The upload's header, once it has arrived. */
  protected header: UploadHeader | undefined;
  /** The temporary file's path and stream, while they exist. */
  protected temporaryPath: string | undefined;
  protected file: Writable | undefined;
  /**
   * The temporary file's device and inode, read from its open descriptor: the file the bytes
   * went to, whatever its name shows later (see finish()).
   */
  protected opened: Promise<Stats> | undefined;
  /** The SHA-256 of the body so far, and its size. */
  protected hash: Hash | undefined;
  protected received = 0;
  /** True while the socket is paused until the file's 'drain'. */
  protected waitingForDisk = false;
  /** The client's deadline (see restartDeadline()), while one runs. */
  private deadline: NodeJS.Timeout | undefined;
  /** The clean-up of a failed or aborted upload, once one has started. */
  private cleaning: Promise<void> = Promise.resolve();
  /** The bytes this session counts in the server's budget. */
  private counted = 0;

  constructor(socket: net.Socket, settings: Settings) {
    this.socket = socket;
    this.settings = settings;
    this.peer = peerAddress(socket);
    this.decoder = new FrameDecoder({ maxFrameBytes: settings.maxFrameBytes });
    this.log(`client connected from ${this.peer}`);

    // The header frame's deadline runs from now. Not socket.setTimeout(): that is an idle timer,
    // and a client sending one byte every few seconds is never idle.
    this.restartDeadline();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (error) => {
      // Once the upload is answered, or all in and being stored, an error ends only the connection.
      if (this.state === 'done' || this.state === 'finishing') {
        this.log(`client ${this.peer} failed: ${describeError(error)}`);
      } else void this.abort(describeError(error));
    });
    socket.on('close', () => {
      this.stopDeadline(); // no timer outlives its socket
      void this.abort('the connection closed').then(() => this.log(`client ${this.peer} closed`));
    });
  }

  protected log(line: string): void {
    this.settings.log(line);
  }

  // region deadline
  /**
   * (Re)starts the client's clock: it has settings.frameTimeoutMs from now to complete its next
   * frame, or to close once answered. Called on connecting, after each complete frame, after the
   * answer, and by step 4 when the disk lets the socket go again. Only a COMPLETE frame restarts
   * it: bytes trickling in do not, which is what makes it a deadline and not an idle timer.
   * While the server is the one waiting (for its disk, or finishing the upload), no clock runs.
   */
  protected restartDeadline(): void {
    this.stopDeadline();
    if (this.waitingForDisk || this.state === 'finishing' || this.socket.destroyed) return;
    this.deadline = setTimeout(() => this.tooSlow(), this.settings.frameTimeoutMs);
  }

  protected stopDeadline(): void {
    clearTimeout(this.deadline);
    this.deadline = undefined;
  }

  /** The deadline passed: the upload is refused (and discarded), or, once answered, the connection closed. */
  protected tooSlow(): void {
    this.deadline = undefined;
    const ms = this.settings.frameTimeoutMs;
    if (this.state === 'header') {
      void this.fail(`too slow: the header frame was not complete within ${ms} ms`);
    } else if (this.state === 'body') {
      const { size } = this.header as UploadHeader;
      void this.fail(
        `too slow: the next body frame was not complete within ${ms} ms (${this.received} of ${size} bytes received)`,
      );
    } else if (this.state === 'trailer') {
      void this.fail(`too slow: the trailer frame was not complete within ${ms} ms of the body's last byte`);
    } else if (this.state === 'done') {
      this.log(`client ${this.peer} too slow: not closed ${ms} ms after the answer, closing`);
      this.socket.destroy();
    }
  }
  // endregion deadline

  /** Frames in, one chunk at a time: the header first, then the body. */
  private onData(chunk: Buffer): void {
    // After the answer nothing more is read into the upload; the bytes are dropped until the
    // client closes (closing with unread bytes would reset the connection, losing the answer).
    if (this.state === 'done') return;
    try {
      for (const frame of this.decoder.push(chunk)) {
        if (this.state === 'header') this.begin(this.readHeader(frame));
        else if (this.state === 'body') this.receive(frame);
        else if (this.state === 'trailer') this.receiveTrailer(frame);
        // 'finishing': every byte announced is in, and the answer is on its way. 'done': failed.
        else break;
        // A complete frame: the client has a whole period from now for the next one.
        this.restartDeadline();
      }
      const grew = this.count();
      const { held, limit } = this.settings.budget;
      const reading = this.state === 'header' || this.state === 'body' || this.state === 'trailer';
      if (grew && reading && held > limit) {
        throw new ProtocolError(
          `server busy: uploads under way already hold the ${limit} bytes of memory this server allows them; try again later`,
        );
      }
    } catch (error) {
      void this.fail(error instanceof Error ? error.message : String(error));
    }
  }

  // region budget
  /**
   * Counts what this session holds (the decoder's unfinished frame, and body bytes queued for
   * the disk) in the server's budget, as it is now; true when that grew. Called as bytes arrive
   * and when the upload ends: once it is over, the session counts nothing, and the decoder's
   * bytes are let go, so that a session waiting for its client to close holds no memory.
   */
  private count(): boolean {
    const holds = this.state === 'done' ? 0 : this.decoder.buffered + (this.file?.writableLength ?? 0);
    this.settings.budget.held += holds - this.counted;
    const grew = holds > this.counted;
    this.counted = holds;
    if (this.state === 'done' && this.decoder.buffered > 0) {
      this.decoder = new FrameDecoder({ maxFrameBytes: this.settings.maxFrameBytes });
    }
    return grew;
  }
  // endregion budget

  /** The client half-closed (FIN): fine once the body is complete, a failure before. */
  private onEnd(): void {
    if (this.state === 'body') {
      const { size } = this.header as UploadHeader;
      void this.fail(`the connection ended after ${this.received} of ${size} bytes`);
    } else if (this.state === 'trailer') {
      void this.fail(
        'the connection ended after the body, without the trailer frame (the header had no "sha256")',
      );
    } else if (this.state === 'header') {
      if (this.decoder.buffered > 0) void this.fail('the connection ended in the middle of the header');
      else this.finishQuietly();
    }
  }

  /** The header frame, checked (step 2's parseHeader); a mistake may trust it instead. */
  protected readHeader(frame: Buffer): UploadHeader {
    return parseHeader(frame);
  }

  // region step-3
  /**
   * Step 3: the header is good, so the upload begins. Opens a temporary file in the upload
   * directory (never the final name: that comes with the rename in step 6), starts the hash,
   * and logs `client IP:PORT uploads "NAME" (N bytes)`. An empty file's body is complete at once.
   */
  protected begin(header: UploadHeader): void {
    this.header = header;
    this.state = 'body';
    this.hash = createHash('sha256');
    // The same directory as the final name: rename() is atomic only within one file system.
    this.temporaryPath = join(this.settings.dir, temporaryName());
    this.file = this.settings.openFile(this.temporaryPath);
    // A directory we may not write to, a full disk: the client is told, in words, without our paths.
    this.file.on('error', (error) => void this.fail(`cannot store the file: ${fileProblem(error)}`));
    this.opened = identityOf(this.file);
    this.opened.catch(() => {}); // the file's 'error' is answered above; finish() sees it too
    this.log(`client ${this.peer} uploads ${JSON.stringify(header.name)} (${header.size} bytes)`);
    if (header.size === 0) this.bodyComplete();
  }
  // endregion step-3

  // region step-4
  /**
   * Step 4: one body frame. Refuses bytes beyond the announced size, feeds the hash, writes to
   * the file, and pauses the socket while the file's write() says its buffer is full: the
   * socket is resumed on the file's 'drain', and the client's deadline restarted (waiting for
   * the disk is the server's wait, not the client's). When the last announced byte is in,
   * bodyComplete(): finish() now, or after the trailer (step 10).
   */
  protected receive(frame: Buffer): void {
    const { size } = this.header as UploadHeader;
    if (this.received + frame.length > size) {
      throw new ProtocolError(`the body is longer than the ${size} bytes announced`);
    }
    this.received += frame.length;
    (this.hash as Hash).update(frame);
    const file = this.file as Writable;
    // write() queues the bytes whatever it returns; false means "my queue is full, stop".
    // Pausing the socket stops reading it: the kernel's buffer fills, TCP tells the client to
    // wait, and the client's own write() returns false. Backpressure, end to end.
    if (!file.write(frame) && !this.waitingForDisk) {
      this.waitingForDisk = true;
      this.socket.pause();
      file.once('drain', () => {
        this.waitingForDisk = false;
        this.socket.resume();
        // The client's clock stood still while we waited for our disk: a whole period from now.
        this.restartDeadline();
      });
    }
    if (this.received === size) this.bodyComplete();
  }
  // endregion step-4

  // region step-5
  /**
   * Step 5: throws away the upload under way, if any: destroys the file stream, waits until it
   * is closed, and removes the temporary file. Whatever went wrong, nothing is left behind.
   */
  protected async discard(): Promise<void> {
    const { file, temporaryPath } = this;
    this.file = undefined;
    this.temporaryPath = undefined;
    if (file) {
      // destroy() drops what is still queued; 'close' says the descriptor is closed.
      if (!file.closed) {
        const closed = new Promise((resolve) => file.once('close', resolve));
        file.destroy();
        await closed;
      }
    }
    if (temporaryPath) {
      await unlink(temporaryPath).catch((error: NodeJS.ErrnoException) => {
        // Never created (the open failed): there is nothing to remove.
        if (error.code !== 'ENOENT' && error.code !== 'ENOTDIR') throw error;
      });
    }
  }
  // endregion step-5

  // region step-6
  /**
   * Step 6: every announced byte is in. Closes the file, checks that its name still holds the
   * file written (device and inode), its size on disk and its SHA-256 against the header,
   * renames it to its real name, logs
   * `client IP:PORT stored "NAME" (N bytes, sha256 HEX)`, and only then answers ok. On a
   * mismatch: fail(), which discards the file and answers the error.
   */
  protected async finish(): Promise<void> {
    this.state = 'finishing';
    const header = this.header as UploadHeader;
    const file = this.file as Writable;
    const temporaryPath = this.temporaryPath as string;
    try {
      // Who the file is (device and inode), asked of its descriptor before end() closes it.
      const opened = await (this.opened as Promise<Stats>);
      // end() flushes what is queued; the bytes are on disk (in the page cache) at 'close'.
      await new Promise<void>((resolve, reject) => {
        file.once('error', reject);
        file.once('close', () => resolve());
        file.end();
      });
      const sha256 = (this.hash as Hash).digest('hex');
      // The rename goes by name: the name must still be the file the bytes were written to and
      // hashed, not one put in its place by someone who can write to the directory.
      const { size, dev, ino } = await stat(temporaryPath);
      if (dev !== opened.dev || ino !== opened.ino) {
        return this.fail('the temporary file was replaced while the upload ran');
      }
      if (size !== header.size) {
        return this.fail(`${size} bytes reached the disk, not the ${header.size} announced`);
      }
      if (sha256 !== header.sha256) {
        return this.fail(`the SHA-256 of the ${size} bytes received is ${sha256}, not ${header.sha256}`);
      }
      // One system call: the name shows nothing, or the old file, until it shows the whole new
      // one. An older file of the same name is replaced.
      await rename(temporaryPath, join(this.settings.dir, header.name));
      this.temporaryPath = undefined;
      this.file = undefined;
    } catch (error) {
      return this.fail(`cannot store the file: ${fileProblem(error)}`);
    }
    if (this.state !== 'finishing') return; // failed meanwhile (the file's 'error')
    this.state = 'done';
    this.log(
      `client ${this.peer} stored ${JSON.stringify(header.name)} (${header.size} bytes, sha256 ${header.sha256})`,
    );
    // Checked equal to the hash of the bytes stored, above: a string by now.
    this.answer({ ok: true, name: header.name, size: header.size, sha256: header.sha256 as string });
  }
  // endregion step-6

  /**
   * Every announced byte is in. With the hash in the header, finish() at once; without, the
   * trailer frame comes next (step 10), and the client's deadline now runs for it.
   */
  protected bodyComplete(): void {
    if ((this.header as UploadHeader).sha256 !== undefined) void this.finish();
    else this.state = 'trailer';
  }

  // region step-10
  /**
   * Step 10: the trailer frame, the one after the body when the header had no hash. Its hash
   * (parseTrailer(), which throws a ProtocolError for a bad one) becomes the header's, and
   * finish() checks the file against it as if the header had carried it from the start.
   */
  protected receiveTrailer(frame: Buffer): void {
    const sha256 = parseTrailer(frame);
    this.header = { ...(this.header as UploadHeader), sha256 };
    void this.finish();
  }
  // endregion step-10

  /**
   * The client broke the protocol, or its upload cannot be stored: discard the upload, log why,
   * and answer `{"ok": false, "error": reason}`. The answer comes after the clean-up, so a
   * client that reads it finds nothing left behind.
   */
  protected async fail(reason: string): Promise<void> {
    if (this.state === 'done') return this.cleaning;
    this.state = 'done';
    this.stopDeadline(); // the clean-up is our wait; answer() gives the client its time to close
    this.cleaning = this.cleanUp(reason);
    await this.cleaning;
    this.answer({ ok: false, error: reason });
  }

  /** The client went away (reset, closed, silent): discard the upload; there is no one to answer. */
  protected async abort(reason: string): Promise<void> {
    // 'finishing': every byte is in; the file is stored even if nobody reads the answer.
    if (this.state === 'done' || this.state === 'finishing') return this.cleaning;
    const started = this.header !== undefined || this.decoder.buffered > 0;
    this.state = 'done';
    this.socket.destroy();
    this.count();
    if (started) this.cleaning = this.cleanUp(reason);
    return this.cleaning;
  }

  private async cleanUp(reason: string): Promise<void> {
    this.count(); // state is 'done': the budget gets back what this upload held
    if (this.file !== undefined || this.temporaryPath !== undefined) {
      try {
        await this.discard();
      } catch (error) {
        this.log(`client ${this.peer}: could not remove the temporary file: ${describeError(error)}`);
      }
    }
    const what = this.header ? `${JSON.stringify(this.header.name)} not stored` : 'nothing stored';
    this.log(`client ${this.peer}: ${what}: ${reason}`);
  }

  /**
   * One answer frame, then our FIN; reading resumes so that the client's own close is seen, and
   * the deadline gives it frameTimeoutMs to close.
   */
  protected answer(answer: UploadAnswer): void {
    this.count(); // the upload is over: what it held goes back to the budget
    if (this.socket.writable) this.socket.end(jsonFrame(answer));
    this.socket.resume();
    this.restartDeadline();
  }

  /** A connection that ends before any header: nothing to answer. */
  private finishQuietly(): void {
    this.state = 'done';
    this.count();
    this.socket.end();
    this.restartDeadline();
  }
}

/**
 * The device and inode of the file a stream has open, asked of its descriptor (fstat) once the
 * stream has opened it ('open', like fs.WriteStream): what the file is, whatever name it has.
 */
export async function identityOf(file: Writable): Promise<Stats> {
  const stream = file as Writable & { fd?: number | null };
  const fd = typeof stream.fd === 'number' ? stream.fd : ((await once(file, 'open')) as [number])[0];
  return promisify(fstat)(fd);
}

/** Every default filled in. */
export function settingsFrom(options: ServerOptions = {}): Settings {
  return {
    dir: resolve(options.dir ?? DEFAULT_DIR),
    log: options.log ?? (() => {}),
    maxFrameBytes: options.maxFrameBytes ?? MAX_BODY_FRAME_BYTES,
    frameTimeoutMs: options.frameTimeoutMs ?? DEFAULT_FRAME_TIMEOUT_MS,
    openFile:
      options.openFile ??
      ((path) => createWriteStream(path, { flags: 'wx', mode: 0o600, highWaterMark: FILE_QUEUE_BYTES })),
    budget: { limit: options.budgetBytes ?? DEFAULT_BUDGET_BYTES, held: 0 },
  };
}

/**
 * `mkdir -p dir`, with the real reason when it fails. (Node's own recursive mkdirSync() answers
 * ENOENT for a directory it cannot create on a read-only file system: after the EROFS of mkdir,
 * it looks at the path, finds nothing there, and reports that instead.)
 */
export function makeDirectory(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return; // a file of that name fails at readdirSync(): ENOTDIR
    if (code !== 'ENOENT' || dirname(dir) === dir) throw error;
    makeDirectory(dirname(dir)); // the parent is missing: make it, then try again
    mkdirSync(dir);
  }
}

/**
 * The upload server, not yet listening. Creates the upload directory if it is missing (throws
 * when it cannot), and removes the temporary files an earlier server left there. `Session` is
 * the class that serves each connection.
 */
export function createUploadServer(
  options: ServerOptions = {},
  Session: typeof UploadSession = UploadSession,
): net.Server {
  const settings = settingsFrom(options);
  const { dir, log } = settings;
  makeDirectory(dir);
  // A server that stopped mid-upload (Ctrl-C, killed, a power cut) left its temporary files, and
  // nobody will finish them. Only regular files of the server's own names: no upload can have
  // one. (So two servers must not share one directory.)
  for (const name of readdirSync(dir)) {
    if (TEMPORARY_NAME.test(name) && lstatSync(join(dir, name)).isFile()) rmSync(join(dir, name));
  }
  // Said now, not at the first upload: a read-only file system, a directory that is not ours.
  accessSync(dir, constants.W_OK);
  // allowHalfOpen: the client's FIN ("the body is complete") must not close our side before we answer.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => new Session(socket, settings));
  // Past the limit, Node closes each new connection as soon as it is accepted, and emits 'drop'.
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  server.maxConnections = maxConnections;
  server.on('drop', (dropped) => {
    const from = dropped ? `${dropped.remoteAddress}:${dropped.remotePort}` : 'a client';
    log(`refused a connection from ${from}: ${maxConnections} open already (--max-connections)`);
  });
  return server;
}

// region program
/** The command line of server.ts, serving with `create` (mistakes/ pass theirs). */
export function serverProgram(create: typeof createUploadServer = createUploadServer): ServerProgram {
  return {
    spec: {
      name: 'server.ts',
      summary: 'Receives files (a header frame, then body frames) and stores them, checked, in --dir.',
      options: {
        dir: {
          type: 'string',
          value: 'DIR',
          description: `where files are stored (default ${DEFAULT_DIR}, created if missing)`,
        },
        'max-frame': {
          type: 'string',
          value: 'BYTES',
          description: `largest frame accepted (default ${MAX_BODY_FRAME_BYTES})`,
        },
        budget: {
          type: 'string',
          value: 'BYTES',
          description: `most bytes all uploads together may hold in memory; an upload that would go over is answered "server busy" (default ${DEFAULT_BUDGET_BYTES})`,
        },
        'max-connections': {
          type: 'string',
          value: 'N',
          description: `most connections open at once; more are closed at once (default ${DEFAULT_MAX_CONNECTIONS})`,
        },
        timeout: {
          type: 'string',
          value: 'MS',
          description: `each frame (the header, then each body frame) must be complete within MS of the one before it, or of connecting (default ${DEFAULT_FRAME_TIMEOUT_MS})`,
        },
      },
    },
    create: (cli) => {
      const dir = cli.string('dir', DEFAULT_DIR);
      const maxFrameBytes = cli.integer('max-frame', MAX_BODY_FRAME_BYTES, {
        min: 4096,
        max: MAX_FRAME_BYTES,
      });
      const frameTimeoutMs = cli.milliseconds('timeout', DEFAULT_FRAME_TIMEOUT_MS);
      // Less could refuse one upload alone: a frame being assembled, and a file queue that one
      // more frame takes past its mark.
      const budgetBytes = cli.integer('budget', DEFAULT_BUDGET_BYTES, {
        min: 2 * maxFrameBytes + FILE_QUEUE_BYTES,
      });
      const maxConnections = cli.integer('max-connections', DEFAULT_MAX_CONNECTIONS, { min: 1 });
      try {
        return create({ dir, maxFrameBytes, frameTimeoutMs, budgetBytes, maxConnections, log: console.log });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? '';
        const verb = ['EROFS', 'EACCES', 'EPERM'].includes(code) ? 'cannot write to' : 'cannot use';
        return fail(`${verb} --dir ${dir}: ${fileProblem(error)}`, EXIT.network);
      }
    },
  };
}

export const program = serverProgram();

if (isMain(import.meta.url)) runServerProgram(program);
// endregion program
