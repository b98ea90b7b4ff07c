/**
 * The wire diagrams of lesson 04, recorded from the solution when the site is built: the README's
 * `<!-- wire: NAME -->` draws `diagrams[NAME]`.
 */
import net from 'node:net';
import { recordExchange, type WireEvent } from '@course/helpers/wire';
import { createHelloServer } from './solution/server.ts';

export const diagrams: Record<string, { title: string; record(): Promise<WireEvent[]> }> = {
  'hello-then-fin': {
    title:
      'the server sends its one line and closes first (FIN); the client closes after it, so the server’s side waits in TIME_WAIT',
    record: () =>
      recordExchange({
        server: createHelloServer(),
        client: async (port) => {
          const reply = await readToEnd(port);
          if (!/^hello from port \d+\n$/.test(reply))
            throw new Error(`expected the line hello from port P, got ${JSON.stringify(reply)}`);
        },
      }),
  },
};

/**
 * A client that sends nothing: it reads until the server's FIN, and Node then closes its side
 * too (allowHalfOpen is false). Resolves with what it read once the socket is closed.
 */
function readToEnd(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', reject);
    socket.once('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
