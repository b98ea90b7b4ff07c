import type net from 'node:net';
import { setTimeout as pause } from 'node:timers/promises';
import {
  assertBytes,
  connect,
  hasCommand,
  LogLines,
  listen,
  reproLines,
  resetAfter,
  runCommand,
  slowReader,
  startProxy,
  trickle,
  vanish,
  WireError,
  within,
} from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { createEchoServer, type ServerOptions } from '#impl/server.ts';
import { frame, frames, receive } from './support.ts';

/** The learner's server, in this process, on a free port, with its log lines collected. */
async function startEcho(options: ServerOptions = {}) {
  const log = new LogLines();
  const server = createEchoServer({ log: log.add, ...options });
  const port = await listen(server);
  return { server, port, log };
}

/** Sends `stream` to `port` and checks that exactly the same bytes come back. */
async function expectEcho(port: number, stream: Buffer, hint?: string) {
  const peer = await connect(port);
  await peer.write(stream);
  const echoed = await peer.bytes(stream.length, {
    hint: hint ?? 'write every frame back with socket.write(encodeFrame(frame))',
  });
  assertBytes(echoed, stream, { what: 'the echo', hint, repro: reproLines(stream, port) });
  return peer;
}

describe('step 6: echo every frame', () => {
  test('a frame comes back unchanged: 00 00 00 05 hello', async () => {
    const { port } = await startEcho();
    await expectEcho(port, frame('hello'));
  });

  test('frames cut one byte at a time, empty ones included, come back unchanged and in order', async () => {
    const { port } = await startEcho();
    const proxy = await startProxy(port, { cut: 'bytes', direction: 'request' });
    await expectEcho(
      proxy.port,
      frames('hé', '', 'llo 你好'),
      'one "data" event is not one frame: push every chunk into the decoder and write what it returns',
    );
  });

  test('frames cut at random places come back unchanged and in order', async () => {
    const { port } = await startEcho();
    const proxy = await startProxy(port, { cut: { maxPiece: 24 }, direction: 'request' });
    const payloads = Array.from({ length: 16 }, (_, i) => 'x'.repeat(i * 3));
    await expectEcho(proxy.port, frames(...payloads));
  });

  test('a 1 MiB frame and 1,000 small frames sent in one write come back whole', async () => {
    const { port } = await startEcho();
    const peer = await connect(port);
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const stream = Buffer.concat([frame(big), frames(...Array.from({ length: 1000 }, (_, i) => `#${i}`))]);
    peer.socket.write(stream);
    const echoed = await receive(peer.socket, stream.length, 'the echo of 1 MiB and 1,000 frames');
    expect(echoed.equals(stream), 'the echo should be byte for byte what was sent').toBe(true);
  });

  test('when the client half-closes, the rest comes back and the server closes', async () => {
    const { port } = await startEcho();
    const peer = await connect(port);
    await peer.end(frames('last', 'words'));
    assertBytes(await peer.closed(), frames('last', 'words'), { what: 'everything until the close' });
  });

  test('clients that vanish or reset mid-frame do not stop the server', async () => {
    const { port } = await startEcho();
    await vanish(port);
    await resetAfter(port, frame('half a frame').subarray(0, 7));
    await expectEcho(port, frames('still', 'here'), 'keep an "error" listener on every socket');
  });
});

