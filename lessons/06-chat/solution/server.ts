/**
 * Lesson 06: a chat room.
 *
 * One process, any number of clients, a line protocol in UTF-8. The first line a client sends is
 * its nickname (`OK <nick>` or `ERR <reason>`); after that every non-empty line is a message that
 * the others get as `<nick>: <text>`. `/who` lists who is here, `/quit` or `byebye` says goodbye.
 * Nobody can take the room down: not a client that resets, nor one that sends a line without
 * end, nor one that stops reading.
 *
 *   npx tsx lessons/06-chat/solution/server.ts --port 9000
 *   nc 127.0.0.1 9000                                      → type a nickname, then chat
 */
import net from 'node:net';
import { describeError, isMain, peerAddress, runServerProgram, type ServerProgram } from '@course/program';

/** Where the server writes its one line per client event (console.log in the program). */
export type Log = (line: string) => void;

/** The longest line a client may send, in bytes, not counting its line ending. */
export const MAX_LINE_BYTES = 4096;

/** How many bytes may wait in Node's buffer for one client before it is dropped: 256 KiB. */
export const DEFAULT_MAX_QUEUE_BYTES = 256 * 1024;

/** A nickname: 1 to 32 letters (of any script), digits, `_` or `-`. */
export const NICKNAME = /^[\p{L}\p{N}_-]{1,32}$/u;

/** The reason after `ERR ` for a nickname that does not match NICKNAME. */
export const INVALID_NICKNAME = 'invalid nickname: use 1 to 32 letters, digits, _ or -';

/** How long a client we said goodbye to may keep its side open before we cut it off. */
export const CLOSE_GRACE_MS = 2_000;

export interface ChatOptions {
  log?: Log;
  /** Bytes that may queue up for one client that does not read; past it, it is dropped. */
  maxQueueBytes?: number;
}

// region step-1-splitter
/**
 * Step 1: cuts a byte stream into lines. TCP delivers bytes cut anywhere: a chunk may hold half a
 * line, three lines, or half of a multi-byte character. So bytes stay bytes until a `\n` ends the
 * line; only then is the line decoded, whole, as UTF-8 (without its `\n`, and without a `\r`
 * before it). A line longer than `maxLineBytes` sets `tooLong`, and nothing more comes out: the
 * memory held for one client never passes about `maxLineBytes`.
 */
export class LineSplitter {
  readonly maxLineBytes: number;
  /** True once a line longer than maxLineBytes arrived (push() then returns no more lines). */
  tooLong = false;
  /** The bytes of the line not yet complete, and how many there are. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(maxLineBytes = MAX_LINE_BYTES) {
    this.maxLineBytes = maxLineBytes;
  }

  /** Feeds one chunk; returns the lines it completed, in order (empty lines included, as ''). */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    while (!this.tooLong) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline === -1) break;
      // Join the line's pieces once, when it is complete: never the whole stream on every chunk.
      const tail = chunk.subarray(start, newline);
      let line = this.pendingBytes === 0 ? tail : Buffer.concat([...this.pending, tail]);
      this.pending = [];
      this.pendingBytes = 0;
      start = newline + 1;
      if (line.at(-1) === 0x0d) line = line.subarray(0, -1); // \r\n: drop the \r too
      if (line.length > this.maxLineBytes) this.tooLong = true;
      else lines.push(line.toString('utf8'));
    }
    if (!this.tooLong && start < chunk.length) {
      // Copy the unfinished part: a small slice would keep the whole chunk's memory alive.
      this.pending.push(Buffer.from(chunk.subarray(start)));
      this.pendingBytes += chunk.length - start;
      // One byte more than the limit may be the \r of a \r\n still on its way.
      if (this.pendingBytes > this.maxLineBytes + 1) this.tooLong = true;
    }
    if (this.tooLong) {
      this.pending = [];
      this.pendingBytes = 0;
    }
    return lines;
  }
}
// endregion step-1-splitter

/** One connection, from its first byte to its close. */
export interface Member {
  readonly socket: net.Socket;
  /** `127.0.0.1:48316`, for the log. */
  readonly peer: string;
  /** This connection's own line splitter: each client's bytes are a stream of their own. */
  readonly lines: LineSplitter;
  /** Set once the server answered `OK <nick>`. */
  nick: string | undefined;
}

/**
 * The room: every joined member by nickname, and what happens to each line. One instance serves
 * every connection of a server; Node calls its methods from the event loop, one event at a time,
 * so nothing here needs a lock.
 */
export class ChatRoom {
  /** The joined members, by nickname. */
  readonly members = new Map<string, Member>();
  readonly log: Log;
  readonly maxQueueBytes: number;

  constructor({ log = () => {}, maxQueueBytes = DEFAULT_MAX_QUEUE_BYTES }: ChatOptions = {}) {
    this.log = log;
    this.maxQueueBytes = maxQueueBytes;
  }

