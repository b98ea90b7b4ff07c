/**
 * What lesson 04's README says about TIME_WAIT and `kill -9`, shown on this machine. Linux only:
 * it reads the connections' states and timers with `ss -tano`.
 *
 *   npx tsx lessons/04-port-reuse/measure-time-wait.ts
 *
 * A child process listens and accepts three clients, then is killed with SIGKILL. The kernel
 * closes its sockets for it, and each connection ends differently, depending on its client:
 *
 *   closes      a default Node client (allowHalfOpen: false): on the server's FIN it closes too
 *   stays open  a client with allowHalfOpen: true that never closes its side
 *   unread      a client whose bytes the server never read
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';

const child = spawn(
  process.execPath,
  [
    '-e',
    `const s = require('net').createServer({ pauseOnConnect: true }, () => {});
     s.listen({ host: '127.0.0.1', port: 0 }, () => console.log(s.address().port));`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const [line] = (await once(child.stdout, 'data')) as [Buffer];
const port = Number(line.toString().trim());

const seen = new Map<string, string>();
const clients = new Map<string, { client: net.Socket; localPort: number }>();
for (const [name, allowHalfOpen, bytes] of [
  ['closes', false, ''],
  ['stays open', true, ''],
  ['unread', false, 'bytes the server never reads'],
] as const) {
  const client = net.connect({ host: '127.0.0.1', port, allowHalfOpen });
  await once(client, 'connect');
  if (bytes) client.write(bytes);
  client.on('end', () => seen.set(name, "'end' (a FIN)"));
  client.on('error', (error: NodeJS.ErrnoException) => seen.set(name, `'error' ${error.code} (a reset)`));
  clients.set(name, { client, localPort: client.localPort ?? 0 });
}
await new Promise((resolve) => setTimeout(resolve, 300));
child.kill('SIGKILL');
await once(child, 'exit');
await new Promise((resolve) => setTimeout(resolve, 500));

for (const [name, { localPort }] of clients) {
  const state = execFileSync('ss', ['-tanoH', `( sport = :${port} and dport = :${localPort} )`])
    .toString()
    .trim()
    .replace(/\s+/g, ' ');
  console.log(`${name.padEnd(10)} the client saw ${seen.get(name) ?? 'nothing'}`);
  console.log(`${''.padEnd(10)} the server's side: ${state || 'gone (no state left)'}`);
}
for (const { client } of clients.values()) client.destroy();
