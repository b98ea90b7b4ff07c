/**
 * Lesson 06: a chat room.
 *
 * One process, any number of clients, a line protocol in UTF-8. The first line a client sends is
 * its nickname (`OK <nick>` or `ERR <reason>`); after that every non-empty line is a message that
 * the others get as `<nick>: <text>`. `/who` lists who is here, `/quit` or `byebye` says goodbye.
 * Nobody can take the room down: not a client that resets, nor one that sends a line without
 * end, nor one that stops reading, nor one that sends a byte now and then and never finishes its
 * line, nor a thousand connections at once, nor a crowd of them from one address. No line that
 * reaches a member's terminal can drive it: control characters and bidi overrides are refused,
 * and nicknames are NFKC-normalised letters of one script, so `аlice` (Cyrillic а) is refused.
 *
 *   npx tsx lessons/06-chat/solution/server.ts --port 9000
 *   nc 127.0.0.1 9000                                      → type a nickname, then chat
 */
import net from 'node:net';
import {
  type CommandLine,
  describeError,
  isMain,
  peerAddress,
  runServerProgram,
  type ServerProgram,
} from '@course/program';

/** Where the server writes its one line per client event (console.log in the program). */
export type Log = (line: string) => void;

/** The longest line a client may send, in bytes, not counting its line ending. */
export const MAX_LINE_BYTES = 4096;

/** How many bytes may wait in Node's buffer for one client before it is dropped: 256 KiB. */
export const DEFAULT_MAX_QUEUE_BYTES = 256 * 1024;

/** The shape of a nickname: 1 to 32 letters (with their marks), digits, `_` or `-`. */
export const NICKNAME = /^[\p{L}\p{M}\p{N}_-]{1,32}$/u;

/**
 * The scripts a nickname may be written in, each a RegExp of its letters, ASCII digits, `_` and
 * `-`. A nickname's letters all come from ONE of them: `аlice` with a Cyrillic `а` mixes two, and
 * is refused, so it cannot pass for `alice`. Japanese mixes Han, Hiragana and Katakana, Korean
 * Hangul and Han (`Han+Hiragana+Katakana`): those mixes count as one. (Script_Extensions, not Script: the long-vowel mark
 * `ー` belongs to both kana scripts.)
 */
export const SCRIPTS: readonly RegExp[] = (
  'Latin Greek Cyrillic Armenian Georgian Hebrew Arabic Syriac Thaana Devanagari Bengali ' +
  'Gurmukhi Gujarati Oriya Tamil Telugu Kannada Malayalam Sinhala Thai Lao Tibetan Myanmar Khmer ' +
  'Mongolian Ethiopic Cherokee Han+Hiragana+Katakana Hangul+Han Han+Bopomofo'
)
  .split(' ')
  .map((names) => {
    const letters = names.split('+').map((name) => `\\p{Script_Extensions=${name}}`);
    return new RegExp(`^[${letters.join('')}0-9_-]+$`, 'u');
  });

/** Characters that look like nothing (U+3164 HANGUL FILLER, zero-width joiners...): never in a nickname. */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/u;

/** The reason after `ERR ` for a nickname that nicknameOf() refuses. */
export const INVALID_NICKNAME = 'invalid nickname: use 1 to 32 letters of one script, digits, _ or -';

/**
 * The nickname a line asks for, as the room knows it, or undefined if it is not allowed. The line
 * is NFKC-normalised first, so that `ａｌｉｃｅ` (fullwidth) and `𝖆𝖑𝖎𝖈𝖊` (mathematical) become
 * `alice` and are compared as `alice`; then it must have NICKNAME's shape, no invisible
 * character, and the letters of one script (SCRIPTS).
 */
export function nicknameOf(line: string): string | undefined {
  const nick = line.normalize('NFKC');
  if (!NICKNAME.test(nick) || INVISIBLE.test(nick)) return undefined;
  return SCRIPTS.some((script) => script.test(nick)) ? nick : undefined;
}