describe('step 7: respect backpressure', () => {
  test('a client that does not read: the server stops reading, then echoes everything once it reads', async () => {
    const { server, port } = await startEcho();
    // The server's side of the connection, watched after each chunk the server has handled.
    const LIMIT = 1024 * 1024;
    let serverSide: net.Socket | undefined;
    const verdict = new Promise<'paused' | 'unbounded' | 'ended'>((resolve) => {
      server.on('connection', (socket: net.Socket) => {
        serverSide = socket;
        socket.on('data', () => {
          if (socket.writableEnded) resolve('ended');
          else if (socket.writableLength > LIMIT) resolve('unbounded');
          else if (socket.isPaused()) resolve('paused');
        });
      });
    });
    // 128 frames of 64 KiB: 8 MiB, far more than the kernel buffers while nobody reads.
    const payload = Buffer.alloc(64 * 1024, 0x2a);
    const stream = frames(...Array.from({ length: 128 }, () => payload));
    const peer = await slowReader(port);
    peer.socket.write(stream);
    const seen = await within(
      verdict,
      () => ({
        expected: "the server to pause() reading once its write() returns false (a client that doesn't read)",
        received: `the server has ${serverSide?.writableLength ?? 0} bytes queued and keeps reading`,
        hint: "when socket.write() returns false, socket.pause(), and resume() on 'drain'",
      }),
      { ms: 2_000 },
    );
    if (seen === 'ended') {
      throw new WireError('the server closed the connection instead of echoing', {
        expected: 'the frames echoed back, with the server pausing while the client does not read',
        received: `the server ended its side after ${peer.received.length} bytes`,
        hint: 'step 6 first: echo every frame push() returns, then pause on backpressure',
      });
    }
    if (seen === 'unbounded') {
      throw new WireError('the server kept reading while the client read nothing', {
        expected: `the server to stop reading (pause) with at most ${LIMIT} bytes queued`,
        received: `${serverSide?.writableLength} bytes queued in the server's socket, and growing`,
        hint: "socket.write() returns false once its queue is full: pause() then, and resume() on 'drain'",
      });
    }
    peer.socket.resume();
    const echoed = await receive(
      peer.socket,
      stream.length,
      "the whole echo once the client reads: after pause(), resume() on the socket's 'drain'",
    );
    expect(echoed.equals(stream), 'the echo should be byte for byte what was sent').toBe(true);
  });
});

