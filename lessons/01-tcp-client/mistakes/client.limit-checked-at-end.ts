/**
 * MISTAKE: checks the reply's size only once it is complete, on 'end'.
 *
 * Too long a reply is still refused with EMSGSIZE, so the limit seems to work. But the limit is
 * there to bound memory while the bytes arrive: checked on 'end', every byte is kept first, and
 * a server that keeps sending and never closes fills the client's memory, with no 'end' ever to
 * stop it. Count on each 'data' event and give up as soon as the count passes maxBytes. The
 * tests send 10 000 bytes against a limit of 1000 and leave the connection open.
 *
 * @caught-by step 3: receive until the server closes › a reply longer than maxBytes rejects with EMSGSIZE at once
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
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => {
      const reply = Buffer.concat(chunks);
      // The mistake: the limit is checked after everything was kept.
      if (reply.length > maxBytes) {
        socket.destroy();
        reject(new RequestError(`the reply is longer than ${maxBytes} bytes (EMSGSIZE)`, 'EMSGSIZE'));
        return;
      }
      resolve(reply.toString('utf8'));
    });
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
