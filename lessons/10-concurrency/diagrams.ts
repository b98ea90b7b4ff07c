/**
 * The wire diagrams of lesson 10, recorded from the solution when the site is built: the README's
 * `![title](diagrams/NAME.svg)` draws `diagrams[NAME]`. A client pipelines `sleep 300` and `ping`
 * in one write; the server answers in the order asked, `slept 300` first, though `pong` was ready
 * 300 ms earlier.
 */
import net from 'node:net';
import { recordExchange, type WireEvent } from '@course/helpers/wire';
import { createHashServer } from './solution/server.ts';

export const REQUESTS = 'sleep 300\nping\n';
export const REPLIES = 'slept 300\npong\n';

export const diagrams: Record<
  string,
  { title: string; 'zh-CN'?: { title: string }; record(): Promise<WireEvent[]> }
> = {
  'pipelined-in-order': {
    title:
      'The client sends sleep 300 and ping in one write; the server answers slept 300, then pong, in the order asked',
    'zh-CN': {
      title: '客户端在一次写入中发送 sleep 300 和 ping；服务端按请求的顺序回答，先 slept 300，再 pong',
    },
    record: () =>
      recordExchange({
        server: createHashServer({ mode: 'inline' }).server,
        cut: 'as-is',
        direction: 'request',
        client: async (port) => {
          const reply = await writeThenWait(port, REQUESTS);
          if (reply.toString('utf8') !== REPLIES)
            throw new Error(
              `expected ${JSON.stringify(REPLIES)}, got ${JSON.stringify(reply.toString('utf8'))}`,
            );
        },
      }),
  },
};

/**
 * Writes `data` in one write, waits for both replies, then half-closes (so the diagram is the
 * same on every build), and resolves with everything the server sent once it closes.
 */
function writeThenWait(port: number, data: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(data));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (Buffer.concat(chunks).toString('utf8') === REPLIES) socket.end();
    });
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}