describe('step 8: close a connection that breaks the framing or is too slow, log it, and carry on', () => {
  test('a header over the limit: logged, that client cut off, the others unharmed', async () => {
    const { port, log } = await startEcho({ maxFrameBytes: 1024 });
    // The echo itself first (step 6): without it, nothing below can be seen.
    await expectEcho(port, frame('echo first'), 'step 6 first: write every frame back');
    // A polite client, in the middle of a frame of exactly the limit.
    const polite = await connect(port);
    const whole = frame(Buffer.alloc(1024, 0x70));
    await polite.write(whole.subarray(0, 600));
    // Two rude ones: 1025 bytes (one over), and 2 GiB.
    for (const [header, size] of [
      [Buffer.from([0, 0, 4, 1]), 1025],
      [Buffer.from([0x80, 0, 0, 0]), 2147483648],
    ] as const) {
      const rude = await connect(port);
      const rudePort = rude.socket.localPort;
      await rude.write(header);
      await rude.closed({
        allowReset: true,
        expected: `the server to close the connection of a client whose header says ${size} bytes`,
        hint: 'catch the FramingError of push(), log it and socket.destroy() that connection',
      });
      const line = await log.line(
        new RegExp(`^client 127\\.0\\.0\\.1:${rudePort}: .*${size}.*EFRAMETOOLARGE`),
        `a log line \`client 127.0.0.1:${rudePort}: a frame of ${size} bytes is over the limit of 1024 bytes (EFRAMETOOLARGE), closing the connection\``,
      );
      expect(line).toContain('over the limit');
    }
    await polite.write(whole.subarray(600));
    assertBytes(await polite.bytes(whole.length), whole, {
      what: "the polite client's echo",
      hint: 'an error on one connection must not touch the others: keep one decoder per connection',
    });
  });

  test('a client that ends inside a frame: logged (ETRUNCATED); the frames before it still come back', async () => {
    const { port, log } = await startEcho();
    const peer = await connect(port);
    const clientPort = peer.socket.localPort;
    await peer.end(Buffer.concat([frame('ok'), frame('cut short').subarray(0, 7)]));
    assertBytes(await peer.closed(), frame('ok'), { what: 'the echo before the close' });
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${clientPort}: .*ETRUNCATED`),
      `a log line \`client 127.0.0.1:${clientPort}: the stream ended inside a frame: 3 of its 9 payload bytes arrived (ETRUNCATED)\`: call decoder.end() on 'end'`,
    );
  });

  test('a frame trickled a byte at a time, or nothing at all: cut off at the deadline and logged; the others carry on', async () => {
    const { port, log } = await startEcho({ frameTimeoutMs: 150 });
    // A client done long before its deadline: its timer must end with its connection.
    const quick = await connect(port);
    const quickPort = quick.socket.localPort;
    await quick.end(frame('quick'));
    await quick.closed();

    // 204 bytes, one every 20 ms: 4 s to send, far longer than the test waits.
    const slowloris = await trickle(port, frame(Buffer.alloc(200, 'z')), 20);
    const silent = await connect(port);
    const oneFrame = await connect(port);
    await oneFrame.write(frame('then nothing'));
    await oneFrame.bytes(frame('then nothing').length);
    // Meanwhile, everybody else is served as usual.
    await expectEcho(port, frames('still', 'here'), 'a slow client must not hold up the others');

    const cases = [
      {
        peer: slowloris,
        who: 'a client sending a frame one byte every 20 ms',
        hint: 'socket.setTimeout() is not enough: it is an idle timer, and every byte of the trickle restarts it. Start a setTimeout() per connection and refresh() it only when push() returns a complete frame',
      },
      {
        peer: silent,
        who: 'a client that connects and sends nothing',
        hint: 'start the deadline when the client connects, not when its first byte arrives',
      },
      {
        peer: oneFrame,
        who: 'a client that sends one frame and then nothing',
        hint: 'after a complete frame, refresh() the deadline: do not stop it. The next frame must be complete in time too',
      },
    ];
    const ports = cases.map(({ peer }) => peer.socket.localPort); // gone once closed
    for (const [i, { peer, who, hint }] of cases.entries()) {
      const clientPort = ports[i];
      await peer.closed({
        allowReset: true,
        expected: `the server to close the connection of ${who}, once no frame was complete for 150 ms`,
        hint,
      });
      await log.line(
        new RegExp(
          `^client 127\\.0\\.0\\.1:${clientPort} too slow: frame not complete after 150 ms, closing$`,
        ),
        `a log line \`client 127.0.0.1:${clientPort} too slow: frame not complete after 150 ms, closing\` for ${who}`,
      );
    }
    expect(
      log.lines.filter((line) => line.startsWith(`client 127.0.0.1:${quickPort} too slow`)),
      "a connection that closed in time must not be reported later: clearTimeout() the deadline on 'close'",
    ).toEqual([]);
  });

  test('a client that completes every frame within the deadline is never cut off, however long it stays', async () => {
    const { port, log } = await startEcho({ frameTimeoutMs: 150 });
    const peer = await connect(port);
    peer.socket.setNoDelay(true); // send each piece at once: no Nagle wait for the previous ACK
    const started = performance.now();
    let sent = 0;
    for (const payload of ['slow', 'but', 'steady', 'frames']) {
      // Each frame in two pieces, 25 ms apart, then 25 ms of quiet: one complete every ~50 ms.
      const whole = frame(payload);
      await peer.write(whole.subarray(0, 3));
      await pause(25);
      await peer.write(whole.subarray(3));
      sent += whole.length;
      await peer.bytes(sent, {
        hint: 'refresh() the deadline each time push() returns a complete frame: one deadline for the whole connection cuts off a client that sends whole frames in time',
      });
      await pause(25);
    }
    expect(
      performance.now() - started,
      'the client should stay connected longer than the deadline',
    ).toBeGreaterThan(150);
    expect(
      peer.ending,
      'the connection of a client that completes every frame in time should stay open',
    ).toBe('open');
    expect(log.lines.filter((line) => line.includes('too slow'))).toEqual([]);
  });
});

describe("other clients: Python's struct and socket", () => {
  test.skipIf(!hasCommand('python3'))(
    "a Python client framing with struct.pack('!I', n) gets its frames back (needs python3)",
    async () => {
      const { port } = await startEcho();
      const script = [
        'import socket, struct, sys',
        's = socket.create_connection(("127.0.0.1", int(sys.argv[1])))',
        'payloads = [b"hello", b"", "héllo 你好".encode(), bytes(range(256)) * 300]',
        'for p in payloads:',
        '    s.sendall(struct.pack("!I", len(p)) + p)',
        'def recv_exactly(n):',
        '    data = b""',
        '    while len(data) < n:',
        '        chunk = s.recv(n - len(data))',
        '        if not chunk: raise EOFError("the server closed early")',
        '        data += chunk',
        '    return data',
        'for p in payloads:',
        '    (n,) = struct.unpack("!I", recv_exactly(4))',
        '    assert recv_exactly(n) == p, f"frame of {n} bytes differs"',
        '    print(n)',
        's.close()',
      ].join('\n');
      const stdout = await runCommand('python3', ['-c', script, String(port)]);
      assertBytes(stdout, '5\n0\n13\n76800\n', { what: "the Python client's output (the lengths echoed)" });
    },
  );
});
