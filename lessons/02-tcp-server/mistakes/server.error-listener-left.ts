/**
 * MISTAKE: listen() adds its 'error' listener and never removes it once the server listens.
 *
 * listen() resolves and rejects as it should, and the server serves. But the listener stays on
 * the server for good. Any later 'error' of the server (there are few, but they exist: a failed
 * accept when the process runs out of file descriptors, EMFILE) now calls the reject of a
 * promise that settled long ago, which does nothing: the error vanishes without a trace, where
 * with no listener at all it would at least have been loud. And a server that is made to listen
 * again collects one more listener each time. Remove it in the listen callback:
 * server.off('error', reject). The test counts the server's 'error' listeners before and after.
 *
 * @caught-by step 3: listen › listen() leaves no 'error' listener behind once the server listens
 */
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import { isMain, type ListenOptions, runServerProgram } from '@course/program';
import { program } from '../solution/server.ts';

export * from '../solution/server.ts';

export function listen(server: net.Server, { host, port, backlog }: ListenOptions): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.on('error', reject); // the mistake: never removed
    server.listen({ host, port, backlog }, () => resolve(server.address() as AddressInfo));
  });
}

if (isMain(import.meta.url)) runServerProgram({ ...program, listen });