  // region accept
  /** A new connection: listen to everything it can do. */
  accept(socket: net.Socket): void {
    const member: Member = { socket, peer: peerAddress(socket), lines: new LineSplitter(), nick: undefined };
    this.log(`client connected from ${member.peer}`);
    // Chat lines are small and should leave at once: no waiting to fill a segment (Nagle).
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(member, chunk));
    // However the client goes, it leaves the room: FIN ('end'), a reset or another error
    // ('error'), or anything else ('close', which always comes last, exactly once).
    socket.on('end', () => this.leave(member, 'closed the connection'));
    socket.on('error', (error) => {
      this.log(`client ${member.peer} failed: ${describeError(error)}`);
      this.leave(member, describeError(error));
    });
    socket.on('close', () => {
      this.leave(member, 'connection closed');
      this.log(`client ${member.peer} closed`);
    });
  }
  // endregion accept

  // region step-1-receive
  /** Step 1: a chunk from one client. Each complete line is handled in order; a line too long ends it. */
  receive(member: Member, chunk: Buffer): void {
    for (const line of member.lines.push(chunk)) {
      // After BYE (or any goodbye) the rest of what this client sent is ignored.
      if (!member.socket.writable) return;
      if (line !== '') this.handleLine(member, line);
    }
    if (member.lines.tooLong && member.socket.writable) {
      this.send(member, 'ERR line too long');
      this.leave(member, `sent a line over ${member.lines.maxLineBytes} bytes`);
      this.closeSoon(member);
    }
  }
  // endregion step-1-receive

  /** A non-empty line: a nickname until the client has joined, then a message or a command. */
  handleLine(member: Member, line: string): void {
    if (member.nick === undefined) this.join(member, line);
    else this.command(member, line);
  }

  // region step-2
  /** Step 2: the first lines are nickname attempts, until one is valid and free. */
  join(member: Member, nick: string): void {
    // A refused nickname is not the end: the client's next line is another attempt.
    if (!NICKNAME.test(nick)) {
      this.send(member, `ERR ${INVALID_NICKNAME}`);
      return;
    }
    if (this.members.has(nick)) {
      this.send(member, 'ERR nickname taken');
      return;
    }
    member.nick = nick;
    this.members.set(nick, member);
    this.log(`${member.peer} joined as ${nick}`);
    this.send(member, `OK ${nick}`);
    this.broadcast(`* ${nick} joined`, member);
  }

  /** Step 2: sends `line` to every joined member except `from`. */
  broadcast(line: string, from: Member): void {
    for (const member of this.members.values()) {
      if (member !== from) this.send(member, line);
    }
  }
  // endregion step-2

  // region step-3
  /** Step 3: a line from a joined member: /who, /quit or byebye, or a message for the others. */
  command(member: Member, line: string): void {
    if (line === '/who') {
      this.send(member, `USERS ${this.nicknames().join(',')}`);
    } else if (line === '/quit' || line === 'byebye') {
      this.send(member, 'BYE');
      this.leave(member, 'quit');
      this.closeSoon(member);
    } else {
      this.broadcast(`${member.nick}: ${line}`, member);
    }
  }

  /**
   * Step 3: every joined nickname, sorted by code point. Comparing the UTF-8 bytes sorts by code
   * point; JavaScript's default sort compares UTF-16 units, which puts 𝒜 (U+1D49C) before Ｚ (U+FF3A).
   */
  nicknames(): string[] {
    return [...this.members.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }
  // endregion step-3

  // region step-4
  /**
   * Step 4: `member` leaves the room (quit, FIN, reset, error, dropped...). Called once for
   * every way a connection can end, so it must do its work only the first time.
   */
  leave(member: Member, why: string): void {
    const { nick } = member;
    if (nick === undefined || this.members.get(nick) !== member) return; // never joined, or gone already
    this.members.delete(nick);
    this.log(`${nick} left (${why})`);
    this.broadcast(`* ${nick} left`, member);
  }
  // endregion step-4

  // region step-5
  /**
   * Step 5: sends one line to one member, without ever letting a client that does not read grow
   * the server's memory. write() queues in Node's buffer what the kernel cannot take yet; past
   * `maxQueueBytes` queued, the member is dropped. While write() says the queue is over its
   * high-water mark (it returns false), this member's own input is paused until 'drain', so it
   * cannot make the server queue even more for it (a /who a millisecond, say).
   */
  send(member: Member, line: string): void {
    const { socket } = member;
    if (!socket.writable) return; // ended or destroyed: nothing more goes out
    const belowHighWaterMark = socket.write(`${line}\n`);
    if (socket.writableLength > this.maxQueueBytes) {
      this.log(
        `${member.nick ?? member.peer} is not reading: ${socket.writableLength} bytes queued ` +
          `(over ${this.maxQueueBytes}), dropping it`,
      );
      // Not leave() here: we may be in the middle of a broadcast. 'close' comes next and leaves.
      socket.destroy();
      return;
    }
    if (!belowHighWaterMark && !socket.isPaused()) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
  }
  // endregion step-5

  /** Our last word is sent: close our side, and cut off a client that does not close its own. */
  closeSoon(member: Member): void {
    const { socket } = member;
    socket.end();
    const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }
}

// region create
/** The chat server: one room, and every connection handed to it. */
export function createChatServer(options: ChatOptions = {}): net.Server {
  const room = new ChatRoom(options);
  return net.createServer((socket) => room.accept(socket));
}
// endregion create

// region program
/** The command line of server.ts (`--help` lists it). */
export const program: ServerProgram = {
  spec: {
    name: 'server.ts',
    summary: 'A chat room: send a nickname, then lines; /who lists the room, /quit leaves.',
    options: {
      'max-queue': {
        type: 'string',
        value: 'BYTES',
        description: `bytes queued for a client that does not read before it is dropped (default ${DEFAULT_MAX_QUEUE_BYTES})`,
      },
    },
  },
  create: (cli) =>
    createChatServer({
      log: console.log,
      maxQueueBytes: cli.integer('max-queue', DEFAULT_MAX_QUEUE_BYTES, { min: 1 }),
    }),
};

if (isMain(import.meta.url)) runServerProgram(program);
// endregion program
