/**
 * MISTAKE: no timer at all: the request waits for the server's FIN however long it takes.
 *
 * Every server you try at home answers, so the client always ends. But a server that accepts
 * the connection and then never answers (stuck, overloaded, or an attacker's) holds this client
 * forever, with its socket open: a command-line tool that never returns. One setTimeout for the
 * whole exchange is what gives up. The tests run a server that never replies and one that
 * trickles a byte every 20 ms, and fail within their own bound when request() never settles.
 *
 * @caught-by step 5: the whole request › a server that never replies: ETIMEDOUT after timeoutMs
 * @caught-by step 5: the whole request › a server that trickles a byte every 20 ms still times out
 */
import { formatAddress, isMain } from '@course/program';
import {
  describeFailure,
  openConnection,
  type RequestOptions,
  readReply,
  runClient,
  sendAndFinish,
} from '../solution/client.ts';

export * from '../solution/client.ts';

export function request(options: RequestOptions): Promise<string> {
  const { host = '127.0.0.1', port, message, maxReplyBytes } = options;
  const where = formatAddress(host, port);
  return new Promise((resolve, reject) => {
    const socket = openConnection(host, port);
    let connected = false;
    // The mistake: nothing bounds the wait; timeoutMs is ignored.
    socket.once('connect', () => {
      connected = true;
      sendAndFinish(socket, message);
    });
    readReply(socket, maxReplyBytes).then(resolve, reject);
    socket.once('error', (error: NodeJS.ErrnoException) => reject(describeFailure(error, where, connected)));
  });
}

if (isMain(import.meta.url)) runClient(process.argv.slice(2), request);
