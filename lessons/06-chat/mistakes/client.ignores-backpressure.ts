/**
 * MISTAKE: the terminal client sends each typed line with socket.write() and ignores its answer.
 *
 * A person types a few lines a minute, so nothing ever goes wrong by hand: every write() fits in
 * the buffers. But the input can be a pipe (`cat big.txt | client.ts ...`) and the room may not
 * read (a stalled server, a slow network): once the kernel's buffers are full, each line waits
 * in Node's buffer, and the client reads its whole input into memory. When write() returns
 * false, pause readline until the socket's 'drain'.
 *
 * Everything else is solution/client.ts, written out whole because the write is inside chat().
 *
 * @caught-by step 7: the terminal client › typing faster than the server reads pauses the input
 */
import net from 'node:net';
import readline from 'node:readline';
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
import { LineSplitter, MAX_LINE_BYTES, nicknameOf } from '../solution/server.ts';

export interface ChatClientOptions {
  /** Default 127.0.0.1. */
  host?: string;
  port: number;
  /** Sent as the first line; see NICKNAME. */
  nick: string;
  /** What the user types: process.stdin, or any stream of lines. */
  input: NodeJS.ReadableStream;
  /** Where the server's lines are shown: process.stdout. */
  output: NodeJS.WritableStream;
  /** Show a prompt and keep the line being typed intact (a terminal). Default false. */
  terminal?: boolean;
}

/** The longest line the client accepts from the server (a /who in a crowded room is long). */
export const MAX_SERVER_LINE_BYTES = 1024 * 1024;

/** Why chat() failed, with a code: ECONNREFUSED, ECONNRESET..., or ENICK for a refused nickname. */
export class ChatError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'ChatError';
    this.code = code;
  }
}

/**
 * C0 and C1 control characters but the tab, and the bidi overrides and isolates (U+202A–U+202E,
 * U+2066–U+2069, which reorder what follows): never meant for the screen in a chat line. The
 * course's server refuses them already; another server might not.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters to find
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

// region step-6
/**
 * Step 6: shows `text`, a line from the server, without breaking the line being typed. Without a
 * terminal (`rl` undefined) the line is simply printed. On a terminal, the prompt and what was
 * typed are erased, the line is printed in their place, and they are drawn again below it, with
 * the cursor where it was.
 */
export function printAbove(
  output: NodeJS.WritableStream,
  rl: readline.Interface | undefined,
  text: string,
): void {
  // Anyone in the room can send any character: shown as they are, ESC, BEL and the like would
  // drive your terminal (clear it, move the cursor, change its title), and U+202E would show
  // `evil‮txt.exe` as `eviexe.txt`. They are shown as �.
  const line = text.replace(CONTROL_CHARACTERS, '\uFFFD');
  if (rl === undefined) {
    output.write(`${line}\n`);
    return;
  }
  // readline remembers how many rows below the prompt's first row its cursor was when it last
  // drew the line, and each redraw starts by going up that many rows. A first redraw makes that
  // count true (typing at the end of a long line does not update it).
  rl.prompt(true);
  const { rows } = rl.getCursorPos();
  readline.moveCursor(output, 0, -rows); // up to the prompt's first row
  readline.cursorTo(output, 0);
  readline.clearScreenDown(output); // erase the prompt and everything typed
  // The line takes the prompt's place. Then `rows` empty rows, which the redraw goes up over:
  // it draws the prompt and the typed text right below the line, the cursor where it was.
  output.write(`${line}\n${'\n'.repeat(rows)}`);
  rl.prompt(true);
}
// endregion step-6

// region step-7
/**
 * Step 7: the whole client. Connects, sends the nickname, and waits for the answer: `ERR ...`
 * rejects (ENICK); `OK <nick>` starts reading `input`, whose lines are sent one by one (never
 * before OK, or they would be taken as nickname attempts). Every line from the server is shown
 * with printAbove(). The end of `input` half-closes; the promise resolves once the server has
 * closed the connection, and rejects with a ChatError when the connection fails.
 */
