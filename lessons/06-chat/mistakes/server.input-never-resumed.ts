/**
 * MISTAKE: pauses a member's input when write() returns false, and never resumes it.
 *
 * While the member reads slowly, nothing seems wrong: pausing is what the README asks for. But
 * nothing resumes it on 'drain'. Once the member reads again and its queue empties, it still
 * gets the room's lines, while the server no longer reads a byte it sends: its messages, its
 * /who, its /quit all go unanswered, for good.
 *
 * @caught-by step 5: slow clients must not stall the room › a member that does not read gets one 'drain' listener and its input paused, then resumed
 */
import net from 'node:net';
import { isMain, runServerProgram } from '@course/program';
import { type ChatOptions, ChatRoom, chatOptions, type Member, program } from '../solution/server.ts';

export * from '../solution/server.ts';

class DeafRoom extends ChatRoom {
  override send(member: Member, line: string): void {
    const { socket } = member;
    if (!socket.writable) return;
    const belowHighWaterMark = socket.write(`${line}\n`);
    if (socket.writableLength > this.maxQueueBytes) {
      this.log(
        `${member.nick ?? member.peer} is not reading: ${socket.writableLength} bytes queued, dropping it`,
      );
      socket.destroy();
      return;
    }
    // WRONG: paused, and no 'drain' listener to resume it.
    if (!belowHighWaterMark) socket.pause();
  }
}

export function createChatServer(options: ChatOptions = {}): net.Server {
  const room = new DeafRoom(options);
  return net.createServer((socket) => room.accept(socket));
}

if (isMain(import.meta.url))
  runServerProgram({
    ...program,
    create: (cli) => createChatServer(chatOptions(cli)),
  });
