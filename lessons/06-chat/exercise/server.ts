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

  // region accept
  /** A new connection: listen to everything it can do. */
  accept(socket: net.Socket): void {
    // TODO(4): every open connection counts, joined or not, so that sockets that never send a
    // nickname cannot take every place either. If this.isFull(), this.turnAway(socket, 'server full',
    // `${this.maxClients} connections`) and return; if this.openFrom(socket) >= this.maxPerAddress
    // (one address may not take every place), this.turnAway(socket, 'too many connections from
    // your address', `${this.maxPerAddress} from it`) and return. Otherwise this.track(socket),
    // and this.untrack(socket) on 'close' below: 'close' comes however the connection ends
    // ('end' and 'error' alone would miss some).
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
    // TODO(4): however the client goes, it leaves the room: call this.leave(member, why) on 'end'
    // (its FIN), on 'error' (a reset, say: why = describeError(error)) and on 'close' (which always
    // comes last, exactly once, whatever happened).
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
  join(member: Member, line: string): void {
    // TODO(2): the nickname is nicknameOf(line), the line normalised (NFKC) and checked: undefined
    // gets `ERR ${INVALID_NICKNAME}`; one already in this.members gets `ERR nickname taken` (compare
    // the normalised nickname, never the raw line: `ａｌｉｃｅ` is `alice`). That is all: the client's next line is another
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
    // TODO(3): first, a line with a control character or a bidi override (unsafeLineError(line)
    // returns the ERR line) is answered with that ERR, and goes no further: relayed, it would drive
    // the others' terminals. `/who`: send the sender alone `USERS ` and this.nicknames() joined with commas.
    // `/quit` or `byebye`: send `BYE`, this.leave(member, 'quit'), then this.closeSoon(member).
    // Any other line is a message: broadcast `NICK: line` to the others.
    this.send(member, 'TODO(3): handle messages and commands in command() — see README step 3');
  }

  /**
   * Step 3: every joined nickname, sorted by code point. Comparing the UTF-8 bytes sorts by code
   * point; JavaScript's default sort compares UTF-16 units, which puts 𠀋 (U+2000B) before 﨎 (U+FA0E).
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

  // region step-5-deadline
  /**
   * Step 5: after each chunk, keeps the right deadline running. Until the nickname is accepted,
   * the one started in accept() runs on, whatever arrives. Once joined, a chunk that ends a line
   * stops the clock, and a chunk that leaves a line unfinished starts it, unless it runs already:
   * the line then has lineTimeoutMs from its first byte, however slowly its bytes come.
   */
  updateDeadline(member: Member, chunk: Buffer): void {
    // TODO(5): do nothing until member.nick is set (the deadline started in accept() runs on,
    // whatever arrives), nor once member.socket.writable is false (it is leaving). Then: a \n in
    // the chunk (chunk.includes(0x0a)) completes a line: this.stopDeadline(member). A chunk that
    // does not end in \n leaves a line begun: this.startDeadline(member, 'line not complete').
  }

  /** Step 5: starts a deadline of lineTimeoutMs for `member`, unless one runs already. */
  startDeadline(member: Member, what: string): void {
    // TODO(5): unless member.deadline is set already, set it to a timer of your own:
    // setTimeout(() => this.tooSlow(member, what), this.lineTimeoutMs). Not socket.setTimeout():
    // that one is an idle timer, and every byte that arrives restarts it.
  }

  /** Step 5: the deadline passed: `ERR too slow`, and the client goes as for a line too long. */
  tooSlow(member: Member, what: string): void {
    // TODO(5): the timer has fired: set member.deadline to undefined. Unless member.socket.writable
    // is false (it is leaving already): log `NICK too slow: WHAT after MS ms, closing` (before it
    // joined: `client IP:PORT too slow: ...`), send `ERR too slow`, this.leave(member, 'too slow')
    // and this.closeSoon(member), as for a line too long.
  }
  // endregion step-5-deadline

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
