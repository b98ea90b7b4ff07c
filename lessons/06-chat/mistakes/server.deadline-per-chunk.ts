/**
 * MISTAKE: starts a new deadline for every chunk of an unfinished line, without looking for one
 * already running.
 *
 * It looks harmless: each timer is the same length, and a line ends well within it. But each
 * setTimeout() replaces the one before in member.deadline, and the one before keeps running: when
 * the line's \n arrives, stopDeadline() clears only the last. A member who typed `hello` in three
 * chunks is cut off with `ERR too slow` lineTimeoutMs after the first, long after the line ended,
 * while saying nothing, which the room allows.
 *
 * @caught-by step 5: the deadline of a line stops with it › a line sent in pieces is timed from its first byte
 */
import net from 'node:net';
import { isMain, runServerProgram } from '@course/program';
import { type ChatOptions, ChatRoom, chatOptions, type Member, program } from '../solution/server.ts';

export * from '../solution/server.ts';

class ForgetfulRoom extends ChatRoom {
  override startDeadline(member: Member, what: string): void {
    // WRONG: no `if (member.deadline !== undefined) return`: the running timer is lost, not stopped.
    member.deadline = setTimeout(() => this.tooSlow(member, what), this.lineTimeoutMs);
  }
}

export function createChatServer(options: ChatOptions = {}): net.Server {
  const room = new ForgetfulRoom(options);
  return net.createServer((socket) => room.accept(socket));
}

if (isMain(import.meta.url))
  runServerProgram({
    ...program,
    create: (cli) => createChatServer(chatOptions(cli)),
  });
