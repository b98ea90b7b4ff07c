/**
 * MISTAKE: bounds a member's queue, but never pauses its input when write() returns false.
 *
 * Against a room that talks to a member that stops reading, the bound does its job, and the
 * tests of the bound pass. But the member's own requests are answered to it alone: one that
 * sends /who a thousand times a second without reading the answers makes the server queue them,
 * and a room with a larger bound holds all of it in memory. While write() says the queue is
 * full, the room should stop reading from that member: socket.pause(), until 'drain'.
 *
 * @caught-by step 5: slow clients must not stall the room › a member that does not read gets one 'drain' listener and its input paused
 */
import net from 'node:net';
import { isMain, runServerProgram } from '@course/program';
import { type ChatOptions, ChatRoom, chatOptions, type Member, program } from '../solution/server.ts';

export * from '../solution/server.ts';

class NeverPausedRoom extends ChatRoom {
  override send(member: Member, line: string): void {
    const { socket } = member;
    if (!socket.writable) return;
    // WRONG: write()'s false is ignored for this member's own input: it is never paused.
    socket.write(`${line}\n`);
    if (socket.writableLength > this.maxQueueBytes) {
      this.log(
        `${member.nick ?? member.peer} is not reading: ${socket.writableLength} bytes queued, dropping it`,
      );
      socket.destroy();
      return;
    }
  }
}

export function createChatServer(options: ChatOptions = {}): net.Server {
  const room = new NeverPausedRoom(options);
  return net.createServer((socket) => room.accept(socket));
}

if (isMain(import.meta.url))
  runServerProgram({
    ...program,
    create: (cli) => createChatServer(chatOptions(cli)),
  });
