/**
 * What does a server see when a client's process is killed? Run: npx tsx lessons/06-chat/measure-crash.ts
 *
 * Starts a client in a child process, lets it connect, then kills the process (SIGKILL: no
 * handler runs, like a crash). Twice: once with nothing unread in the client's receive buffer,
 * once after the server sent it 1 MiB it never read. The kernel closes a dead process's sockets:
 * with a FIN when nothing was left unread ('end' on the server), with a reset (RST) when unread
 * bytes are thrown away: 'error', ECONNRESET, or EPIPE when the server was still writing. Windows
 * resets a killed process's connections either way.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';

const CLIENT = `
const s = require('node:net').connect(Number(process.argv[1]), '127.0.0.1', () => s.write('alice\\n'));
s.pause(); // Node still reads up to its high-water mark; the rest stays in the kernel, unread
s.on('error', () => {});`;

function trial(serverSends: boolean): Promise<string> {
  return new Promise((resolve) => {
    const server = net.createServer((socket) => {
      const seen: string[] = [];
      socket.on('end', () => seen.push("'end' (FIN)"));
      socket.on('error', (error: NodeJS.ErrnoException) => seen.push(`'error' ${error.code}`));
      socket.on('close', () => {
        server.close();
        resolve(seen.join(', then '));
      });
      socket.once('data', () => {
        if (serverSends) socket.write(Buffer.alloc(1024 * 1024));
        setTimeout(() => child.kill('SIGKILL'), 200);
      });
    });
    let child: ReturnType<typeof spawn>;
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      child = spawn(process.execPath, ['-e', CLIENT, String(port)], { stdio: 'inherit' });
    });
  });
}

console.log(`${process.platform}, Node ${process.version}: the client's process is killed`);
console.log(`  with nothing unread:        the server sees ${await trial(false)}`);
console.log(`  with 1 MiB sent, unread:    the server sees ${await trial(true)}`);
