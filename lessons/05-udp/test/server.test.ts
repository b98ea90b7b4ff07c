import dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import {
  assertBytes,
  closeAfterTest,
  hasCommand,
  LIVENESS_MS,
  LogLines,
  lessonOf,
  runCommand,
  startCourseLine,
  startUdpProxy,
  udpNcLine,
  udpPeer,
  WireError,
  within,
} from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { bind, createUpperServer, handleDatagram, type ServerOptions } from '#impl/server.ts';

const lesson = lessonOf(import.meta.url);

/** Closes `socket` when the test ends, whatever state it is in then. */
function closeLater(socket: dgram.Socket): dgram.Socket {
  closeAfterTest(
    () =>
      new Promise<void>((resolve) => {
        try {
          socket.close(() => resolve());
        } catch {
          resolve(); // closed already
        }
      }),
  );
  return socket;
}

/** Binds `socket` to 127.0.0.1 (or `host`), port 0, without the learner's bind(); closed after the test. */
async function bound(socket: dgram.Socket, host = '127.0.0.1'): Promise<number> {
  closeLater(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: host, port: 0 }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket.address().port;
}

/** The learner's server, in this process, on a free port, with its log lines collected. */
async function startUpper(options: ServerOptions = {}) {
  const log = new LogLines();
  const socket = createUpperServer({ log: log.add, ...options });
  const port = await bound(socket);
  return { port, log, socket };
}

/** The hint when no reply reaches a client at all: the reply went elsewhere, or nowhere. */
const NO_REPLY_HINT =
  'answer each datagram to its own sender: socket.send(reply, sender.port, sender.address, callback), ' +
  'with the sender (rinfo) of that datagram, the second argument of \'message\'. Keep no "current client" anywhere';

/**
 * Sends `request` from a new peer and checks the one reply is `expected` (text and hex on
 * failure). `hint` is about the reply's bytes; a reply that never comes gets `noReplyHint`.
 */
async function expectReply(
  port: number,
  request: string | Buffer,
  expected: string | Buffer,
  hint?: string,
  repro?: string,
  noReplyHint = NO_REPLY_HINT,
) {
  const peer = await udpPeer();
  await peer.send(request, port);
  const reply = await peer.datagram({
    expected: `a reply datagram to this client, 127.0.0.1:${peer.port}`,
    hint: noReplyHint,
    repro: repro ?? peer.repro,
  });
  assertBytes(reply, expected, {
    what: 'the reply',
    hint: todoHint(reply) ?? hint,
    repro: repro ?? peer.repro,
  });
  return peer;
}

/** The hint for a reply that is still the starter's TODO line. */
function todoHint(reply: Buffer): string | undefined {
  return reply.toString().startsWith('TODO(')
    ? "that is the starter's line: do step 3 in handleDatagram(), and delete the line that sends it"
    : undefined;
}

const hasIPv6Loopback = Object.values(networkInterfaces()).some((list) =>
  list?.some((i) => i.address === '::1'),
);

describe('step 1: create the socket', () => {
  test('createUpperServer() returns a dgram socket, not bound yet', async () => {
    const socket = closeLater(createUpperServer());
    expect(socket, 'return dgram.createSocket(...)').toBeInstanceOf(dgram.Socket);
    expect(() => socket.address(), 'do not bind in createUpperServer(): bind() does').toThrow();
    await bound(socket);
  });

  test('recvBufferSize reaches the kernel: the socket gets at least the buffer asked for', async () => {
    const socket = createUpperServer({ recvBufferSize: 100_000 });
    await bound(socket);
    expect(
      socket.getRecvBufferSize(),
      'pass { type, recvBufferSize } to dgram.createSocket() (Linux doubles it)',
    ).toBeGreaterThanOrEqual(100_000);
  });

  test.skipIf(!hasIPv6Loopback)('type udp6 makes an IPv6 socket (needs IPv6 loopback)', async () => {
    const socket = createUpperServer({ type: 'udp6' });
    await bound(socket, '::1');
    expect(socket.address().family, 'pass { type } to dgram.createSocket()').toBe('IPv6');
  });

  test("an 'error' on the socket is logged as `socket error: ...`, not thrown", async () => {
    const log = new LogLines();
    const socket = closeLater(createUpperServer({ log: log.add }));
    const hint =
      "socket.on('error', (error) => log('socket error: ' + describeError(error))) in createUpperServer(): " +
      "an 'error' event with no listener is thrown, and crashes the server";
    if (socket.listenerCount('error') === 0) {
      throw new WireError("the server's socket has no 'error' listener", {
        expected: "createUpperServer() to listen for 'error' and log it",
        received: "socket.listenerCount('error') is 0",
        hint,
      });
    }
    // A real error from the kernel: binding to a port another socket holds. (Step 2's bind()
    // listens for this one itself; here the socket is bound without it.)
    const taken = await udpPeer();
    socket.bind({ address: '127.0.0.1', port: taken.port });
    const line = await log.line(
      /^socket error: /,
      'a log line `socket error: address already in use (EADDRINUSE)`',
      {
        hint,
      },
    );
    expect(line, 'describeError(error) gives the end of the line').toBe(
      'socket error: address already in use (EADDRINUSE)',
    );
  });
});

