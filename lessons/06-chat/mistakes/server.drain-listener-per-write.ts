/**
 * MISTAKE: adds a 'drain' listener every time write() returns false.
 *
 * It works: the member's input is paused, and resumed at the next 'drain'. But a member that
 * stops reading makes every later write() return false, and each one adds one more listener:
 * hundreds of closures waiting on one socket, and Node's `MaxListenersExceededWarning` after ten,
 * printed with no hint of which code did it. Pause once, and add one listener: only when the
 * socket is not paused already.
 *
 * @caught-by step 5: slow clients must not stall the room › a member that does not read gets one 'drain' listener
 */
import net from 'node:net';
import { isMain, runServerProgram } from '@course/program';
import { type ChatOptions, ChatRoom, chatOptions, type Member, program } from '../solution/server.ts';

export * from '../solution/server.ts';

class ListenerPerWriteRoom extends ChatRoom {
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
    // WRONG: no check of socket.isPaused(): one more listener for every write that returns false.
    if (!belowHighWaterMark) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
  }
}

export function createChatServer(options: ChatOptions = {}): net.Server {
  const room = new ListenerPerWriteRoom(options);
  return net.createServer((socket) => room.accept(socket));
}

if (isMain(import.meta.url))
  runServerProgram({
    ...program,
    create: (cli) => createChatServer(chatOptions(cli)),
  });
