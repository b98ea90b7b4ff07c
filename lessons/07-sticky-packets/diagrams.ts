/**
 * The wire diagrams of lesson 07, recorded from the solution when the site is built: the README's
 * `![title](diagrams/NAME.svg)` draws `diagrams[NAME]`. Both send the same three lines; the proxy between
 * client and server re-cuts them, and the answers come back the same either way.
 */
import net from 'node:net';
import { recordExchange, type WireEvent } from '@course/helpers/wire';
import { createLineServer } from './solution/server.ts';

export const LINES = ['hello\n', 'byebye\n', 'again,bye\n'];
export const ANSWERS = '1 hello\n2 byebye\n3 again,bye\n';

export const diagrams: Record<
  string,
  { title: string; 'zh-CN'?: { title: string }; record(): Promise<WireEvent[]> }
> = {
  'three-writes-one-read': {
    title:
      'The client writes hello, byebye and again,bye separately; the server reads them as one chunk, and still answers three lines',
    'zh-CN': { title: '客户端分别写入 hello、byebye 和 again,bye；服务端一次读到它们，仍然回答三行' },
    record: () =>
      recordExchange({
        server: createLineServer(),
        cut: 'coalesce',
        direction: 'request',
        client: async (port) => expectAnswers(await writeSeparately(port, LINES)),
      }),
  },
  'one-write-many-reads': {
    title: 'The client writes the three lines at once; the server reads them in pieces of 1 to 5 bytes',
    'zh-CN': { title: '客户端一次写入三行；服务端分成 1 到 5 字节的小块读到' },
    // The seed is fixed, so the cuts, and the diagram, are the same on every build.
    record: () =>
      recordExchange({
        server: createLineServer(),
        cut: { seed: 7, maxPiece: 5 },
        direction: 'request',
        client: async (port) => expectAnswers(await writeThenWait(port, LINES.join(''))),
      }),
  },
};

function expectAnswers(reply: Buffer): void {
  const text = reply.toString('utf8');
  if (text !== ANSWERS)
    throw new Error(`expected the answers ${JSON.stringify(ANSWERS)}, got ${JSON.stringify(text)}`);
}

/**
 * Writes each piece in its own write (waiting until each is handed to the kernel), then
 * half-closes, and resolves with everything the server sent once it closes.
 */
function writeSeparately(port: number, pieces: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true }, async () => {
      for (const piece of pieces) await new Promise((done) => socket.write(piece, done));
      socket.end();
    });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

/**
 * Writes `data` in one write, waits for the three answers, then half-closes (so the diagram is
 * the same on every build), and resolves with everything the server sent once it closes.
 */
function writeThenWait(port: number, data: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(data));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (Buffer.concat(chunks).toString('utf8') === ANSWERS) socket.end();
    });
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}
