/**
 * MISTAKE: sends with `sendDatagram(...).catch(() => {})`: "UDP is unreliable anyway".
 *
 * On loopback every send succeeds, so the catch never runs and everything works. But when the
 * kernel refuses a datagram (no route to the host, a broadcast address without SO_BROADCAST, a
 * firewall), the send's error is the only word of it: swallowed, the request waits for a reply
 * to a datagram that never left, and ends in ETIMEDOUT, blaming the network, after every resend
 * has failed the same way. Pass the rejection to failed(). The tests send to 255.255.255.255,
 * which a socket without SO_BROADCAST may not do.
 *
 * @caught-by step 6: the first try: send, and take the server’s reply › a send the kernel refuses rejects at once
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
      socket.on('error', (error: unknown) => {
        const code = (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
        reject(new RequestError(`request to ${where} failed: ${describeError(error)}`, code));
      });
      socket.on('message', (reply, sender) => {
        if (sender.address === server.address && sender.port === port) resolve(reply.toString('utf8'));
      });
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
        sendDatagram(socket, bytes, port, server.address).catch(() => {}); // the mistake
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
