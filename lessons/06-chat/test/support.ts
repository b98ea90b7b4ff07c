/**
 * Test helpers of lesson 06 that the shared harness does not have: a chat participant that reads
 * the server's lines one after another (the harness's Peer.lines(n) reads from the start every
 * time), a small terminal screen that understands the escape codes readline writes, and the
 * learner's server started in this process (server.test.ts, slow-clients.test.ts).
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { Writable } from 'node:stream';
import { closeAfterTest, connect, LogLines, listen, Peer, WireError, within } from '@course/helpers';
import { type ChatOptions, createChatServer } from '#impl/server.ts';

const CHANGED = 'changed';

/**
 * One chat client on a real socket. It splits what the server sends into lines as they arrive,
 * and each wait takes the next lines in order, so a test reads the conversation line by line.
 */
export class Chatter {
  readonly peer: Peer;
  readonly name: string;
  /** A shell line to replay the exchange, when the Peer's own (printf ... | nc) would be too long. */
  repro: string | undefined;
  /** Every complete line received so far, without its `\n`. */
  readonly lines: string[] = [];
  /** How many of `lines` the test has read. */
  seen = 0;
  private pending: Buffer[] = [];
  private readonly events = new EventEmitter();

  constructor(peer: Peer, name: string, repro?: string) {
    this.peer = peer;
    this.name = name;
    this.repro = repro;
    this.events.setMaxListeners(0);
    const notify = () => this.events.emit(CHANGED);
    peer.socket.on('data', (chunk: Buffer) => {
      let start = 0;
      for (let end = chunk.indexOf(0x0a); end !== -1; end = chunk.indexOf(0x0a, start)) {
        const line = Buffer.concat([...this.pending, chunk.subarray(start, end)]);
        this.pending = [];
        this.lines.push(line.toString('utf8'));
        start = end + 1;
      }
      if (start < chunk.length) this.pending.push(chunk.subarray(start));
      notify();
    });
    peer.socket.on('close', notify);
  }

  get socket(): net.Socket {
    return this.peer.socket;
  }

  /** Sends `text` as it is (add the `\n` yourself). */
  send(text: string | Uint8Array): Promise<void> {
    return this.peer.write(text);
  }

  /**
   * Waits until `done(unread lines)` returns a value, and returns it. Fails after `ms`, or when
   * the connection closes first, showing the lines so far.
   */
  async until<T>(
    done: (unread: string[]) => T | undefined,
    expected: string,
    { ms = 1_500, hint }: { ms?: number; hint?: string } = {},
  ): Promise<T> {
    let listener = () => {};
    const settled = new Promise<T>((resolve, reject) => {
      listener = () => {
        const value = done(this.lines.slice(this.seen));
        if (value !== undefined) return resolve(value);
        if (this.peer.socket.destroyed || this.peer.ending !== 'open') {
          reject(
            new WireError(
              `${this.name}'s connection ended before that arrived`,
              this.explain(expected, hint),
            ),
          );
        }
      };
      this.events.on(CHANGED, listener);
      listener();
    });
    try {
      return await within(settled, () => this.explain(expected, hint), { ms });
    } finally {
      this.events.off(CHANGED, listener);
    }
  }

  /** Waits for the next `n` lines, returns them and marks them read. */
  async next(n: number, options: { ms?: number; hint?: string } = {}): Promise<string[]> {
    const lines = await this.until(
      (unread) => (unread.length >= n ? unread.slice(0, n) : undefined),
      `${n} more line(s) for ${this.name}, each ending in \\n`,
      options,
    );
    this.seen += n;
    return lines;
  }

  /** Waits for the next line and fails unless it is exactly `line`. */
  async expect(line: string, hint?: string): Promise<void> {
    const [got] = await this.next(1, { hint });
    if (got !== line) {
      throw new WireError(`${this.name} got an unexpected line`, {
        expected: JSON.stringify(line),
        received: `${JSON.stringify(got)}; every line so far: ${JSON.stringify(this.lines)}`,
        hint,
        repro: this.repro ?? this.peer.repro,
      });
    }
  }

  /** Waits for the server to close the connection (a reset is allowed with `allowReset`). */
  async closed(options: { allowReset?: boolean; hint?: string; expected?: string } = {}): Promise<void> {
    await this.peer.closed({
      expected: `the server to close ${this.name}'s connection`,
      repro: this.repro,
      ...options,
    });
  }

  private explain(expected: string, hint?: string) {
    const unread = this.lines.slice(this.seen);
    const tail = Buffer.concat(this.pending);
    return {
      expected,
      received:
        `lines read so far: ${JSON.stringify(this.lines.slice(Math.max(0, this.seen - 5), this.seen))}; ` +
        `unread: ${JSON.stringify(unread)}` +
        (tail.length > 0 ? `; and an unfinished line: ${JSON.stringify(tail.toString('utf8'))}` : ''),
      hint,
      repro: this.repro ?? this.peer.repro,
    };
  }
}

