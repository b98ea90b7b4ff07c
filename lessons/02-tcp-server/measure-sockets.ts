/**
 * Three facts lesson 02's README states, shown on this machine (the descriptor count needs Linux's
 * /proc; the rest runs anywhere Node does):
 *
 *   npx tsx lessons/02-tcp-server/measure-sockets.ts
 *
 * 1. net.createServer() opens no socket: the descriptor appears in server.listen().
 * 2. socket.destroy() ends the connection with a FIN (the peer sees 'end'); only
 *    socket.resetAndDestroy() sends a reset (the peer sees ECONNRESET).
 * 3. A full accept queue: a child process listens with backlog 1 and blocks its event loop for
 *    two seconds; of five clients, some see 'connect' (the kernel finished their handshake)
 *    although nothing accepts them yet, and the others wait.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';

const fds = (): string => (existsSync('/proc/self/fd') ? String(readdirSync('/proc/self/fd').length) : 'n/a');

// 1. When does the listening socket exist?
const before = fds();
const server = net.createServer();
const created = fds();
server.listen({ host: '127.0.0.1', port: 0 });
await once(server, 'listening');
console.log(
  `1. open descriptors: ${before} before, ${created} after createServer(), ${fds()} after listen()`,
);

// 2. What does the peer see after destroy() and after resetAndDestroy()?
for (const how of ['destroy', 'resetAndDestroy'] as const) {
  server.once('connection', (socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket[how]());
  });
  const { port } = server.address() as AddressInfo;
  const client = net.connect({ host: '127.0.0.1', port });
  client.write('hi');
  const seen = await new Promise<string>((resolve) => {
    client.on('end', () => resolve("'end' (a FIN)"));
    client.on('error', (error: NodeJS.ErrnoException) => resolve(`'error' ${error.code} (a reset)`));
  });
  client.destroy();
  console.log(`2. server calls socket.${how}(): the client sees ${seen}`);
}
server.close();

// 3. A listener that does not accept: backlog 1, event loop blocked for 2 s.
const child = spawn(
  process.execPath,
  [
    '-e',
    `const s = require('net').createServer((c) => c.destroy());
     s.listen({ host: '127.0.0.1', port: 0, backlog: 1 }, () => {
       console.log(s.address().port);
       setTimeout(() => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000); }, 100);
     });
     setTimeout(() => process.exit(0), 4000);`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const [line] = (await once(child.stdout, 'data')) as [Buffer];
const childPort = Number(line.toString().trim());
await new Promise((resolve) => setTimeout(resolve, 300)); // the child is blocked now
const started = Date.now();
const results = await Promise.all(
  [1, 2, 3, 4, 5].map(
    (n) =>
      new Promise<string>((resolve) => {
        const client = net.connect({ host: '127.0.0.1', port: childPort });
        client.on('error', (error: NodeJS.ErrnoException) => resolve(`client ${n}: ${error.code}`));
        const timer = setTimeout(() => {
          resolve(`client ${n}: no 'connect' within 1000 ms (its SYN is not answered)`);
          client.destroy();
        }, 1000);
        client.on('connect', () => {
          clearTimeout(timer);
          resolve(
            `client ${n}: 'connect' after ${Date.now() - started} ms, while the server accepts nothing`,
          );
          setTimeout(() => client.destroy(), 1000);
        });
      }),
  ),
);
console.log(`3. backlog 1, a server that accepts nothing for 2 s:\n   ${results.join('\n   ')}`);
child.kill();
