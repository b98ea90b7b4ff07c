import type net from 'node:net';
import { setTimeout as pause } from 'node:timers/promises';
import {
  assertBytes,
  connect,
  hasCommand,
  LogLines,
  listen,
  reproLines,
  reproSetup,
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
import { catchListenerThrows, frame, frames, receive } from './support.ts';

/**
 * The learner's server, in this process, on a free port, with its log lines collected. What its
 * listeners throw (a FramingError from push() that nothing caught) fails the test at its next
 * guard()ed wait, naming step 8, instead of escaping every test.
 */
async function startEcho(options: ServerOptions = {}) {
  const log = new LogLines();
  const server = createEchoServer({ log: log.add, ...options });
  const { guard } = catchListenerThrows(server, (error, event) => {
    const framing = error instanceof Error && error.name === 'FramingError';
    const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return {
      headline: `the server's '${event}' listener threw ${what}, and nothing caught it`,
      expected: framing
        ? 'the server to catch it, log `client IP:PORT: MESSAGE (CODE), closing the connection` and destroy that connection (step 8)'
        : 'no exception out of a listener',
      hint: framing
        ? "step 8: wrap decoder.push() in the 'data' listener (and decoder.end() in 'end') in try/catch. " +
          'Nothing outside a listener can catch what it throws: in the real server it ends the process, and every client with it'
        : 'an exception thrown in a listener escapes every try/catch around your calls, and ends the real server: find it at the line below',
    };
  });
  const port = await listen(server);
  // The repro lines start the real server with the same limits as this test's.
  const serverArgs = [
    ...(options.maxFrameBytes === undefined ? [] : ['--max-frame-bytes', String(options.maxFrameBytes)]),
    ...(options.frameTimeoutMs === undefined ? [] : ['--timeout', String(options.frameTimeoutMs)]),
    ...(options.budgetBytes === undefined ? [] : ['--budget', String(options.budgetBytes)]),
    ...(options.maxConnections === undefined ? [] : ['--max-connections', String(options.maxConnections)]),
  ];
  if (serverArgs.length > 0) reproSetup({ serverArgs });
  return { server, port, log, guard };
}

type Guard = <T>(promise: Promise<T>) => Promise<T>;

/** Sends `stream` to `port` and checks that exactly the same bytes come back. */
async function expectEcho(guard: Guard, port: number, stream: Buffer, hint?: string) {
  const peer = await connect(port);
  await peer.write(stream);
  const echoed = await guard(
    peer.bytes(stream.length, {
      hint: hint ?? 'write every frame back with socket.write(encodeFrame(frame))',
    }),
  );
  assertBytes(echoed, stream, { what: 'the echo', hint, repro: reproLines(stream, port) });
  return peer;
}

/**
 * Waits until the server's side of the connection from `clientPort` has read at least `n` bytes:
 * what the server has taken from a client, whatever it did with them.
 */
function serverReads(server: net.Server) {
  const sides = new Map<number | undefined, net.Socket>();
  server.on('connection', (socket: net.Socket) => sides.set(socket.remotePort, socket));
  return (clientPort: number | undefined, n: number, expected: string) =>
    within(
      new Promise<void>((resolve) => {
        const check = () => ((sides.get(clientPort)?.bytesRead ?? 0) >= n ? resolve() : setTimeout(check, 5));
        check();
      }),
      () => ({
        expected,
        received: `${sides.get(clientPort)?.bytesRead ?? 0} bytes read`,
      }),
      { ms: 10_000 },
    );
}

describe('step 6: echo every frame', () => {
  test('a frame comes back unchanged: 00 00 00 05 hello', async () => {
    const { port, guard } = await startEcho();
    await expectEcho(guard, port, frame('hello'));
  });

  test('frames cut one byte at a time, empty ones included, come back unchanged and in order', async () => {
    const { port, guard } = await startEcho();
    const proxy = await startProxy(port, { cut: 'bytes', direction: 'request' });
    reproSetup({ trickleMs: 10 }); // by hand: one byte at a time, as the proxy delivers them
    await expectEcho(
      guard,
      proxy.port,
      frames('hé', '', 'llo 你好'),
      'one "data" event is not one frame: push every chunk into the decoder and write what it returns',
    );
  });

  test('frames cut at random places come back unchanged and in order', async () => {
    const { port, guard } = await startEcho();
    const proxy = await startProxy(port, { cut: { maxPiece: 24 }, direction: 'request' });
    reproSetup({ trickleMs: 10 }); // by hand: one byte at a time cuts everywhere the proxy may
    const payloads = Array.from({ length: 16 }, (_, i) => 'x'.repeat(i * 3));
    await expectEcho(guard, proxy.port, frames(...payloads));
  });

  test('a 1 MiB frame and 1,000 small frames sent in one write come back whole', async () => {
    const { port, guard } = await startEcho();
    const peer = await connect(port);
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const stream = Buffer.concat([frame(big), frames(...Array.from({ length: 1000 }, (_, i) => `#${i}`))]);
    peer.socket.write(stream);
    const echoed = await guard(receive(peer.socket, stream.length, 'the echo of 1 MiB and 1,000 frames'));
    expect(echoed.equals(stream), 'the echo should be byte for byte what was sent').toBe(true);
  });

  test('when the client half-closes, the rest comes back and the server closes', async () => {
    const { port, guard } = await startEcho();
    const peer = await connect(port);
    await peer.end(frames('last', 'words'));
    assertBytes(await guard(peer.closed()), frames('last', 'words'), { what: 'everything until the close' });
  });

  test('clients that vanish or reset mid-frame do not stop the server: each logged, connected, failed, closed', async () => {
    const { server, port, log, guard } = await startEcho();
    await vanish(port);
    // Half a frame, read by the server, then a reset (RST): the server's next read fails with
    // ECONNRESET, an 'error' on its socket.
    const readFrom = serverReads(server);
    const resetting = await connect(port);
    const reset = resetting.socket.localPort;
    await resetting.write(frame('half a frame').subarray(0, 7));
    await readFrom(reset, 7, 'the server to read the 7 bytes sent');
    resetting.reset();
    await expectEcho(guard, port, frames('still', 'here'), 'keep an "error" listener on every socket');
    const who = `client 127.0.0.1:${reset}`;
    for (const [pattern, what] of [
      [`^client connected from 127\\.0\\.0\\.1:${reset}$`, `client connected from 127.0.0.1:${reset}`],
      [`^${who.replaceAll('.', '\\.')} failed: .*ECONNRESET`, `${who} failed: … (ECONNRESET)`],
      [`^${who.replaceAll('.', '\\.')} closed$`, `${who} closed`],
    ] as const) {
      await guard(
        log.line(new RegExp(pattern), `a log line \`${what}\` for the client that reset`, {
          hint: "log each connection, each socket's 'error' (describeError(error)) and its 'close'",
        }),
      );
    }
  });
});

describe('the options of createEchoServer()', () => {
  test('a bad frameTimeoutMs, budgetBytes or maxConnections is refused at once, with its name', () => {
    for (const [options, message] of [
      [{ frameTimeoutMs: 0 }, 'frameTimeoutMs must be a whole number from 1 to 2147483647, not 0'],
      [{ budgetBytes: 0 }, 'budgetBytes must be a whole number of at least 1, not 0'],
      [{ maxConnections: 0.5 }, 'maxConnections must be a whole number of at least 1, not 0.5'],
      [{ maxConnections: 0 }, 'maxConnections must be a whole number of at least 1, not 0'],
    ] as const) {
      expect(() => createEchoServer(options), JSON.stringify(options)).toThrow(message);
    }
    // The smallest of each is allowed: one byte of budget, one connection.
    expect(
      () => createEchoServer({ budgetBytes: 1, maxConnections: 1 }),
      'budgetBytes 1, maxConnections 1',
    ).not.toThrow();
  });
});

describe('step 7: respect backpressure', () => {
  test('a client that does not read: the server stops reading, then echoes everything once it reads', async () => {
    const { server, port, guard } = await startEcho();
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
    const seen = await guard(
      within(
        verdict,
        () => ({
          expected:
            "the server to pause() reading once its write() returns false (a client that doesn't read)",
          received: `the server has ${serverSide?.writableLength ?? 0} bytes queued and keeps reading`,
          hint: "when socket.write() returns false, socket.pause(), and resume() on 'drain'",
        }),
        { ms: 10_000 },
      ),
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

  test("many small frames per chunk from a client that does not read: one 'drain' listener at a time", async () => {
    const { server, port, guard } = await startEcho();
    await expectEcho(guard, port, frame('echo first'), 'step 6 first: write every frame back');
    // After each chunk the server has handled (this listener comes after the server's own): how
    // many 'drain' listeners its socket has. A server that adds one per write that returned false
    // adds hundreds per chunk here, each to resume() once (Node warns past 10: a leak).
    let most = 0;
    let pauses = 0;
    let queued = 0;
    let onPause = () => {};
    server.on('connection', (socket: net.Socket) => {
      socket.on('data', () => {
        most = Math.max(most, socket.listenerCount('drain'));
        queued = Math.max(queued, socket.writableLength);
        if (socket.isPaused()) pauses += 1;
        onPause();
      });
    });
    /** Waits until the server has paused more than `before` times in all. */
    const pausedAfter = (before: number, what: string) =>
      guard(
        within(
          new Promise<void>((resolve, reject) => {
            onPause = () => {
              if (pauses > before) resolve();
              else if (queued > 1024 * 1024) {
                reject(
                  new WireError('the server kept reading while the client read nothing', {
                    expected: `the server to pause() reading ${what}`,
                    received: `${queued} bytes queued in the server's socket, and growing`,
                    hint: "socket.write() returns false once its queue is full: pause() then, and resume() on 'drain'",
                  }),
                );
              }
            };
            onPause();
          }),
          () => ({
            expected: `the server to pause() reading ${what}`,
            received: `${pauses} pause(s) so far`,
            hint: "when socket.write() returns false, socket.pause(), and resume() on 'drain'",
          }),
          { ms: 10_000 },
        ),
      );
    // Units of one 20,000-byte frame and 100 frames of 20 bytes, about 22 KB: each chunk the
    // server reads (64 KiB at most) holds two or three. Once the kernel's buffers are full, only
    // the write of a big frame can pass the queue's high-water mark (16 KiB; the 100 small frames
    // between two big ones weigh 2.4 KB), and the small frames after it in the same chunk are
    // written while write() says false: one 'drain' listener each, in a server that adds one per
    // such write. 16 MB: far more than the kernel buffers while nobody reads.
    const unit = frames(
      Buffer.alloc(20_000, 'B'),
      ...Array.from({ length: 100 }, (_, i) => `small frame ${i}`.padEnd(20)),
    );
    const stream = Buffer.concat(Array.from({ length: 750 }, () => unit));
    const peer = await slowReader(port);
    peer.socket.write(stream);
    const hint =
      "call socket.once('drain', …) only when you pause(): skip it while socket.isPaused(). One listener per " +
      'write that returned false piles up hundreds of them, each one a leak until the next drain';
    // Two rounds: the server pauses, the client reads a little, the server resumes and pauses again.
    await pausedAfter(0, 'once its write() returns false');
    expect(
      most,
      `the 'drain' listeners on the server's socket, at most, once it paused: ${hint}`,
    ).toBeLessThanOrEqual(1);
    peer.socket.resume();
    const echoed = await guard(
      peer.bytes(stream.length, {
        ms: 10_000,
        hint: "after pause(), resume() on the socket's 'drain'",
        repro: 'the test sends megabytes without reading; no nc line can replay it',
      }),
    );
    expect(echoed.equals(stream), 'the echo should be byte for byte what was sent').toBe(true);
  });
});

describe('step 8: close a connection that breaks the framing or is too slow, log it, and carry on', () => {
  test('a header over the limit: logged, that client cut off, the others unharmed', async () => {
    const { port, log, guard } = await startEcho({ maxFrameBytes: 1024 });
    // The echo itself first (step 6): without it, nothing below can be seen.
    await expectEcho(guard, port, frame('echo first'), 'step 6 first: write every frame back');
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
      await guard(
        rude.closed({
          allowReset: true,
          expected: `the server to close the connection of a client whose header says ${size} bytes`,
          hint: 'catch the FramingError of push(), log it and socket.destroy() that connection',
        }),
      );
      const line = await log.line(
        new RegExp(`^client 127\\.0\\.0\\.1:${rudePort}: .*${size}.*EFRAMETOOLARGE`),
        `a log line \`client 127.0.0.1:${rudePort}: a frame of ${size} bytes is over the limit of 1024 bytes (EFRAMETOOLARGE), closing the connection\``,
      );
      expect(line, 'the log line says why').toContain('over the limit');
    }
    await polite.write(whole.subarray(600));
    assertBytes(await guard(polite.bytes(whole.length)), whole, {
      what: "the polite client's echo",
      hint: 'an error on one connection must not touch the others: keep one decoder per connection',
    });
  });

  test('a client that ends inside a frame: logged (ETRUNCATED); the frames before it still come back', async () => {
    const { port, log, guard } = await startEcho();
    const peer = await connect(port);
    const clientPort = peer.socket.localPort;
    await peer.end(Buffer.concat([frame('ok'), frame('cut short').subarray(0, 7)]));
    assertBytes(await guard(peer.closed()), frame('ok'), { what: 'the echo before the close' });
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${clientPort}: .*ETRUNCATED`),
      `a log line \`client 127.0.0.1:${clientPort}: the stream ended inside a frame: 3 of its 9 payload bytes arrived (ETRUNCATED)\`: call decoder.end() on 'end'`,
    );
  });

  test('a frame trickled a byte at a time, or nothing at all: cut off at the deadline and logged; the others carry on', async () => {
    const { port, log, guard } = await startEcho({ frameTimeoutMs: 600 });
    // A client done long before its deadline: its timer must end with its connection.
    const quick = await connect(port);
    const quickPort = quick.socket.localPort;
    await quick.end(frame('quick'));
    await guard(quick.closed());

    // 1,004 bytes, one every 20 ms: 20 s to send, far longer than the test waits. Each byte is
    // activity: an idle timer of 600 ms fires only if the machine stalls the drip that long.
    const slowloris = await trickle(port, frame(Buffer.alloc(1000, 'z')), 20);
    const silent = await connect(port);
    const oneFrame = await connect(port);
    await oneFrame.write(frame('then nothing'));
    await oneFrame.bytes(frame('then nothing').length);
    // Meanwhile, everybody else is served as usual.
    await expectEcho(guard, port, frames('still', 'here'), 'a slow client must not hold up the others');

    const cases = [
      {
        peer: slowloris,
        sent: frame(Buffer.alloc(1000, 'z')),
        trickleMs: 20,
        who: 'a client sending a frame one byte every 20 ms',
        hint: 'socket.setTimeout() is not enough: it is an idle timer, and every byte of the trickle restarts it. Start a setTimeout() per connection and refresh() it only when push() returns a complete frame',
      },
      {
        peer: silent,
        sent: Buffer.alloc(0),
        trickleMs: undefined,
        who: 'a client that connects and sends nothing',
        hint: 'start the deadline when the client connects, not when its first byte arrives',
      },
      {
        peer: oneFrame,
        sent: frame('then nothing'),
        trickleMs: undefined,
        who: 'a client that sends one frame and then nothing',
        hint: 'after a complete frame, refresh() the deadline: do not stop it. The next frame must be complete in time too',
      },
    ];
    const ports = cases.map(({ peer }) => peer.socket.localPort); // gone once closed
    for (const [i, { peer, sent, trickleMs, who, hint }] of cases.entries()) {
      const clientPort = ports[i];
      await guard(
        peer.closed({
          allowReset: true,
          expected: `the server to close the connection of ${who}, once no frame was complete for 600 ms`,
          hint,
          ms: 5_000, // the deadline is 600 ms: only a server that never cuts them off fails, however busy the machine
          // By hand: the same bytes, trickled or not, and no FIN (the client stays).
          repro: reproLines(sent, port, { trickleMs, halfClose: false }),
        }),
      );
      await log.line(
        new RegExp(
          `^client 127\\.0\\.0\\.1:${clientPort} too slow: frame not complete after 600 ms, closing$`,
        ),
        `a log line \`client 127.0.0.1:${clientPort} too slow: frame not complete after 600 ms, closing\` for ${who}`,
      );
    }
    expect(
      log.lines.filter((line) => line.startsWith(`client 127.0.0.1:${quickPort} too slow`)),
      "a connection that closed in time must not be reported later: clearTimeout() the deadline on 'close'",
    ).toEqual([]);
  });

  test('a client that sends but never reads is cut off at the deadline too: no frame completes while the server is paused', async () => {
    const { server, port, log, guard } = await startEcho({ frameTimeoutMs: 1_000 });
    // 64 KiB frames and no reading, until the server pauses (step 7); from then on no frame
    // completes, and the deadline must run out. Stopping the clock while paused would let this
    // client hold its connection, and the server's queued echoes, for ever.
    let paused = false;
    let serverSide: net.Socket | undefined;
    server.on('connection', (socket: net.Socket) => {
      serverSide = socket;
      socket.on('data', () => {
        if (socket.isPaused()) paused = true;
      });
    });
    const peer = await slowReader(port);
    const clientPort = peer.socket.localPort;
    const block = frames(...Array.from({ length: 16 }, () => Buffer.alloc(64 * 1024, 0x2d)));
    const open = () => !peer.socket.destroyed && peer.ending === 'open';
    for (let sent = 0; !paused && open() && sent < 128 * 1024 * 1024; sent += block.length) {
      const written = new Promise<void>((resolve) => peer.socket.write(block, () => resolve()));
      // A paused server stops reading: the last write may never complete, and need not.
      await Promise.race([written, pause(50).then(() => (paused ? undefined : written))]);
    }
    // (On a machine so busy that no frame completed for a whole second while the client was still
    // sending, the deadline may end it before the pause: the log line below is checked either way.)
    expect(paused || !open(), 'the server should pause() while the client reads nothing (step 7)').toBe(true);
    // The server's own word: its log line, then its side of the connection destroyed. (The client,
    // reading nothing, may never see a FIN.)
    await guard(
      log.line(
        new RegExp(
          `^client 127\\.0\\.0\\.1:${clientPort} too slow: frame not complete after 1000 ms, closing$`,
        ),
        `a log line \`client 127.0.0.1:${clientPort} too slow: frame not complete after 1000 ms, closing\`, 1000 ms after the last frame completed, while the server is paused`,
        {
          ms: 10_000,
          hint: "keep the deadline running while the socket is paused for 'drain': only a complete frame refreshes it",
          repro: 'the test sends megabytes without reading; no nc line can replay it',
        },
      ),
    );
    expect(serverSide?.destroyed, "the server's side of the connection should be destroyed").toBe(true);
  });

  test('clients that together would pass the budget: the one that would pass it is logged and cut off, the others served', async () => {
    const BUDGET = 256 * 1024;
    const { server, port, log, guard } = await startEcho({ budgetBytes: BUDGET });
    // The echo itself first (step 6): without it, nothing below can be seen.
    await expectEcho(guard, port, frame('echo first'), 'step 6 first: write every frame back');
    const readFrom = serverReads(server);
    const SIZE = 200 * 1024;
    const big = frame(Buffer.alloc(SIZE, 0x62));
    // A holds 150 KiB of an unfinished frame; the server must hold them (it cannot echo half a frame).
    const first = await connect(port);
    const firstPort = first.socket.localPort as number;
    await first.write(big.subarray(0, 150 * 1024));
    await guard(readFrom(firstPort, 150 * 1024, 'the server to read the first 150 KiB of a frame'));
    // B wants as much again: 300 KiB held in all would pass the budget of 256 KiB.
    const second = await connect(port);
    const secondPort = second.socket.localPort;
    await second.write(big.subarray(0, 150 * 1024)).catch(() => {}); // the server may cut it off mid-write
    const hint =
      'count what every connection holds (decoder.buffered + socket.writableLength) in one budget for ' +
      'the whole server; before push(), a chunk that would take the total over budgetBytes gets the log line and socket.destroy()';
    await guard(
      second.closed({
        allowReset: true,
        ms: 10_000,
        expected: `the server to close the connection whose frame would take it over its budget of ${BUDGET} bytes`,
        hint,
        repro: 'the test holds two unfinished frames at once; no nc line can replay it',
      }),
    );
    await log.line(
      new RegExp(
        `^client 127\\.0\\.0\\.1:${secondPort} refused: over the budget of ${BUDGET} bytes for all clients, closing$`,
      ),
      `a log line \`client 127.0.0.1:${secondPort} refused: over the budget of ${BUDGET} bytes for all clients, closing\``,
      { hint },
    );
    // A, within the budget, is served: its frame completes and comes back.
    await first.end(big.subarray(150 * 1024));
    assertBytes(await guard(first.closed()), big, {
      what: 'the echo of the client within the budget',
      hint: 'only the connection that would pass the budget is cut off',
    });
    // Both gone: what they held is back in the budget, and a third client gets a frame as big.
    const third = await connect(port);
    await third.end(big);
    assertBytes(await guard(third.closed({ ms: 10_000 })), big, {
      what: 'the echo of a client after the others left',
      hint: "give a connection's share back to the budget on 'close'",
    });
    expect(
      log.lines.filter((line) => line.includes('over the budget')),
      'the clients within the budget should never be refused',
    ).toHaveLength(1);
  });

  test('a frame that fills the budget exactly is served; a chunk one byte over is refused before the decoder sees it', async () => {
    const exact = frame('fills it'); // 4 + 8 bytes
    const { port, log, guard } = await startEcho({ budgetBytes: exact.length });
    const hint =
      'in admit(), refuse a chunk only when the total would pass budgetBytes (>, not >=), and refuse it before push(): ' +
      'a refused chunk is not decoded';
    await expectEcho(guard, port, exact, hint);
    // 13 bytes in one write: a header announcing 4 GiB, which push() would refuse too.
    const over = await connect(port);
    const overPort = over.socket.localPort;
    await over.write(Buffer.from(`ffffffff${'00'.repeat(9)}`, 'hex')).catch(() => {});
    await guard(
      over.closed({ allowReset: true, expected: 'the server to close a connection over its budget', hint }),
    );
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${overPort} refused: over the budget of ${exact.length} bytes`),
      `a log line \`client 127.0.0.1:${overPort} refused: over the budget of ${exact.length} bytes for all clients, closing\``,
      { hint },
    );
    expect(
      log.lines.filter((line) => line.startsWith(`client 127.0.0.1:${overPort}:`)),
      'log lines from decoding a chunk already refused for the budget (admit() should return false, and the listener stop)',
    ).toEqual([]);
  });

  test('echoes queued for a client that does not read count in the budget, and leave it once the kernel has them', async () => {
    const MIB = 1024 * 1024;
    const BUDGET = 12 * MIB;
    const { server, port, log, guard } = await startEcho({ budgetBytes: BUDGET });
    await expectEcho(guard, port, frame('echo first'), 'step 6 first: write every frame back');
    const readFrom = serverReads(server);
    // A sends 8 MiB and reads nothing: the kernel's buffers take a few MiB of the echo, the rest
    // waits in the server's socket, and socket.writableLength counts the whole write until then.
    const big = frame(Buffer.alloc(8 * MIB, 0x61));
    const a = await slowReader(port);
    await a.write(big);
    await guard(
      readFrom(
        a.socket.localPort,
        big.length,
        'the server to read the 8 MiB frame of a client that does not read',
      ),
    );
    // B's first 5 MiB of a frame would fit beside nothing, but not beside A's 8 MiB waiting to be written.
    const b = await connect(port);
    const bPort = b.socket.localPort;
    await b.write(frame(Buffer.alloc(6 * MIB)).subarray(0, 5 * MIB)).catch(() => {}); // cut off mid-write
    const hint =
      "a connection's share is decoder.buffered + socket.writableLength: an echo waiting for a slow reader " +
      'is memory the server holds, counted until the kernel has taken it';
    await guard(
      b.closed({
        allowReset: true,
        ms: 10_000,
        expected: `the server to refuse 5 MiB while 8 MiB of echoes wait for a client that does not read (budget ${BUDGET} bytes)`,
        hint,
        repro: 'the test holds 8 MiB of echoes unread; no nc line can replay it',
      }),
    );
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${bPort} refused: over the budget`),
      `a log line \`client 127.0.0.1:${bPort} refused: over the budget of ${BUDGET} bytes for all clients, closing\``,
      { hint },
    );
    // A reads its echo and stays. Once the kernel has the last byte, A holds nothing: C's
    // 10 MiB frame fits.
    a.socket.resume();
    assertBytes(await guard(receive(a.socket, big.length, 'the echo of 8 MiB once the client reads')), big, {
      what: 'the echo of the client that read late',
    });
    const c = await connect(port);
    const whole = frame(Buffer.alloc(10 * MIB, 0x63));
    c.socket.write(whole);
    const echoed = await guard(
      receive(
        c.socket,
        whole.length,
        'the echo of a 10 MiB frame sent once the first client had read all of its echo. Refused as over the budget? ' +
          "The first client's share was never given back: call claim() in each write's callback, which runs once the kernel has taken the echo",
      ),
    );
    expect(echoed.equals(whole), 'the echo should be byte for byte what was sent').toBe(true);
    expect(a.ending, 'the client that read late should still be connected').toBe('open');
  });

  test('one connection more than maxConnections: logged and closed at once; the others served, and a place freed is taken again', async () => {
    const { port, log, guard } = await startEcho({ maxConnections: 2 });
    const hint =
      'count the open connections in createEchoServer(): past maxConnections, log ' +
      '`client IP:PORT refused: N connections already open, closing` and socket.destroy() the newcomer';
    // Two clients, each served once: the server has accepted both.
    const a = await expectEcho(guard, port, frame('one'), 'step 6 first: write every frame back');
    const b = await expectEcho(guard, port, frame('two'));
    const extra = await connect(port);
    const extraPort = extra.socket.localPort;
    await guard(
      extra.closed({ allowReset: true, expected: 'the server to close a third connection at once', hint }),
    );
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${extraPort} refused: 2 connections already open, closing$`),
      `a log line \`client 127.0.0.1:${extraPort} refused: 2 connections already open, closing\``,
      { hint },
    );
    expect(
      log.lines,
      'a connection refused for the limit is not handled: no `client connected from` line for it (return false)',
    ).not.toContain(`client connected from 127.0.0.1:${extraPort}`);
    await b.end(frame('bye'));
    await guard(b.closed());
    // b's place is free: a newcomer is served, and a is still here.
    const c = await expectEcho(guard, port, frame('three'), "count a connection out on 'close'");
    await a.write(frame('still'));
    assertBytes(await guard(a.bytes(frame('one').length + frame('still').length)), frames('one', 'still'), {
      what: "the first client's echoes",
    });
    c.socket.destroy();
  });

  test('a client that completes every frame within the deadline is never cut off, however long it stays', async () => {
    // A frame every ~50 ms against a deadline six times that: a busy machine may hold a pause of
    // 25 ms back by 100 ms and more, and the client is still in time.
    const deadlineMs = 300;
    const { port, log, guard } = await startEcho({ frameTimeoutMs: deadlineMs });
    reproSetup({ trickleMs: 10 }); // by hand: each frame trickled in well within the deadline
    const peer = await connect(port);
    peer.socket.setNoDelay(true); // send each piece at once: no Nagle wait for the previous ACK
    const started = performance.now();
    let sent = 0;
    for (const payload of ['slow', 'but', 'steady', 'frames', 'keep', 'this', 'client', 'here']) {
      // Each frame in two pieces, 25 ms apart, then 25 ms of quiet: one complete every ~50 ms.
      const whole = frame(payload);
      await peer.write(whole.subarray(0, 3));
      await pause(25);
      await peer.write(whole.subarray(3));
      sent += whole.length;
      await guard(
        peer.bytes(sent, {
          hint: 'refresh() the deadline each time push() returns a complete frame: one deadline for the whole connection cuts off a client that sends whole frames in time',
        }),
      );
      await pause(25);
    }
    expect(
      performance.now() - started,
      'the client should stay connected longer than the deadline',
    ).toBeGreaterThan(deadlineMs);
    expect(
      peer.ending,
      'the connection of a client that completes every frame in time should stay open',
    ).toBe('open');
    expect(
      log.lines.filter((line) => line.includes('too slow')),
      'log lines saying a client that completed every frame in time was too slow',
    ).toEqual([]);
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
