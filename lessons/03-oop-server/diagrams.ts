/**
 * The wire diagrams of lesson 03, recorded from the solution when the site is built: the README's
 * `![title](diagrams/NAME.svg)` draws `diagrams[NAME]`.
 */
import net from 'node:net';
import { recordExchange, type WireEvent } from '@course/helpers/wire';
import { WebServer } from './solution/server.ts';

/** What curl sends for `curl http://127.0.0.1:9000/`, with a shorter User-Agent. */
export const REQUEST = 'GET / HTTP/1.1\r\nHost: 127.0.0.1:9000\r\nUser-Agent: curl\r\nAccept: */*\r\n\r\n';

/**
 * An HTTP client as browsers and curl are: it sends its request and does NOT half-close; it
 * reads until the server closes (the response says Connection: close). Resolves with the response.
 */
function httpClient(port: number, request: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

/**
 * The response's Date header says when the build ran: drawn as one fixed date (an HTTP date is
 * always 29 characters, so the byte count stays true), so that the diagram is the same every day.
 */
function withFixedDate(event: WireEvent): WireEvent {
  if (event.kind !== 'data') return event;
  const text = Buffer.from(event.bytes).toString('latin1');
  const fixed = text.replace(/\r\nDate: [^\r]{29}\r\n/, '\r\nDate: Thu, 01 Jan 2026 09:00:00 GMT\r\n');
  return fixed === text ? event : { ...event, bytes: Buffer.from(fixed, 'latin1') };
}

export const diagrams: Record<
  string,
  { title: string; 'zh-CN'?: { title: string }; record(): Promise<WireEvent[]> }
> = {
  'get-in-pieces': {
    title: 'GET / arrives in six pieces, its empty line cut in two; the response comes back whole',
    'zh-CN': { title: 'GET / 分六块到达，其中的空行被切成两半；响应完整地返回' },
    // The seed is fixed, so the cuts, and the diagram, are the same on every build: the first
    // piece is `GET /`, the last one the final \n of the empty line.
    record: async () => {
      const events = await recordExchange({
        server: new WebServer().server,
        cut: { seed: 127, maxPiece: 20 },
        direction: 'request',
        client: async (port) => {
          const response = (await httpClient(port, REQUEST)).toString('utf8');
          if (!response.startsWith('HTTP/1.1 200 OK\r\n'))
            throw new Error(`expected a 200 response, got ${JSON.stringify(response.slice(0, 40))}`);
        },
      });
      return events.map(withFixedDate);
    },
  },
  'stop-idle': {
    title: 'stop() with an idle client connected: the server sends FIN, the client closes too',
    'zh-CN': { title: '有一个空闲客户端连接时的 stop()：服务端发送 FIN，客户端也随之关闭' },
    record: () => {
      const web = new WebServer();
      return recordExchange({
        server: web.server,
        client: async (port) => {
          // The server has accepted the connection once its 'connection' event fires.
          const accepted = new Promise((resolve) => web.server.once('connection', resolve));
          const socket = net.connect({ host: '127.0.0.1', port });
          socket.on('error', () => {});
          await accepted;
          await web.stop();
        },
      });
    },
  },
};
