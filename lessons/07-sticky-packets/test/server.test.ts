import {
  assertBytes,
  connect,
  exchange,
  hasCommand,
  LogLines,
  listen,
  type Peer,
  resetAfter,
  runCommand,
  startProxy,
  trickle,
  vanish,
} from '@course/helpers';
import { describe, expect, test } from 'vitest';
import { createLineServer, type LineServerOptions } from '#impl/server.ts';

const HELLO = 'hello\nbyebye\nagain,bye\n';
const HELLO_ANSWERS = '1 hello\n2 byebye\n3 again,bye\n';

/** The learner's server, in this process, on a free port, with its log lines collected. */
async function startLines(options: LineServerOptions = {}) {
  const log = new LogLines();
  const port = await listen(createLineServer({ log: log.add, ...options }));
  return { port, log };
}

/**
 * Waits for as many answer lines as `expected` holds, then checks them byte for byte
 * (text and hex on failure, and an nc line to try it by hand).
 */
async function expectAnswers(peer: Peer, expected: string, hint?: string) {
  const count = expected.split('\n').length - 1;
  await peer.lines(count, {
    hint: hint ?? 'answer each complete line with `<n> <line>\\n` as soon as its \\n has arrived',
  });
  assertBytes(peer.received, expected, { what: 'the reply', hint, repro: peer.repro });
}

/** The data pieces the proxy forwarded from the client to the server. */
function piecesToServer(events: { from: string; kind: string; bytes: Uint8Array }[]): string[] {
  return events
    .filter((e) => e.from === 'client' && e.kind === 'data')
    .map((e) => Buffer.from(e.bytes).toString());
}

describe('step 5: answer each line `<n> <line>`', () => {
  test('three lines in one write get three numbered answers', async () => {
    const { port } = await startLines();
    const peer = await connect(port);
    await peer.write(HELLO);
    await expectAnswers(
      peer,
      HELLO_ANSWERS,
      'one "data" event can hold many lines: answer every one of them',
    );
  });

  test('one write read one byte at a time (the proxy cuts it apart) gets the same answers', async () => {
    const { port } = await startLines();
    const proxy = await startProxy(port, { cut: 'bytes', direction: 'request' });
    const peer = await connect(proxy.port);
    await peer.write(HELLO);
    await expectAnswers(
      peer,
      HELLO_ANSWERS,
      'one "data" event can hold part of a line: feed every chunk to the decoder, answer only complete lines',
    );
    expect(piecesToServer(proxy.events), 'the proxy delivered the 23 bytes one by one').toEqual([...HELLO]);
  });

  test('three writes read as one chunk (the proxy joins them) get the same answers', async () => {
    const { port } = await startLines();
    const proxy = await startProxy(port, { cut: 'coalesce', direction: 'request' });
    const peer = await connect(proxy.port);
    for (const line of ['hello\n', 'byebye\n', 'again,bye\n']) await peer.write(line);
    await peer.end(); // the coalescing proxy forwards everything at once when the client half-closes
    await expectAnswers(
      peer,
      HELLO_ANSWERS,
      'one "data" event can hold many lines: answer every one of them',
    );
    expect(piecesToServer(proxy.events), 'the proxy delivered the three writes as one piece').toEqual([
      HELLO,
    ]);
  });

  test('UTF-8 and \\r\\n, cut at random, get answered whole', async () => {
    const { port } = await startLines();
    const proxy = await startProxy(port, { cut: { maxPiece: 9 }, direction: 'request' });
    const peer = await connect(proxy.port);
    const lines = Array.from({ length: 8 }, (_, i) => `línea ${i}: 你好 🎉${'!'.repeat(i)}`);
    await peer.write(lines.map((line, i) => `${line}${i % 2 ? '\r\n' : '\n'}`).join(''));
    await expectAnswers(
      peer,
      lines.map((line, i) => `${i + 1} ${line}\n`).join(''),
      'decode whole lines, never single chunks: a chunk can end inside a character or between \\r and \\n',
    );
  });

  test('each connection counts its own lines from 1', async () => {
    const { port } = await startLines();
    const [a, b] = await Promise.all([connect(port), connect(port)]);
    await a.write('a1\na2\n');
    await expectAnswers(a, '1 a1\n2 a2\n');
    await b.write('b1\n');
    await expectAnswers(b, '1 b1\n', 'keep the counter inside handleConnection(): one per connection');
    await a.write('a3\n');
    await expectAnswers(a, '1 a1\n2 a2\n3 a3\n');
  });
});

