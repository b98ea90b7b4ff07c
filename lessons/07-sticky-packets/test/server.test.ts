import net from 'node:net';
import {
  assertBytes,
  closeAfterTest,
  connect,
  exchange,
  hasCommand,
  reproSetup,
  resetAfter,
  runCommand,
  slowReader,
  startProxy,
  WireError,
  within,
} from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { BUSY, createLineServer, LINGER_MS } from '#impl/server.ts';
import { eventually, expectAnswers, type Guard, serverSides, startLines } from './support.ts';

const HELLO = 'hello\nbyebye\nagain,bye\n';
const HELLO_ANSWERS = '1 hello\n2 byebye\n3 again,bye\n';

/** The step a test builds on, checked first: a line gets its answer (step 5). A starter fails here at once. */
async function answersALine(guard: Guard, port: number) {
  assertBytes(await guard(exchange(port, 'first\n')), '1 first\n', {
    what: 'the reply to `first`',
    hint: 'step 5 first: answer each line `<n> <line>\\n`',
  });
}

/**
 * Counts the server's socket.write() calls during each 'data' event (a listener before the
 * server's resets the count, one after it reads it): `most` is the largest count for one chunk.
 */
function writesPerChunk(server: net.Server): { most: number; total: number } {
  const seen = { most: 0, total: 0 };
  server.on('connection', (socket: net.Socket) => {
    let writes = 0;
    const write = socket.write;
    socket.write = function (this: net.Socket, ...args: unknown[]) {
      writes += 1;
      seen.total += 1;
      return (write as (...all: unknown[]) => boolean).apply(this, args);
    } as typeof socket.write;
    socket.prependListener('data', () => {
      writes = 0;
    });
    socket.on('data', () => {
      seen.most = Math.max(seen.most, writes);
    });
  });
  return seen;
}

/** The data pieces the proxy forwarded from the client to the server. */
function piecesToServer(events: { from: string; kind: string; bytes: Uint8Array }[]): string[] {
  return events
    .filter((e) => e.from === 'client' && e.kind === 'data')
    .map((e) => Buffer.from(e.bytes).toString());
}