/** Connects a Chatter to `port` (closed when the test ends); `repro` replaces the nc line of failures. */
export async function chatter(port: number, name: string, repro?: string): Promise<Chatter> {
  return new Chatter(await connect(port), name, repro);
}

/**
 * Connects a Chatter to 127.0.0.1:`port` from `localAddress` (127.0.0.2, 127.0.0.3...: Linux routes
 * all of 127.0.0.0/8 to the loopback interface), so that the server sees another client address.
 */
export async function chatterFrom(port: number, localAddress: string, name: string): Promise<Chatter> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  closeAfterTest(() => socket.destroy());
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  await within(connected, () => ({ expected: `a connection to 127.0.0.1:${port} from ${localAddress}` }));
  return new Chatter(new Peer(socket, port), name);
}

/** Connects, sends `nick`, and waits for `OK <nick>`. */
export async function joined(port: number, nick: string): Promise<Chatter> {
  const c = await chatter(port, nick);
  await c.send(`${nick}\n`);
  await c.expect(`OK ${nick}`, 'answer a valid, free nickname with `OK <nick>`');
  return c;
}

/**
 * A terminal screen, `columns` wide and as tall as needed: it draws the text and the escape codes
 * that readline writes (cursor moves, erasing), wrapping long lines as a terminal does. `\n` goes
 * to the start of the next row, as on a terminal that translates it to \r\n.
 */
export class Screen extends Writable {
  readonly columns: number;
  readonly isTTY = true;
  private grid: string[][] = [[]];
  row = 0;
  col = 0;

  constructor(columns = 80) {
    super({ decodeStrings: false });
    this.columns = columns;
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.draw(chunk.toString());
    this.emit('drawn');
    callback();
  }

  /** The rows as text, without trailing spaces or trailing empty rows. */
  get rows(): string[] {
    const rows = this.grid.map((cells) => cells.join('').trimEnd());
    while (rows.length > 1 && rows.at(-1) === '') rows.pop();
    return rows;
  }

  private cells(row: number): string[] {
    while (this.grid.length <= row) this.grid.push([]);
    return this.grid[row] as string[];
  }

  draw(text: string): void {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: a terminal's escape codes start with ESC
    const pattern = /\x1b\[([?0-9;]*)([A-Za-z])|\r|\n|[^\x1b\r\n]/gu;
    for (const match of text.matchAll(pattern)) {
      const [token, params = '', command] = match;
      if (token === '\r') this.col = 0;
      else if (token === '\n') {
        this.row += 1;
        this.col = 0;
      } else if (command !== undefined) this.escape(command, params);
      else this.put(token);
    }
  }

  private put(char: string): void {
    if (this.col >= this.columns) {
      // A terminal wraps when a character comes after the last column is filled.
      this.row += 1;
      this.col = 0;
    }
    const cells = this.cells(this.row);
    while (cells.length < this.col) cells.push(' ');
    cells[this.col] = char;
    this.col += 1;
  }

  private escape(command: string, params: string): void {
    const [first = '', second = ''] = params.split(';');
    const n = first === '' ? 1 : Number(first);
    switch (command) {
      case 'A':
        this.row = Math.max(0, this.row - n);
        break;
      case 'B':
        this.row += n;
        break;
      case 'C':
        this.col = Math.min(this.columns - 1, this.col + n);
        break;
      case 'D':
        this.col = Math.max(0, Math.min(this.col, this.columns - 1) - n);
        break;
      case 'G':
        this.col = Math.min(this.columns - 1, n - 1);
        break;
      case 'H':
        this.row = n - 1;
        this.col = second === '' ? 0 : Number(second) - 1;
        break;
      case 'J': {
        // 0 (or nothing): erase from the cursor to the end of the screen.
        if (first === '' || first === '0') {
          this.cells(this.row).splice(this.col);
          this.grid.splice(this.row + 1);
        }
        break;
      }
      case 'K': {
        const cells = this.cells(this.row);
        if (first === '' || first === '0') cells.splice(this.col);
        else if (first === '1') cells.fill(' ', 0, this.col + 1);
        else if (first === '2') cells.splice(0);
        break;
      }
      default:
        break; // colours, modes (`?2004h`) and the like: nothing to draw
    }
  }
}

/** The learner's chat server, in this process, on a free port, with its log lines collected. */
export async function startChat(options: ChatOptions = {}) {
  const log = new LogLines();
  const server = createChatServer({ log: log.add, ...options });
  const port = await listen(server);
  return { port, log, server };
}
