/**
 * The wire diagrams of lesson 04, recorded from the solution when the site is built: the README's
 * `![title](diagrams/NAME.svg)` draws `diagrams[NAME]`.
 */
import net from 'node:net';
import { recordExchange, type WireEvent } from '@course/helpers/wire';
import { createHelloServer } from './solution/server.ts';

export const diagrams: Record<
  string,
  { title: string; 'zh-CN'?: { title: string }; record(): Promise<WireEvent[]> }
> = {
  'hello-then-fin': {
    title:
      'The server sends its one line and closes first (FIN); the client closes after it, so the server’s side waits in TIME_WAIT',
    'zh-CN': {
      title: '服务端发出它的一行后先关闭（FIN）；客户端随后关闭，因此服务端一侧在 TIME_WAIT 中等待',
    },
    record: async () => {
      const events = await recordExchange({
        server: createHelloServer(),
        client: async (port) => {
          const reply = await readToEnd(port);
          if (!/^hello from port \d+\n$/.test(reply))
            throw new Error(`expected the line hello from port P, got ${JSON.stringify(reply)}`);
        },
      });
      return events.map(asOnPort9000);
    },
  },
};

/**
 * The server names its port, which the recording got from the system (port 0): drawn as 9000, the
 * README's port, so that the diagram is the same on every build.
 */
function asOnPort9000(event: WireEvent): WireEvent {
  if (event.kind !== 'data') return event;
  const line = Buffer.from(event.bytes).toString('utf8');
  const fixed = line.replace(/^hello from port \d+\n$/, 'hello from port 9000\n');
  return fixed === line ? event : { ...event, bytes: Buffer.from(fixed) };
}

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
