import net from 'node:net';
import {
  assertBytes,
  closeAfterTest,
  connect,
  exchange,
  hasCommand,
  LogLines,
  listen,
  reproLines,
  resetAfter,
  runCommand,
  startProxy,
  vanish,
} from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { listen as bindAndListen, createUpperServer, type ServerOptions } from '#impl/server.ts';

/** The learner's server, in this process, on a free port, with its log lines collected. */
async function startUpper(options: ServerOptions = {}) {
  const log = new LogLines();
  const server = createUpperServer({ log: log.add, ...options });
  const port = await listen(server);
  return { port, log };
}

/** Sends `request`, half-closes, and checks the reply is `expected` (text and hex on failure). */
async function expectReply(port: number, request: string | Buffer, expected: string, hint?: string) {
  const reply = await exchange(port, request, {
    hint:
      hint ?? 'read until the client half-closes (the socket emits "end"), then reply and call socket.end()',
  });
  assertBytes(reply, expected, { what: 'the reply', hint, repro: reproLines(Buffer.from(request), port) });
}

describe('step 1: create the listening socket', () => {
  test('createUpperServer() returns a net.Server that accepts connections', async () => {
    const server = createUpperServer();
    expect(server, 'createUpperServer() should return net.createServer(...)').toBeInstanceOf(net.Server);
    const port = await listen(server);
    await connect(port);
  });
});

