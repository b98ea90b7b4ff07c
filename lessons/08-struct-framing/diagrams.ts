/**
 * The wire diagrams of lesson 08, recorded from the solution when the site is built: the README's
 * `![title](diagrams/NAME.svg)` draws `diagrams[NAME]`.
 */
import net from 'node:net';
import { recordExchange, type WireEvent } from '@course/helpers/wire';
import { encodeFrame, FrameDecoder } from './solution/framing.ts';
import { createEchoServer } from './solution/server.ts';

/** Three frames, one of them empty, sent in one write: 4 + 5, 4 + 0 and 4 + 3 bytes. */
export const PAYLOADS = ['hello', '', 'TCP'];

export const diagrams: Record<
  string,
  { title: string; 'zh-CN'?: { title: string }; record(): Promise<WireEvent[]> }
> = {
  'frames-cut': {
    title: 'Three frames sent in one write reach the server cut at random; each comes back whole',
    'zh-CN': { title: '一次写入发出的三帧在到达服务端时被随机切开；每一帧都完整地返回' },
    // The seed is fixed, so the cuts, and the diagram, are the same on every build.
    record: () =>
      recordExchange({
        server: createEchoServer(),
        cut: { seed: 8, maxPiece: 6 },
        direction: 'request',
        client: (port) => echoClient(port, PAYLOADS),
      }),
  },
};

/**
 * Sends every payload as a frame in one write, decodes the echoes with the solution's decoder,
 * and half-closes once all have come back; resolves when the server has closed too.
 */
function echoClient(port: number, payloads: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () =>
      socket.write(Buffer.concat(payloads.map((p) => encodeFrame(Buffer.from(p))))),
    );
    const decoder = new FrameDecoder();
    const echoed: string[] = [];
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) echoed.push(frame.toString('utf8'));
      if (echoed.length === payloads.length) socket.end();
    });
    socket.once('end', () => {
      if (JSON.stringify(echoed) === JSON.stringify(payloads)) resolve();
      else
        reject(new Error(`expected the echoes ${JSON.stringify(payloads)}, got ${JSON.stringify(echoed)}`));
    });
    socket.once('error', reject);
  });
}
