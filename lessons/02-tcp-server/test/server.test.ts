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
  reproSetup,
  resetAfter,
  runCommand,
  startProxy,
  trickle,
  vanish,
  within,
} from '@course/helpers';
import { describe, expect, test, vi } from 'vitest';
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
    expect(address.address, 'listen on the host you were given: server.listen({ host, port, backlog })').toBe(
      '127.0.0.1',
    );
    expect(address.port, 'port 0 means "any free port": resolve with server.address()').toBeGreaterThan(0);
    expect(server.listening, 'resolve once the server is listening (the callback of listen)').toBe(true);
    await connect(address.port);
  });

  test("listen() leaves no 'error' listener behind once the server listens", async () => {
    const server = net.createServer((socket) => socket.end());
    closeAfterTest(() => server.close());
    const before = server.listenerCount('error');
    await bindAndListen(server, { host: '127.0.0.1', port: 0 });
    expect(
      server.listenerCount('error') - before,
      "remove your 'error' listener once the server listens (server.off('error', reject)): " +
        'left there, it would swallow every later error of the server',
    ).toBe(0);
  });

  test('listen() rejects with EADDRINUSE when the port is taken', async () => {
    const first = net.createServer();
    const port = await listen(first);
    const second = net.createServer();
    closeAfterTest(() => second.close());
    const error = await bindAndListen(second, { host: '127.0.0.1', port }).catch((e: unknown) => e);
    expect(error, "listen() should reject when the server emits 'error'").toBeInstanceOf(Error);
    expect((error as NodeJS.ErrnoException).code, "reject with the server's own error, as it is").toBe(
      'EADDRINUSE',
    );
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
    expect(line, "log the client's own address and port: peerAddress(socket)").toBe(
      `client connected from 127.0.0.1:${peer.socket.localPort}`,
    );
  });

  // Needs steps 5 and 6 as well: the clients around the refused one must get their replies.
  test('with maxConnections 2, a third client is closed at once with no reply and logged; once one finishes, the next is served', async () => {
    const { port, log, server } = await startUpper({ maxConnections: 2 });
    reproSetup({
      serverArgs: ['--max-connections', '2'],
      note:
        'the test keeps two clients connected (`nc 127.0.0.1 9000` in two more terminals): a third is ' +
        'refused; once one of the two ends (type a word, then Ctrl-D), the next client is served',
    });
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
    assertBytes(refused, '', {
      what: 'what the refused third client received',
      hint: 'a refused client gets no reply at all: set server.maxConnections = maxConnections in createUpperServer()',
    });
    await log.line(
      new RegExp(`^refused a connection from 127\\.0\\.0\\.1:${thirdPort}: 2 connections already open$`),
      `a log line \`refused a connection from 127.0.0.1:${thirdPort}: 2 connections already open\` (listen for the server's 'drop' event)`,
    );

    // The first client finishes: its reply, then the server closes its socket, which frees a place.
    const firstPort = first.socket.localPort ?? 0;
    await first.end('one');
    const replyOf = (who: string) => ({
      expected: `${who}'s reply, then the server closing the connection`,
      hint: 'the clients under the limit are served as usual: read until "end", then socket.end(reply) (steps 5 and 6)',
    });
    assertBytes(await first.closed(replyOf('the first client')), 'ONE', { what: "the first client's reply" });
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
      'with one of the two gone, a new client is under the limit again, and is served at once although ' +
        'the second client is still sending: handle every connection on its own, never one after another',
    );
    await second.end('two');
    assertBytes(await second.closed(replyOf('the second client')), 'TWO', {
      what: "the second client's reply",
    });
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
    reproSetup({ serverArgs: ['--max-bytes', '1000'] });
    const peer = await connect(port);
    await peer.write(Buffer.alloc(5000, 'a')).catch(() => {}); // the server may reset us mid-write
    const received = await peer.closed({
      allowReset: true,
      expected: 'the server to cut off a request of 5000 bytes, over the limit of 1000',
      hint: 'count the bytes of every "data" chunk: once the total passes maxRequestBytes, log it and socket.destroy()',
    });
    assertBytes(received, '', {
      what: 'what a client over the limit received',
      hint: 'no reply to a request over the limit: count the bytes of every "data" chunk, and past maxRequestBytes socket.destroy()',
    });
    await log.line(/sent more than 1000 bytes/, 'a log line saying the client sent too much');
    await expectReply(port, 'still there?', 'STILL THERE?');
  });

  test('a request of exactly maxRequestBytes is served: only more than that is cut off', async () => {
    const { port, log } = await startUpper({ maxRequestBytes: 1000 });
    reproSetup({ serverArgs: ['--max-bytes', '1000'] });
    const peer = await connect(port);
    await peer.end('a'.repeat(1000));
    const reply = await peer.closed({
      allowReset: true,
      expected: 'a reply, then the server closing the connection',
      hint: 'read until the client half-closes (the socket emits "end"), then reply and call socket.end()',
    });
    const cutOff = log.lines.some((line) => line.includes('sent more than'));
    assertBytes(reply, 'A'.repeat(1000), {
      what: 'the reply to a request of exactly maxRequestBytes (1000) bytes',
      hint: cutOff
        ? 'the limit is the most a request may hold: cut off only when the total is MORE than maxRequestBytes (>, not >=)'
        : undefined,
      repro: peer.repro,
    });
  });

  test('the chunks are joined once, in "end", not on every chunk (the cost grows with the size, not its square)', async () => {
    const { port } = await startUpper();
    const size = 512 * 1024; // at least eight chunks: a socket reads 64 KiB at most at a time
    // Count the bytes Buffer.concat() copies while this request is served.
    const concat = Buffer.concat;
    let copied = 0;
    const spy = vi.spyOn(Buffer, 'concat').mockImplementation((list, totalLength) => {
      const joined = concat.call(Buffer, list, totalLength);
      copied += joined.length;
      return joined;
    });
    try {
      const reply = await exchange(port, Buffer.alloc(size, 'z'), {
        hint: 'read until the client half-closes (the socket emits "end"), then reply and call socket.end()',
      });
      expect(reply.length, 'the whole request comes back').toBe(size);
    } finally {
      spy.mockRestore();
    }
    expect(
      copied,
      `Buffer.concat() copied ${copied} bytes to serve a request of ${size} bytes: keep the chunks in an ` +
        'array and join them once, in "end". Joining on every "data" event copies everything received ' +
        'so far each time',
    ).toBeLessThanOrEqual(2 * size);
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
    await peer.closed({
      expected: 'the reply, then the server closing the connection',
      hint: 'read until "end", then socket.end(reply) (steps 5 and 6)',
    });
    const line = await log.line(/^client \S+ closed$/, 'a log line `client 127.0.0.1:PORT closed`');
    expect(line, "log the client's own address and port: the one you logged on connecting").toBe(
      `client 127.0.0.1:${clientPort} closed`,
    );
  });

  test('a client that connects and vanishes, or resets, does not stop the server', async () => {
    const { port, log } = await startUpper();
    await vanish(port);
    await resetAfter(port);
    await resetAfter(port, 'half a requ');
    await log.line(
      /^client 127\.0\.0\.1:\d+ failed: connection reset by peer \(ECONNRESET\)$/,
      'a log line `client 127.0.0.1:PORT failed: connection reset by peer (ECONNRESET)` for the reset client ' +
        '(listen for "error" and log describeError(error))',
    );
    await expectReply(
      port,
      'still alive',
      'STILL ALIVE',
      'handle "error" on every socket: a reset must not crash',
    );
  });

  test('a request trickled one byte at a time is cut off after requestTimeoutMs; a slow client that finishes in time is served', async () => {
    const { port, log } = await startUpper({ requestTimeoutMs: 150 });
    reproSetup({ serverArgs: ['--timeout', '150'] });

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
      assertBytes(received, '', {
        what: 'what the slow client received',
        hint: 'a late request gets no reply: the deadline only logs and destroys the socket',
      });
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

  test('a client served in time, or gone, is never called too slow afterwards (the deadline is cleared)', async () => {
    const { port, log } = await startUpper({ requestTimeoutMs: 1_000 });
    reproSetup({ serverArgs: ['--timeout', '1000'] });
    const closedLine = (clientPort: number | undefined) =>
      log.line(
        new RegExp(`^client 127\\.0\\.0\\.1:${clientPort} closed$`),
        `a log line \`client 127.0.0.1:${clientPort} closed\``,
        { hint: 'listen for "close" and log `client IP:PORT closed` (step 7)' },
      );

    // One client served at once, one that resets: both gone well before their deadline.
    const served = await connect(port);
    const servedPort = served.socket.localPort;
    await served.end('quick');
    assertBytes(await served.closed(), 'QUICK', { what: 'the reply' });
    await closedLine(servedPort);
    const reset = await connect(port);
    const resetPort = reset.socket.localPort;
    await log.line(
      new RegExp(`^client connected from 127\\.0\\.0\\.1:${resetPort}$`),
      `a log line \`client connected from 127.0.0.1:${resetPort}\``,
    );
    reset.reset(); // before any byte: the server sees ECONNRESET, and no "end"
    await closedLine(resetPort);

    // A client that connects after both and never finishes: its deadline fires after theirs
    // would have (same length, started later), so once it is called too slow, theirs are past.
    const late = await connect(port);
    const latePort = late.socket.localPort;
    await late.write('x');
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${latePort} too slow: `),
      `a log line \`client 127.0.0.1:${latePort} too slow: request not complete after 1000 ms, closing\``,
      {
        ms: 5_000,
        hint: 'start the deadline (setTimeout) as the connection opens, and log this line when it fires',
      },
    );
    // A timer that outlives its socket: "too slow" logged after that client's "closed".
    const afterClose = (clientPort: number | undefined) =>
      log.lines
        .slice(log.lines.indexOf(`client 127.0.0.1:${clientPort} closed`))
        .filter((line) => line.startsWith(`client 127.0.0.1:${clientPort} too slow`));
    expect(
      [...afterClose(servedPort), ...afterClose(resetPort)],
      'these clients were served or gone, yet their deadline still fired afterwards: clearTimeout() it ' +
        'in "end" (the request is complete) and in "close" (after a reset, say)',
    ).toEqual([]);
  });

  test('twenty clients at once each get their own reply', async () => {
    const { port } = await startUpper();
    reproSetup({
      note: 'the test keeps other clients connected, mid-request, meanwhile: leave `nc 127.0.0.1 9000` open in a third terminal first',
    });
    const peers = await Promise.all(Array.from({ length: 20 }, () => connect(port)));
    // Every client sends half of its message: all twenty are open at once, mid-request.
    await Promise.all(peers.map((peer, i) => peer.write(`client ${i} `)));
    // Then they finish in reverse order, each once the one before has its reply: the last to
    // connect is served while the nineteen others are still sending.
    for (let i = peers.length - 1; i >= 0; i--) {
      const peer = peers[i] as (typeof peers)[number];
      await peer.end(`says hi ${'!'.repeat(i)}`);
      const reply = await peer.closed({
        expected: `client ${i}'s reply, while ${i === 0 ? 'no other client is' : `clients 0 to ${i - 1} are`} still sending`,
        hint:
          'serve every connection on its own, as its events come: one client still sending must never ' +
          'make another wait (no queue, no loop that serves one client after another)',
      });
      assertBytes(reply, `CLIENT ${i} SAYS HI ${'!'.repeat(i)}`, { what: `client ${i}'s reply` });
    }
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
