/**
 * MISTAKE: handles every line of a chunk, even those after the member said goodbye.
 *
 * `/quit` is answered with BYE and the connection closes, so it looks done. But a client may
 * send more in the same chunk (`/quit\nignored\n` piped into nc): this receive() goes on, and
 * the line after the goodbye is broadcast as a message from someone who has already left: the
 * others get `* alice left`, then `alice: ignored`. Stop as soon as member.socket.writable is
 * false.
 *
 * @caught-by step 3: talk: messages, /who, /quit › /quit and byebye
 */
import net from 'node:net';
import { isMain, runServerProgram } from '@course/program';
import { type ChatOptions, ChatRoom, chatOptions, type Member, program } from '../solution/server.ts';

export * from '../solution/server.ts';

class TalkativeRoom extends ChatRoom {
  override receive(member: Member, chunk: Buffer): void {
    for (const line of member.lines.push(chunk)) {
      // WRONG: no check of member.socket.writable: lines after BYE are handled too.
      if (line !== '') this.handleLine(member, line);
    }
    if (member.lines.tooLong && member.socket.writable) {
      this.send(member, 'ERR line too long');
      this.leave(member, `sent a line over ${member.lines.maxLineBytes} bytes`);
      this.closeSoon(member);
    }
  }
}

export function createChatServer(options: ChatOptions = {}): net.Server {
  const room = new TalkativeRoom(options);
  return net.createServer((socket) => room.accept(socket));
}

if (isMain(import.meta.url))
  runServerProgram({
    ...program,
    create: (cli) => createChatServer(chatOptions(cli)),
  });
