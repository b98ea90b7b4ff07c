/**
 * MISTAKE: takes the first datagram that arrives as the reply, whoever sent it.
 *
 * On loopback, with one server and one client, the first datagram is always the server's, so
 * it seems to work. But a UDP socket has no connection: anyone who learns its port can write to
 * it (a stale server, another program, an attacker spoofing replies), and the client prints
 * whatever came first. recvfrom() returns the sender's address for a reason: compare it with
 * the server's. The tests have a stranger write to the client's port just before the server's
 * reply.
 *
 * @caught-by step 6: the first try: send, and take the server’s reply › a datagram from anyone but the server is ignored
 */
import dgram from 'node:dgram';
import { describeError, formatAddress, isMain } from '@course/program';
import {
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUT_MS,
  encodeMessage,
  RequestError,
  type RequestOptions,
  resolveServer,
  runClient,
  sendDatagram,
} from '../solution/client.ts';

export * from '../solution/client.ts';

export async function request(options: RequestOptions): Promise<string> {
  const {
    host = '127.0.0.1',
    port,
    message,
    timeoutMs = DEFAULT_TIMEOUT_MS,
    retries = DEFAULT_RETRIES,
  } = options;
  const bytes = encodeMessage(message);
  const where = formatAddress(host, port);
  const server = await resolveServer(host);
  const socket = dgram.createSocket(server.family === 6 ? 'udp6' : 'udp4');
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<string>((resolve, reject) => {
      const failed = (error: unknown) => {
        const code = (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
        reject(new RequestError(`request to ${where} failed: ${describeError(error)}`, code));
      };
      socket.on('error', failed);
      // The mistake: no look at the sender.
      socket.on('message', (reply) => resolve(reply.toString('utf8')));
      let attempts = 0;
      const attempt = () => {
        if (attempts > retries) {
          const tries = `${attempts} attempt${attempts === 1 ? '' : 's'}`;
          reject(
            new RequestError(
              `no reply from ${where} after ${tries}, ${timeoutMs} ms each (ETIMEDOUT)`,
              'ETIMEDOUT',
            ),
          );
          return;
        }
        attempts += 1;
        sendDatagram(socket, bytes, port, server.address).catch(failed);
        timer = setTimeout(attempt, timeoutMs);
      };
      attempt();
    });
  } finally {
    clearTimeout(timer);
    socket.close();
  }
}

if (isMain(import.meta.url)) runClient(process.argv.slice(2), request);
