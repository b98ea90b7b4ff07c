/**
 * The same upper-case server, on a Unix domain socket (a named pipe on Windows) instead of an IP
 * address and port: lesson 02's "Not only IP" section.
 *
 *   npx tsx lessons/02-tcp-server/unix-socket.ts [--target exercise] [MESSAGE]
 *
 * Listens on a path (`/tmp/course-02-PID.sock`, or `\\.\pipe\course-02-PID` on Windows) with your
 * server's `createUpperServer()`, sends MESSAGE (default `héllo 你好`) through it, prints what the
 * server logs and the reply, and stops. A path has no port and no IP: `remoteAddress` is
 * undefined, which is why the server logs `?:0` for the peer.
 */
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  options: { target: { type: 'string', default: 'solution' } },
  allowPositionals: true,
});
const { createUpperServer } = (await import(
  `./${values.target}/server.ts`
)) as typeof import('./solution/server.ts');

const path =
  process.platform === 'win32'
    ? `\\\\.\\pipe\\course-02-${process.pid}`
    : join(tmpdir(), `course-02-${process.pid}.sock`);
const server = createUpperServer({ log: (line) => console.log(`server: ${line}`) });
server.listen(path);
await once(server, 'listening');
console.log(`listening on ${String(server.address())}`);

const client = net.connect({ path });
client.end(positionals[0] ?? 'héllo 你好');
const chunks: Buffer[] = [];
client.on('data', (chunk: Buffer) => chunks.push(chunk));
await once(client, 'end');
console.log(`reply: ${Buffer.concat(chunks).toString('utf8')}`);
await once(client, 'close');
server.close();
await once(server, 'close');
if (process.platform !== 'win32') rmSync(path, { force: true }); // Node removes it too; be sure
