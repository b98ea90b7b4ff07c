/**
 * MISTAKE: decodes each chunk of the reply on its own (`text += chunk.toString()`).
 *
 * It looks harmless and works for ASCII. But a chunk can end in the middle of a multi-byte
 * UTF-8 character (é is two bytes, 你 three, 🎉 four): each half is decoded alone, as U+FFFD
 * replacement characters, and the reply is corrupted. The tests cut a reply into single bytes
 * with the course's chunking proxy, and a Python server sends one byte at a time.
 *
 * @caught-by step 3: receive until the server closes › a reply cut one byte at a time keeps its multi-byte characters
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
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8'); // the mistake: a character cut between chunks is lost
      if (Buffer.byteLength(text) > maxBytes) {
        socket.destroy();
        reject(new RequestError(`the reply is longer than ${maxBytes} bytes (EMSGSIZE)`, 'EMSGSIZE'));
      }
    });
    socket.once('end', () => resolve(text));
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
