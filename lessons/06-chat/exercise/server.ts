/**
 * Lesson 06: a chat room.
 *
 * One process, any number of clients, a line protocol in UTF-8. The first line a client sends is
 * its nickname (`OK <nick>` or `ERR <reason>`); after that every non-empty line is a message that
 * the others get as `<nick>: <text>`. `/who` lists who is here, `/quit` or `byebye` says goodbye.
 * Nobody can take the room down: not a client that resets, nor one that sends a line without
 * end, nor one that stops reading.
 *
 *   npx tsx lessons/06-chat/exercise/server.ts --port 9000
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
  // TODO(1): keep the bytes of the line not yet complete in fields of your own, for example
  // `private pending: Buffer[] = []` and `private pendingBytes = 0`.

  constructor(maxLineBytes = MAX_LINE_BYTES) {
    this.maxLineBytes = maxLineBytes;
  }

  /** Feeds one chunk; returns the lines it completed, in order (empty lines included, as ''). */
  push(chunk: Buffer): string[] {
    // TODO(1): find each \n in the chunk: chunk.indexOf(0x0a, start). The line is the pieces kept
    // so far plus the bytes before that \n: join them once (Buffer.concat), drop a \r at the end,
    // and decode the line with toString('utf8'). A line over maxLineBytes sets tooLong, and push()
    // returns the lines that came before it. Keep the bytes after the last \n (a copy, with
    // Buffer.from) for the next chunk; set tooLong as soon as they pass maxLineBytes + 1 (the one
    // byte more may be the \r of a \r\n whose \n is on its way).
    throw new Error('TODO(1): cut the chunk into lines in LineSplitter.push() — see README step 1');
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
    // TODO(4): however the client goes, it leaves the room: call this.leave(member, why) on 'end'
    // (its FIN), on 'error' (a reset, say: why = describeError(error)) and on 'close' (which always
    // comes last, exactly once, whatever happened).
    socket.on('error', (error) => this.log(`client ${member.peer} failed: ${describeError(error)}`));
    socket.on('close', () => this.log(`client ${member.peer} closed`));
  }
  // endregion accept

  // region step-1-receive
  /** Step 1: a chunk from one client. Each complete line is handled in order; a line too long ends it. */
  receive(member: Member, chunk: Buffer): void {
    // TODO(1): push the chunk into member.lines (this connection's LineSplitter) and hand each
    // line, in order, to this.handleLine(member, line). Skip empty lines, and stop as soon as
    // member.socket.writable is false: after a goodbye, the rest is ignored. Then, if
    // member.lines.tooLong: send `ERR line too long`, this.leave(member, why), this.closeSoon(member).

    // Until then, every client is told what is missing. Delete this line.
    member.socket.end('TODO(1): cut the bytes into lines in receive() — see README step 1\n');
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
    // TODO(2): a nickname that does not match NICKNAME gets `ERR ${INVALID_NICKNAME}`; one already
    // in this.members gets `ERR nickname taken`. That is all: the client's next line is another
    // attempt. A good one: set member.nick, add the member to this.members, log
    // `IP:PORT joined as NICK` (member.peer), send it `OK NICK`, and tell the others `* NICK joined`.
    this.send(member, 'TODO(2): answer the nickname in join() — see README step 2');
  }

  /** Step 2: sends `line` to every joined member except `from`. */
  broadcast(line: string, from: Member): void {
    // TODO(2): send `line` (this.send) to every member of this.members except `from`.
  }
  // endregion step-2

  // region step-3
  /** Step 3: a line from a joined member: /who, /quit or byebye, or a message for the others. */
  command(member: Member, line: string): void {
    // TODO(3): `/who`: send the sender alone `USERS ` and this.nicknames() joined with commas.
    // `/quit` or `byebye`: send `BYE`, this.leave(member, 'quit'), then this.closeSoon(member).
    // Any other line is a message: broadcast `NICK: line` to the others.
    this.send(member, 'TODO(3): handle messages and commands in command() — see README step 3');
  }

  /**
   * Step 3: every joined nickname, sorted by code point. Comparing the UTF-8 bytes sorts by code
   * point; JavaScript's default sort compares UTF-16 units, which puts 𝒜 (U+1D49C) before Ｚ (U+FF3A).
   */
  nicknames(): string[] {
    // TODO(3): sort them by code point: compare Buffer.from(a) with Buffer.from(b) (Buffer.compare).
    return [...this.members.keys()];
  }
  // endregion step-3

  // region step-4
  /**
   * Step 4: `member` leaves the room (quit, FIN, reset, error, dropped...). Called once for
   * every way a connection can end, so it must do its work only the first time.
   */
  leave(member: Member, why: string): void {
    // TODO(4): only a member that joined and is still this.members.get(nick) leaves (this is called
    // for every way a connection ends, often twice for one): delete it from this.members, log
    // `NICK left (why)`, and tell the others `* NICK left`.
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
    socket.write(`${line}\n`);
    // TODO(5): keep write()'s answer. Past this.maxQueueBytes in socket.writableLength, log it
    // (`NICK is not reading: ...`) and socket.destroy(): its 'close' then makes it leave. When
    // write() returned false, pause this member's input (socket.pause()) until 'drain'
    // (socket.resume()), once: not one 'drain' listener per write.
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
