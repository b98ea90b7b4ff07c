/**
 * MISTAKE: checks the nickname as it was sent: letters of any script, not normalised.
 *
 * `[\p{L}\p{N}_-]` looks strict, and every ordinary nickname passes it. But Unicode has many
 * letters that look like others: `аlice` with a Cyrillic `а` (U+0430) passes and shows as alice;
 * so do `ａｌｉｃｅ` (fullwidth) and `𝖆𝖑𝖎𝖈𝖊` (mathematical bold Fraktur), which a terminal may draw
 * much like alice, and U+3164 HANGUL FILLER is a letter that shows as nothing at all. Each can
 * join while the real alice is in the room and speak as her. nicknameOf() normalises first
 * (NFKC: `ａｌｉｃｅ` becomes `alice`, and is then taken), and wants the letters of one script.
 *
 * @caught-by step 2: join with a nickname › look-alike nicknames
 */
import net from 'node:net';
import { isMain, runServerProgram } from '@course/program';
import {
  type ChatOptions,
  ChatRoom,
  chatOptions,
  INVALID_NICKNAME,
  type Member,
  program,
} from '../solution/server.ts';

export * from '../solution/server.ts';

class LookAlikeRoom extends ChatRoom {
  override join(member: Member, line: string): void {
    // WRONG: the raw line, checked for letters of any script and compared as it is.
    if (!/^[\p{L}\p{N}_-]{1,32}$/u.test(line)) {
      this.send(member, `ERR ${INVALID_NICKNAME}`);
      return;
    }
    if (this.members.has(line)) {
      this.send(member, 'ERR nickname taken');
      return;
    }
    member.nick = line;
    this.members.set(line, member);
    this.log(`${member.peer} joined as ${line}`);
    this.send(member, `OK ${line}`);
    this.broadcast(`* ${line} joined`, member);
  }
}

export function createChatServer(options: ChatOptions = {}): net.Server {
  const room = new LookAlikeRoom(options);
  return net.createServer((socket) => room.accept(socket));
}

if (isMain(import.meta.url))
  runServerProgram({
    ...program,
    create: (cli) => createChatServer(chatOptions(cli)),
  });
