/**
 * MISTAKE: drops a member that does not read by calling leave() right there, inside send().
 *
 * It reads naturally (the member is gone, so say so) and the room seems fine: the slow member is
 * dropped, the others get `* slow left` and chat on. But send() runs in the middle of a
 * broadcast. Members before the slow one in the room already have the message; leave()
 * broadcasts `* slow left` now, and the members after it get the message only afterwards. Two
 * people in the same room see the conversation in different orders. The README warns against
 * exactly this: destroy the socket in send(), and let its 'close' event do the leaving.
 *
 * @caught-by step 5: slow clients must not stall the room › a member dropped for not reading leaves after the message being sent
 */
import net from 'node:net';
import { isMain, runServerProgram } from '@course/program';
import { type ChatOptions, ChatRoom, chatOptions, type Member, program } from '../solution/server.ts';

export * from '../solution/server.ts';

class EagerRoom extends ChatRoom {
  override send(member: Member, line: string): void {
    const { socket } = member;
    if (!socket.writable) return;
    const belowHighWaterMark = socket.write(`${line}\n`);
    if (socket.writableLength > this.maxQueueBytes) {
      this.log(
        `${member.nick ?? member.peer} is not reading: ${socket.writableLength} bytes queued, dropping it`,
      );
      // WRONG: leave() broadcasts now, in the middle of the broadcast that called send().
      this.leave(member, 'not reading');
      socket.destroy();
      return;
    }
    if (!belowHighWaterMark && !socket.isPaused()) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
  }
}

export function createChatServer(options: ChatOptions = {}): net.Server {
  const room = new EagerRoom(options);
  return net.createServer((socket) => room.accept(socket));
}

if (isMain(import.meta.url))
  runServerProgram({
    ...program,
    create: (cli) => createChatServer(chatOptions(cli)),
  });
