/**
 * MISTAKE: takes each 'data' event as one line, the way the original two-person chat took each
 * `recv(1024)` as one message.
 *
 * It seems to work: typed into nc, every line you send leaves in its own TCP segment and arrives
 * in its own 'data' event, so the room behaves. But TCP keeps no boundaries. A nickname cut in
 * two by the network becomes two nickname attempts; two lines sent together become one message
 * with a \n inside; and a character cut between two chunks is decoded as two � (U+FFFD). The
 * chunking proxy in the tests cuts the stream one byte at a time and shows all of it.
 *
 * @caught-by step 2: join with a nickname › a multi-byte nickname sent one byte at a time joins whole
 * @caught-by step 3: talk: messages, /who, /quit › a message cut one byte at a time arrives whole
 */
import net from 'node:net';
import { isMain, runServerProgram } from '@course/program';
import {
  type ChatOptions,
  ChatRoom,
  chatOptions,
  MAX_LINE_BYTES,
  type Member,
  program,
} from '../solution/server.ts';

export * from '../solution/server.ts';

class ChunkIsALineRoom extends ChatRoom {
  override receive(member: Member, chunk: Buffer): void {
    if (!member.socket.writable) return;
    // Wrong: one chunk is not one line. It may hold half a line, or three, or half a character.
    const line = chunk.toString('utf8').replace(/\r?\n$/, '');
    if (Buffer.byteLength(line) > MAX_LINE_BYTES) {
      this.send(member, 'ERR line too long');
      this.leave(member, 'sent a line that is too long');
      this.closeSoon(member);
    } else if (line !== '') {
      this.handleLine(member, line);
    }
  }
}

export function createChatServer(options: ChatOptions = {}): net.Server {
  const room = new ChunkIsALineRoom(options);
  return net.createServer((socket) => room.accept(socket));
}

if (isMain(import.meta.url))
  runServerProgram({
    ...program,
    create: (cli) => createChatServer(chatOptions(cli)),
  });