describe('step 5: answer each line `<n> <line>`', () => {
  test('three lines in one write get three numbered answers', async () => {
    const { port, guard } = await startLines();
    const peer = await connect(port);
    await peer.write(HELLO);
    await expectAnswers(
      guard,
      peer,
      HELLO_ANSWERS,
      'one "data" event can hold many lines: answer every one of them',
    );
  });

  test('one write read one byte at a time (the proxy cuts it apart) gets the same answers', async () => {
    const { port, server, guard } = await startLines();
    const writes = writesPerChunk(server);
    const proxy = await startProxy(port, { cut: 'bytes', direction: 'request' });
    reproSetup({ trickleMs: 10 }); // by hand: one byte at a time, as the proxy delivers them
    const peer = await connect(proxy.port);
    await peer.write(HELLO);
    await expectAnswers(
      guard,
      peer,
      HELLO_ANSWERS,
      'one "data" event can hold part of a line: feed every chunk to the decoder, answer only complete lines',
    );
    expect(piecesToServer(proxy.events), 'the proxy delivered the 23 bytes one by one').toEqual([...HELLO]);
    expect(
      writes.total,
      'socket.write() calls for 23 one-byte chunks holding 3 lines: write only when a chunk completed a line',
    ).toBe(3);
  });

  test('three writes read as one chunk (the proxy joins them) get the same answers, in one write', async () => {
    const { port, server, guard } = await startLines();
    const writes = writesPerChunk(server);
    const proxy = await startProxy(port, { cut: 'coalesce', direction: 'request' });
    const peer = await connect(proxy.port);
    for (const line of ['hello\n', 'byebye\n', 'again,bye\n']) await peer.write(line);
    await peer.end(); // the coalescing proxy forwards everything at once when the client half-closes
    await expectAnswers(
      guard,
      peer,
      HELLO_ANSWERS,
      'one "data" event can hold many lines: answer every one of them',
    );
    expect(piecesToServer(proxy.events), 'the proxy delivered the three writes as one piece').toEqual([
      HELLO,
    ]);
    expect(
      writes.most,
      "socket.write() calls for that one chunk of three lines: collect one chunk's answers in an array and write them with one socket.write()",
    ).toBe(1);
  });

  test('UTF-8 and \\r\\n, cut at random, get answered whole', async () => {
    const { port, guard } = await startLines();
    const proxy = await startProxy(port, { cut: { maxPiece: 9 }, direction: 'request' });
    reproSetup({ trickleMs: 10 }); // by hand: one byte at a time cuts every character too
    const peer = await connect(proxy.port);
    const lines = Array.from({ length: 8 }, (_, i) => `línea ${i}: 你好 🎉${'!'.repeat(i)}`);
    await peer.write(lines.map((line, i) => `${line}${i % 2 ? '\r\n' : '\n'}`).join(''));
    await expectAnswers(
      guard,
      peer,
      lines.map((line, i) => `${i + 1} ${line}\n`).join(''),
      'decode whole lines, never single chunks: a chunk can end inside a character or between \\r and \\n',
    );
  });

  test('each connection counts its own lines from 1', async () => {
    const { port, guard } = await startLines();
    const [a, b] = await Promise.all([connect(port), connect(port)]);
    await a.write('a1\na2\n');
    await expectAnswers(guard, a, '1 a1\n2 a2\n');
    await b.write('b1\n');
    await expectAnswers(guard, b, '1 b1\n', 'keep the counter inside handleConnection(): one per connection');
    await a.write('a3\n');
    await expectAnswers(guard, a, '1 a1\n2 a2\n3 a3\n');
  });

  test('a client that sends many lines and reads none: the server pauses, then answers them all once it reads', async () => {
    const { port, server, guard } = await startLines();
    // The server's side of the connection, looked at after each chunk the server has handled
    // (this listener comes after the server's own). Kernel buffers take a few MiB of answers;
    // after that, a server that ignores write()'s `false` queues every further answer in memory.
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
    // 64 lines of 1,000 bytes per write, until the server decides (at most 64 MiB).
    const line = `${'x'.repeat(1_000)}\n`;
    const block = line.repeat(64);
    const peer = await slowReader(port);
    let decided = false;
    let lines = 0; // counted when written: a write still queued is sent once the server reads
    const writer = (async () => {
      while (!decided && lines * line.length < 64 * 1024 * 1024) {
        lines += 64;
        await new Promise<void>((resolve) => peer.socket.write(block, () => resolve()));
      }
    })();
    const seen = await guard(
      within(
        verdict,
        () => ({
          expected:
            'the server to pause() reading once its write() returns false (a client that reads nothing)',
          received: `the server has ${serverSide?.writableLength ?? 0} bytes queued`,
          hint: "when socket.write() returns false, socket.pause(), and socket.resume() on 'drain'",
        }),
        { ms: 10_000 },
      ),
    );
    decided = true;
    if (seen === 'ended') {
      throw new WireError('the server closed the connection instead of answering', {
        expected: 'an answer to each line, the server pausing while the client reads nothing',
        received: `the server ended its side after ${lines} lines sent`,
        hint: 'answer every line push() gives you; close only when the client has half-closed (step 6)',
      });
    }
    if (seen === 'unbounded') {
      throw new WireError('the server kept reading while the client read none of its answers', {
        expected: `the server to stop reading (socket.pause()) with at most ${LIMIT} bytes of answers queued`,
        received: `${serverSide?.writableLength} bytes queued in the server's socket, and growing`,
        hint: "socket.write() returns false once its queue is full: socket.pause() then, and socket.resume() on 'drain'. Otherwise a client that sends and never reads fills the server's memory",
      });
    }
    // Now the client reads: every answer must come, so the server must resume on 'drain'.
    peer.socket.resume();
    let expectedBytes = 0;
    for (let n = 1; n <= lines; n++) expectedBytes += `${n} `.length + line.length;
    const last = await guard(
      peer.until(
        (received) => (received.length >= expectedBytes ? received.subarray(-line.length - 12) : undefined),
        `the ${lines} answers (${expectedBytes} bytes) once the client reads`,
        {
          ms: 10_000,
          hint: "after socket.pause(), call socket.resume() on 'drain' (socket.once('drain', …)): the client reads again, so the queue drains",
          repro: 'the test sends megabytes without reading; no nc line can replay it',
        },
      ),
    );
    await writer; // every write has gone out by now: the server read it all
    expect(
      last.toString().endsWith(`\n${lines} ${line}`),
      `the last answer should be \`${lines} xxx…\`: every line answered once, in order`,
    ).toBe(true);
  });
});

