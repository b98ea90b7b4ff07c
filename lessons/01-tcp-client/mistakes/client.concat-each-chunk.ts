/**
 * MISTAKE: joins each chunk onto the reply so far, `reply = Buffer.concat([reply, chunk])`.
 *
 * The reply comes out right, and it decodes once at the end, so no character is broken. But
 * every chunk copies the whole reply received so far: n chunks cost about n²/2 chunk copies. A
 * reply of one mebibyte in 64 KiB chunks is copied 16 times over; in the small chunks of a slow
 * network, thousands of times. Keep the chunks in an array and join them once, on 'end'. The
 * tests count the joins while a reply arrives in eight pieces.
 *
 * @caught-by step 3: receive until the server closes › a reply in many pieces is joined once
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
    let reply = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      if (reply.length + chunk.length > maxBytes) {
        socket.destroy();
        reject(new RequestError(`the reply is longer than ${maxBytes} bytes (EMSGSIZE)`, 'EMSGSIZE'));
        return;
      }
      reply = Buffer.concat([reply, chunk]); // the mistake: the whole reply copied for every chunk
    });
    socket.once('end', () => resolve(reply.toString('utf8')));
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
