/**
 * The wire diagrams of lesson 02, recorded from the solution when the site is built: the README's
 * `![title](diagrams/NAME.svg)` draws `diagrams[NAME]`.
 */
import { halfCloseClient, recordExchange, type WireEvent } from '@course/helpers/wire';
import { createUpperServer } from './solution/server.ts';

/** What the client sends: two-byte é and three-byte 你 and 好, so that cuts fall inside characters. */
export const REQUEST = 'héllo 你好';

export const diagrams: Record<
  string,
  { title: string; 'zh-CN'?: { title: string }; record(): Promise<WireEvent[]> }
> = {
  'request-reply': {
    title: 'héllo 你好 reaches the server in pieces of at most 4 bytes; the reply comes back whole',
    'zh-CN': { title: 'héllo 你好 分成每块至多 4 字节到达服务端；回复完整地返回' },
    // The seed is fixed, so the cuts, and the diagram, are the same on every build.
    record: () =>
      recordExchange({
        server: createUpperServer(),
        cut: { seed: 7, maxPiece: 4 },
        direction: 'request',
        client: async (port) => {
          const reply = (await halfCloseClient(port, REQUEST)).toString('utf8');
          const expected = REQUEST.toUpperCase();
          if (reply !== expected)
            throw new Error(`expected the reply ${expected}, got ${JSON.stringify(reply)}`);
        },
      }),
  },
};
