import net from 'node:net';
import { setTimeout as pause } from 'node:timers/promises';
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
  trickle,
  vanish,
  within,
} from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { listen as bindAndListen, createUpperServer, type ServerOptions } from '#impl/server.ts';

/** The learner's server, in this process, on a free port, with its log lines collected. */
async function startUpper(options: ServerOptions = {}) {
  const log = new LogLines();
  const server = createUpperServer({ log: log.add, ...options });
  const port = await listen(server);
  return { port, log, server };
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

  // Needs steps 5 and 6 as well: the clients around the refused one must get their replies.
  test('with maxConnections 2, a third client is closed at once with no reply and logged; once one finishes, the next is served', async () => {
    const { port, log, server } = await startUpper({ maxConnections: 2 });
    // When the server's own socket for a client closes, its place under the limit is free again.
    const freed = new Map<number, Promise<void>>();
    server.on('connection', (socket) => {
      freed.set(socket.remotePort ?? 0, new Promise((resolve) => socket.once('close', () => resolve())));
    });

    const first = await connect(port);
    const second = await connect(port);
    const third = await connect(port);
    const thirdPort = third.socket.localPort;
    const refused = await third.closed({
      allowReset: true,
      expected: 'the server to close the third connection at once (two are already open)',
      hint: 'set server.maxConnections = maxConnections: past it, Node closes each new connection as soon as it accepts it',
    });
    expect(refused.length, 'a refused client gets no reply at all').toBe(0);
    await log.line(
      new RegExp(`^refused a connection from 127\\.0\\.0\\.1:${thirdPort}: 2 connections already open$`),
      `a log line \`refused a connection from 127.0.0.1:${thirdPort}: 2 connections already open\` (listen for the server's 'drop' event)`,
    );

    // The first client finishes: its reply, then the server closes its socket, which frees a place.
    const firstPort = first.socket.localPort ?? 0;
    await first.end('one');
    assertBytes(await first.closed(), 'ONE', { what: "the first client's reply" });
    await within(
      freed.get(firstPort) ?? Promise.reject(new Error('the server never saw the first client')),
      () => ({
        expected: "the server's socket of the first client to close once the reply is sent",
      }),
    );
    await expectReply(
      port,
      'next, please',
      'NEXT, PLEASE',
      'with one of the two gone, a new client is under the limit again',
    );
    await second.end('two');
    assertBytes(await second.closed(), 'TWO', { what: "the second client's reply" });
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

  test('a request trickled one byte at a time is cut off after requestTimeoutMs; a slow client that finishes in time is served', async () => {
    const { port, log } = await startUpper({ requestTimeoutMs: 150 });

    // Slowloris: one byte every 20 ms, never a FIN. Its 200 bytes would take 4 s.
    const slowloris = async () => {
      const peer = await trickle(port, 'x'.repeat(200), 20);
      const clientPort = peer.socket.localPort;
      const received = await peer.closed({
        ms: 1_000,
        allowReset: true,
        expected: 'the server to close a connection whose request is not complete after 150 ms',
        hint:
          'start a timer (setTimeout) when the connection opens and destroy the socket when it fires. ' +
          'socket.setTimeout() is not enough: it is an idle timer, and every byte restarts it',
      });
      expect(received.length, 'a late request gets no reply').toBe(0);
      await log.line(
        new RegExp(
          `^client 127\\.0\\.0\\.1:${clientPort} too slow: request not complete after 150 ms, closing$`,
        ),
        `a log line \`client 127.0.0.1:${clientPort} too slow: request not complete after 150 ms, closing\``,
      );
    };

    // Meanwhile, a client that takes its time, pausing between pieces, but half-closes in time.
    const patient = async () => {
      const peer = await connect(port);
      for (const piece of ['slow ', 'but ', 'in time']) {
        await peer.write(piece);
        await pause(20);
      }
      await peer.end();
      const reply = await peer.closed({
        expected: 'a reply: this client half-closed well within the deadline',
        hint: 'only a late request is cut off: clear the timer (clearTimeout) when "end" arrives',
      });
      assertBytes(reply, 'SLOW BUT IN TIME', { what: "the patient client's reply" });
    };

    await Promise.all([slowloris(), patient()]);
    await expectReply(port, 'still serving', 'STILL SERVING');
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
