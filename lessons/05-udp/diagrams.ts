/**
 * The wire diagrams of lesson 05, recorded from the solution when the site is built: the README's
 * `![title](diagrams/NAME.svg)` draws `diagrams[NAME]`. The lossy UDP proxy sits between client and
 * server; a datagram it drops is still drawn (the renderer has no mark for "lost"), so the
 * titles say which one was lost.
 */
import { recordDatagrams } from '@course/helpers';
import type { WireEvent } from '@course/helpers/wire';
import { request } from './solution/client.ts';
import { createUpperServer } from './solution/server.ts';

export const diagrams: Record<
  string,
  { title: string; 'zh-CN'?: { title: string }; record(): Promise<WireEvent[]> }
> = {
  'lost-request': {
    title:
      'The first hello is lost on the way (the proxy drops it); after 1000 ms without a reply the client sends it again, and HELLO comes back',
    'zh-CN': {
      title: '第一个 hello 在路上丢失（代理把它丢掉了）；1000 ms 没有回复后，客户端重发，HELLO 返回',
    },
    record: () =>
      recordDatagrams({
        server: createUpperServer(),
        proxy: { rules: [{ action: 'drop', direction: 'request', first: 1 }] },
        client: async (port) => {
          // A timeout as the README's (1000 ms): long enough that the second hello's reply always comes
          // back within it, however loaded the machine, so that the diagram is the same on every build.
          const reply = await request({ port, message: 'hello', timeoutMs: 1000 });
          if (reply !== 'HELLO') throw new Error(`expected the reply HELLO, got ${JSON.stringify(reply)}`);
        },
      }),
  },
  boundaries: {
    title: 'Three datagrams, three replies: each arrives whole, never joined to the next or split',
    'zh-CN': { title: '三个数据报，三个回复：每个都完整到达，从不与下一个连在一起，也从不被拆开' },
    record: () =>
      recordDatagrams({
        server: createUpperServer(),
        client: async (port) => {
          // One request after another, so that the drawing shows each reply after its request.
          for (const word of ['one', 'two', 'héllo 你好']) {
            const reply = await request({ port, message: word, timeoutMs: 1000 });
            if (reply !== word.toUpperCase()) throw new Error(`expected ${word.toUpperCase()}, got ${reply}`);
          }
        },
      }),
  },
};