describe('steps 2 and 3: bind and listen', () => {
  test('listen() binds the host and port and resolves with the real port when asked for port 0', async () => {
    const server = net.createServer((socket) => socket.end());
    closeAfterTest(() => server.close());
    const address = await bindAndListen(server, { host: '127.0.0.1', port: 0 });
    expect(address.address).toBe('127.0.0.1');
    expect(address.port, 'port 0 means "any free port": resolve with server.address()').toBeGreaterThan(0);
    expect(server.listening).toBe(true);
    await connect(address.port);
  });

  test('listen() rejects with EADDRINUSE when the port is taken', async () => {
    const first = net.createServer();
    const port = await listen(first);
    const second = net.createServer();
    closeAfterTest(() => second.close());
    const error = await bindAndListen(second, { host: '127.0.0.1', port }).catch((e: unknown) => e);
    expect(error, "listen() should reject when the server emits 'error'").toBeInstanceOf(Error);
    expect((error as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
  });
});

describe('step 4: accept each connection', () => {
  test('logs `client connected from IP:PORT` with the client’s own address', async () => {
    const { port, log } = await startUpper();
    const peer = await connect(port);
    const line = await log.line(
      /^client connected from /,
      'a log line `client connected from 127.0.0.1:PORT`',
    );
    expect(line).toBe(`client connected from 127.0.0.1:${peer.socket.localPort}`);
  });
});

describe('step 5: receive until the client half-closes', () => {
  test('a request that arrives one byte at a time still gets one whole reply', async () => {
    const { port } = await startUpper();
    const proxy = await startProxy(port, { cut: 'bytes', direction: 'request' });
    await expectReply(
      proxy.port,
      'hello world',
      'HELLO WORLD',
      'one "data" event is not one message: keep every chunk until "end"',
    );
  });

  test('a request cut at random places gets one whole reply', async () => {
    const { port } = await startUpper();
    const proxy = await startProxy(port, { cut: { maxPiece: 7 }, direction: 'request' });
    const text = 'the quick brown fox jumps over the lazy dog, '.repeat(4);
    await expectReply(proxy.port, text, text.toUpperCase());
  });

  test('a request larger than maxRequestBytes is cut off, and the server keeps serving', async () => {
    const { port, log } = await startUpper({ maxRequestBytes: 1000 });
    const peer = await connect(port);
    await peer.write(Buffer.alloc(5000, 'a')).catch(() => {}); // the server may reset us mid-write
    const received = await peer.closed({
      allowReset: true,
      expected: 'the server to cut off a request over the limit',
    });
    expect(received.length, 'no reply to a request over the limit').toBe(0);
    await log.line(/sent more than 1000 bytes/, 'a log line saying the client sent too much');
    await expectReply(port, 'still there?', 'STILL THERE?');
  });
});

describe('step 6: send the reply', () => {
  test('hello → HELLO', async () => {
    const { port } = await startUpper();
    await expectReply(port, 'hello', 'HELLO');
  });

  test('upper case is Unicode-aware and survives characters cut between chunks', async () => {
    const { port } = await startUpper();
    const proxy = await startProxy(port, { cut: 'bytes', direction: 'request' });
    await expectReply(
      proxy.port,
      'héllo 你好',
      'HÉLLO 你好',
      'join the chunks with Buffer.concat() and decode once: a chunk can end in the middle of a character',
    );
  });

  test('an empty request gets an empty reply and a close', async () => {
    const { port } = await startUpper();
    await expectReply(port, '', '');
  });

  test('a 512 KiB request comes back whole', async () => {
    const { port } = await startUpper();
    const text = 'abcdefghijklmnopqrstuvwxyz0123456789\n'.repeat(14_200);
    await expectReply(port, text, text.toUpperCase());
  });
});

describe('step 7: close, whatever the client does', () => {
  test('logs `client IP:PORT closed` once the reply is sent', async () => {
    const { port, log } = await startUpper();
    const peer = await connect(port);
    const clientPort = peer.socket.localPort;
    await peer.end('bye');
    await peer.closed();
    const line = await log.line(/^client \S+ closed$/, 'a log line `client 127.0.0.1:PORT closed`');
    expect(line).toBe(`client 127.0.0.1:${clientPort} closed`);
  });

  test('a client that connects and vanishes, or resets, does not stop the server', async () => {
    const { port, log } = await startUpper();
    await vanish(port);
    await resetAfter(port);
    await resetAfter(port, 'half a requ');
    await log.line(/^client .* failed: .*ECONNRESET/, 'a log line for the reset client (listen for "error")');
    await expectReply(
      port,
      'still alive',
      'STILL ALIVE',
      'handle "error" on every socket: a reset must not crash',
    );
  });

  test('twenty clients at once each get their own reply', async () => {
    const { port } = await startUpper();
    const peers = await Promise.all(Array.from({ length: 20 }, () => connect(port)));
    // Every client sends half of its message, then the rest: all twenty are open at once.
    await Promise.all(peers.map((peer, i) => peer.write(`client ${i} `)));
    await Promise.all(peers.map((peer, i) => peer.end(`says hi ${'!'.repeat(i)}`)));
    const replies = await Promise.all(peers.map((peer) => peer.closed()));
    replies.forEach((reply, i) => {
      assertBytes(reply, `CLIENT ${i} SAYS HI ${'!'.repeat(i)}`, { what: `client ${i}'s reply` });
    });
  });
});

describe('other clients: Python and nc', () => {
  test.skipIf(!hasCommand('python3'))(
    "Python's socket module gets the upper-case reply (needs python3)",
    async () => {
      const { port } = await startUpper();
      const script = [
        'import socket, sys',
        's = socket.create_connection(("127.0.0.1", int(sys.argv[1])))',
        's.sendall("héllo 你好".encode())',
        's.shutdown(socket.SHUT_WR)',
        'reply = b""',
        'while chunk := s.recv(1024): reply += chunk',
        'sys.stdout.buffer.write(reply)',
      ].join('\n');
      const stdout = await runCommand('python3', ['-c', script, String(port)]);
      assertBytes(stdout, 'HÉLLO 你好', { what: "the Python client's output" });
    },
  );

  test.skipIf(!hasCommand('nc'))('nc -N gets the upper-case reply (needs nc)', async () => {
    const { port } = await startUpper();
    const stdout = await runCommand('sh', ['-c', `printf 'hello from nc' | nc -N 127.0.0.1 ${port}`]);
    assertBytes(stdout, 'HELLO FROM NC', { what: "nc's output" });
  });
});
