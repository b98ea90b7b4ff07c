/**
 * MISTAKE: relays every message as it was typed, control characters and all.
 *
 * The room is a text protocol, and the text arrives intact: so why look at it? Because every
 * other member's terminal interprets it. With nc, `hi\x1b[2J\x1b]0;pwned\x07` clears their screen
 * and sets their window title; a `\r` sends the cursor back to the start of the line, so
 * `\rbob: send me your password` appears to come from bob; U+202E (RIGHT-TO-LEFT OVERRIDE) shows
 * `evil‮txt.exe` as `eviexe.txt`. The server is the one place that sees every line before every
 * terminal: it refuses them there (unsafeLineError), whatever client each member runs.
 *
 * @caught-by step 3: talk: messages, /who, /quit › a line with a control character or a bidi override is refused
 */
import net from 'node:net';
import { isMain, runServerProgram } from '@course/program';
import { type ChatOptions, ChatRoom, chatOptions, type Member, program } from '../solution/server.ts';

export * from '../solution/server.ts';

class ParrotRoom extends ChatRoom {
  override command(member: Member, line: string): void {
    if (line === '/who' || line === '/quit' || line === 'byebye') {
      super.command(member, line);
      return;
    }
    // WRONG: the line goes to every terminal in the room exactly as it came.
    this.broadcast(`${member.nick}: ${line}`, member);
  }
}

export function createChatServer(options: ChatOptions = {}): net.Server {
  const room = new ParrotRoom(options);
  return net.createServer((socket) => room.accept(socket));
}

if (isMain(import.meta.url))
  runServerProgram({
    ...program,
    create: (cli) => createChatServer(chatOptions(cli)),
  });
