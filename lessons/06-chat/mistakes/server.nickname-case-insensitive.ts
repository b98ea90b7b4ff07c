/**
 * MISTAKE: compares nicknames without regard to case, so `Alice` is refused while `alice` is here.
 *
 * It feels friendly (who wants two alices?) and nothing breaks: every test of joining passes.
 * But the protocol says nicknames are compared byte for byte: `Alice` is a different nickname,
 * and a client that follows the protocol is told `ERR nickname taken` for a name nobody has.
 * Case is not even well defined across scripts (the Turkish dotless ı, the German ß), which is
 * one reason the protocol leaves it alone.
 *
 * @caught-by step 2: join with a nickname › nicknames are compared byte for byte
 */
import net from 'node:net';
import { isMain, runServerProgram } from '@course/program';
import { type ChatOptions, ChatRoom, chatOptions, type Member, program } from '../solution/server.ts';

export * from '../solution/server.ts';

class CaseFoldingRoom extends ChatRoom {
  override join(member: Member, nick: string): void {
    const folded = nick.toLowerCase();
    // WRONG: `Alice` counts as taken when `alice` is in the room.
    if ([...this.members.keys()].some((other) => other.toLowerCase() === folded)) {
      this.send(member, 'ERR nickname taken');
      return;
    }
    super.join(member, nick);
  }
}

export function createChatServer(options: ChatOptions = {}): net.Server {
  const room = new CaseFoldingRoom(options);
  return net.createServer((socket) => room.accept(socket));
}

if (isMain(import.meta.url))
  runServerProgram({
    ...program,
    create: (cli) => createChatServer(chatOptions(cli)),
  });