export function chat(options: ChatClientOptions): Promise<void> {
  const { host = '127.0.0.1', port, nick, input, output, terminal = false } = options;
  const where = formatAddress(host, port);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const incoming = new LineSplitter(MAX_SERVER_LINE_BYTES);
    let connected = false;
    let rl: readline.Interface | undefined;
    const stop = (error?: ChatError) => {
      rl?.close();
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };

    socket.once('connect', () => {
      connected = true;
    });
    socket.write(`${nick}\n`); // queued until connected: the nickname is the first line
    socket.on('data', (chunk: Buffer) => {
      for (const line of incoming.push(chunk)) {
        if (rl === undefined && !line.startsWith('OK ')) {
          // Before OK, the only other answer is ERR: the nickname was refused.
          return stop(new ChatError(`cannot join as ${nick}: ${line.replace(/^ERR /, '')}`, 'ENICK'));
        }
        if (rl === undefined) rl = startReading(); // OK: joined
        printAbove(output, terminal ? rl : undefined, line);
      }
      if (incoming.tooLong) {
        stop(new ChatError(`${where} sent a line longer than ${MAX_SERVER_LINE_BYTES} bytes`, 'EMSGSIZE'));
      }
    });
    socket.on('error', (error) => {
      const what = connected ? `connection to ${where} failed` : `cannot connect to ${where}`;
      stop(new ChatError(`${what}: ${describeError(error)}`, (error as NodeJS.ErrnoException).code ?? 'EIO'));
    });
    socket.on('close', () => {
      if (terminal && rl !== undefined) {
        readline.cursorTo(output, 0);
        readline.clearLine(output, 0); // the prompt goes, the shell's comes
      }
      if (rl === undefined)
        stop(new ChatError(`${where} closed the connection before we joined`, 'ECONNRESET'));
      else stop();
    });

    /** Once joined: each line of input goes to the server, with backpressure. */
    function startReading(): readline.Interface {
      const reader = readline.createInterface({
        input,
        output: terminal ? output : undefined,
        terminal,
        prompt: `${nick}> `,
      });
      reader.on('line', (line) => {
        if (Buffer.byteLength(line) > MAX_LINE_BYTES) {
          printAbove(
            output,
            terminal ? reader : undefined,
            `(not sent: longer than ${MAX_LINE_BYTES} bytes)`,
          );
        } else if (line !== '' && socket.writable) {
          // WRONG: write()'s answer is ignored: the input is read as fast as it comes.
          socket.write(`${line}\n`);
        }
        if (terminal) reader.prompt();
      });
      // The end of the input (Ctrl-D, or the end of a pipe): half-close, keep reading the replies.
      reader.on('close', () => {
        if (socket.writable) socket.end();
      });
      // Ctrl-C on a terminal: leave politely (the server answers BYE and closes); twice: at once.
      let quitting = false;
      reader.on('SIGINT', () => {
        if (quitting || !socket.writable) return void socket.destroy();
        quitting = true;
        socket.write('/quit\n');
      });
      if (terminal) reader.prompt();
      return reader;
    }
  });
}
// endregion step-7

// region program
function main(argv: string[]): void {
  const cli = parseCommandLine(
    {
      name: 'client.ts',
      summary: 'Joins the chat room as NICK: prints what the room says, sends each line you type.',
      options: {
        ...CLIENT_OPTIONS,
        nick: {
          type: 'string',
          value: 'NICK',
          description: 'your nickname: 1 to 32 letters of one script, digits, _ or -',
        },
      },
    },
    argv,
  );
  const { host, port } = serverAddressOf(cli);
  const nick = cli.string('nick', '');
  if (nick === '') cli.usageError('--nick is required: your nickname in the room');
  if (nicknameOf(nick) === undefined)
    cli.usageError(`--nick '${nick}' is not valid: use 1 to 32 letters of one script, digits, _ or -`);
  chat({
    host,
    port,
    nick,
    input: process.stdin,
    output: process.stdout,
    terminal: Boolean(process.stdin.isTTY && process.stdout.isTTY),
  }).then(
    () => process.exit(EXIT.ok),
    (error: Error) => fail(error.message, EXIT.network),
  );
}

if (isMain(import.meta.url)) main(process.argv.slice(2));
// endregion program
