/**
 * MISTAKE: request() never listens for the socket's 'error' event.
 *
 * With a server that answers, nothing seems missing: no error, no need for a listener. But a
 * refused or reset connection is reported only as an 'error' event, and an 'error' that nobody
 * listens for is thrown: the program crashes with a stack trace instead of one clear line, and
 * request() never settles. The tests watch the client's socket and fail, in the test that
 * caused it, when it emits an 'error' with no listener.
 *
 * @caught-by step 5: the whole request › a refused connection rejects with ECONNREFUSED
 * @caught-by step 5: the whole request › a connection reset by the server rejects with ECONNRESET
 */
import { formatAddress, isMain } from '@course/program';
import {
  DEFAULT_TIMEOUT_MS,
  openConnection,
  RequestError,
  type RequestOptions,
  readReply,
  runClient,
  sendAndFinish,
} from '../solution/client.ts';

export * from '../solution/client.ts';

export function request(options: RequestOptions): Promise<string> {
  const { host = '127.0.0.1', port, message, timeoutMs = DEFAULT_TIMEOUT_MS, maxReplyBytes } = options;
  const where = formatAddress(host, port);
  return new Promise((resolve, reject) => {
    const socket = openConnection(host, port);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new RequestError(`no complete reply from ${where} within ${timeoutMs} ms (ETIMEDOUT)`, 'ETIMEDOUT'),
      );
    }, timeoutMs);
    socket.once('connect', () => sendAndFinish(socket, message));
    readReply(socket, maxReplyBytes)
      .then(resolve, reject)
      .finally(() => clearTimeout(timer));
    // The mistake: no socket.on('error', ...).
  });
}

if (isMain(import.meta.url)) runClient(process.argv.slice(2), request);
