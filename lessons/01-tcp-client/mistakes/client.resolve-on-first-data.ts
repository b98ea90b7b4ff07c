/**
 * MISTAKE: takes the first 'data' event for the whole reply, like the original tutorial's single
 * `recv(1024)`.
 *
 * It passes every quick try on your own machine: a short reply written at once usually arrives
 * in one piece on loopback. But a 'data' event holds whatever had arrived, not a message: a
 * slower server, a longer reply or a real network cuts the reply into several events, and this
 * client prints the first piece and drops the rest. The reply is complete only on 'end', when
 * the server has closed its side. The tests write a reply in pieces, each one only once the
 * client has read the one before, so the pieces are separate events on any machine.
 *
 * @caught-by step 3: receive until the server closes › a reply written in several pieces is collected whole
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
    // The mistake: one 'data' event taken as the whole reply.
    socket.once('data', (chunk: Buffer) => {
      if (chunk.length > maxBytes) {
        socket.destroy();
        reject(new RequestError(`the reply is longer than ${maxBytes} bytes (EMSGSIZE)`, 'EMSGSIZE'));
        return;
      }
      resolve(chunk.toString('utf8'));
    });
    socket.once('end', () => resolve('')); // an empty reply
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
