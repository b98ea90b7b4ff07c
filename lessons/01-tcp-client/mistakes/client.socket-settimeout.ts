/**
 * MISTAKE: bounds the request with `socket.setTimeout(timeoutMs)` instead of one timer.
 *
 * It looks made for the job, and a server that says nothing does time out. But
 * socket.setTimeout() is an idle timeout: it fires after timeoutMs of silence, and every byte
 * that arrives starts the count again. A server that sends one byte every 20 ms is never idle,
 * so it holds this client for as long as it likes. One setTimeout started with the request
 * bounds the whole exchange, whatever the server does. The tests run that trickling server and
 * fail within their own bound when request() never settles.
 *
 * @caught-by step 5: the whole request › a server that trickles a byte every 20 ms still times out
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
  const { host = '127.0.0.1', port, message, timeoutMs = DEFAULT_TIMEOUT_MS, maxReplyBytes } = options;
  const where = formatAddress(host, port);
  return new Promise((resolve, reject) => {
    const socket = openConnection(host, port);
    let connected = false;
    // The mistake: an idle timeout, reset by every byte that arrives.
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(
        new RequestError(`no complete reply from ${where} within ${timeoutMs} ms (ETIMEDOUT)`, 'ETIMEDOUT'),
      );
    });
    socket.once('connect', () => {
      connected = true;
      sendAndFinish(socket, message);
    });
    readReply(socket, maxReplyBytes).then(resolve, reject);
    socket.once('error', (error: NodeJS.ErrnoException) => reject(describeFailure(error, where, connected)));
  });
}

if (isMain(import.meta.url)) runClient(process.argv.slice(2), request);
