/**
 * MISTAKE: times slow clients with socket.setTimeout(), Node's idle timer, instead of a deadline.
 *
 * It seems to work, and it even lets members idle: the timer is armed when a client connects and
 * while a member is in the middle of a line, and switched off (setTimeout(0)) between lines. Try it
 * with nc and `--timeout 2000`: connect and type nothing, and you get `ERR too slow` after two
 * seconds; type half a line and stop, the same. But an idle timer fires only after that long
 * with NOTHING arriving, and Node restarts it on every chunk. A client that sends one byte a
 * second (slowloris) is never idle: it holds its connection, and its place in the room, forever.
 * A thousand of them fill the room. The tests trickle a nickname, and a line, one byte every few
 * ms, and wait for the server to close the connection: it never does.
 *
 * @caught-by step 5: slow clients must not stall the room › a newcomer must be joined within lineTimeoutMs
 * @caught-by step 5: slow clients must not stall the room › a member may be silent as long as it likes, but a line it began must end within lineTimeoutMs
 */
import net from 'node:net';
import { isMain, runServerProgram } from '@course/program';
import { type ChatOptions, ChatRoom, chatOptions, type Member, program } from '../solution/server.ts';

export * from '../solution/server.ts';

class IdleTimerRoom extends ChatRoom {
  override startDeadline(member: Member, what: string): void {
    const { socket } = member;
    if (socket.timeout) return; // armed already
    // Wrong: socket.setTimeout() is an idle timer. Every chunk that arrives restarts it, so it
    // fires after lineTimeoutMs of silence, never for a client that keeps sending a byte now and then.
    socket.setTimeout(this.lineTimeoutMs, () => this.tooSlow(member, what));
  }

  override stopDeadline(member: Member): void {
    member.socket.setTimeout(0); // between lines, a member may be silent as long as it likes
    member.socket.removeAllListeners('timeout');
  }
}

export function createChatServer(options: ChatOptions = {}): net.Server {
  const room = new IdleTimerRoom(options);
  return net.createServer((socket) => room.accept(socket));
}

if (isMain(import.meta.url))
  runServerProgram({
    ...program,
    create: (cli) => createChatServer(chatOptions(cli)),
  });