describe('step 2: bind', () => {
  test('bind() binds the host and port and resolves with the real port when asked for port 0', async () => {
    const socket = closeLater(dgram.createSocket('udp4'));
    const address = await within(bind(socket, { host: '127.0.0.1', port: 0 }), () => ({
      expected: 'bind() to resolve',
      hint: 'resolve in the callback of socket.bind({ address: host, port }, callback)',
    }));
    expect(address.address, 'bind to the host given: socket.bind({ address: host, port })').toBe('127.0.0.1');
    expect(address.port, 'port 0 means "any free port": resolve with socket.address()').toBeGreaterThan(0);
    expect(address.port, 'resolve with socket.address(): the port really bound').toBe(socket.address().port);
  });

  test("bind() leaves no 'error' listener of its own once bound", async () => {
    const socket = closeLater(dgram.createSocket('udp4'));
    await within(bind(socket, { host: '127.0.0.1', port: 0 }), () => ({
      expected: 'bind() to resolve',
      hint: 'resolve in the callback of socket.bind({ address: host, port }, callback)',
    }));
    expect(
      socket.listenerCount('error'),
      "in the bind callback, socket.off('error', reject): once bound, errors are the server's own 'error' " +
        "listener's business, and a stale one would swallow them (and hide a missing listener)",
    ).toBe(0);
  });

  test('bind() rejects with EADDRINUSE when the port is taken', async () => {
    const taken = await udpPeer();
    const socket = closeLater(dgram.createSocket('udp4'));
    const error = await within(
      bind(socket, { host: '127.0.0.1', port: taken.port }).catch((e: unknown) => e),
      () => ({
        expected: 'bind() to reject',
        hint: "a failed bind never calls the callback: the socket emits 'error' instead; socket.once('error', reject)",
      }),
    );
    expect(error, "bind() should reject when the socket emits 'error'").toBeInstanceOf(Error);
    expect((error as NodeJS.ErrnoException).code, "reject with the 'error' event's error itself").toBe(
      'EADDRINUSE',
    );
  });
});

