/**
 * MISTAKE: replies to the first 'data' event, as if one read were one whole message.
 *
 * It works when the request is small and arrives at once, as it usually does on loopback,
 * which is why the mistake is so common. Cut the request into pieces (a slow network, a big
 * request, the course's byte-at-a-time proxy) and the client gets the first piece, in upper
 * case, and nothing more. The tests cut a request one byte at a time with the course's proxy
 * (the reply is "H" for `hello world`), and send a 512 KiB request, which arrives in several
 * chunks even on loopback (a socket reads 64 KiB at most at a time).
 *
 * @caught-by steps 5 and 6: receive the whole request, then reply › a request that arrives one byte at a time still gets one whole reply
 * @caught-by step 6: send the reply › a 512 KiB request comes back whole
 */
import net from 'node:net';
import { describeError, isMain, peerAddress, runServerProgram } from '@course/program';
import { program, type ServerOptions } from '../solution/server.ts';

export * from '../solution/server.ts';

export function createUpperServer({ log = () => {} }: ServerOptions = {}): net.Server {
  return net.createServer((socket) => {
    const peer = peerAddress(socket);
    log(`client connected from ${peer}`);
    socket.once('data', (chunk: Buffer) => socket.end(chunk.toString('utf8').toUpperCase()));
    socket.on('end', () => socket.end()); // an empty request still gets its close
    socket.on('error', (error) => log(`client ${peer} failed: ${describeError(error)}`));
    socket.on('close', () => log(`client ${peer} closed`));
  });
}

if (isMain(import.meta.url))
  runServerProgram({ ...program, create: () => createUpperServer({ log: console.log }) });
