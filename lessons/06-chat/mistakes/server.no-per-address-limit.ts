/**
 * MISTAKE: limits the connections of the whole server, not those of one address.
 *
 * `--max-clients` keeps a flood of connections from taking all the server's memory. But one
 * machine can open all of them: 1000 connections that join and say nothing (they are members,
 * never timed out: silence is allowed) and the room is locked for good, everyone else told
 * `ERR server full`. A limit per IP address (`--max-per-address`, 16 by default) leaves the room
 * to the others; the tests connect from 127.0.0.2 and 127.0.0.3, which Linux routes to loopback.
 *
 * @caught-by step 4: one address cannot take every place › past maxPerAddress connections from one address
 * @caught-by step 4: one address cannot take every place › the default: 16 silent connections
 */
import net from 'node:net';
import { isMain, runServerProgram } from '@course/program';
import { type ChatOptions, ChatRoom, chatOptions, program } from '../solution/server.ts';

export * from '../solution/server.ts';

class OneBigCrowdRoom extends ChatRoom {
  override openFrom(_socket: net.Socket): number {
    return 0; // WRONG: every connection counts only towards maxClients
  }
}

export function createChatServer(options: ChatOptions = {}): net.Server {
  const room = new OneBigCrowdRoom(options);
  return net.createServer((socket) => room.accept(socket));
}

if (isMain(import.meta.url))
  runServerProgram({
    ...program,
    create: (cli) => createChatServer(chatOptions(cli)),
  });
