/**
 * MISTAKE: sends with write() and ignores what it says, so a client that stops reading is never
 * dropped.
 *
 * It seems to work: write() never blocks and never fails, every message "goes out", and on a
 * quiet room nobody notices. But when a client stops reading (a laptop put to sleep, a process
 * stuck, an attacker), the kernel's buffers for it fill, and from then on every line for it waits
 * in Node's buffer, in the server's memory. write() has been returning false since, and
 * socket.writableLength keeps growing, one broadcast after another, until the server runs out of
 * memory. The slow-reader test watches that queue, and fails as soon as it passes the bound.
 *
 * @caught-by step 5: slow clients must not stall the room › a client that stops reading is dropped once its queue passes maxQueueBytes
 */
import net from 'node:net';
import { isMain, runServerProgram } from '@course/program';
import { type ChatOptions, ChatRoom, chatOptions, type Member, program } from '../solution/server.ts';

export * from '../solution/server.ts';

class CarelessRoom extends ChatRoom {
  override send(member: Member, line: string): void {
    // Wrong: write()'s answer is thrown away, and nothing bounds what queues up for this member.
    if (member.socket.writable) member.socket.write(`${line}\n`);
  }
}

export function createChatServer(options: ChatOptions = {}): net.Server {
  const room = new CarelessRoom(options);
  return net.createServer((socket) => room.accept(socket));
}

if (isMain(import.meta.url))
  runServerProgram({
    ...program,
    create: (cli) => createChatServer(chatOptions(cli)),
  });
