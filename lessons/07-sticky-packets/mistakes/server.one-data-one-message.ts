/**
 * MISTAKE: takes one 'data' event as one message, the way the original Python takes one
 * `recv(1024)` as one line.
 *
 * Try it by hand and it seems to work: type `hello` into nc, press Enter, and the answer is
 * `1 hello`, because each line you type leaves in its own write and, on an idle loopback,
 * arrives in its own read. But TCP keeps no boundaries. Three lines sent in one write arrive as
 * one chunk, answered `1 hello\nbyebye\nagain,bye` as if they were one line; one line cut into
 * pieces gets one numbered answer per piece. The tests cut and join the stream with the course's
 * proxy, and catch it.
 * @caught-by step 5: answer each line `<n> <line>` › one write read one byte at a time
 * @caught-by step 5: answer each line `<n> <line>` › three lines in one write get three numbered answers
 */
import net from 'node:net';
import { describeError, isMain, peerAddress, runServerProgram } from '@course/program';
import { type LineServerOptions, program } from '../solution/server.ts';

export * from '../solution/server.ts';

export function createLineServer({ log = () => {} }: LineServerOptions = {}): net.Server {
  return net.createServer({ allowHalfOpen: true }, (socket) => {
    const peer = peerAddress(socket);
    log(`client connected from ${peer}`);
    socket.on('error', (error) => log(`client ${peer} failed: ${describeError(error)}`));
    socket.on('close', () => log(`client ${peer} closed`));
    let count = 0;
    socket.on('data', (chunk: Buffer) => {
      // The mistake: a chunk is whatever had arrived, not one line.
      count += 1;
      socket.write(`${count} ${chunk.toString('utf8').replace(/\r?\n$/, '')}\n`);
    });
    socket.on('end', () => socket.end());
  });
}

if (isMain(import.meta.url))
  runServerProgram({ ...program, create: () => createLineServer({ log: console.log }) });
