/**
 * MISTAKE: answers 400 to every FIN before a complete head, even from a client that sent nothing.
 *
 * A client that connects and closes without a byte made no request: browsers do it with the
 * connections they open ahead of time, and port scanners too. This handler answers it
 * `400 Bad Request` anyway, and logs a request that never was. The 'end' handler must check that
 * some bytes arrived.
 *
 * @caught-by step 6: the WebServer answers real HTTP clients › not HTTP gets 400; a client that half-closes before the empty line gets 400
 */
import type net from 'node:net';
import { isMain } from '@course/program';
import {
  formatResponse,
  type HttpResponse,
  headEnd,
  MAX_HEAD_BYTES,
  respondTo,
  runProgram,
  WebServer as Solution,
  textResponse,
} from '../solution/server.ts';

export * from '../solution/server.ts';

export class WebServer extends Solution {
  protected override handleConnection(socket: net.Socket, peer: string): void {
    const chunks: Buffer[] = [];
    let received = 0;
    // The last bytes seen, because the blank line can be cut between two chunks.
    let tail = Buffer.alloc(0);

    // One log line per request: `127.0.0.1:48316 GET / 200`.
    const answer = (response: HttpResponse, request: string) => {
      this.requestComplete(socket); // the head is in (or refused): the deadline is met
      chunks.length = 0; // the head is no longer needed
      this.log(`${peer} ${request} ${response.status}`);
      // end(data): the whole response, then our FIN, as `Connection: close` promised.
      socket.end(formatResponse(response));
    };

    socket.on('data', (chunk: Buffer) => {
      // Answered already (or 408, or stop()): our side is closed. A request body, or a second
      // request, is read and ignored (Connection: close).
      if (socket.writableEnded) return;
      const before = received - tail.length; // where `window` starts in the stream
      chunks.push(chunk);
      received += chunk.length;
      // Search only the new bytes and the few before them: no rescan, no quadratic cost.
      const window = Buffer.concat([tail, chunk]);
      const end = headEnd(window);
      if (end === -1 || before + end > MAX_HEAD_BYTES) {
        if (received > MAX_HEAD_BYTES) return answer(textResponse(431), '(head over 8 KiB)');
        tail = window.subarray(-2);
        return;
      }
      // Header bytes are ASCII; latin1 maps any other byte to one character, never to an error.
      const head = Buffer.concat(chunks)
        .subarray(0, before + end)
        .toString('latin1');
      const response = respondTo(head);
      const requestLine = (head.split(/\r?\n/, 1)[0] ?? '').replace(/ HTTP\/1\.\d$/, '');
      answer(response, response.status === 400 ? '(not HTTP)' : requestLine);
    });

    // The client stopped sending (FIN) before its head was complete: that is not a request.
    // Answer here, in 'end' itself: just after it, Node closes our side (allowHalfOpen: false).
    // Not when our side is already closed: stop() ended it, and nothing more can be sent.
    socket.on('end', () => {
      // WRONG: no check that some bytes arrived (received > 0).
      if (!socket.writableEnded) {
        answer(textResponse(400), '(incomplete head)');
      }
    });
  }
}

if (isMain(import.meta.url)) runProgram((options) => new WebServer(options));
