/**
 * MISTAKE: sends once and waits for the reply, with no timer: UDP's "recvfrom() without
 * settimeout()".
 *
 * It works every time on loopback, where nothing is ever lost, which is why it ships. On a real
 * network one datagram in a hundred (or in ten, on a bad Wi-Fi) never arrives, the request or
 * its reply, and nobody tells the client: it waits forever, holding its socket open. The
 * tests drop requests and replies with the course's lossy proxy, and fail within their own bound
 * when request() never settles.
 *
 * @caught-by step 7: send again when no reply comes › no reply: ETIMEDOUT after timeoutMs
 * @caught-by step 7: send again when no reply comes › the first two requests are dropped
 */
import dgram from 'node:dgram';
import { describeError, formatAddress, isMain } from '@course/program';
import {
  encodeMessage,
  RequestError,
  type RequestOptions,
  resolveServer,
  runClient,
  sendDatagram,
} from '../solution/client.ts';

export * from '../solution/client.ts';

export async function request(options: RequestOptions): Promise<string> {
  const { host = '127.0.0.1', port, message } = options;
  const bytes = encodeMessage(message);
  const where = formatAddress(host, port);
  const server = await resolveServer(host);
  const socket = dgram.createSocket(server.family === 6 ? 'udp6' : 'udp4');
  try {
    return await new Promise<string>((resolve, reject) => {
      const failed = (error: unknown) => {
        const code = (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
        reject(new RequestError(`request to ${where} failed: ${describeError(error)}`, code));
      };
      socket.on('error', failed);
      socket.on('message', (reply, sender) => {
        if (sender.address === server.address && sender.port === port) resolve(reply.toString('utf8'));
      });
      // The mistake: one send, and then the wait has no end.
      sendDatagram(socket, bytes, port, server.address).catch(failed);
    });
  } finally {
    socket.close();
  }
}

if (isMain(import.meta.url)) runClient(process.argv.slice(2), request);
