/**
 * MISTAKE: answers the first 'data' event, as if one read were one whole request head.
 *
 * Browsers, curl and fetch send a small head in one write, and on loopback it usually arrives in
 * one 'data' event, so the page shows up and the mistake goes unnoticed. But TCP keeps no message
 * boundaries: over a slow network, through a proxy, or from `nc` as you type, the head comes in
 * pieces. This handler then answers the first piece, `G` say, which is not HTTP: 400 Bad Request
 * to a perfectly good request. The tests cut the head one byte at a time and must catch it.
 *
 * @caught-by step 6: the WebServer answers real HTTP clients › the head may arrive one byte at a time
 */
import type net from 'node:net';
import { isMain } from '@course/program';
import { formatResponse, respondTo, runProgram } from '../solution/server.ts';
import { TcpServer } from '../solution/tcp-server.ts';

export * from '../solution/server.ts';

export class WebServer extends TcpServer {
  protected override handleConnection(socket: net.Socket, peer: string): void {
    socket.once('data', (chunk: Buffer) => {
      const head = chunk.toString('latin1');
      const response = respondTo(head);
      const requestLine = (head.split(/\r?\n/, 1)[0] ?? '').replace(/ HTTP\/1\.\d$/, '');
      this.log(`${peer} ${response.status === 400 ? '(not HTTP)' : requestLine} ${response.status}`);
      socket.end(formatResponse(response));
    });
  }
}

if (isMain(import.meta.url)) runProgram((options) => new WebServer(options));
