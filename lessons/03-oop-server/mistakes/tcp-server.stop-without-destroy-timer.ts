/**
 * MISTAKE: a stop() that ends every connection politely, and counts on the grace timer of
 * accept() to destroy the ones that linger, without a timer of its own.
 *
 * It looks complete, and it passes every test of idle clients: stop() calls socket.end(), the
 * socket emits 'finish' once the FIN has left, and the grace timer that accept() starts on
 * 'finish' destroys a client that ignores the FIN. But 'finish' only comes once everything
 * queued has been handed to the kernel. A client that never reads (a stuck process, a laptop
 * put to sleep) leaves the server's last bytes waiting in Node's buffer: no 'finish', no grace
 * timer, and this stop() waits for a 'close' that never comes. The program then hangs on Ctrl-C.
 *
 * @caught-by step 3: stop() closes every connection, idle ones too › a client that never reads, with an answer still queued, is destroyed after closeGraceMs
 */
import { TcpServer as Solution } from '../solution/tcp-server.ts';

export * from '../solution/tcp-server.ts';

export class TcpServer extends Solution {
  override async stop(): Promise<void> {
    const listening = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const connections = [...this.connections].map(
      (socket) =>
        new Promise<void>((resolve) => {
          socket.once('close', () => resolve());
          // WRONG: no setTimeout(() => socket.destroy(), this.closeGraceMs) here.
          socket.end();
        }),
    );
    await Promise.all([listening, ...connections]);
  }
}
