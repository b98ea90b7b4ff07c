/**
 * MISTAKE: request() calls readReply(socket) without its maxReplyBytes.
 *
 * Nothing looks wrong: readReply() has a default limit of 1 MiB, and every reply at home is
 * smaller. But the caller's limit is silently ignored: a caller who asked for 1000 bytes at most
 * gets up to a mebibyte in memory, or, from a server that keeps sending and never closes, a
 * time-out instead of EMSGSIZE. The tests ask for 1000 bytes at most from a server that sends
 * 10 000 and keeps the connection open.
 *
 * @caught-by step 5: the whole request › a reply longer than maxReplyBytes rejects the request with EMSGSIZE
 */
import { formatAddress, isMain } from '@course/program';
import {
  DEFAULT_TIMEOUT_MS,
  describeFailure,
  openConnection,
  RequestError,
  type RequestOptions,
  readReply,
  runClient,
  sendAndFinish,
} from '../solution/client.ts';

export * from '../solution/client.ts';

export function request(options: RequestOptions): Promise<string> {
  const { host = '127.0.0.1', port, message, timeoutMs = DEFAULT_TIMEOUT_MS } = options;
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
    // The mistake: options.maxReplyBytes never reaches readReply().
    readReply(socket)
      .then(resolve, reject)
      .finally(() => clearTimeout(timer));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(describeFailure(error, where, connected));
    });
  });
}

if (isMain(import.meta.url)) runClient(process.argv.slice(2), request);
