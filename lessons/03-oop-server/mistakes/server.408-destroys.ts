/**
 * MISTAKE: requestTimedOut() is not overridden, so a client past the deadline is destroyed
 * without a word.
 *
 * The deadline works: the slow client is cut off on time, and the server logs it. But HTTP has
 * an answer for it, `408 Request Timeout`, and the base class's requestTimedOut() only destroys
 * the socket: the client sees the connection reset or closed, with no response at all, and a
 * browser shows a network error instead of a status. The WebServer overrides requestTimedOut()
 * to log and socket.end(formatResponse(textResponse(408))).
 *
 * @caught-by step 6: the WebServer answers real HTTP clients › a head trickled one byte at a time gets 408 Request Timeout at the deadline
 */
import type net from 'node:net';
import { isMain } from '@course/program';
import { runProgram, WebServer as Solution } from '../solution/server.ts';

export * from '../solution/server.ts';

export class WebServer extends Solution {
  protected override requestTimedOut(socket: net.Socket, peer: string): void {
    // WRONG: what the base class does: log and destroy, no 408.
    this.log(`client ${peer} too slow: request not complete after ${this.requestTimeoutMs} ms, closing`);
    socket.destroy();
  }
}

if (isMain(import.meta.url)) runProgram((options) => new WebServer(options));