describe('step 6: the client half-closes', () => {
  test('a last line without \\n is answered, then the server closes', async () => {
    const { port, guard } = await startLines();
    const reply = await guard(
      exchange(port, 'hello\nbye', {
        hint: "on 'end', call decoder.end() to answer the held bytes, then socket.end()",
      }),
    );
    assertBytes(reply, '1 hello\n2 bye\n', { what: 'the reply' });
  });

  test('three writes, one read, then FIN: three answers and a close', async () => {
    const { port, guard } = await startLines();
    const proxy = await startProxy(port, { cut: 'coalesce', direction: 'request' });
    const reply = await guard(
      exchange(proxy.port, HELLO, {
        pieces: ['hello\n', 'byebye\n', 'again,bye\n'],
        hint: "after the client's FIN ('end'), answer what is left and call socket.end()",
      }),
    );
    assertBytes(reply, HELLO_ANSWERS, { what: 'the reply' });
  });

  test('nothing held, or nothing sent: no extra answer, just the close', async () => {
    const { port, guard } = await startLines();
    const [one, none] = await guard(Promise.all([exchange(port, 'hello\n'), exchange(port, '')]));
    assertBytes(one, '1 hello\n', { what: 'the reply to `hello\\n`', hint: 'no empty last line' });
    assertBytes(none, '', { what: 'the reply to nothing' });
  });
});

