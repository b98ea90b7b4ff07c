/**
 * The wire diagrams of lesson 01, recorded from the solution when the site is built: the README's
 * `![title](diagrams/NAME.svg)` draws `diagrams[NAME]`.
 */
import net from 'node:net';
import { recordExchange, type WireEvent } from '@course/helpers/wire';
import { request } from './solution/client.ts';

export const diagrams: Record<
  string,
  { title: string; 'zh-CN'?: { title: string }; record(): Promise<WireEvent[]> }
> = {
  'request-reply': {
    title: "request() sends hello, half-closes, and reads the server's reply until the server closes",
    'zh-CN': { title: 'request() 发送 hello，半关闭，然后读取服务端的回复，直到服务端关闭' },
    record: () =>
      recordExchange({
        server: upperCaseServer(),
        client: async (port) => {
          const reply = await request({ port, message: 'hello' });
          if (reply !== 'HELLO') throw new Error(`expected the reply HELLO, got ${JSON.stringify(reply)}`);
        },
      }),
  },
};

/** Reads until the client half-closes (allowHalfOpen keeps our side open), answers in upper case. */
function upperCaseServer(): net.Server {
  return net.createServer({ allowHalfOpen: true }, (socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => socket.end(Buffer.concat(chunks).toString('utf8').toUpperCase()));
    socket.on('error', () => socket.destroy());
  });
}
