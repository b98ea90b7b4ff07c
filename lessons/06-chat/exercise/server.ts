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
 *   npx tsx lessons/06-chat/exercise/server.ts --port 9000
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
  // TODO(1): the bytes of a line not yet complete wait here, in fields of your own, for the chunk
  // that completes it: its pieces, and how many bytes they hold (the limit is then one comparison).

  constructor(maxLineBytes = MAX_LINE_BYTES) {
    this.maxLineBytes = maxLineBytes;
  }

  /** Feeds one chunk; returns the lines it completed, in order (empty lines included, as ''). */
  push(chunk: Buffer): string[] {
    // TODO(1): return the lines this chunk completes, in order, and keep the rest for the next
    // call. Bytes stay bytes until a \n ends their line (a chunk can end inside a character);
    // only then is the line joined, once, and decoded (joining or decoding the whole stream on
    // every chunk costs the square of its size). A \r right before the \n is not part of the line.
    // Memory stays bounded: what you keep must not pin a whole chunk, and a line past maxLineBytes
    // sets tooLong at once, complete or not (one byte more may be the \r of a \r\n still on its
    // way); the lines before it still come out, none after. Node docs: buf.indexOf(),
    // Buffer.concat(), Buffer.from(). README "Lines out of a stream" and step 1; lesson 07 builds
    // this decoder piece by piece, and shows why each piece is needed.
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
    // TODO(1): each complete line of this client's stream (member.lines is its own splitter) goes
    // to handleLine(), in order; empty lines are ignored. Once the client was told goodbye (its
    // socket is no longer writable), the rest of what it sent is ignored. A line too long (the
    // splitter says so) gets `ERR line too long`, then the client leaves the room and is closed:
    // the given leave() and closeSoon() do both. README step 1.

    // Until then, every client is told what is missing. Delete this line.
    member.socket.end('TODO(1): cut the bytes into lines in receive() — see README step 1\n');
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
    // TODO(2): until one is valid and free, each line is a nickname attempt. The given
    // nicknameOf() says which nickname a line asks for, as the room knows it (NFKC-normalised:
    // `ａｌｉｃｅ` is `alice`), or that it is not allowed: use its answer, never the raw line. A
    // refused one gets `ERR ` and INVALID_NICKNAME, or `ERR nickname taken` when this.members
    // holds it, and nothing else happens: the next line is another attempt. An accepted one joins
    // the room (member.nick, this.members), is logged as `IP:PORT joined as NICK`, gets `OK NICK`,
    // and the others get `* NICK joined`. README step 2, and "The protocol".
    this.send(member, 'TODO(2): answer the nickname in join() — see README step 2');
  }

  /** Step 2: sends `line` to every joined member except `from`. */
  broadcast(line: string, from: Member): void {
    // TODO(2): every joined member but the sender gets `line`, through send() (it will handle
    // slow readers in step 5).
  }
  // endregion step-2

  // region step-3
  /** Step 3: a line from a joined member: /who, /quit or byebye, or a message for the others. */
  command(member: Member, line: string): void {
    // TODO(3): four kinds of line. First, one holding a control character or a bidi override:
    // the given unsafeLineError() returns the ERR line to answer, and the line goes no further
    // (relayed, it would drive the others' terminals). `/who`: the sender alone gets `USERS ` and
    // every nickname, comma-separated. `/quit` or `byebye`: `BYE`, then the member leaves (reason
    // 'quit') and its connection is closed, with the given leave() and closeSoon(). Anything else
    // is a message: the others get `NICK: text`. README step 3, and "What reaches the others'
    // terminals".
    this.send(member, 'TODO(3): handle messages and commands in command() — see README step 3');
  }

  /**
   * Step 3: every joined nickname, sorted by code point. Comparing the UTF-8 bytes sorts by code
   * point; JavaScript's default sort compares UTF-16 units, which puts 𠀋 (U+2000B) before 﨎 (U+FA0E).
   */
  nicknames(): string[] {
    // TODO(3): sort them by code point. The default sort compares UTF-16 units, which differs
    // beyond U+FFFF; UTF-8 bytes sort exactly like code points (Node docs: Buffer.compare()).
    return [...this.members.keys()];
  }
  // endregion step-3

  // region step-4
  // region accept
  /** A new connection: listen to everything it can do. */
  accept(socket: net.Socket): void {
    // TODO(4): every open connection counts, joined or not: sockets that never send a nickname
    // must not take every place either. A newcomer to a full room (isFull()) is turned away with
    // `ERR server full`; one whose address has maxPerAddress connections open already (openFrom())
    // with `ERR too many connections from your address`. The given turnAway() says it and closes
    // (its last argument, the limit, is for the log: `2 connections`, `16 from it`). Any other
    // connection counts (track()) until its 'close', the one event that comes however a
    // connection ends (untrack(), below). README step 4, and "A slow sender, and too many clients".
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
    // TODO(4): however the client goes, it leaves the room (leave()): its FIN, a reset or another
    // error (the reason: describeError()), or anything else, which only 'close' tells, always
    // last and exactly once. Node docs: net.Socket's 'end', 'error' and 'close' events. README
    // "When a client goes away".
    socket.on('error', (error) => this.log(`client ${member.peer} failed: ${describeError(error)}`));
    socket.on('close', () => {
      this.stopDeadline(member); // no timer outlives its socket
      this.log(`client ${member.peer} closed`);
    });
    // From now on the newcomer has lineTimeoutMs to be joined (step 5).
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
    // TODO(4): this runs for every way a connection ends, often twice for one, so only the first
    // call may act, and only for a member that joined and is still the one the room holds under
    // its nickname. It is then out of the room (its nickname free again), logged as
    // `NICK left (why)`, and the others get `* NICK left`.
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
    socket.write(`${line}\n`);
    // TODO(5): a member that does not read must neither grow the server's memory nor stall the
    // room. write() answers whether Node's buffer is past its high-water mark, and
    // socket.writableLength says how much waits in it. Past maxQueueBytes, log `NICK is not
    // reading: ...` and drop the connection at once; not with leave(): we may be inside a
    // broadcast, and its 'close' does it. While write() says false, read no more of this member's
    // own input until the buffer drains: one 'drain' listener per pause, not one per write.
    // Node docs: writable.write(), 'drain', socket.pause(). README "A slow reader: backpressure".
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
    // TODO(5): keep the right clock running. Until the nickname is accepted, the join deadline
    // started in accept() runs on, whatever arrives; a member on its way out (socket no longer
    // writable) needs none. Once joined, a chunk that completes a line stops the clock, and a
    // chunk that leaves a line unfinished starts it ('line not complete'), unless it runs already.
    // README "A slow sender, and too many clients".
  }

  /** Step 5: starts a deadline of lineTimeoutMs for `member`, unless one runs already. */
  startDeadline(member: Member, what: string): void {
    // TODO(5): unless one runs already (member.deadline), start a timer of your own that calls
    // tooSlow() after lineTimeoutMs. Not socket.setTimeout(): that one is an idle timer, every
    // byte that arrives restarts it, and a byte a second would keep a connection forever.
  }

  /** Step 5: the deadline passed: `ERR too slow`, and the client goes as for a line too long. */
  tooSlow(member: Member, what: string): void {
    // TODO(5): the timer fired, so it runs no more (member.deadline). Unless the member is on its
    // way out already, log `NICK too slow: WHAT after MS ms, closing` (before it joined:
    // `client IP:PORT too slow: ...`), answer `ERR too slow`, and let it leave ('too slow') and be
    // closed, as for a line too long.
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
