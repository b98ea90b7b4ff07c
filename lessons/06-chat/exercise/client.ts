/**
 * Lesson 06: a terminal client for the chat room.
 *
 * Joins the room with --nick, prints every line the server sends, and sends every line you type.
 * On a terminal, a line that arrives while you type appears above your line, which stays as it
 * was. With piped input it reads lines from stdin, sends them, and exits 0 once the server has
 * closed (after BYE, or after the end of the input).
 *
 *   npx tsx lessons/06-chat/exercise/client.ts --port 9000 --nick alice
 *   printf 'hello\n/who\n/quit\n' | npx tsx lessons/06-chat/exercise/client.ts --port 9000 --nick bob
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
import { LineSplitter, MAX_LINE_BYTES, nicknameOf } from './server.ts';

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
  // TODO(6): on a terminal, erase the prompt and what was typed, print the line in their place,
  // and draw them again below it, the cursor where it was. What was typed can wrap over several
  // rows. Node docs, readline: the Interface's prompt(preserveCursor) and getCursorPos(), and the
  // cursor functions moveCursor(), cursorTo(), clearScreenDown(). README step 6 tells readline's
  // one trap: each redraw goes up as many rows as the cursor had at the previous one.
  // Until then, the line lands in the middle of what is being typed.
  output.write(`${line}\n`);
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
  // TODO(7): connect, and send the nickname line at once. The server's lines are a byte stream
  // too: cut them with a LineSplitter of MAX_SERVER_LINE_BYTES. Before `OK`, any other line means
  // the nickname was refused: reject with a ChatError `cannot join as NICK: <reason>`, code
  // ENICK. Only after `OK` read the lines of `input` (node:readline; prompt `NICK> ` on a
  // terminal), or lines typed early would reach the server as nickname attempts. Each non-empty
  // line goes to the server (one over MAX_LINE_BYTES is not sent), with backpressure: when the
  // socket's buffer is full, read no more input until it drains. The end of the input
  // half-closes. Every line from the server is shown with printAbove(). A socket error rejects
  // with one sentence (`cannot connect to HOST:PORT: ...` before the connection was made,
  // `connection to HOST:PORT failed: ...` after; describeError() gives the words), and 'close'
  // resolves. README step 7.
  return Promise.reject(new Error('TODO(7): write the client in chat() — see README step 7'));
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