/**
 * What the server never relays: C0 and C1 control characters (ESC starts the codes that clear a
 * screen or set its title, a `\r` rewrites the start of the line, BEL rings; the tab too, for
 * simplicity) and the bidi overrides and isolates (U+202A–U+202E, U+2066–U+2069), which make
 * text display in another order than it was written. A message holding one is refused with
 * `ERR control character U+XXXX not allowed`, and the member stays in the room.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters to find
export const UNSAFE_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

/** `ERR control character U+001B not allowed` for the first unsafe character of `line`, if any. */
export function unsafeLineError(line: string): string | undefined {
  const found = UNSAFE_CHARACTER.exec(line);
  if (found === null) return undefined;
  const code = (found[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
  return `ERR control character U+${code} not allowed`;
}

/** How long a client we said goodbye to may keep its side open before we cut it off. */
export const CLOSE_GRACE_MS = 2_000;

/**
 * The deadline, in ms: a newcomer must be joined (`OK <nick>`) this long after it connects, and a
 * member must finish a line this long after it began it. Silence between lines is never cut: a
 * chat member may say nothing for hours. 30 s is plenty for a person typing a line and pressing
 * Enter (a terminal client sends the line whole), and short for a client that trickles bytes.
 */
export const DEFAULT_LINE_TIMEOUT_MS = 30_000;

/**
 * How many connections may be open at once, joined or not. Each one can hold about
 * MAX_LINE_BYTES of its unfinished line and maxQueueBytes waiting to be sent to it, so 1000 of
 * them bound the worst case near 1000 × 260 KiB ≈ 260 MB, and every broadcast is at most 1000
 * writes. A connection beyond it is told `ERR server full` and closed at once.
 */
export const DEFAULT_MAX_CLIENTS = 1000;

/**
 * How many connections may come from one IP address at once. Without it, one machine opening
 * maxClients silent connections locks everyone else out for good; 16 leaves room for a family or
 * an office behind one address. One more gets `ERR too many connections from your address`.
 */
export const DEFAULT_MAX_PER_ADDRESS = 16;

export interface ChatOptions {
  log?: Log;
  /** Bytes that may queue up for one client that does not read; past it, it is dropped. */
  maxQueueBytes?: number;
  /** ms a newcomer has to join, and a member to finish a line it began (not the silence between lines). */
  lineTimeoutMs?: number;
  /** Connections open at once, joined or not; one more gets `ERR server full` and is closed. */
  maxClients?: number;
  /** Connections open at once from one IP address; one more gets `ERR too many connections from your address`. */
  maxPerAddress?: number;
}

// region step-1
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
  /** The deadline running for this connection (to join, or to finish a line), if any. */
  deadline: NodeJS.Timeout | undefined;
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
  readonly lineTimeoutMs: number;
  readonly maxClients: number;
  readonly maxPerAddress: number;
  /** The open connections, joined or not: added in accept() by track(), deleted on 'close' by untrack(). */
  readonly connections = new Set<net.Socket>();
  /** The same connections, by the client's IP address. */
  readonly byAddress = new Map<string, Set<net.Socket>>();

  constructor({
    log = () => {},
    maxQueueBytes = DEFAULT_MAX_QUEUE_BYTES,
    lineTimeoutMs = DEFAULT_LINE_TIMEOUT_MS,
    maxClients = DEFAULT_MAX_CLIENTS,
    maxPerAddress = DEFAULT_MAX_PER_ADDRESS,
  }: ChatOptions = {}) {
    this.log = log;
    this.maxQueueBytes = maxQueueBytes;
    this.lineTimeoutMs = lineTimeoutMs;
    this.maxClients = maxClients;
    this.maxPerAddress = maxPerAddress;
  }

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
  // endregion step-1

  /** A non-empty line: a nickname until the client has joined, then a message or a command. */
  handleLine(member: Member, line: string): void {
    if (member.nick === undefined) this.join(member, line);
    else this.command(member, line);
  }

  // region step-2
  /** Step 2: the first lines are nickname attempts, until one is valid and free. */
  join(member: Member, line: string): void {
    // A refused nickname is not the end: the client's next line is another attempt. The nickname
    // is the normalised one: `ａｌｉｃｅ` joins as `alice`, and is taken if `alice` is here.
    const nick = nicknameOf(line);
    if (nick === undefined) {
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
  /**
   * Step 3: a line from a joined member: /who, /quit or byebye, or a message for the others. A
   * line with a control character or a bidi override is refused (unsafeLineError): relayed, it
   * would drive the others' terminals.
   */
  command(member: Member, line: string): void {
    const unsafe = unsafeLineError(line);
    if (unsafe !== undefined) {
      this.send(member, unsafe);
    } else if (line === '/who') {
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
   * point; JavaScript's default sort compares UTF-16 units, which puts 𠀋 (U+2000B) before 﨎 (U+FA0E).
   */
  nicknames(): string[] {
    return [...this.members.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }
  // endregion step-3

  // region step-4
  // region accept
  /** A new connection: listen to everything it can do. */
  accept(socket: net.Socket): void {
    // Every open connection counts, joined or not: sockets that never send a nickname must not
    // be able to take every place either. It stays counted until its 'close', which comes
    // however the connection ends ('end' and 'error' alone would miss some). And one address
    // may not take more than maxPerAddress of them.
    if (this.isFull()) {
      this.turnAway(socket, 'server full', `${this.maxClients} connections`);
      return;
    }
    if (this.openFrom(socket) >= this.maxPerAddress) {
      this.turnAway(socket, 'too many connections from your address', `${this.maxPerAddress} from it`);
      return;
    }
    this.track(socket);
    const member: Member = {
      socket,
      peer: peerAddress(socket),
      lines: new LineSplitter(),
      nick: undefined,
      deadline: undefined,
    };
    this.log(`client connected from ${member.peer}`);
    // Chat lines are small and should leave at once: no waiting to fill a segment (Nagle).
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.receive(member, chunk);
      this.updateDeadline(member, chunk);
    });
    // However the client goes, it leaves the room: FIN ('end'), a reset or another error
    // ('error'), or anything else ('close', which always comes last, exactly once).
    socket.on('end', () => this.leave(member, 'closed the connection'));
    socket.on('error', (error) => {
      this.log(`client ${member.peer} failed: ${describeError(error)}`);
      this.leave(member, describeError(error));
    });
    socket.on('close', () => {
      this.untrack(socket);
      this.stopDeadline(member); // no timer outlives its socket
      this.leave(member, 'connection closed');
      this.log(`client ${member.peer} closed`);
    });
    // From now on the newcomer has lineTimeoutMs to be joined: to send a nickname line that is
    // valid and free. Trickling it, or sending bad nicknames forever, does not buy more time.
    this.startDeadline(member, 'not joined');
  }

  /**
   * True when maxClients connections are open. A socket destroyed a moment ago no longer counts:
   * its 'close' comes a little later, after the rest of this turn of the event loop, and a
   * newcomer that arrives in between should have its place.
   */
  isFull(): boolean {
    if (this.connections.size < this.maxClients) return false;
    for (const open of this.connections) if (open.destroyed) this.connections.delete(open);
    return this.connections.size >= this.maxClients;
  }

  /** How many connections from `socket`'s IP address are open (not counting those destroyed). */
  openFrom(socket: net.Socket): number {
    let open = 0;
    for (const other of this.byAddress.get(socket.remoteAddress ?? '') ?? []) if (!other.destroyed) open += 1;
    return open;
  }

  /** Counts `socket` as open, in connections and under its address. */
  track(socket: net.Socket): void {
    const address = socket.remoteAddress ?? '';
    this.connections.add(socket);
    const same = this.byAddress.get(address) ?? new Set<net.Socket>();
    same.add(socket);
    this.byAddress.set(address, same);
  }

  /** `socket` closed: it counts no more (its address's entry goes with its last connection). */
  untrack(socket: net.Socket): void {
    const address = socket.remoteAddress ?? '';
    this.connections.delete(socket);
    const same = this.byAddress.get(address);
    same?.delete(socket);
    if (same?.size === 0) this.byAddress.delete(address);
  }

  /**
   * The room is full, or this address has its share: say why (`ERR <reason>`) and close at once, politely. What the client sends is read and
   * thrown away (unread bytes would turn our close into a reset, and the client might never see
   * the line), and a client that does not close its side is cut off after CLOSE_GRACE_MS.
   */
  turnAway(socket: net.Socket, reason: string, limit: string): void {
    this.log(`client ${peerAddress(socket)} refused: ${reason} (${limit})`);
    socket.on('error', () => {}); // a reset from a client we turned away is not news
    socket.resume();
    socket.end(`ERR ${reason}\n`);
    const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }
  // endregion accept

  // region step-4-leave
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
  // endregion step-4-leave
  // endregion step-4

  // region step-5
  // region step-5-send
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
  // endregion step-5-send

  // region step-5-deadline
  /**
   * Step 5: after each chunk, keeps the right deadline running. Until the nickname is accepted,
   * the one started in accept() runs on, whatever arrives. Once joined, a chunk that ends a line
   * stops the clock, and a chunk that leaves a line unfinished starts it, unless it runs already:
   * the line then has lineTimeoutMs from its first byte, however slowly its bytes come.
   */
  updateDeadline(member: Member, chunk: Buffer): void {
    // Not joined yet: the join deadline counts. Gone (BYE, ERR, dropped): nothing counts any more.
    if (member.nick === undefined || !member.socket.writable) return;
    if (chunk.includes(0x0a)) this.stopDeadline(member); // a line is complete: the clock stops
    // The bytes after the chunk's last \n, if any, begin a line: the clock starts, or runs on.
    if (chunk.at(-1) !== 0x0a) this.startDeadline(member, 'line not complete');
  }

  /** Step 5: starts a deadline of lineTimeoutMs for `member`, unless one runs already. */
  startDeadline(member: Member, what: string): void {
    if (member.deadline !== undefined) return;
    // A timer of our own, not socket.setTimeout(): that one is an idle timer, and every byte
    // that arrives restarts it, so one byte a second would keep a connection forever.
    member.deadline = setTimeout(() => this.tooSlow(member, what), this.lineTimeoutMs);
  }

  /** Step 5: the deadline passed: `ERR too slow`, and the client goes as for a line too long. */
  tooSlow(member: Member, what: string): void {
    member.deadline = undefined;
    if (!member.socket.writable) return; // already on its way out
    this.log(
      `${member.nick ?? `client ${member.peer}`} too slow: ${what} after ${this.lineTimeoutMs} ms, closing`,
    );
    this.send(member, 'ERR too slow');
    this.leave(member, 'too slow');
    this.closeSoon(member);
  }
  // endregion step-5-deadline
  // endregion step-5

  /** Stops `member`'s deadline, if one runs. */
  stopDeadline(member: Member): void {
    clearTimeout(member.deadline);
    member.deadline = undefined;
  }

  /** Our last word is sent: close our side, and cut off a client that does not close its own. */
  closeSoon(member: Member): void {
    const { socket } = member;
    this.stopDeadline(member); // no deadline counts once we said goodbye
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
/** The server's options from its command line, logging with console.log. */
export function chatOptions(cli: CommandLine): ChatOptions {
  return {
    log: console.log,
    maxQueueBytes: cli.integer('max-queue', DEFAULT_MAX_QUEUE_BYTES, { min: 1 }),
    lineTimeoutMs: cli.milliseconds('timeout', DEFAULT_LINE_TIMEOUT_MS),
    maxClients: cli.integer('max-clients', DEFAULT_MAX_CLIENTS, { min: 1 }),
    maxPerAddress: cli.integer('max-per-address', DEFAULT_MAX_PER_ADDRESS, { min: 1 }),
  };
}

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
      timeout: {
        type: 'string',
        value: 'MS',
        description: `ms a new connection has to join, and a member to finish a line it began; silence between lines is never cut (default ${DEFAULT_LINE_TIMEOUT_MS})`,
      },
      'max-clients': {
        type: 'string',
        value: 'N',
        description: `connections at once, joined or not; one more gets ERR server full (default ${DEFAULT_MAX_CLIENTS})`,
      },
      'max-per-address': {
        type: 'string',
        value: 'N',
        description: `connections at once from one IP address; one more gets ERR too many connections from your address (default ${DEFAULT_MAX_PER_ADDRESS})`,
      },
    },
  },
  create: (cli) => createChatServer(chatOptions(cli)),
};

if (isMain(import.meta.url)) runServerProgram(program);
// endregion program