describe('step 6: the client half-closes', () => {
  test('a last line without \\n is answered, then the server closes', async () => {
    const { port } = await startLines();
    const reply = await exchange(port, 'hello\nbye', {
      hint: "on 'end', call decoder.end() to answer the held bytes, then socket.end()",
    });
    assertBytes(reply, '1 hello\n2 bye\n', { what: 'the reply' });
  });

  test('three writes, one read, then FIN: three answers and a close', async () => {
    const { port } = await startLines();
    const proxy = await startProxy(port, { cut: 'coalesce', direction: 'request' });
    const reply = await exchange(proxy.port, HELLO, {
      pieces: ['hello\n', 'byebye\n', 'again,bye\n'],
      hint: "after the client's FIN ('end'), answer what is left and call socket.end()",
    });
    assertBytes(reply, HELLO_ANSWERS, { what: 'the reply' });
  });

  test('nothing held, or nothing sent: no extra answer, just the close', async () => {
    const { port } = await startLines();
    const [one, none] = await Promise.all([exchange(port, 'hello\n'), exchange(port, '')]);
    assertBytes(one, '1 hello\n', { what: 'the reply to `hello\\n`', hint: 'no empty last line' });
    assertBytes(none, '', { what: 'the reply to nothing' });
  });
});

describe('step 7: a line too long or too slow closes the connection', () => {
  test('the lines before it are answered, then `error: line longer than N bytes`, then the close', async () => {
    const { port, log } = await startLines({ maxLineBytes: 16 });
    const peer = await connect(port);
    await peer.write(`hello\n${'x'.repeat(40)}\nafter\n`);
    const received = await peer.closed({
      expected: 'the answers, the error line, then the server closing the connection',
      hint: 'catch the LineTooLongError: answer the lines before it, then end the socket with `error: <message>\\n`',
    });
    assertBytes(received, '1 hello\nerror: line longer than 16 bytes\n', { what: 'the reply' });
    await log.line(
      /sent a line longer than 16 bytes/,
      'a log line `client IP:PORT sent a line longer than 16 bytes: closing`',
    );
  });

  test('a line that never ends is refused once it passes the limit, byte by byte too', async () => {
    const { port } = await startLines({ maxLineBytes: 16 });
    const proxy = await startProxy(port, { cut: 'bytes', direction: 'request' });
    const peer = await connect(proxy.port);
    await peer.write('y'.repeat(20)); // no \n, and no FIN: only the limit can end this
    const received = await peer.closed({
      expected: 'the error line, then the server closing the connection',
      hint: 'the decoder throws as soon as it holds more than maxLineBytes + 1 bytes',
    });
    assertBytes(received, 'error: line longer than 16 bytes\n', { what: 'the reply' });
  });

  test('a line of exactly the limit is fine; one that keeps coming still gets its error line', async () => {
    const { port } = await startLines({ maxLineBytes: 16 });
    const ok = await connect(port);
    await ok.write(`${'z'.repeat(16)}\r\n`);
    await expectAnswers(ok, `1 ${'z'.repeat(16)}\n`, 'the line ending does not count towards the limit');
    // 1 MiB more after the limit: the server must keep reading (and dropping) it, or the kernel
    // answers the unread bytes with a reset that can wipe out the error line.
    const flood = await connect(port);
    await flood.write(Buffer.alloc(1024 * 1024, 'w')).catch(() => {}); // a reset shows below
    const received = await flood.closed({
      expected: 'the error line, then a polite close (FIN), not a reset',
      hint: 'after socket.end(errorLine), keep reading and ignore what arrives: do not destroy() at once',
    });
    assertBytes(received, 'error: line longer than 16 bytes\n', { what: 'the reply' });
  });

  test('the default limit is 65536 bytes', async () => {
    const { port } = await startLines();
    const longest = 'x'.repeat(65_536);
    const reply = await exchange(port, `${longest}\n${longest}x\n`);
    assertBytes(reply, `1 ${longest}\nerror: line longer than 65536 bytes\n`, { what: 'the reply' });
  });

  test('a line trickled one byte at a time is cut off lineTimeoutMs after its first byte; an idle client is not', async () => {
    const { port, log } = await startLines({ lineTimeoutMs: 150 });
    // A client that sends a line, then says nothing for longer than the timeout: it owes nothing.
    const idle = await connect(port);
    await idle.write('before\n');
    await expectAnswers(idle, '1 before\n');
    const idleSince = performance.now();
    // Slowloris: one byte every 20 ms, never a \n. The 100 bytes would take 2 s; the line's
    // deadline ends it after 150 ms.
    const slow = await trickle(port, 'slowloris '.repeat(10), 20);
    const received = await slow.closed({
      ms: 1_000,
      allowReset: true,
      expected: 'the error line, then the server closing the connection 150 ms after the line started',
      hint:
        'start a timer (setTimeout) at the first byte of a line and clear it when the line is complete. ' +
        'socket.setTimeout() is not enough: it is an idle timer, and every byte restarts it',
    });
    assertBytes(received, 'error: line not complete after 150 ms\n', {
      what: 'the reply to a line that never ends',
      hint: 'end the socket with `error: line not complete after N ms\\n`, as for a line too long',
    });
    await log.line(
      /^client 127\.0\.0\.1:\d+ too slow: line not complete after 150 ms, closing$/,
      'a log line `client IP:PORT too slow: line not complete after 150 ms, closing`',
    );
    // The idle client has now been quiet for longer than the timeout, and is still served.
    expect(performance.now() - idleSince, 'the idle client waited out the timeout').toBeGreaterThanOrEqual(
      150,
    );
    const idleHint =
      'a connection with no line started has no deadline: start the timer with the first byte of a line, ' +
      'not when the connection opens or when a line ends';
    expect(idle.ending, `the idle client was cut off: ${idleHint}`).toBe('open');
    await idle.write('after\n').catch(() => {}); // a connection closed meanwhile shows below
    await expectAnswers(idle, '1 before\n2 after\n', idleHint);
    assertBytes(await exchange(port, 'others?\n'), '1 others?\n', { what: 'the reply to another client' });
  });

  test('a slow client whose every line ends in time is not cut off', async () => {
    const { port } = await startLines({ lineTimeoutMs: 150 });
    const started = performance.now();
    // 20 ms from each line's first byte to its \n, far within the deadline; 200 ms for the five
    // lines, more than the deadline.
    const slow = await trickle(port, 'a\nb\nc\nd\ne\n', 20);
    await expectAnswers(
      slow,
      '1 a\n2 b\n3 c\n4 d\n5 e\n',
      'the deadline is per line: clear the timer when a line is complete, and start a new one at the next line',
    );
    expect(performance.now() - started, 'the five lines took longer than the deadline').toBeGreaterThan(150);
    expect(slow.ending, 'the connection should still be open: no line was late').toBe('open');
  });

  test('clients that vanish or reset do not stop the server', async () => {
    const { port } = await startLines();
    await vanish(port);
    await resetAfter(port);
    await resetAfter(port, 'half a li');
    const peer = await connect(port);
    await peer.write('still there?\n');
    await expectAnswers(peer, '1 still there?\n');
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
        's = socket.create_connection(("127.0.0.1", port))',
        's.sendall(data)',
        's.shutdown(socket.SHUT_WR)',
        'reply = b""',
        'while chunk := s.recv(1024): reply += chunk',
        'sys.stdout.buffer.write(reply)',
        's.close()',
        '# One byte per send, Nagle off; then read three lines as Python splits them.',
        's = socket.create_connection(("127.0.0.1", port))',
        's.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)',
        'for byte in data: s.send(bytes([byte]))',
        'answers = s.makefile("rb")',
        'for _ in range(3): sys.stdout.buffer.write(answers.readline())',
        's.close()',
      ].join('\n');
      const stdout = await runCommand('python3', ['-c', script, String(port)]);
      assertBytes(stdout, HELLO_ANSWERS + HELLO_ANSWERS, { what: "the Python client's output" });
    },
  );
});
