/**
 * MISTAKE: guards against slow clients with socket.setTimeout(), an idle timer, instead of a
 * deadline for each frame.
 *
 * It seems to work, and it is the first thing everyone tries: a client that connects and says
 * nothing, or stops half-way through a frame, is dropped once the time is up. But
 * socket.setTimeout(ms) fires only after `ms` WITHOUT ANY activity on the socket, and every byte
 * is activity. A client that sends one byte every few seconds (slowloris) is never idle: it keeps
 * its connection, its half-read frame (up to the frame limit, 1 MiB) and its temporary file for
 * as long as it likes, and a few hundred such clients hold the whole server. It is also unfair
 * the other way: while the server pauses the socket for its own slow disk, the socket is idle,
 * and an honest client that is waiting for the server gets dropped. The tests trickle a frame
 * a byte every 20 ms, and give the server a disk slower than the deadline.
 *
 * @caught-by step 5: leave nothing behind when it goes wrong › a client that trickles a frame a byte at a time (slowloris)
 * @caught-by step 4: write the body, with backpressure › waiting for a slow disk never counts against the client
 */
import type net from 'node:net';
import { isMain, runServerProgram } from '@course/program';
import {
  createUploadServer as createSolutionServer,
  type ServerOptions,
  type Settings,
  serverProgram,
  UploadSession,
} from '../solution/server.ts';

export * from '../solution/server.ts';

class IdleTimerSession extends UploadSession {
  constructor(socket: net.Socket, settings: Settings) {
    super(socket, settings);
    // The mistake: an idle timer. Each byte that arrives starts it again.
    socket.setTimeout(settings.frameTimeoutMs, () => {
      if (this.state === 'finishing') return; // the server's own wait
      if (this.state === 'done') socket.destroy();
      else void this.fail(`too slow: nothing received for ${settings.frameTimeoutMs} ms`);
    });
  }

  // No deadline: the idle timer above is all there is.
  protected override restartDeadline(): void {}
}

export function createUploadServer(options: ServerOptions = {}) {
  return createSolutionServer(options, IdleTimerSession);
}

if (isMain(import.meta.url)) runServerProgram(serverProgram(createUploadServer));