describe('step 8: a budget for the whole server', () => {
  const BUSY_LINE = `error: ${BUSY}\n`;
  const KIB = 1024;

  test('lines in progress count: the client whose line would pass the budget gets `error: server busy`, the others are served', async () => {
    const { port, server, log, guard } = await startLines({ budgetBytes: 64 * KIB, maxLineBytes: 48 * KIB });
    const sides = serverSides(server);
    // A holds 40 KiB of a line: within --max-line, and within the budget.
    const a = await connect(port);
    await a.write('a'.repeat(40 * KIB));
    await eventually(
      () => (sides[0]?.bytesRead ?? 0) >= 40 * KIB,
      'the server to read the 40 KiB that the first client sent',
    );
    // B's 40 KiB would be fine alone, but the two lines together pass the 64 KiB budget.
    const b = await connect(port);
    const bPort = b.socket.localPort;
    await b.write('b'.repeat(40 * KIB)).catch(() => {}); // a reset shows below
    const refused = await guard(
      b.closed({
        expected: '`error: server busy`, then the server closing the connection',
        hint: 'the bytes held for all clients at once (decoder.pendingBytes of each connection, and its socket.writableLength) may not pass the budget: when budget.resize() returns false, end the connection with `error: server busy`',
      }),
    );
    assertBytes(refused, BUSY_LINE, { what: 'the reply to the client that passed the budget' });
    await log.line(
      /^client 127\.0\.0\.1:\d+ refused: over the budget of 65536 bytes for all clients, closing$/,
      'a log line `client IP:PORT refused: over the budget of 65536 bytes for all clients, closing`',
    );
    // A was first: its line is still welcome.
    await a.write('\n');
    await expectAnswers(
      guard,
      a,
      `1 ${'a'.repeat(40 * KIB)}\n`,
      'only the client that passes the budget is refused',
    );
    // Once B has gone, a polite client is served.
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${bPort} closed$`),
      'a log line `client IP:PORT closed` for the refused client',
    );
    assertBytes(await guard(exchange(port, 'hello\n')), '1 hello\n', {
      what: 'the reply to a polite client',
    });
  });

  test('an answer of exactly the budget is sent; one byte more is refused', async () => {
    const { port, guard } = await startLines({ budgetBytes: 1000 });
    // `1 ` + 997 bytes + `\n`: an answer of 1000 bytes, all the budget, and nothing else held.
    const fits = 'x'.repeat(997);
    assertBytes(await guard(exchange(port, `${fits}\n`)), `1 ${fits}\n`, {
      what: 'the reply whose 1000 bytes are exactly the budget',
      hint: 'the budget is the most the server may hold: a share that reaches it exactly still fits',
    });
    assertBytes(await guard(exchange(port, `${fits}x\n`)), BUSY_LINE, {
      what: 'the reply to a line whose answer is 1001 bytes, with a budget of 1000',
    });
  });

  test('answers waiting for a client that does not read still count when its next line is cut off at the deadline', async () => {
    const MIB = 1024 * 1024;
    const BUDGET = 12 * MIB;
    const { port, server, log, guard } = await startLines({
      budgetBytes: BUDGET,
      maxLineBytes: 8 * MIB,
      lineTimeoutMs: 1_000,
    });
    await answersALine(guard, port);
    const sides = serverSides(server);
    // A sends an 8 MiB line and the start of another, and reads nothing. Its answer fills the
    // kernel's buffers and waits in the server's socket, which pauses reading; the line started
    // is cut off at its deadline, and the error line joins the answer in the queue.
    const a = await slowReader(port);
    const aPort = a.socket.localPort;
    a.socket.write(`${'a'.repeat(8 * MIB)}\nabc`);
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${aPort} too slow: line not complete after 1000 ms, closing$`),
      `a log line \`client 127.0.0.1:${aPort} too slow: line not complete after 1000 ms, closing\``,
    );
    expect(sides[0]?.writableLength, 'bytes still queued for the client that reads nothing').toBeGreaterThan(
      MIB,
    );
    // B's first 5 MiB of a line would fit beside nothing, but not beside A's 8 MiB waiting to be written.
    const b = await connect(port);
    const bPort = b.socket.localPort;
    await b.write('b'.repeat(5 * MIB)).catch(() => {}); // cut off mid-write
    const hint =
      "a connection's share is decoder.pendingBytes + socket.writableLength: answers waiting for a slow reader " +
      'are memory the server holds, counted until the kernel has taken them, also when the connection ends with an error line';
    await guard(
      b.closed({
        allowReset: true,
        ms: 10_000,
        expected: `the server to refuse 5 MiB while 8 MiB of answers wait for a client that does not read (budget ${BUDGET} bytes)`,
        hint,
        repro: 'the test holds 8 MiB of answers unread; no nc line can replay it',
      }),
    );
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${bPort} refused: over the budget`),
      `a log line \`client 127.0.0.1:${bPort} refused: over the budget of ${BUDGET} bytes for all clients, closing\``,
      { hint },
    );
  });

  test('the budget is given back: answers the kernel has taken, and connections that closed, no longer count', async () => {
    const { port, server, log, guard } = await startLines({ budgetBytes: 64 * KIB, maxLineBytes: 48 * KIB });
    const sides = serverSides(server);
    const line = (c: string) => c.repeat(40 * KIB);
    // A's 40 KiB answer is written and read; A stays connected, holding nothing.
    const a = await connect(port);
    await a.write(`${line('a')}\n`);
    await expectAnswers(guard, a, `1 ${line('a')}\n`);
    const given =
      "the answers count until the kernel takes them: update the share in socket.write()'s callback, " +
      "and give it all back on 'close'";
    const b = await connect(port);
    await b.write(`${line('b')}\n`);
    await expectAnswers(guard, b, `1 ${line('b')}\n`, given);
    // C holds 40 KiB of a line, then resets: what it held must be given back.
    const c = await connect(port);
    const cPort = c.socket.localPort;
    await c.write(line('c'));
    await eventually(
      () => (sides[2]?.bytesRead ?? 0) >= 40 * KIB,
      'the server to read the 40 KiB that the third client sent',
    );
    c.reset();
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${cPort} closed$`),
      'a log line `client IP:PORT closed` for the client that reset',
    );
    const reply = await guard(exchange(port, `${line('d')}\n`, { hint: given }));
    assertBytes(reply, `1 ${line('d')}\n`, {
      what: 'the reply once the others gave their bytes back',
      hint: given,
    });
    expect(a.ending, 'the first client, idle, is still connected').toBe('open');
  });

  test('clients that send empty lines and never read: the server holds at most its budget, refuses the rest, and serves a polite client', async () => {
    // The replay of a real attack, scaled down: each `\n` gets an answer of up to 8 bytes, and
    // clients that read nothing leave those answers queued in the server once the kernel's
    // buffers are full. Backpressure bounds each connection; only a budget bounds them all.
    const BUDGET = 256 * KIB;
    const { port, server, log, guard } = await startLines({ budgetBytes: BUDGET, maxLineBytes: 128 * KIB });
    await answersALine(guard, port);
    const sides = serverSides(server);
    let most = 0; // the most bytes of answers queued in the server, all connections together
    server.on('connection', (socket: net.Socket) => {
      socket.on('data', () => {
        const queued = sides.reduce((sum, side) => sum + side.writableLength, 0);
        most = Math.max(most, queued);
      });
    });
    const CLIENTS = 4;
    const flood = Buffer.alloc(2 * 1024 * KIB, '\n');
    const peers = await Promise.all(Array.from({ length: CLIENTS }, () => slowReader(port)));
    for (const peer of peers) peer.socket.write(flood, () => {});
    // Each connection ends one of two ways: refused (the server ended it), or paused by the
    // server because its answers are not read, within the budget.
    await guard(
      eventually(
        () =>
          sides.length === CLIENTS &&
          sides.every((side) => side.destroyed || side.writableEnded || side.isPaused()),
        'every flooding client refused (`error: server busy`) or paused by backpressure',
        20_000,
      ),
    );
    // The error lines (19 bytes each) are written after the budget's check: allow them.
    expect(
      most,
      `bytes of answers queued in the server at the worst moment, for ${CLIENTS} clients that never read, with a budget of ${BUDGET}: count socket.writableLength in each connection's share, and refuse the connection whose answers do not fit`,
    ).toBeLessThanOrEqual(BUDGET + CLIENTS * BUSY_LINE.length);
    await log.line(
      /refused: over the budget of 262144 bytes for all clients, closing$/,
      'a log line `refused: over the budget`',
    );
    assertBytes(await guard(exchange(port, 'hello\n')), '1 hello\n', {
      what: 'the reply to a polite client',
    });
    // The flooders go away, answers still queued: all they held is given back.
    for (const peer of peers) peer.reset();
    await guard(
      eventually(
        () => log.lines.filter((line) => / closed$/.test(line)).length >= CLIENTS + 2, // and `first`, `hello`
        'a `closed` log line for each flooding client',
      ),
    );
    const long = 'z'.repeat(100 * KIB); // a line and its answer: 200 KiB of the 256 KiB budget
    const reply = await guard(exchange(port, `${long}\n`, { ms: 10_000 }));
    assertBytes(reply, `1 ${long}\n`, {
      what: 'the reply to a 100 KiB line once the flooders are gone',
      hint: "give a connection's share back on 'close', however it ends",
    });
  });

  test('a budget or a connection cap that cannot work is refused when the server is created', () => {
    expect(() => createLineServer({ budgetBytes: 0 }), 'budgetBytes 0').toThrow(
      new RangeError('budgetBytes must be a whole number of at least 1, not 0'),
    );
    expect(() => createLineServer({ maxConnections: 1.5 }), 'maxConnections 1.5').toThrow(
      new RangeError('maxConnections must be a whole number of at least 1, not 1.5'),
    );
    expect(() => createLineServer({ maxConnections: 0 }), 'maxConnections 0').toThrow(
      new RangeError('maxConnections must be a whole number of at least 1, not 0'),
    );
    expect(
      createLineServer({ budgetBytes: 1, maxConnections: 1 }),
      'a budget of 1 byte and 1 connection: useless, but possible',
    ).toBeInstanceOf(net.Server);
    expect(() => createLineServer({ lineTimeoutMs: -1 }), 'lineTimeoutMs -1').toThrow(
      /^lineTimeoutMs must be a whole number from 1 to \d+, not -1$/,
    );
  });

  test('clients turned away cannot hold on: one that resets, one that keeps sending', async () => {
    const { port, guard } = await startLines({ maxConnections: 1 });
    const first = await connect(port);
    await first.write('first\n');
    await expectAnswers(guard, first, '1 first\n');
    // Turned away, it resets at once: the server's socket sees ECONNRESET, and must not crash.
    await resetAfter(port);
    // Turned away, it never stops sending and never closes: let go after LINGER_MS.
    const pest = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    closeAfterTest(() => pest.destroy());
    pest.on('error', () => {}); // the server's reset ends it: expected
    const gone = new Promise<void>((resolve) => pest.once('close', () => resolve()));
    const sender = setInterval(() => {
      if (!pest.destroyed) pest.write('y');
    }, 50);
    closeAfterTest(() => clearInterval(sender));
    await guard(
      within(
        gone,
        () => ({
          expected: `the server to destroy a turned-away connection ${LINGER_MS} ms (LINGER_MS) after its error line, though the client keeps sending`,
        }),
        { ms: LINGER_MS + 5_000 },
      ),
    );
    clearInterval(sender);
    await first.write('still served?\n');
    await expectAnswers(guard, first, '1 first\n2 still served?\n');
  });

  test('one connection more than maxConnections gets `error: server busy`; when one leaves, a newcomer is served', async () => {
    const { port, log, guard } = await startLines({ maxConnections: 2 });
    const [a, b] = await Promise.all([connect(port), connect(port)]);
    await a.write('a\n');
    await b.write('b\n');
    await expectAnswers(guard, a, '1 a\n');
    await expectAnswers(guard, b, '1 b\n');
    const c = await connect(port);
    const refused = await guard(
      c.closed({ expected: '`error: server busy`, then the server closing the connection' }),
    );
    assertBytes(refused, BUSY_LINE, { what: 'the reply to a third connection with maxConnections 2' });
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${c.socket.localPort} refused: 2 connections already open$`),
      '`client IP:PORT refused: 2 connections already open`',
    );
    const aPort = a.socket.localPort;
    await a.end();
    await guard(a.closed());
    await log.line(
      new RegExp(`^client 127\\.0\\.0\\.1:${aPort} closed$`),
      'a `closed` line for the first client',
    );
    assertBytes(await guard(exchange(port, 'd\n')), '1 d\n', {
      what: 'the reply to a newcomer once one has left',
    });
    expect(b.ending, 'the second client is still connected').toBe('open');
  });
});

describe('other clients: Python', () => {
  test.skipIf(!hasCommand('python3'))(
    'Python sends the three lines at once, then one byte at a time, and gets the three answers each time (needs python3)',
    async () => {
      const { port } = await startLines();
      const script = [
        'import socket, sys',
        'port = int(sys.argv[1])',
        'data = b"hello\\nbyebye\\nagain,bye\\n"',
        '# All at once, then half-close and read until the server closes.',
        's = socket.create_connection(("127.0.0.1", port), timeout=3)',
        's.sendall(data)',
        's.shutdown(socket.SHUT_WR)',
        'reply = b""',
        'while chunk := s.recv(1024): reply += chunk',
        'sys.stdout.buffer.write(reply)',
        's.close()',
        '# One byte per send, Nagle off; then read three lines as Python splits them.',
        's = socket.create_connection(("127.0.0.1", port), timeout=3)',
        's.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)',
        'for byte in data: s.send(bytes([byte]))',
        'answers = s.makefile("rb")',
        'for _ in range(3): sys.stdout.buffer.write(answers.readline())',
        's.close()',
      ].join('\n');
      let stdout: Buffer;
      try {
        stdout = await runCommand('python3', ['-c', script, String(port)]);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new WireError('the Python client failed', {
          expected: 'its three answers, twice, and the server closing the first connection after its FIN',
          received: `python3 said: ${message.trim().split('\n').at(-1)}`,
          hint: "step 6: on 'end', answer the last line and call socket.end(): the first client reads until the server closes",
        });
      }
      assertBytes(stdout, HELLO_ANSWERS + HELLO_ANSWERS, { what: "the Python client's output" });
    },
  );
});
