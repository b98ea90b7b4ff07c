import dgram from 'node:dgram';
import { networkInterfaces } from 'node:os';
import {
  assertBytes,
  closeAfterTest,
  hasCommand,
  LogLines,
  runCommand,
  startUdpProxy,
  udpNcLine,
  udpPeer,
} from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { bind, createUpperServer, type ServerOptions } from '#impl/server.ts';

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
  const port = await bound(createUpperServer({ log: log.add, ...options }));
  return { port, log };
}

/** Sends `request` from a new peer and checks the one reply is `expected` (text and hex on failure). */
async function expectReply(port: number, request: string | Buffer, expected: string | Buffer, hint?: string) {
  const peer = await udpPeer();
  await peer.send(request, port);
  const reply = await peer.datagram({
    expected: 'a reply datagram',
    hint: hint ?? 'answer each datagram with socket.send(reply, sender.port, sender.address, callback)',
  });
  assertBytes(reply, expected, { what: 'the reply', hint, repro: peer.repro });
  return peer;
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
    expect(socket.address().family).toBe('IPv6');
  });
});

describe('step 2: bind', () => {
  test('bind() binds the host and port and resolves with the real port when asked for port 0', async () => {
    const socket = closeLater(dgram.createSocket('udp4'));
    const address = await bind(socket, { host: '127.0.0.1', port: 0 });
    expect(address.address).toBe('127.0.0.1');
    expect(address.port, 'port 0 means "any free port": resolve with socket.address()').toBeGreaterThan(0);
    expect(address.port).toBe(socket.address().port);
  });

  test('bind() rejects with EADDRINUSE when the port is taken', async () => {
    const taken = await udpPeer();
    const socket = closeLater(dgram.createSocket('udp4'));
    const error = await bind(socket, { host: '127.0.0.1', port: taken.port }).catch((e: unknown) => e);
    expect(error, "bind() should reject when the socket emits 'error'").toBeInstanceOf(Error);
    expect((error as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
  });
});

describe('step 3: answer each datagram to its sender', () => {
  test('hello → HELLO, sent back to the port it came from, and logged', async () => {
    const { port, log } = await startUpper();
    const peer = await expectReply(port, 'hello', 'HELLO');
    expect(peer.received[0]?.port, 'the reply comes from the server’s port').toBe(port);
    const line = await log.line(/^datagram from /, 'a log line `datagram from 127.0.0.1:PORT: 5 bytes`');
    expect(line).toBe(`datagram from 127.0.0.1:${peer.port}: 5 bytes`);
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
    const replies = await peer.datagrams(3, { hint: 'one reply per datagram, never joined or split' });
    // Loopback keeps their order; a real network might not.
    expect(replies.map((d) => d.bytes.toString())).toEqual(['ONE', 'TWO', 'THREE']);
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

  test('a reply too big for one datagram is logged, not lost in silence, and the server goes on', async () => {
    const { port, log } = await startUpper();
    // ΐ is 2 bytes in UTF-8; its capital is 3 characters, 6 bytes: 40 000 bytes become 120 000.
    const peer = await udpPeer();
    await peer.send('ΐ'.repeat(20_000), port);
    const line = await log.line(
      /^reply to .* failed: /,
      'a log line `reply to 127.0.0.1:PORT failed: message too long (EMSGSIZE)`',
      { hint: 'pass a callback to socket.send(): it is the only place a failed send is reported' },
    );
    expect(line).toBe(`reply to 127.0.0.1:${peer.port} failed: message too long (EMSGSIZE)`);
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
        's.settimeout(2)',
        's.sendto("héllo 你好".encode(), ("127.0.0.1", int(sys.argv[1])))',
        'reply, (ip, port) = s.recvfrom(65535)',
        'sys.stdout.buffer.write(reply)',
      ].join('\n');
      const stdout = await runCommand('python3', ['-c', script, String(port)]);
      assertBytes(stdout, 'HÉLLO 你好', { what: "the Python client's output" });
    },
  );

  test.skipIf(!hasCommand('nc'))('nc -u gets the upper-case reply (needs nc)', async () => {
    const { port } = await startUpper();
    const stdout = await runCommand('sh', ['-c', udpNcLine('hello from nc', port)]);
    assertBytes(stdout, 'HELLO FROM NC', { what: "nc's output" });
  });
});
