/**
 * MISTAKE: a stop() that only calls server.close().
 *
 * It reads like the obvious answer, and it seems to work: with no client connected, or with
 * clients that finish their request and leave, close()'s callback runs at once. But close() only
 * stops accepting new connections; its callback waits until every open connection has closed by
 * itself. A client that stays connected (a browser keeps idle connections open, `nc` waits for
 * you to type) keeps this stop() waiting forever, and a program that awaits it never exits.
 * The tests must catch it within their bound, not hang.
 *
 * @caught-by step 3: stop() closes every connection, idle ones too › stop() resolves promptly while idle clients are connected
 */
import { TcpServer as Solution } from '../solution/tcp-server.ts';

export * from '../solution/tcp-server.ts';

export class TcpServer extends Solution {
  override stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
