/**
 * MISTAKE: start() rejects on 'error', but never removes that listener once it listens.
 *
 * It works: start() resolves, and a taken port rejects with EADDRINUSE. But every start() leaves
 * one more 'error' listener on the server, holding its promise, for the server's whole life: a
 * server started and stopped ten times has ten, and Node warns `MaxListenersExceededWarning`
 * at the eleventh. Once listening, this.server.off('error', reject).
 *
 * @caught-by step 1: start() listens and resolves to the bound address › start() resolves with 127.0.0.1 and the real port
 */
import type { AddressInfo } from 'node:net';
import type { ListenOptions } from '@course/program';
import { TcpServer as Solution } from '../solution/tcp-server.ts';

export * from '../solution/tcp-server.ts';

export class TcpServer extends Solution {
  override start({
    host = '127.0.0.1',
    port = 0,
    backlog,
  }: Partial<ListenOptions> = {}): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      // WRONG: the 'error' listener stays after the server listens.
      this.server.listen({ host, port, backlog }, () => resolve(this.server.address() as AddressInfo));
    });
  }
}
