/**
 * MISTAKE: each reply written as soon as it is known. Two requests on one connection (a client
 * may send many before reading: pipelining) then come back in the order they finish, not the
 * order they were asked: after `sleep 300` and `ping`, the client reads `pong` first and takes
 * it for the answer to its sleep. The test pipelines `sleep 300`, `ping`, `sleep 0`, `hash 1 a`.
 * @caught-by step 3: sleep, and replies in order › pipelined on one connection, `sleep 300` then `ping` come back `slept 300` then `pong`
 */
import { isMain, runServerProgram } from '@course/program';
import { Replies, type Reply } from '../solution/replies.ts';
import { createHashServer, hashServerProgram } from '../solution/server.ts';

export * from '../solution/server.ts';

/** The mistake: each reply is written when it is known, with no place kept in line. */
class AsTheyCome extends Replies {
  override add(reply: Reply): void {
    if (typeof reply === 'string') super.add(reply);
    else
      reply.then(
        (text) => super.add(text),
        (error: Error) => super.add(`ERR ${error.message}`),
      );
  }
}

export const program = hashServerProgram((options, parts) =>
  createHashServer(options, { ...parts, newReplies: (send) => new AsTheyCome(send) }),
);

if (isMain(import.meta.url)) runServerProgram(program);
