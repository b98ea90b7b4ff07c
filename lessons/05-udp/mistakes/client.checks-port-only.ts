/**
 * MISTAKE: takes a datagram as the reply when it comes from the server's port, whatever address.
 *
 * A stranger on another port is ignored, and the check looks done: the reply comes from the
 * port the request went to. But a port number is only half an address. Any machine can send
 * from that same port number (every host has its own ports), and on a network the address is
 * what tells the server from an impostor. Compare both: sender.address === server.address &&
 * sender.port === port. The tests have an impostor write from the server's port on 127.0.0.2
 * (loopback too, on Linux) just before the server's reply.
 *
 * @caught-by step 6: the first try: send, and take the server’s reply › a datagram from the server's port on another address is ignored
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
      socket.on('message', (reply, sender) => {
        if (sender.port !== port) return; // the mistake: the port alone, not the address
        resolve(reply.toString('utf8'));
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
