/**
 * MISTAKE: starts the timer but never clears it once the request has settled.
 *
 * Every answer is right: a timer that fires after the promise settled rejects nothing, because
 * a promise settles once. But a pending timer keeps Node running: the program prints the reply
 * and then sits there until the timer fires, five seconds by default, before it exits. The tests
 * watch the timers request() starts and check that none is left once it has settled.
 *
 * @caught-by step 5: the whole request › the timer is cleared once the request settles
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
    // The mistake: this timer is never cleared.
    setTimeout(() => {
      socket.destroy();
      reject(
        new RequestError(`no complete reply from ${where} within ${timeoutMs} ms (ETIMEDOUT)`, 'ETIMEDOUT'),
      );
    }, timeoutMs);
    socket.once('connect', () => {
      connected = true;
      sendAndFinish(socket, message);
    });
    readReply(socket, maxReplyBytes).then(resolve, reject);
    socket.once('error', (error: NodeJS.ErrnoException) => reject(describeFailure(error, where, connected)));
  });
}

if (isMain(import.meta.url)) runClient(process.argv.slice(2), request);
