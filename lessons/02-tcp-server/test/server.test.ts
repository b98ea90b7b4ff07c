import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as pause } from 'node:timers/promises';
import {
  assertBytes,
  closeAfterTest,
  connect,
  exchange,
  hasCommand,
  LIVENESS_MS,
  LogLines,
  listen,
  ncLine,
  reproLines,
  reproSetup,
  resetAfter,
  runCommand,
  runCourseLine,
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

describe('step 2: bind', () => {
  test('listen() rejects with EADDRINUSE when the port is taken', async () => {
    const first = net.createServer();
    const port = await listen(first);
    const second = net.createServer();
    closeAfterTest(() => second.close());
    const error = await within(
      bindAndListen(second, { host: '127.0.0.1', port }).catch((e: unknown) => e),
      () => ({
        expected: 'listen() to reject: the port is taken',
        hint: "server.listen() does not throw on a taken port: the server emits 'error', so reject there",
      }),
    );
    expect(error, "listen() should reject when the server emits 'error'").toBeInstanceOf(Error);
    expect((error as NodeJS.ErrnoException).code, "reject with the server's own error, as it is").toBe(
      'EADDRINUSE',
    );
  });
});

describe('step 3: listen', () => {
  test('listen() binds the host and port and resolves with the real port when asked for port 0', async () => {
    const server = net.createServer((socket) => socket.end());
    closeAfterTest(() => server.close());
    const address = await within(bindAndListen(server, { host: '127.0.0.1', port: 0 }), () => ({
      expected: 'listen() to resolve once the server listens',
      hint: "resolve with server.address() once the server is listening (its 'listening' event)",
    }));
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
    await within(bindAndListen(server, { host: '127.0.0.1', port: 0 }), () => ({
      expected: 'listen() to resolve once the server listens',
      hint: "resolve with server.address() once the server is listening (its 'listening' event)",
    }));
    expect(
      server.listenerCount('error') - before,
      "remove your 'error' listener once the server listens (server.off('error', reject)): " +
        'left there, it would swallow every later error of the server',
    ).toBe(0);
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

  test('a refusal is logged even when Node knows no address (on a Unix domain socket: `?:0`)', async () => {
    // Node gives 'drop' the refused client's address when it has one. A server listening on a
    // Unix domain socket (or a Windows pipe) has none, and Node emits 'drop' with no argument.
    const log = new LogLines();
    const server = createUpperServer({ log: log.add, maxConnections: 1 });
    closeAfterTest(() => server.close());
    const accepted: net.Socket[] = [];
    server.on('connection', (socket) => accepted.push(socket));
    const dir = mkdtempSync(join(tmpdir(), 'course-02-'));
    closeAfterTest(() => rmSync(dir, { recursive: true, force: true }));
    const path =
      process.platform === 'win32'
        ? `\\\\.\\pipe\\course-02-${process.pid}-${Date.now()}`
        : join(dir, 'server.sock');
    await within(new Promise<void>((resolve) => server.listen(path, resolve)), () => ({
      expected: `the server to listen on ${path}`,
    }));
    const first = net.connect(path);
    closeAfterTest(() => first.destroy());
    first.on('error', () => {});
    await within(new Promise((resolve) => first.once('connect', resolve)), () => ({
      expected: `a connection to ${path}`,
    }));
    await log.line(/^client connected from /, 'a log line `client connected from ...` for the first client');
    const second = net.connect(path);
    closeAfterTest(() => second.destroy());
    second.on('error', () => {});
    await log.line(
      /^refused a connection from \?:0: 1 connection already open$/,
      'a log line `refused a connection from ?:0: 1 connection already open`',
      {
        hint:
          "the 'drop' event's argument can be missing, and so can its remoteAddress: " +
          "formatAddress(dropped?.remoteAddress ?? '?', dropped?.remotePort ?? 0)",
      },
    );
    // The server's side goes first: were the client to close first, a server that replies to
    // its empty request would write to a Unix socket with no one at the other end (EPIPE), an
    // error that only step 7's 'error' listener handles. This test is about step 4.
    for (const socket of accepted) socket.destroy();
  });
});

describe('step 5: receive until the client half-closes', () => {
  test('a request longer than maxRequestBytes gets `error: request longer than N bytes` at once, then a polite close', async () => {
    const { port, log } = await startUpper({ maxRequestBytes: 1000 });
    reproSetup({ serverArgs: ['--max-bytes', '1000'] });
    const peer = await connect(port);
    const clientPort = peer.socket.localPort;
    const hint =
      'count the bytes of every "data" chunk: once the total passes maxRequestBytes, log it, drop the ' +
      'chunks and reply `error: request longer than N bytes` and a newline with socket.end() (N: maxRequestBytes)';
    // 1001 bytes and no FIN yet: the refusal must not wait for the end of a request it refuses.
    await peer.write(Buffer.alloc(1001, 'a'));
    await peer.lines(1, { hint });
    // The client goes on sending, then finishes. The server reads and drops the rest, so it
    // closes politely: a reset could wipe out the error line before a client reads it.
    await peer.write(Buffer.alloc(4000, 'a'));
    await peer.end();
    const received = await peer.closed({
      expected: 'the error line, then the server closing the connection (FIN, not a reset)',
      hint:
        'after the refusal, keep reading what the client sends and drop it (return early in "data"): ' +
        'closing a socket with unread bytes makes the kernel reset the connection',
    });
    assertBytes(received, 'error: request longer than 1000 bytes\n', {
      what: 'what a client over the limit received',
      hint,
      repro: peer.repro,
    });
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${clientPort} refused: request longer than 1000 bytes, closing$`),
      `a log line \`client 127.0.0.1:${clientPort} refused: request longer than 1000 bytes, closing\``,
      { hint },
    );
  });
});

describe('steps 5 and 6: receive the whole request, then reply', () => {
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
    const cutOff = log.lines.some((line) => line.includes('refused'));
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
  test('a reply longer than maxRequestBytes is refused too: invalid UTF-8 comes back three times as long', async () => {
    const { port } = await startUpper({ maxRequestBytes: 1000 });
    reproSetup({ serverArgs: ['--max-bytes', '1000'] });
    // Each 0xff byte is not UTF-8: it decodes to U+FFFD, three bytes (ef bf bd) in the reply.
    const fits = Buffer.concat([Buffer.from('a'), Buffer.alloc(333, 0xff)]); // reply: 1 + 999 bytes
    const over = Buffer.concat([fits, Buffer.from([0xff])]); // 335 bytes, reply 1003
    const [exact, refused] = await Promise.all([exchange(port, fits), exchange(port, over)]);
    assertBytes(exact, Buffer.concat([Buffer.from('A'), Buffer.from('\ufffd'.repeat(333))]), {
      what: 'the reply of exactly maxRequestBytes (1000) bytes to `a` and 333 bytes 0xff',
      hint: 'a reply may be as long as maxRequestBytes: refuse only a longer one (>, not >=)',
      repro: reproLines(fits, port),
    });
    assertBytes(refused, 'error: reply longer than 1000 bytes\n', {
      what: 'the answer to a request of 335 bytes whose reply would be 1003 bytes',
      hint:
        'the reply is bounded too: in "end", count the bytes of the upper-cased text (Buffer.byteLength) and, when it is ' +
        'longer than maxRequestBytes, reply `error: reply longer than N bytes` and a newline instead',
      repro: reproLines(over, port),
    });
  });
});

describe('steps 4, 5 and 6: the limit on open connections, with clients served around it', () => {
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

describe('steps 5, 6 and 7: a request over the limit', () => {
  test('a refused client is logged once, from connected to closed, and the server keeps serving', async () => {
    const { port, log } = await startUpper({ maxRequestBytes: 1000 });
    reproSetup({ serverArgs: ['--max-bytes', '1000'] });
    const peer = await connect(port);
    const clientPort = peer.socket.localPort;
    const hint =
      'count the bytes of every "data" chunk: once the total passes maxRequestBytes, log it, drop the ' +
      'chunks and reply `error: request longer than N bytes` and a newline with socket.end() (N: maxRequestBytes)';
    // 1001 bytes and no FIN yet: the refusal must not wait for the end of a request it refuses.
    await peer.write(Buffer.alloc(1001, 'a'));
    await peer.lines(1, { hint });
    // The client goes on sending, then finishes. The server reads and drops the rest, so it
    // closes politely: a reset could wipe out the error line before a client reads it.
    await peer.write(Buffer.alloc(4000, 'a'));
    await peer.end();
    const received = await peer.closed({
      expected: 'the error line, then the server closing the connection (FIN, not a reset)',
      hint:
        'after the refusal, keep reading what the client sends and drop it (return early in "data"): ' +
        'closing a socket with unread bytes makes the kernel reset the connection',
    });
    assertBytes(received, 'error: request longer than 1000 bytes\n', {
      what: 'what a client over the limit received',
      hint,
      repro: peer.repro,
    });
    const client = `client 127.0.0.1:${clientPort}`;
    await log.line(new RegExp(`^${client} closed$`), `a log line \`${client} closed\``);
    expect(
      log.lines.filter((line) => line.includes(`127.0.0.1:${clientPort}`)),
      'one refusal per client: once refused, return at the top of "data" and of "end" (what still ' +
        'arrives is dropped, and nothing more is written after the error line)',
    ).toEqual([
      `client connected from 127.0.0.1:${clientPort}`,
      `${client} refused: request longer than 1000 bytes, closing`,
      `${client} closed`,
    ]);
    await expectReply(port, 'still there?', 'STILL THERE?');
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
    const { port, log } = await startUpper({ requestTimeoutMs: 600 });
    reproSetup({ serverArgs: ['--timeout', '600'] });

    // Slowloris: one byte every 10 ms for 20 s, far past the wait, and never a FIN. Each byte is
    // activity: an idle timer of 600 ms fires only if the machine stalls the drip that long.
    const slowloris = async () => {
      const peer = await trickle(port, 'x'.repeat(2_000), 10);
      const clientPort = peer.socket.localPort;
      // 600 ms is the deadline; the wait is far longer, so that only a server that never cuts the
      // trickle off fails, however busy the machine.
      const received = await peer.closed({
        ms: 5_000,
        allowReset: true,
        expected: 'the server to close a connection whose request is not complete after 600 ms',
        hint:
          'start a timer (setTimeout) when the connection opens and reset the socket when it fires. ' +
          'socket.setTimeout() is not enough: it is an idle timer, and every byte restarts it',
      });
      assertBytes(received, '', {
        what: 'what the slow client received',
        hint: 'a late request gets no reply: the deadline only logs and resets the socket',
      });
      await log.line(
        new RegExp(
          `^client 127\\.0\\.0\\.1:${clientPort} too slow: request not complete after 600 ms, closing$`,
        ),
        `a log line \`client 127.0.0.1:${clientPort} too slow: request not complete after 600 ms, closing\``,
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
        hint: 'only a late exchange is cut off: the timer fires only if the socket is still open',
      });
      assertBytes(reply, 'SLOW BUT IN TIME', { what: "the patient client's reply" });
    };

    await Promise.all([slowloris(), patient()]);
    await expectReply(port, 'still serving', 'STILL SERVING');
  });

  test('a client that half-closes and never reads its reply is reset at the deadline: it covers the reply too', async () => {
    // The kernel takes a few MiB of a reply nobody reads (4 MiB of send buffer at most, by
    // default on Linux); the rest waits in the server's memory. 8 MiB leaves half of it there.
    const size = 8 * 1024 * 1024;
    const { port, log } = await startUpper({ maxRequestBytes: size, requestTimeoutMs: 5_000 });
    reproSetup({
      serverArgs: ['--max-bytes', String(size), '--timeout', '5000'],
      note: `the client sends ${size} bytes, half-closes and reads nothing: no ready-made client does that (nc reads), so this one cannot be replayed by hand; the test's client pauses its socket`,
    });
    const peer = await connect(port);
    const clientPort = peer.socket.localPort;
    peer.socket.pause(); // reads nothing
    const started = performance.now();
    await peer.end(Buffer.alloc(size, 'a'));
    const hint =
      'clear the deadline only in "close", not in "end": the client\'s FIN ends the request, but the ' +
      'reply still waits in memory until the client reads it. When the timer fires after "end", log ' +
      '`reply not read` and socket.resetAndDestroy()';
    // 5 s is the deadline, long enough for the request to arrive whole on a very busy machine (it
    // takes a tenth of a second on an idle one, and more than 3 s was seen under heavy load); the wait is far longer, so that only a server that
    // never gives up on the reply fails.
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${clientPort} too slow: reply not read after 5000 ms, closing$`),
      `a log line \`client 127.0.0.1:${clientPort} too slow: reply not read after 5000 ms, closing\``,
      { ms: 5_000 + LIVENESS_MS, hint },
    );
    expect(
      performance.now() - started,
      'the deadline fired before requestTimeoutMs (5000 ms): start it when the connection opens',
    ).toBeGreaterThanOrEqual(4_900);
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${clientPort} closed$`),
      `a log line \`client 127.0.0.1:${clientPort} closed\``,
      { hint },
    );
    // The client reads at last: what its kernel had taken of the reply, and then the end. (The
    // server resets the connection, and Python or nc say "connection reset by peer"; Node on
    // Linux may report that reset as a plain end when it follows a half-close.)
    peer.socket.resume();
    const received = await peer.closed({
      allowReset: true,
      ms: 5_000,
      expected: 'part of the reply, then the end of the connection',
      hint,
    });
    expect(received.length, 'a client cut off at the deadline gets part of its reply at most').toBeLessThan(
      size,
    );
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
        'in "close", which comes however the exchange ended (served, reset, or gone)',
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

  test("the course's nc gets the upper-case reply, as the Play section shows", async () => {
    const { port } = await startUpper();
    const stdout = await runCourseLine(ncLine('hello from nc', port));
    assertBytes(stdout, 'HELLO FROM NC', { what: "course nc's output" });
  });
});