describe('step 3: answer each datagram to its sender', () => {
  test('hello → HELLO, sent back to the port it came from, and logged', async () => {
    const { port, log } = await startUpper();
    const peer = await expectReply(port, 'hello', 'HELLO');
    expect(peer.received[0]?.port, 'the reply comes from the server’s port').toBe(port);
    const line = await log.line(/^datagram from /, 'a log line `datagram from 127.0.0.1:PORT: 5 bytes`');
    expect(line, 'formatAddress(sender.address, sender.port) and datagram.length').toBe(
      `datagram from 127.0.0.1:${peer.port}: 5 bytes`,
    );
  });

  test('two clients, one after the other: each reply goes to its own sender', async () => {
    const { port } = await startUpper();
    const repro = [
      `${lesson.command('server', ['--port', '9000'])}     # in one terminal`,
      `${udpNcLine('first', 9000)}     # in another: prints FIRST`,
      `${udpNcLine('second', 9000)}     # then a new client: should print SECOND`,
    ].join('\n');
    await expectReply(port, 'first', 'FIRST', undefined, repro);
    // A new client, a new port: its reply must go there, not to the first one.
    await expectReply(port, 'second', 'SECOND', undefined, repro);
  });

  test('upper case is Unicode-aware: héllo 你好 → HÉLLO 你好', async () => {
    const { port } = await startUpper();
    await expectReply(
      port,
      'héllo 你好',
      'HÉLLO 你好',
      'decode the datagram as UTF-8, upper-case it, encode it again',
    );
  });

  test('an empty datagram gets an empty reply', async () => {
    const { port } = await startUpper();
    await expectReply(port, '', '', 'a 0-byte datagram is still a datagram: answer it with a 0-byte one');
  });

  test('datagrams keep their boundaries: three sends, three replies', async () => {
    const { port } = await startUpper();
    const peer = await udpPeer();
    for (const word of ['one', 'two', 'three']) await peer.send(word, port);
    const first = await peer.datagram({
      expected: 'a reply datagram',
      hint: NO_REPLY_HINT,
      repro: peer.repro,
    });
    const replies = await peer.datagrams(3, {
      hint: todoHint(first) ?? 'one reply per datagram, never joined or split',
      repro: peer.repro,
    });
    // Loopback keeps their order; a real network might not.
    expect(
      replies.map((d) => d.bytes.toString()),
      todoHint(first) ?? 'one reply per datagram, each the upper case of that datagram alone',
    ).toEqual(['ONE', 'TWO', 'THREE']);
  });

  test('ten clients through a proxy: each reply goes to its own sender (rinfo)', async () => {
    const { port } = await startUpper();
    const proxy = await startUdpProxy(port);
    const peers = await Promise.all(Array.from({ length: 10 }, () => udpPeer()));
    await Promise.all(peers.map((peer, i) => peer.send(`client ${i}`, proxy.port)));
    for (const [i, peer] of peers.entries()) {
      const reply = await peer.datagram({
        expected: `client ${i}'s reply`,
        hint: 'reply to the sender of that datagram: sender.port and sender.address',
      });
      assertBytes(reply, `CLIENT ${i}`, { what: `client ${i}'s reply` });
    }
  });

  test('a reply as long as its request, or shorter, is sent: straße → STRASSE (7 bytes each), ı → I', async () => {
    const { port, log } = await startUpper();
    const hint =
      'send the reply unless it has MORE bytes than the datagram: compare reply.length with datagram.length, ' +
      'and refuse only when it is greater (>)';
    const refused =
      'a reply with as many bytes as the datagram, or fewer, is sent: refuse only when reply.length > datagram.length. ' +
      'Compare the Buffers, not the strings: straße is 6 characters and STRASSE 7, but both are 7 bytes';
    await expectReply(port, 'straße', 'STRASSE', hint, undefined, refused);
    await expectReply(port, 'ı', 'I', hint, undefined, refused);
    expect(
      log.lines.filter((line) => / failed: |^no reply /.test(line)),
      'both replies were sent, and nothing failed: log `reply to ... failed` only when send() gives an error',
    ).toEqual([]);
  });
});

/** The hint when a reply bigger than its request comes back: the amplification step 3 forbids. */
const AMPLIFICATION_HINT =
  'compare the BYTES: if reply.length > datagram.length, send nothing and log ' +
  '`no reply to IP:PORT: it would be M bytes, more than the N received`. ' +
  'A forged sender would get more than the attacker sent (README step 3)';

/**
 * Sends `request`, which upper-cases to `grown` bytes, then a probe from the same client: the
 * first datagram back must be the probe's reply (loopback keeps the order, and the server answers
 * in turn), and the server must log why the request got none.
 */
