/**
 * MISTAKE: /who lists the others, not the one who asked.
 *
 * It reads like "who else is here?", and in a room of two it even looks right from the other
 * side. But the protocol says every joined nickname, the sender's included: a client that
 * checks whether its own nickname is still in the room (after a reconnect, say) finds it
 * missing. The /who test names the sender as missing, rather than blaming the sort order.
 *
 * @caught-by step 3: talk: messages, /who, /quit › /who answers the sender alone
 */
import net from 'node:net';
import { isMain, runServerProgram } from '@course/program';
import { type ChatOptions, ChatRoom, chatOptions, type Member, program } from '../solution/server.ts';

export * from '../solution/server.ts';

class SelflessRoom extends ChatRoom {
  override command(member: Member, line: string): void {
    if (line !== '/who') {
      super.command(member, line);
      return;
    }
    // WRONG: the sender is left out of the list.
    this.send(
      member,
      `USERS ${this.nicknames()
        .filter((nick) => nick !== member.nick)
        .join(',')}`,
    );
  }
}

export function createChatServer(options: ChatOptions = {}): net.Server {
  const room = new SelflessRoom(options);
  return net.createServer((socket) => room.accept(socket));
}

if (isMain(import.meta.url))
  runServerProgram({
    ...program,
    create: (cli) => createChatServer(chatOptions(cli)),
  });
