/**
 * MISTAKE: calls socket.send() without a callback and takes the send for granted.
 *
 * It seems to work: a datagram sent this way arrives like any other, and send() throws no
 * exception. But send() reports its failures only to its callback, and without one Node drops
 * them (measured on Node 20): a datagram the kernel refuses, such as one over 65 507 bytes
 * (EMSGSIZE), vanishes in silence. The client then waits for a reply to a request that never
 * left, sends it again, and finally blames the network: "no reply ... (ETIMEDOUT)". The tests
 * send 65,508 bytes with sendDatagram() and expect it to reject with EMSGSIZE.
 *
 * @caught-by step 5: send a datagram, with a callback › a datagram the kernel refuses (65 508 bytes) rejects with EMSGSIZE
 */
import type dgram from 'node:dgram';
import { isMain } from '@course/program';
import { runClient } from '../solution/client.ts';

export * from '../solution/client.ts';

export function sendDatagram(
  socket: dgram.Socket,
  bytes: Uint8Array,
  port: number,
  address: string,
): Promise<void> {
  socket.send(bytes, port, address); // the mistake: no callback, so no error ever comes back
  return Promise.resolve();
}

if (isMain(import.meta.url)) runClient(process.argv.slice(2));