async function expectNoReply(request: Buffer, grown: number, why: string) {
  const { port, log } = await startUpper();
  const peer = await udpPeer();
  await peer.send(request, port);
  const repro = peer.repro;
  await peer.send('still there?', port);
  const first = await peer.datagram({
    expected: 'a reply to `still there?`, the datagram sent next',
    hint: NO_REPLY_HINT,
    repro,
  });
  if (first.toString() !== 'STILL THERE?') {
    throw new WireError(`a ${request.length}-byte datagram got a ${first.length}-byte reply`, {
      expected: `no reply to the ${request.length} bytes (${why}: the reply would be ${grown} bytes)`,
      received: `${first.length} bytes back: ${(first.length / Math.max(request.length, 1)).toFixed(1)}× what was sent`,
      hint: todoHint(first) ?? AMPLIFICATION_HINT,
      repro: repro.replace(/# in another$/m, '# in another: should print nothing, as no reply comes'),
    });
  }
  const to = `no reply to 127.0.0.1:${peer.port}: `;
  const line = await log.line(/^no reply to /, `a log line \`${to}it would be ${grown} bytes, ...\``, {
    hint: AMPLIFICATION_HINT,
    repro,
  });
  expect(line, 'the log line names the sender and both sizes').toBe(
    `${to}it would be ${grown} bytes, more than the ${request.length} received`,
  );
  expect(peer.received.length, 'one reply only, to `still there?`').toBe(1);
}

describe('step 3: answer each datagram to its sender', () => {
  test('invalid UTF-8 is not answered: 21 835 bytes of 0xff would come back as 65 505 (U+FFFD is 3 bytes)', async () => {
    await expectNoReply(Buffer.alloc(21_835, 0xff), 65_505, 'each byte that is not UTF-8 decodes to U+FFFD');
  });

  test('a capital that grows is not answered: 10 000 × ΐ (20 000 bytes) would come back as 60 000', async () => {
    await expectNoReply(Buffer.from('ΐ'.repeat(10_000)), 60_000, 'ΐ is 2 bytes, its capital Ϊ́ is 6');
  });

  test('one byte more is enough: ΐ alone (2 bytes → 6) is not answered either', async () => {
    await expectNoReply(Buffer.from('ΐ'), 6, 'ΐ is 2 bytes, its capital Ϊ́ is 6');
  });

  test('a reply the kernel refuses is logged, not lost in silence (a forged broadcast sender)', async () => {
    const { port, log, socket } = await startUpper();
    // No host sends from 255.255.255.255: such a sender is forged, to make the server broadcast
    // its reply to a whole network. The kernel refuses the send (the socket has no SO_BROADCAST;
    // ENETUNREACH on a machine with no route for it), and only send()'s callback hears of it.
    const fake = { address: '255.255.255.255', family: 'IPv4', port: 9, size: 5 } as const;
    handleDatagram(socket, Buffer.from('hello'), fake, log.add);
    const line = await log.line(
      /^reply to .* failed: /,
      'a log line `reply to 255.255.255.255:9 failed: permission denied (EACCES)`',
      { hint: 'pass a callback to socket.send(): it is the only place a failed send is reported' },
    );
    expect(line, 'the line names the sender of this datagram, and describeError(error) ends it').toMatch(
      /^reply to 255\.255\.255\.255:9 failed: .+ \((EACCES|ENETUNREACH)\)$/,
    );
    await expectReply(port, 'still there?', 'STILL THERE?');
  });
});

describe('other clients: Python and nc', () => {
  test.skipIf(!hasCommand('python3'))(
    "Python's socket module gets the upper-case reply with sendto/recvfrom (needs python3)",
    async () => {
      const { port } = await startUpper();
      const script = [
        'import socket, sys',
        's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
        // Generous: on a busy machine the test's server may take a while to answer.
        's.settimeout(8)',
        's.sendto("héllo 你好".encode(), ("127.0.0.1", int(sys.argv[1])))',
        'reply, (ip, port) = s.recvfrom(65535)',
        'sys.stdout.buffer.write(reply)',
      ].join('\n');
      const stdout = await runCommand('python3', ['-c', script, String(port)], 20_000);
      assertBytes(stdout, 'HÉLLO 你好', { what: "the Python client's output" });
    },
  );

  test("the course's nc, over UDP, gets the upper-case reply, as the Play section shows", async () => {
    const { port } = await startUpper();
    // The usual line, with a longer wait for the reply (-w 8): the machine may be busy. nc keeps
    // listening that long for more replies, as netcat does: the test reads the reply, then stops it.
    const line = udpNcLine('hello from nc', port).replace(' -w 5 ', ' -w 8 ');
    const nc = startCourseLine(line);
    const reply = await nc.waitForOutput(/./s, "course nc to print the server's reply", { ms: LIVENESS_MS });
    assertBytes(Buffer.from(reply), 'HELLO FROM NC', { what: "course nc's output" });
  });
});
