/**
 * MISTAKE: refuses a reply that reaches maxBytes (`>=`) instead of one that goes over it (`>`).
 *
 * Every reply that is too long is still refused, so it looks right. But "at most maxBytes" means
 * maxBytes itself is allowed: a reply of exactly the limit is refused here, an off-by-one a user
 * meets only at the boundary. The tests read a reply of exactly 1000 bytes with a limit of 1000.
 *
 * @caught-by step 3: receive until the server closes › a reply of exactly maxBytes is not too long
 */
import type net from 'node:net';
import { formatAddress, isMain } from '@course/program';
import {
  DEFAULT_MAX_REPLY_BYTES,
  DEFAULT_TIMEOUT_MS,
  describeFailure,
  openConnection,
  RequestError,
  type RequestOptions,
  runClient,
  sendAndFinish,
} from '../solution/client.ts';

export * from '../solution/client.ts';

export function readReply(socket: net.Socket, maxBytes = DEFAULT_MAX_REPLY_BYTES): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size >= maxBytes) {
        // the mistake: >= refuses a reply of exactly maxBytes
        socket.destroy();
        reject(new RequestError(`the reply is longer than ${maxBytes} bytes (EMSGSIZE)`, 'EMSGSIZE'));
        return;
      }
      chunks.push(chunk);
    });
    socket.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** The solution's request(), calling this file's readReply. */
export function request(options: RequestOptions): Promise<string> {
  const { host = '127.0.0.1', port, message, timeoutMs = DEFAULT_TIMEOUT_MS, maxReplyBytes } = options;
  const where = formatAddress(host, port);
  return new Promise((resolve, reject) => {
    const socket = openConnection(host, port);
    let connected = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new RequestError(`no complete reply from ${where} within ${timeoutMs} ms (ETIMEDOUT)`, 'ETIMEDOUT'),
      );
    }, timeoutMs);
    socket.once('connect', () => {
      connected = true;
      sendAndFinish(socket, message);
    });
    readReply(socket, maxReplyBytes)
      .then(resolve, reject)
      .finally(() => clearTimeout(timer));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(describeFailure(error, where, connected));
    });
  });
}

if (isMain(import.meta.url)) runClient(process.argv.slice(2), request);
