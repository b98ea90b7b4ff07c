/**
 * Two facts lesson 05's README states, shown on this machine (run it anywhere; the numbers are
 * Linux's, and the rmem_max line needs Linux's /proc):
 *
 *   npx tsx lessons/05-udp/measure-recv-buffer.ts
 *
 * 1. What the kernel makes of a recvBufferSize request (SO_RCVBUF): Linux caps the request at
 *    net.core.rmem_max, then doubles it.
 * 2. send() succeeds when the kernel has taken the datagram, not when it arrived: 1000 datagrams
 *    of 100 bytes sent at once to a socket with a small receive buffer all "succeed", and the
 *    receiver gets only part of them.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';

const rmemMax = existsSync('/proc/sys/net/core/rmem_max')
  ? readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim()
  : 'n/a';
console.log(`1. net.core.rmem_max = ${rmemMax}`);
for (const asked of [8192, 65536, 4194304, 16777216]) {
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: asked });
  socket.bind({ address: '127.0.0.1', port: 0 });
  await once(socket, 'listening');
  console.log(
    `   recvBufferSize ${String(asked).padStart(8)} -> getRecvBufferSize() ${socket.getRecvBufferSize()}`,
  );
  socket.close();
}

const receiver = dgram.createSocket({ type: 'udp4', recvBufferSize: 8192 });
receiver.bind({ address: '127.0.0.1', port: 0 });
await once(receiver, 'listening');
let received = 0;
receiver.on('message', () => received++);
const sender = dgram.createSocket('udp4');
const SENT = 1000;
let succeeded = 0;
let failed = 0;
const all = new Promise<void>((resolve) => {
  for (let i = 0; i < SENT; i++)
    sender.send(Buffer.alloc(100, 'x'), receiver.address().port, '127.0.0.1', (error) => {
      if (error) failed++;
      else succeeded++;
      if (succeeded + failed === SENT) resolve();
    });
});
await all;
await new Promise((resolve) => setTimeout(resolve, 500));
console.log(`2. ${SENT} datagrams sent: ${succeeded} send() callbacks without error, ${failed} with one;`);
console.log(`   ${received} arrived (a receive buffer of ${receiver.getRecvBufferSize()} bytes)`);
sender.close();
receiver.close();
